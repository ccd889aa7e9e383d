-- F.8 compensation driven by G's answers (services/f_events/f_archive_comp.c).
-- F asks G for an ArchiveWriteAck on every archive record it publishes; a
-- retryable answer opens one row here per recordKey, and F resends that
-- recordKey (the record is read back from its f_outbox row) on the F.8
-- ladder from the first failure, until G answers written, a non-retryable
-- code (state conflicted, final_code = G's code) or the 15 min window
-- closes (conflicted f_output_archive_compensation_exhausted). A lost ack
-- loses nothing: a row still 'retrying' is resent until confirmed, and the
-- record itself stays in G's stream and G's own retries (G.4).
CREATE TABLE IF NOT EXISTS f_archive_compensation (
    tenant_id        text        NOT NULL CHECK (tenant_id <> ''),
    record_key       text        NOT NULL,
    outbox_key       text        NOT NULL,
    state            text        NOT NULL DEFAULT 'retrying'
                                 CHECK (state IN ('retrying', 'written', 'conflicted')),
    failures         integer     NOT NULL DEFAULT 1,   -- attempts not confirmed so far
    last_attempt     integer     NOT NULL DEFAULT 1,   -- ArchiveRecord.attempt last sent
    first_failure_at timestamptz NOT NULL DEFAULT now(),
    next_attempt_at  timestamptz,
    last_code        text,                              -- G's last ack_reason_code
    final_code       text,                              -- set with state conflicted
    group_state      text,                              -- fgArchiveConsistencyState as last known
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT f_archive_compensation_pkey PRIMARY KEY (tenant_id, record_key)
);
CREATE INDEX IF NOT EXISTS f_archive_compensation_due_idx
    ON f_archive_compensation (tenant_id, next_attempt_at) WHERE state = 'retrying';
CREATE INDEX IF NOT EXISTS f_archive_compensation_conflicted_idx
    ON f_archive_compensation (tenant_id, updated_at) WHERE state = 'conflicted';

SELECT med_apply_tenant_rls('f_archive_compensation');
SELECT med_grant_app('f_archive_compensation', 'SELECT, INSERT, UPDATE, DELETE');

DO $$
BEGIN
    EXECUTE 'DROP POLICY IF EXISTS f_comp_due_scan ON f_archive_compensation';
    EXECUTE format('CREATE POLICY f_comp_due_scan ON f_archive_compensation FOR SELECT TO %I USING (true)',
                   current_user);
    EXECUTE 'DROP POLICY IF EXISTS f_comp_purge ON f_archive_compensation';
    EXECUTE format('CREATE POLICY f_comp_purge ON f_archive_compensation FOR DELETE TO %I '
                   'USING (state = ''written'')', current_user);
END
$$;

-- Tenants with a compensation resend due at now_ts (ids only, like
-- f_due_tenants in 0009), oldest first.
CREATE OR REPLACE FUNCTION f_comp_due_tenants(now_ts timestamptz, max_tenants integer)
RETURNS TABLE (tenant_id text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
    SELECT c.tenant_id FROM public.f_archive_compensation c
     WHERE c.state = 'retrying' AND c.next_attempt_at <= now_ts
     GROUP BY c.tenant_id
     ORDER BY min(c.next_attempt_at), c.tenant_id
     LIMIT greatest(max_tenants, 1)
$fn$;

REVOKE ALL ON FUNCTION f_comp_due_tenants(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION f_comp_due_tenants(timestamptz, integer) TO med_app;

-- Retention: a written row only documents a compensation that succeeded;
-- deletes up to max_rows of them last updated before now() - keep, across
-- tenants; returns how many. Conflicted rows stay for operators.
CREATE OR REPLACE FUNCTION f_comp_purge(keep interval, max_rows integer)
RETURNS bigint
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
    WITH gone AS (
        DELETE FROM public.f_archive_compensation c
         WHERE (c.tenant_id, c.record_key) IN (
               SELECT p.tenant_id, p.record_key FROM public.f_archive_compensation p
                WHERE p.state = 'written' AND p.updated_at < now() - keep
                ORDER BY p.updated_at LIMIT greatest(max_rows, 1)
                FOR UPDATE SKIP LOCKED)
        RETURNING 1)
    SELECT count(*) FROM gone
$fn$;

REVOKE ALL ON FUNCTION f_comp_purge(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION f_comp_purge(interval, integer) TO med_app;
