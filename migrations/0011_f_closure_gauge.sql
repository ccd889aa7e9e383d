-- med_closure_open (observability/metrics.md): F's scanner samples the
-- number of open closures once per scan. f_closures is tenant-scoped by
-- RLS and med_app sees one tenant at a time, so, like f_due_tenants
-- (0009), a SECURITY DEFINER function answers an aggregate only: one
-- number, no tenant id, no row content. It reads the partial index
-- f_closures_open_idx (state = 'open'). The owner's read policy
-- f_due_scan (0009) lets the definer see every tenant's rows.
CREATE OR REPLACE FUNCTION f_open_closures()
RETURNS bigint
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
    SELECT count(*) FROM public.f_closures c WHERE c.state = 'open'
$fn$;

REVOKE ALL ON FUNCTION f_open_closures() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION f_open_closures() TO med_app;
