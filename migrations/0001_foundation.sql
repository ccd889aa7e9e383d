-- 0001 foundation: the services' role, schema access, and the helpers later
-- migrations use to put every business table under row-level security.
--
-- Rules for every file in migrations/ (tools/migrate enforces the first):
--   * no transaction control (BEGIN/COMMIT): tools/migrate runs each file in
--     one transaction together with its schema_migrations row;
--   * re-runnable: IF NOT EXISTS / CREATE OR REPLACE / DROP ... IF EXISTS;
--   * never edit a file once applied anywhere: add a new one.
--
-- schema_migrations itself is created by tools/migrate before it reads it.

-- The services' role. tests/harness/infra.sh and deployments create it as
-- LOGIN NOSUPERUSER NOBYPASSRLS; where it is missing we create a NOLOGIN
-- placeholder so grants below work.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'med_app') THEN
        CREATE ROLE med_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO med_app;

COMMENT ON TABLE schema_migrations IS
    'Applied migrations: version, file name, sha256 of the file, when. Written only by tools/migrate.';

-- Tenant isolation for one table: ENABLE + FORCE row-level security and a
-- policy that lets a session see and write only rows of the tenant it set
-- with SET LOCAL app.tenant_id (med_pg_tx does that). Without the setting
-- current_setting(..., true) is NULL (or '' after a SET LOCAL ended), which
-- matches no row. platform_read adds read access to the '_platform' tenant's
-- rows (the per-environment global config layer) for any session that has
-- a tenant set; writing them still needs app.tenant_id = '_platform'.
CREATE OR REPLACE FUNCTION med_apply_tenant_rls(tbl regclass, platform_read boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $fn$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', tbl);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %s
        USING (tenant_id = current_setting('app.tenant_id', true))
        WITH CHECK (tenant_id = current_setting('app.tenant_id', true))$p$, tbl);
    EXECUTE format('DROP POLICY IF EXISTS platform_read ON %s', tbl);
    IF platform_read THEN
        EXECUTE format($p$CREATE POLICY platform_read ON %s FOR SELECT
            USING (tenant_id = '_platform'
                   AND coalesce(current_setting('app.tenant_id', true), '') <> '')$p$, tbl);
    END IF;
END
$fn$;

-- Sets med_app's privileges on one table to exactly privs (revokes the
-- rest), so re-running a migration never leaves a stale grant behind.
CREATE OR REPLACE FUNCTION med_grant_app(tbl regclass, privs text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $fn$
BEGIN
    EXECUTE format('REVOKE ALL ON %s FROM med_app', tbl);
    EXECUTE format('GRANT %s ON %s TO med_app', privs, tbl);
END
$fn$;

-- Rows that are written once and never changed (config documents): refuses
-- any UPDATE, whoever runs it.
CREATE OR REPLACE FUNCTION med_forbid_update()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    RAISE EXCEPTION '% rows are immutable; store a new version instead', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$fn$;

REVOKE ALL ON FUNCTION med_apply_tenant_rls(regclass, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION med_grant_app(regclass, text) FROM PUBLIC;
