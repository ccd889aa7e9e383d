-- 0021 archive_records: claim record keys once per INSERT statement, not
-- once per row.
--
-- 0005's row trigger ran a PL/pgSQL function for every archive row: an
-- INSERT .. ON CONFLICT into archive_record_keys and, since G has always
-- claimed the key itself in the same transaction (g_arch_claim), a second
-- lookup to compare. G inserts about 2.5 rows per SDK event, in batches;
-- the floor bench (bench/events_floor.sh) measured the row trigger at
-- about a third of the archive insert. A statement trigger with a
-- transition table does the same check set-based, once per statement:
-- claim what is not claimed yet, then refuse the statement if any row's
-- key is claimed by another tenant (invisible under RLS), another month
-- (created_at) or another payload digest. Same rule, same error as 0005.
-- A statement trigger on the parent does not fire for an INSERT naming a
-- partition directly; the application role only ever inserts through the
-- parent (every statement in services/ does).

CREATE OR REPLACE FUNCTION med_claim_archive_record_keys()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    INSERT INTO archive_record_keys (record_key, tenant_id, record_type, payload_digest, created_at)
    SELECT n.record_key, n.tenant_id, n.record_type, n.payload_digest, n.created_at
      FROM new_rows n
    ON CONFLICT DO NOTHING;
    IF EXISTS (SELECT 1 FROM new_rows n
                 LEFT JOIN archive_record_keys k ON k.record_key = n.record_key
                WHERE k.record_key IS NULL
                   OR k.tenant_id IS DISTINCT FROM n.tenant_id
                   OR k.created_at IS DISTINCT FROM n.created_at
                   OR k.payload_digest IS DISTINCT FROM n.payload_digest) THEN
        RAISE EXCEPTION 'record_key already archived'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'archive_record_keys_pkey',
                  TABLE = 'archive_records';
    END IF;
    RETURN NULL;
END
$fn$;

DROP TRIGGER IF EXISTS archive_records_claim ON archive_records;
CREATE OR REPLACE TRIGGER archive_records_claim_keys
    AFTER INSERT ON archive_records
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION med_claim_archive_record_keys();

DROP FUNCTION IF EXISTS med_claim_archive_record_key();
