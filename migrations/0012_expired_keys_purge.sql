-- 0012 expired idempotency windows are garbage: an expired key record
-- (idempotency_keys, any scope: F dedup 14 d / 3 d, G append 7 d, A
-- opportunity events, H publish 24 h) and an expired eventSeq row
-- (f_event_seq, 14 d) count as "none" for every reader and are only ever
-- taken over, so deleting them changes no outcome. Without a purge both
-- tables grow with every event ever accepted. F's scanner calls this
-- every minute with a bounded batch; rows a live transaction holds are
-- skipped (SKIP LOCKED) and go on a later pass.
--
-- Like f_due_tenants (0009) it runs as its owner across tenants and
-- answers a count only. FORCE ROW LEVEL SECURITY applies to the owner
-- too: the owner gets its own DELETE policies, limited to expired rows
-- (idempotency_keys also keeps its RESTRICTIVE delete_expired_only).
DO $$
BEGIN
    EXECUTE 'DROP POLICY IF EXISTS expired_purge ON idempotency_keys';
    EXECUTE format('CREATE POLICY expired_purge ON idempotency_keys FOR ALL TO %I '
                   'USING (expires_at IS NOT NULL AND expires_at < now())', current_user);
    EXECUTE 'DROP POLICY IF EXISTS expired_purge ON f_event_seq';
    EXECUTE format('CREATE POLICY expired_purge ON f_event_seq FOR ALL TO %I '
                   'USING (expires_at < now())', current_user);
END
$$;

CREATE OR REPLACE FUNCTION med_expired_keys_purge(max_rows integer)
RETURNS bigint
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
    WITH keys AS (
        DELETE FROM public.idempotency_keys k
         WHERE (k.tenant_id, k.scope, k.key) IN (
               SELECT p.tenant_id, p.scope, p.key FROM public.idempotency_keys p
                WHERE p.expires_at IS NOT NULL AND p.expires_at < now()
                ORDER BY p.expires_at LIMIT greatest(max_rows, 1)
                FOR UPDATE SKIP LOCKED)
        RETURNING 1),
    seqs AS (
        DELETE FROM public.f_event_seq s
         WHERE (s.tenant_id, s.scope) IN (
               SELECT p.tenant_id, p.scope FROM public.f_event_seq p
                WHERE p.expires_at < now()
                ORDER BY p.expires_at LIMIT greatest(max_rows, 1)
                FOR UPDATE SKIP LOCKED)
        RETURNING 1)
    SELECT (SELECT count(*) FROM keys) + (SELECT count(*) FROM seqs)
$fn$;

REVOKE ALL ON FUNCTION med_expired_keys_purge(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION med_expired_keys_purge(integer) TO med_app;
