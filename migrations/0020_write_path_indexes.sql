-- 0020 event/archive write path: drop the secondary indexes no statement
-- reads through.
--
-- Per SDK event F writes one event_records row and may claim a
-- billing_ledger row; G writes ~2.5 archive_records rows and the batch's
-- audit_records rows. The event-ingest benchmark is bound by PostgreSQL
-- CPU, and every index costs each of those rows an index insert and its
-- WAL. Each index below was checked against every statement of
-- services/, common/, tools/ and the migrations' functions; none uses it.
-- What stays, and the statement that needs it:
--   all four tables  trace_key index: following a request by traceKey to
--                    its rows (00 "One trace through everything"); also
--                    G's order gate (archive) and replay's decision audits
--                    (audit)
--   archive_records  closure (response_reference, ...): replay candidates
--                    and fragments; scope (created_at, ...): reconciliation
--                    window; billing_key: reconciliation's ledger -> record;
--                    superseded: the supersede UPDATE; work: the sweeper
--                    and g_archive_due_tenants; UNIQUE (record_key,
--                    created_at): every lookup by recordKey
--   billing_ledger   PK billing_key: F's claim, reconciliation;
--                    UNIQUE record_key: reconciliation; scope (created_at,
--                    ...): reconciliation window
--   audit_records    idem (tenant_id, idempotency_key, created_at): G's
--                    append-once check of stage audits
-- Dropping an index on the parent drops it on every partition (and takes
-- the table's lock for a moment: run it outside the peak).

-- ---------------------------------------------------- event_records ----
-- The table is F's log; nothing reads it back (dedup is idempotency_keys,
-- billing is billing_ledger, a repeated batch is answered from f_outbox).
-- Only event_records_trace_idx stays.
-- closure lookup: none; F keeps closure state in f_closures.
DROP INDEX IF EXISTS event_records_closure_idx;
-- requestKey lookup: none; an operator finds a request's events by trace_key (trace_idx).
DROP INDEX IF EXISTS event_records_request_idx;
-- opportunityKey lookup: none; trace_idx serves the investigation path.
DROP INDEX IF EXISTS event_records_opportunity_idx;
-- anchor lookup: none; replay pins anchors from delivery/archive rows, not events.
DROP INDEX IF EXISTS event_records_anchor_idx;
-- time-range scan: none; retention drops whole monthly partitions.
DROP INDEX IF EXISTS event_records_scope_idx;
-- dedup-key lookup: none; the dedup guard is idempotency_keys (PK tenant, scope, key).
DROP INDEX IF EXISTS event_records_dedup_idx;
-- batch lookup: none; a repeated batch is answered from f_outbox (PK tenant, outbox_key).
DROP INDEX IF EXISTS event_records_batch_idx;

-- -------------------------------------------------- archive_records ----
-- requestKey lookup: none; G and replay find records by trace_key, recordKey or responseReference.
DROP INDEX IF EXISTS archive_records_request_idx;
-- opportunityKey lookup: none; replay by opportunity reads delivery_records by it, then archive by responseReference (closure_idx).
DROP INDEX IF EXISTS archive_records_opportunity_idx;
-- anchor lookup: none; reconciliation compares anchors of rows it found by window/recordKey.
DROP INDEX IF EXISTS archive_records_anchor_idx;
-- group lookup: the order gate reads a group by trace_key (archive_records_trace_idx); closure_key never leads a WHERE.
DROP INDEX IF EXISTS archive_records_group_idx;

-- --------------------------------------------------- billing_ledger ----
-- closure lookup: none; a closure has at most two keys, rr|ra|billable_impression and rr|ra|billable_click (PK).
DROP INDEX IF EXISTS billing_ledger_closure_idx;
-- opportunityKey lookup: none; trace_idx serves the investigation path.
DROP INDEX IF EXISTS billing_ledger_opportunity_idx;
-- anchor lookup: none; reconciliation reads anchors of rows found by record_key / billing_key / window.
DROP INDEX IF EXISTS billing_ledger_anchor_idx;

-- ---------------------------------------------------- audit_records ----
-- requestKey lookup: none; replay reads decision audits by trace_key (trace_idx).
DROP INDEX IF EXISTS audit_records_request_idx;
-- opportunityKey lookup: none; trace_idx serves the investigation path.
DROP INDEX IF EXISTS audit_records_opportunity_idx;
-- anchor lookup: none; audits are read back only by trace_key.
DROP INDEX IF EXISTS audit_records_anchor_idx;
-- time-range scan: none (replay's cut filters rows found by trace_key); retention drops partitions.
DROP INDEX IF EXISTS audit_records_scope_idx;
-- audit-kind listing: none; security audits (publish, rollback, denial) are written, never queried by kind.
DROP INDEX IF EXISTS audit_records_kind_idx;
