-- 0013 A's opportunity_created resends (spec 01 A.9).
--
-- A writes the row with the event's state before its first publish
-- (created_event_status 'pending', created_event_next_at = first attempt
-- + 1 s, so a crash before the outcome is recorded still resends), then
-- records the PubAck: 'accepted' / 'duplicate' clear next_at; a retryable
-- rejection sets next_at by the ladder 1 s, 5 s, 30 s, 120 s, then 120 s;
-- a final rejection (non-retryable, payload conflict, contract invalid,
-- window exhausted) is 'rejected' with its reason code and no next_at.
-- A's sweeper takes rows whose next_at passed (FOR UPDATE SKIP LOCKED, per
-- tenant) and resends the stored payload under the same eventKey and
-- idempotency key. The payload is kept only while a resend may come.
ALTER TABLE opportunity_records
    ADD COLUMN IF NOT EXISTS created_event_reason_code text,
    ADD COLUMN IF NOT EXISTS created_event_last_at     timestamptz,
    ADD COLUMN IF NOT EXISTS created_event_payload     bytea;

-- ---------------------------------------------------- sweeper tenants ----
-- Like g_archive_due_tenants (0010): the sweeper works per tenant
-- (med_pg_tx sets app.tenant_id, so RLS holds for every row it reads or
-- writes) but first learns which tenants have resends due. This answers
-- only that, as its owner (SECURITY DEFINER); FORCE ROW LEVEL SECURITY
-- applies to the owner too, hence its own read-only policy. med_app gets
-- nothing but EXECUTE.
DO $$
BEGIN
    EXECUTE 'DROP POLICY IF EXISTS a_oc_due_scan ON opportunity_records';
    EXECUTE format('CREATE POLICY a_oc_due_scan ON opportunity_records FOR SELECT TO %I USING (true)',
                   current_user);
END
$$;

CREATE OR REPLACE FUNCTION a_oc_emit_due_tenants(now_ts timestamptz, max_tenants integer)
RETURNS TABLE (tenant_id text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
    SELECT o.tenant_id FROM public.opportunity_records o
     WHERE o.created_event_next_at IS NOT NULL
       AND o.created_event_next_at <= now_ts
     GROUP BY o.tenant_id
     ORDER BY min(o.created_event_next_at), o.tenant_id
     LIMIT greatest(max_tenants, 1)
$fn$;

REVOKE ALL ON FUNCTION a_oc_emit_due_tenants(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION a_oc_emit_due_tenants(timestamptz, integer) TO med_app;
