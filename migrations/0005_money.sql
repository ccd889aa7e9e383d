-- 0005 archive facts, the billing ledger and idempotency keys: the tables
-- whose unique keys make a second bill impossible (spec 05 section 4,
-- 00 cross-module decision 5). Redis windows in front of them are a fast
-- path only.

-- ---------------------------------------------------------------- G ----
-- Archive facts from F (G.4): decision_audit, billable_fact,
-- attribution_fact, with the write state machine
-- pending -> writing -> written | write_failed_retryable -> ... |
-- write_failed_terminal. Only written + committed billable_fact rows feed
-- billing. recordKey is unique for ever via archive_record_keys (claimed by
-- the trigger below), which also holds the payload digest so the
-- "same digest -> no-op, other digest -> conflict" check (G.4) is one
-- primary-key lookup.
CREATE TABLE IF NOT EXISTS archive_records (
    id                          bigserial   NOT NULL,
    tenant_id                   text        NOT NULL CHECK (tenant_id <> ''),
    app_id                      text,
    placement_id                text,
    record_key                  text        NOT NULL,
    record_type                 text        NOT NULL CHECK (record_type IN
                                    ('decision_audit', 'billable_fact', 'attribution_fact')),
    record_status               text        NOT NULL CHECK (record_status IN
                                    ('new', 'committed', 'duplicate', 'conflicted', 'rejected', 'superseded')),
    payload_type                text,
    payload_key                 text,
    payload_digest              text        NOT NULL,
    event_id                    text,
    source_event_id             text,
    trace_key                   text        NOT NULL,
    request_key                 text,
    attempt_key                 text,
    opportunity_key             text,
    response_reference          text,
    render_attempt_id           text,
    closure_key                 text,
    billing_key                 text,
    attribution_key             text,
    canonical_dedup_key         text,
    decision_reason_code        text        NOT NULL,
    conflict_with_record_key    text,
    superseded_record_key       text,
    output_at                   timestamptz NOT NULL,
    write_status                text        NOT NULL DEFAULT 'pending' CHECK (write_status IN
                                    ('pending', 'writing', 'written', 'write_failed_retryable',
                                     'write_failed_terminal')),
    write_reason_code           text,
    write_attempts              integer     NOT NULL DEFAULT 0,
    next_attempt_at             timestamptz,
    written_at                  timestamptz,
    billable                    boolean,
    amount_micros               bigint,
    currency                    text,
    anchor_hash                 text,
    version_anchor_snapshot_ref text,
    version_anchors             jsonb       NOT NULL,
    payload                     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT archive_records_pkey PRIMARY KEY (id, created_at),
    CONSTRAINT archive_records_record_key UNIQUE (record_key, created_at)
) PARTITION BY RANGE (created_at);

