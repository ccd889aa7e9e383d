-- 0014 archive_records: one index fewer on the hottest table.
--
-- archive_records_tenant_trace_idx (0010) duplicated what the order gate
-- needs (archive_records_trace_idx: trace_key is the selective part) and
-- cost every archive row a twelfth index entry. Worse, its leading
-- tenant_id matches the row-level security qual of every statement, so a
-- plan made while a partition looked small (a new month, a fresh
-- deployment) read the whole tenant through it instead of the record-key
-- or trace index. Dropping it on the parent drops it on every partition.
DROP INDEX IF EXISTS archive_records_tenant_trace_idx;
