-- 0008 G append of stage audits (spec 04 G.2): an audit is appended once
-- per idempotency key (the producer's Nats-Msg-Id) within the 7 d window.
-- audit_records is partitioned by created_at, so a unique constraint would
-- have to include it and could not catch a redelivery a second later; G
-- checks for the key instead, and this index keeps that check cheap.
CREATE INDEX IF NOT EXISTS audit_records_idem_idx
    ON audit_records (tenant_id, idempotency_key, created_at);

-- The audit itself is kept as its protobuf bytes (payload_pb); payload holds
-- only the summary a human filters on. Rendering every StageAudit as JSON
-- cost more CPU (G and PostgreSQL) than the rest of the request path.
ALTER TABLE audit_records ADD COLUMN IF NOT EXISTS payload_pb bytea;
