-- 0015 audit_records: two indexes fewer on the request path's busiest table,
-- and a cheaper compressor for every large value.
--
-- Every opportunity appends four to six stage audits, and each audit row
-- updated eleven btrees. A profile of the request path at its peak put G's
-- audit INSERT first among PostgreSQL's statements. Two indexes serve no
-- statement: replay selects its items from delivery_records and reads
-- audits by trace_key only (audit_records_replay_idx is never chosen), and
-- stage audits carry no render attempt (audit_records_closure_idx indexes
-- NULLs). The trace, request, opportunity, anchor and scope indexes every
-- partitioned table has stay: they are what an operator investigates by.
DROP INDEX IF EXISTS audit_records_closure_idx;
DROP INDEX IF EXISTS audit_records_replay_idx;

-- pglz was the single largest CPU symbol of PostgreSQL in that profile
-- (compressing audit protobufs and jsonb payloads past the TOAST
-- threshold). lz4 costs a fraction of it for a slightly larger value. It is
-- a database default, so every partition created later gets it too;
-- values already stored keep their compression, both stay readable.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET default_toast_compression = %L',
                   current_database(), 'lz4');
END
$$;
