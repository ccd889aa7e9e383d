-- 0010 G archive writes (spec 04 G.4) and appends (G.2).
--
-- Archive ingest stores every ArchiveRecord of a fetched batch in one
-- transaction per tenant (claims in archive_record_keys first, 0005), then
-- writes the records whose order gate is open (G.4: a fact waits for the
-- decision_audit of its group closureKeyOrNA|traceKey). A record whose
-- gate is still closed, or whose write failed retryably, keeps a
-- next_attempt_at; G's sweeper takes those up again (by recordKey, 1 s,
-- 5 s, 30 s, 120 s repeating) and fails them terminally 15 min after
-- ingest (g_archive_compensation_exhausted). Appends claim their
-- idempotency key in idempotency_keys (scope 'g_append', 7 d window).

-- A decision_audit announcing committed -> superseded names the record it
-- supersedes; the target may arrive before or after it.
CREATE INDEX IF NOT EXISTS archive_records_superseded_idx
    ON archive_records (superseded_record_key) WHERE superseded_record_key IS NOT NULL;

-- The order gate reads a whole group: trace_key is the selective part,
-- closure_key (NULL = "NA") narrows it.
CREATE INDEX IF NOT EXISTS archive_records_tenant_trace_idx
    ON archive_records (tenant_id, trace_key, closure_key);

-- ---------------------------------------------------- sweeper tenants ----
-- The sweeper works per tenant (med_pg_tx sets app.tenant_id, so RLS holds
-- for every row it reads or writes), but first learns which tenants have
-- records due. g_archive_due_tenants answers only that (tenant ids, no
-- row content), as its owner (SECURITY DEFINER); FORCE ROW LEVEL SECURITY
-- applies to the owner too, hence its own read-only policy. med_app gets
-- nothing but EXECUTE.
DO $$
BEGIN
    EXECUTE 'DROP POLICY IF EXISTS g_due_scan ON archive_records';
    EXECUTE format('CREATE POLICY g_due_scan ON archive_records FOR SELECT TO %I USING (true)',
                   current_user);
END
$$;

-- Tenants with archive records due at now_ts: pending or retryable, not
-- `new` (G.4 pairing: `new` never leaves pending), next_attempt_at passed.
-- At most max_tenants, oldest work first.
CREATE OR REPLACE FUNCTION g_archive_due_tenants(now_ts timestamptz, max_tenants integer)
RETURNS TABLE (tenant_id text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
    SELECT a.tenant_id FROM public.archive_records a
     WHERE a.write_status IN ('pending', 'write_failed_retryable')
       AND a.record_status <> 'new'
       AND a.next_attempt_at <= now_ts
     GROUP BY a.tenant_id
     ORDER BY min(a.next_attempt_at), a.tenant_id
     LIMIT greatest(max_tenants, 1)
$fn$;

REVOKE ALL ON FUNCTION g_archive_due_tenants(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION g_archive_due_tenants(timestamptz, integer) TO med_app;