CREATE TABLE IF NOT EXISTS archive_record_keys (
    record_key     text        PRIMARY KEY,
    tenant_id      text        NOT NULL CHECK (tenant_id <> ''),
    record_type    text        NOT NULL,
    payload_digest text        NOT NULL,
    created_at     timestamptz NOT NULL,
    claimed_at     timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION med_claim_archive_record_key()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
    c record;
BEGIN
    INSERT INTO archive_record_keys (record_key, tenant_id, record_type, payload_digest, created_at)
    VALUES (NEW.record_key, NEW.tenant_id, NEW.record_type, NEW.payload_digest, NEW.created_at)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        SELECT k.tenant_id, k.created_at, k.payload_digest INTO c FROM archive_record_keys k
         WHERE k.record_key = NEW.record_key;
        IF c.tenant_id IS DISTINCT FROM NEW.tenant_id OR c.created_at IS DISTINCT FROM NEW.created_at
           OR c.payload_digest IS DISTINCT FROM NEW.payload_digest THEN
            RAISE EXCEPTION 'record_key already archived'
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'archive_record_keys_pkey',
                      TABLE = 'archive_records';
        END IF;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER archive_records_claim
    AFTER INSERT ON archive_records
    FOR EACH ROW EXECUTE FUNCTION med_claim_archive_record_key();

-- A record's identity never changes once stored.
CREATE OR REPLACE FUNCTION med_archive_records_keep_keys()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    IF NEW.record_key IS DISTINCT FROM OLD.record_key
       OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id
       OR NEW.payload_digest IS DISTINCT FROM OLD.payload_digest
       OR NEW.record_type IS DISTINCT FROM OLD.record_type
       OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'archive_records: record_key, tenant_id, record_type, payload_digest and created_at never change'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$fn$;

CREATE OR REPLACE TRIGGER archive_records_keep_keys
    BEFORE UPDATE ON archive_records
    FOR EACH ROW EXECUTE FUNCTION med_archive_records_keep_keys();

CREATE INDEX IF NOT EXISTS archive_records_closure_idx
    ON archive_records (response_reference, render_attempt_id);
CREATE INDEX IF NOT EXISTS archive_records_trace_idx ON archive_records (trace_key);
CREATE INDEX IF NOT EXISTS archive_records_request_idx ON archive_records (request_key);
CREATE INDEX IF NOT EXISTS archive_records_opportunity_idx ON archive_records (opportunity_key);
CREATE INDEX IF NOT EXISTS archive_records_anchor_idx
    ON archive_records (anchor_hash, version_anchor_snapshot_ref);
CREATE INDEX IF NOT EXISTS archive_records_scope_idx
    ON archive_records (created_at, tenant_id, app_id, placement_id);
CREATE INDEX IF NOT EXISTS archive_records_group_idx ON archive_records (closure_key, trace_key);
CREATE INDEX IF NOT EXISTS archive_records_billing_key_idx ON archive_records (billing_key)
    WHERE billing_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS archive_records_work_idx ON archive_records (next_attempt_at)
    WHERE write_status IN ('pending', 'writing', 'write_failed_retryable');

-- ---------------------------------------------------------------- F ----
-- The billing ledger (spec 06 section 5): the table of claimed billing keys
-- of module F. billingKey = responseReference|renderAttemptId|billableType
-- (F.7), checked by the table. A billable fact exists only if its claim
-- row was inserted; the primary key makes a second claim fail (23505) in
-- any month, for any tenant, for ever: per closure at most one
-- billable_impression and one billable_click. Not partitioned, never
-- deleted (med_app has no DELETE); corrections are later adjustment
-- records, never updates of the key columns.
CREATE TABLE IF NOT EXISTS billing_ledger (
    billing_key                 text        PRIMARY KEY,
    tenant_id                   text        NOT NULL CHECK (tenant_id <> ''),
    app_id                      text,
    placement_id                text,
    response_reference          text        NOT NULL,
    render_attempt_id           text        NOT NULL,
    billable_type               text        NOT NULL CHECK (billable_type IN
                                    ('billable_impression', 'billable_click')),
    record_key                  text,
    fact_id                     text,
    source_event_id             text,
    trace_key                   text,
    request_key                 text,
    opportunity_key             text,
    billable                    boolean     NOT NULL DEFAULT true,
    amount_micros               bigint      NOT NULL DEFAULT 0,
    currency                    text,
    anchor_hash                 text,
    version_anchor_snapshot_ref text,
    fact_at                     timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT billing_ledger_key_shape CHECK
        (billing_key = response_reference || '|' || render_attempt_id || '|' || billable_type),
    CONSTRAINT billing_ledger_record_key UNIQUE (record_key)
);

CREATE OR REPLACE FUNCTION med_billing_ledger_keep_keys()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    IF NEW.billing_key IS DISTINCT FROM OLD.billing_key
       OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id
       OR NEW.response_reference IS DISTINCT FROM OLD.response_reference
       OR NEW.render_attempt_id IS DISTINCT FROM OLD.render_attempt_id
       OR NEW.billable_type IS DISTINCT FROM OLD.billable_type
       OR NEW.created_at IS DISTINCT FROM OLD.created_at
       OR (OLD.record_key IS NOT NULL AND NEW.record_key IS DISTINCT FROM OLD.record_key) THEN
        RAISE EXCEPTION 'billing_ledger: a claimed billing key never changes'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$fn$;

CREATE OR REPLACE TRIGGER billing_ledger_keep_keys
    BEFORE UPDATE ON billing_ledger
    FOR EACH ROW EXECUTE FUNCTION med_billing_ledger_keep_keys();

CREATE INDEX IF NOT EXISTS billing_ledger_closure_idx
    ON billing_ledger (response_reference, render_attempt_id);
CREATE INDEX IF NOT EXISTS billing_ledger_trace_idx ON billing_ledger (trace_key);
CREATE INDEX IF NOT EXISTS billing_ledger_opportunity_idx ON billing_ledger (opportunity_key);
CREATE INDEX IF NOT EXISTS billing_ledger_anchor_idx
    ON billing_ledger (anchor_hash, version_anchor_snapshot_ref);
CREATE INDEX IF NOT EXISTS billing_ledger_scope_idx
    ON billing_ledger (created_at, tenant_id, app_id, placement_id);

-- ------------------------------------------------------------ all ------
-- Idempotency keys of every stage, one row per (tenant, scope, key):
-- A 'a_opportunity_event' (opportunity_created resends), F 'f_dedup'
-- (event dedup: billing 14 d, diagnostics 3 d), G 'g_append' (7 d),
-- 'g_decision' (decision points), H 'h_publish' (24 h), ... . state and
-- fingerprint follow the owning stage's contract (F.5 key record states).
-- expires_at NULL = permanent; an expired row is taken over by UPDATE, or
-- removed by a sweeper: med_app may DELETE only expired rows.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    tenant_id    text        NOT NULL CHECK (tenant_id <> ''),
    scope        text        NOT NULL CHECK (scope <> ''),
    key          text        NOT NULL CHECK (key <> ''),
    state        text        NOT NULL,
    fingerprint  text,
    result       jsonb,
    owner_ref    text,
    trace_key    text,
    locked_until timestamptz,
    expires_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (tenant_id, scope, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_expiry_idx ON idempotency_keys (expires_at)
    WHERE expires_at IS NOT NULL;

-- ------------------------------------------------------ security ------
SELECT med_apply_tenant_rls('archive_records');
SELECT med_apply_tenant_rls('archive_record_keys');
SELECT med_apply_tenant_rls('billing_ledger');
SELECT med_apply_tenant_rls('idempotency_keys');
DROP POLICY IF EXISTS delete_expired_only ON idempotency_keys;
CREATE POLICY delete_expired_only ON idempotency_keys AS RESTRICTIVE FOR DELETE
    USING (expires_at IS NOT NULL AND expires_at < now());

SELECT med_grant_app('archive_records', 'SELECT, INSERT, UPDATE');
SELECT med_grant_app('archive_record_keys', 'SELECT, INSERT');
SELECT med_grant_app('billing_ledger', 'SELECT, INSERT, UPDATE');
SELECT med_grant_app('idempotency_keys', 'SELECT, INSERT, UPDATE, DELETE');
GRANT USAGE, SELECT ON SEQUENCE archive_records_id_seq TO med_app;

SELECT count(*) AS partitions_created FROM med_ensure_partitions(2);
