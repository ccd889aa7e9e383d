-- 0002 partition governance (spec 05 section 7).
--
-- Every table in schema public that is PARTITIONED BY RANGE (created_at) is
-- managed here, with no list to keep in sync: monthly partitions named
-- <table>_pYYYYMM covering [first of month, first of next month) in UTC,
-- plus <table>_default so an insert never fails for lack of a partition.
-- The maintenance job (tools/partitions) calls med_ensure_partitions ahead
-- of time and alerts on med_missing_partitions.

-- Tables managed by these functions.
CREATE OR REPLACE FUNCTION med_partitioned_tables()
RETURNS TABLE (table_name text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $fn$
    SELECT c.relname::text
      FROM pg_partitioned_table p
      JOIN pg_class c ON c.oid = p.partrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0]
     WHERE n.nspname = 'public'
       AND p.partstrat = 'r'
       AND p.partnatts = 1
       AND a.attname = 'created_at'
       AND NOT c.relispartition
     ORDER BY 1
$fn$;

-- Every partition of those tables with its bounds (MINVALUE/MAXVALUE as
-- -infinity/infinity; NULL bounds for the default partition).
CREATE OR REPLACE FUNCTION med_partition_bounds()
RETURNS TABLE (parent text, partition_name text, is_default boolean,
               range_from timestamptz, range_to timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $fn$
    SELECT pc.relname::text, c.relname::text, b.expr = 'DEFAULT',
           CASE WHEN m[1] IS NULL THEN NULL
                WHEN m[1] = 'MINVALUE' THEN '-infinity'::timestamptz
                ELSE btrim(m[1], '''')::timestamptz END,
           CASE WHEN m[2] IS NULL THEN NULL
                WHEN m[2] = 'MAXVALUE' THEN 'infinity'::timestamptz
                ELSE btrim(m[2], '''')::timestamptz END
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_class pc ON pc.oid = i.inhparent
      JOIN pg_namespace n ON n.oid = pc.relnamespace
      CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS expr) b
      CROSS JOIN LATERAL (SELECT regexp_match(b.expr,
                          '^FOR VALUES FROM \((.*)\) TO \((.*)\)$') AS m) r
     WHERE n.nspname = 'public'
       AND pc.relname IN (SELECT t.table_name FROM public.med_partitioned_tables() t)
$fn$;

-- Months (UTC, from the current one to months_ahead later) that some managed
-- table has no monthly partition for. Empty = healthy. Rows in a default
-- partition do not count as coverage: the month is still reported.
CREATE OR REPLACE FUNCTION med_missing_partitions(months_ahead integer DEFAULT 2)
RETURNS TABLE (table_name text, month date)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $fn$
    WITH months AS (
        SELECT g AS m
          FROM generate_series(date_trunc('month', now() AT TIME ZONE 'UTC'),
                               date_trunc('month', now() AT TIME ZONE 'UTC')
                                   + make_interval(months => greatest(months_ahead, 0)),
                               interval '1 month') g
    )
    SELECT t.table_name, months.m::date
      FROM public.med_partitioned_tables() t
     CROSS JOIN months
     WHERE NOT EXISTS (
           SELECT 1 FROM public.med_partition_bounds() b
            WHERE b.parent = t.table_name
              AND NOT b.is_default
              AND b.range_from <= (months.m AT TIME ZONE 'UTC')
              AND b.range_to >= ((months.m + interval '1 month') AT TIME ZONE 'UTC'))
     ORDER BY 1, 2
$fn$;

-- Rows sitting in default partitions, per table (the maintenance job warns:
-- they mean a month was missing when they were written; the next ensure
-- moves them into their monthly partition).
CREATE OR REPLACE FUNCTION med_default_partition_rows()
RETURNS TABLE (table_name text, partition_name text, row_count bigint)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $fn$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT b.parent, b.partition_name FROM public.med_partition_bounds() b
              WHERE b.is_default ORDER BY 1 LOOP
        table_name := r.parent;
        partition_name := r.partition_name;
        EXECUTE format('SELECT count(*) FROM public.%I', r.partition_name) INTO row_count;
        IF row_count > 0 THEN
            RETURN NEXT;
        END IF;
    END LOOP;
END
$fn$;

-- Creates what is missing: each managed table's default partition and its
-- monthly partitions from the current month (UTC) to months_ahead later.
-- Rows already in the default partition for a month being created are
-- moved into the new partition (created detached, filled, then attached).
-- Serialized by an advisory lock; safe to run any time, from any replica.
-- Returns one row per partition created.
CREATE OR REPLACE FUNCTION med_ensure_partitions(months_ahead integer DEFAULT 2)
RETURNS TABLE (partition_name text, action text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog
AS $fn$
DECLARE
    t text;
    dname text;
    pname text;
    m timestamp;
    lo timestamptz;
    hi timestamptz;
    lo_txt text;
    hi_txt text;
    has_rows boolean;
    cols text;
    moved bigint;
BEGIN
    IF months_ahead IS NULL OR months_ahead < 0 OR months_ahead > 120 THEN
        RAISE EXCEPTION 'months_ahead must be 0..120, got %', months_ahead
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_advisory_xact_lock(720019, 2);

    FOR t IN SELECT x.table_name FROM public.med_partitioned_tables() x LOOP
        SELECT b.partition_name INTO dname
          FROM public.med_partition_bounds() b
         WHERE b.parent = t AND b.is_default;
        IF dname IS NULL THEN
            dname := t || '_default';
            EXECUTE format('CREATE TABLE public.%I PARTITION OF public.%I DEFAULT', dname, t);
            EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', dname);
            partition_name := dname; action := 'created default';
            RETURN NEXT;
        END IF;

        FOR m IN SELECT g FROM generate_series(
                     date_trunc('month', now() AT TIME ZONE 'UTC'),
                     date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => months_ahead),
                     interval '1 month') g LOOP
            lo := m AT TIME ZONE 'UTC';
            hi := (m + interval '1 month') AT TIME ZONE 'UTC';
            IF EXISTS (SELECT 1 FROM public.med_partition_bounds() b
                        WHERE b.parent = t AND NOT b.is_default
                          AND b.range_from <= lo AND b.range_to >= hi) THEN
                CONTINUE;
            END IF;
            IF EXISTS (SELECT 1 FROM public.med_partition_bounds() b
                        WHERE b.parent = t AND NOT b.is_default
                          AND b.range_from < hi AND b.range_to > lo) THEN
                RAISE WARNING 'med_ensure_partitions: % has a partition overlapping % but not covering it; left alone',
                    t, to_char(m, 'YYYY-MM');
                CONTINUE;
            END IF;

            pname := t || '_p' || to_char(m, 'YYYYMM');
            lo_txt := to_char(m, 'YYYY-MM-DD') || ' 00:00:00+00';
            hi_txt := to_char(m + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00';

            -- Creating a range partition re-checks the default partition;
            -- keep writers out of it until we are done.
            EXECUTE format('LOCK TABLE public.%I IN ACCESS EXCLUSIVE MODE', dname);
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM public.%I WHERE created_at >= $1 AND created_at < $2)',
                           dname) INTO has_rows USING lo, hi;
            IF NOT has_rows THEN
                EXECUTE format('CREATE TABLE public.%I PARTITION OF public.%I FOR VALUES FROM (%L) TO (%L)',
                               pname, t, lo_txt, hi_txt);
                partition_name := pname; action := 'created';
            ELSE
                SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
                  FROM pg_attribute a
                 WHERE a.attrelid = format('public.%I', t)::regclass
                   AND a.attnum > 0 AND NOT a.attisdropped;
                EXECUTE format('CREATE TABLE public.%I (LIKE public.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                               pname, t);
                EXECUTE format('WITH moved AS (DELETE FROM public.%I WHERE created_at >= $1 AND created_at < $2 RETURNING %s) '
                               'INSERT INTO public.%I (%s) SELECT %s FROM moved',
                               dname, cols, pname, cols, cols) USING lo, hi;
                GET DIAGNOSTICS moved = ROW_COUNT;
                EXECUTE format('ALTER TABLE public.%I ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)',
                               t, pname, lo_txt, hi_txt);
                partition_name := pname; action := format('created, moved %s rows from %s', moved, dname);
            END IF;
            -- Partitions carry no policies of their own: with RLS enabled and
            -- no grant, nobody but the owner reads a partition directly; the
            -- services go through the parent, whose policies apply.
            EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', pname);
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$fn$;

REVOKE ALL ON FUNCTION med_ensure_partitions(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION med_default_partition_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION med_ensure_partitions(integer) TO med_app;
GRANT EXECUTE ON FUNCTION med_missing_partitions(integer) TO med_app;
GRANT EXECUTE ON FUNCTION med_default_partition_rows() TO med_app;
GRANT EXECUTE ON FUNCTION med_partitioned_tables() TO med_app;
GRANT EXECUTE ON FUNCTION med_partition_bounds() TO med_app;
