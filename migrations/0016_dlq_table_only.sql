-- 0016 tools/dlq: dead letters that exist only in dead_letter_records.
--
-- Two writers record a dead letter in the table without a MED_DLQ message
-- the operator tool could read: F's outbox sweeper (an f_outbox row whose
-- archive publish exhausted its window) and G's archive quarantine (an
-- invalid archive record). Rows tools/dlq imports from MED_DLQ always carry
-- the message's headers (a jsonb object); those two writers never set
-- headers, which is what "table-only" means here.
--
-- tools/dlq runs as med_app: every statement is in a transaction of one
-- tenant (RLS). To list table-only dead letters it first learns which
-- tenants have any, and to show or re-drive `t<id>` which tenant holds that
-- row. These two functions answer only that, as their owner (SECURITY
-- DEFINER); FORCE ROW LEVEL SECURITY applies to the owner too, hence its
-- own read-only policy (like f_due_scan in 0009). med_app gets nothing but
-- EXECUTE; the rows themselves are read in the tenant's transaction.
DO $$
BEGIN
    EXECUTE 'DROP POLICY IF EXISTS dlq_table_scan ON dead_letter_records';
    EXECUTE format('CREATE POLICY dlq_table_scan ON dead_letter_records FOR SELECT TO %I USING (true)',
                   current_user);
END
$$;

CREATE INDEX IF NOT EXISTS dead_letter_records_table_only_idx
    ON dead_letter_records (stage, tenant_id) WHERE headers IS NULL;

CREATE OR REPLACE FUNCTION dlq_table_only_tenants(stage_filter text)
RETURNS TABLE (tenant_id text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
    SELECT DISTINCT d.tenant_id FROM public.dead_letter_records d
     WHERE d.headers IS NULL
       AND (stage_filter IS NULL OR d.stage = stage_filter)
     ORDER BY d.tenant_id
$fn$;

CREATE OR REPLACE FUNCTION dlq_table_only_tenant(record_id bigint)
RETURNS text
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
    SELECT d.tenant_id FROM public.dead_letter_records d
     WHERE d.id = record_id AND d.headers IS NULL
$fn$;

REVOKE ALL ON FUNCTION dlq_table_only_tenants(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dlq_table_only_tenants(text) TO med_app;
REVOKE ALL ON FUNCTION dlq_table_only_tenant(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dlq_table_only_tenant(bigint) TO med_app;
