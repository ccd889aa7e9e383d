-- 0004 records of the request chain: opportunities (A), deliveries (E),
-- events (F), audit records (G and every audited action).
--
-- High-volume tables are PARTITIONED BY RANGE (created_at), monthly (see
-- 0002). PostgreSQL only enforces a unique constraint on a partitioned
-- table per partition key value, so keys that must be unique for ever are
-- claimed in a non-partitioned claim table by an AFTER INSERT trigger: a
-- second row with a claimed key fails with 23505 whatever its created_at.
-- A writer that wants "insert or no-op" claims first
-- (INSERT INTO <claims> ... ON CONFLICT DO NOTHING RETURNING ...) and then
-- inserts the rows it won with the claim's created_at; the trigger accepts
-- a row whose claim has the same tenant and created_at (now() is the same
-- for both inside one transaction).
--
-- Common columns: tenant_id (RLS), app_id, placement_id, the chain keys
-- trace_key / request_key / attempt_key / opportunity_key, the version
-- anchors anchor_hash + version_anchor_snapshot_ref, payload (the full
-- snapshot as jsonb), created_at (partition key). Absent keys are NULL (a
-- wire value "NA" is stored as NULL).

-- ---------------------------------------------------------------- A ----
-- One row per created opportunity (A.8); unique (tenant_id,
-- opportunity_key, create_opportunity_contract_version) via
-- opportunity_keys. created_event_* drive the opportunity_created event
-- resend sweeper (A.9: FOR UPDATE SKIP LOCKED over rows whose
-- created_event_next_at is set).
CREATE TABLE IF NOT EXISTS opportunity_records (
    id                                  bigserial   NOT NULL,
    tenant_id                           text        NOT NULL CHECK (tenant_id <> ''),
    app_id                              text        NOT NULL,
    placement_id                        text        NOT NULL,
    opportunity_key                     text        NOT NULL,
    request_key                         text        NOT NULL,
    trace_key                           text        NOT NULL,
    attempt_key                         text        NOT NULL,
    create_opportunity_contract_version text        NOT NULL,
    dedup_key                           text,
    result_state                        text        NOT NULL DEFAULT 'received',
    reason_code                         text,
    resolved_config_snapshot_ref        text,
    anchor_hash                         text,
    version_anchor_snapshot_ref         text,
    created_event_key                   text,
    created_event_idempotency_key       text,
    created_event_status                text,
    created_event_attempts              integer     NOT NULL DEFAULT 0,
    created_event_first_attempt_at      timestamptz,
    created_event_next_at               timestamptz,
    payload                             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at                          timestamptz NOT NULL DEFAULT now(),
    updated_at                          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT opportunity_records_pkey PRIMARY KEY (id, created_at),
    CONSTRAINT opportunity_records_opp_key UNIQUE
        (tenant_id, opportunity_key, create_opportunity_contract_version, created_at)
) PARTITION BY RANGE (created_at);

CREATE TABLE IF NOT EXISTS opportunity_keys (
    tenant_id                           text        NOT NULL CHECK (tenant_id <> ''),
    opportunity_key                     text        NOT NULL,
    create_opportunity_contract_version text        NOT NULL,
    request_key                         text,
    created_at                          timestamptz NOT NULL,
    claimed_at                          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT opportunity_keys_pkey PRIMARY KEY
        (tenant_id, opportunity_key, create_opportunity_contract_version)
);

CREATE OR REPLACE FUNCTION med_claim_opportunity_key()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
    c record;
BEGIN
    INSERT INTO opportunity_keys (tenant_id, opportunity_key, create_opportunity_contract_version,
                                  request_key, created_at)
    VALUES (NEW.tenant_id, NEW.opportunity_key, NEW.create_opportunity_contract_version,
            NEW.request_key, NEW.created_at)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        SELECT k.tenant_id, k.created_at INTO c FROM opportunity_keys k
         WHERE k.tenant_id = NEW.tenant_id AND k.opportunity_key = NEW.opportunity_key
           AND k.create_opportunity_contract_version = NEW.create_opportunity_contract_version;
        IF c.created_at IS DISTINCT FROM NEW.created_at THEN
            RAISE EXCEPTION 'opportunity_key already recorded'
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'opportunity_keys_pkey',
                      TABLE = 'opportunity_records';
        END IF;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER opportunity_records_claim
    AFTER INSERT ON opportunity_records
    FOR EACH ROW EXECUTE FUNCTION med_claim_opportunity_key();

CREATE INDEX IF NOT EXISTS opportunity_records_trace_idx ON opportunity_records (trace_key);
CREATE INDEX IF NOT EXISTS opportunity_records_request_idx ON opportunity_records (request_key);
CREATE INDEX IF NOT EXISTS opportunity_records_opportunity_idx ON opportunity_records (opportunity_key);
CREATE INDEX IF NOT EXISTS opportunity_records_anchor_idx
    ON opportunity_records (anchor_hash, version_anchor_snapshot_ref);
CREATE INDEX IF NOT EXISTS opportunity_records_scope_idx
    ON opportunity_records (created_at, tenant_id, app_id, placement_id);
CREATE INDEX IF NOT EXISTS opportunity_records_event_sweep_idx
    ON opportunity_records (created_event_next_at) WHERE created_event_next_at IS NOT NULL;

-- ---------------------------------------------------------------- E ----
-- One row per Delivery; E is the only writer (00, cross-module decision 1).
-- responseReference is unique for ever via delivery_keys: a redelivered
-- ComposeInput yields the same responseReference and is a no-op.
-- render_attempt_id is the Delivery's default attempt (the one F times out
-- when the SDK stays silent).
CREATE TABLE IF NOT EXISTS delivery_records (
    id                          bigserial   NOT NULL,
    tenant_id                   text        NOT NULL CHECK (tenant_id <> ''),
    app_id                      text        NOT NULL,
    placement_id                text        NOT NULL,
    response_reference          text        NOT NULL,
    render_attempt_id           text,
    trace_key                   text        NOT NULL,
    request_key                 text        NOT NULL,
    attempt_key                 text,
    opportunity_key             text        NOT NULL,
    delivery_status             text        NOT NULL CHECK (delivery_status IN ('served', 'no_fill', 'error')),
    final_reason_code           text        NOT NULL,
    render_mode                 text,
    source_id                   text,
    expire_at                   timestamptz,
    anchor_hash                 text,
    version_anchor_snapshot_ref text,
    payload                     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT delivery_records_pkey PRIMARY KEY (id, created_at),
    CONSTRAINT delivery_records_response_key UNIQUE (response_reference, created_at)
) PARTITION BY RANGE (created_at);

CREATE TABLE IF NOT EXISTS delivery_keys (
    response_reference text        PRIMARY KEY,
    tenant_id          text        NOT NULL CHECK (tenant_id <> ''),
    delivery_status    text,
    created_at         timestamptz NOT NULL,
    claimed_at         timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION med_claim_delivery_key()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
    c record;
BEGIN
    INSERT INTO delivery_keys (response_reference, tenant_id, delivery_status, created_at)
    VALUES (NEW.response_reference, NEW.tenant_id, NEW.delivery_status, NEW.created_at)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        SELECT k.tenant_id, k.created_at INTO c FROM delivery_keys k
         WHERE k.response_reference = NEW.response_reference;
        IF c.tenant_id IS DISTINCT FROM NEW.tenant_id OR c.created_at IS DISTINCT FROM NEW.created_at THEN
            RAISE EXCEPTION 'response_reference already recorded'
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'delivery_keys_pkey',
                      TABLE = 'delivery_records';
        END IF;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER delivery_records_claim
    AFTER INSERT ON delivery_records
    FOR EACH ROW EXECUTE FUNCTION med_claim_delivery_key();

CREATE INDEX IF NOT EXISTS delivery_records_closure_idx
    ON delivery_records (response_reference, render_attempt_id);
CREATE INDEX IF NOT EXISTS delivery_records_trace_idx ON delivery_records (trace_key);
CREATE INDEX IF NOT EXISTS delivery_records_request_idx ON delivery_records (request_key);
CREATE INDEX IF NOT EXISTS delivery_records_opportunity_idx ON delivery_records (opportunity_key);
CREATE INDEX IF NOT EXISTS delivery_records_anchor_idx
    ON delivery_records (anchor_hash, version_anchor_snapshot_ref);
CREATE INDEX IF NOT EXISTS delivery_records_scope_idx
    ON delivery_records (created_at, tenant_id, app_id, placement_id);

-- ---------------------------------------------------------------- F ----
-- One row per processed SDK event (F.3-F.5), accepted, duplicate or
-- rejected, with its ACK outcome; committed before the batch is ACKed
-- (00, cross-module decision 4). Dedup keys are claimed in
-- idempotency_keys (scope 'f_dedup', windowed), billing keys in
-- billing_ledger; this table is the log, not the guard.
CREATE TABLE IF NOT EXISTS event_records (
    id                          bigserial   NOT NULL,
    tenant_id                   text        NOT NULL CHECK (tenant_id <> ''),
    app_id                      text        NOT NULL,
    placement_id                text,
    batch_id                    text        NOT NULL,
    event_index                 integer     NOT NULL,
    event_id                    text,
    event_type                  text,
    event_layer                 text,
    event_seq                   bigint,
    event_at                    timestamptz,
    received_at                 timestamptz NOT NULL DEFAULT now(),
    trace_key                   text,
    request_key                 text,
    attempt_key                 text,
    opportunity_key             text,
    response_reference          text,
    render_attempt_id           text,
    closure_key                 text,
    canonical_dedup_key         text,
    key_source                  text,
    fingerprint                 text,
    ack_status                  text        NOT NULL CHECK (ack_status IN ('accepted', 'rejected', 'duplicate')),
    ack_reason_code             text        NOT NULL,
    anchor_hash                 text,
    version_anchor_snapshot_ref text,
    payload                     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT event_records_pkey PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);

CREATE INDEX IF NOT EXISTS event_records_closure_idx
    ON event_records (response_reference, render_attempt_id);
CREATE INDEX IF NOT EXISTS event_records_trace_idx ON event_records (trace_key);
CREATE INDEX IF NOT EXISTS event_records_request_idx ON event_records (request_key);
CREATE INDEX IF NOT EXISTS event_records_opportunity_idx ON event_records (opportunity_key);
CREATE INDEX IF NOT EXISTS event_records_anchor_idx
    ON event_records (anchor_hash, version_anchor_snapshot_ref);
CREATE INDEX IF NOT EXISTS event_records_scope_idx
    ON event_records (created_at, tenant_id, app_id, placement_id);
CREATE INDEX IF NOT EXISTS event_records_dedup_idx ON event_records (canonical_dedup_key);
CREATE INDEX IF NOT EXISTS event_records_batch_idx ON event_records (tenant_id, batch_id, event_index);

-- ---------------------------------------------------------------- G ----
-- Audit trail: G's assembled gAuditRecordLite (audit_kind 'audit_record'),
-- decision points of B, D, E, F, H (audit_kind 'decision_point'), and the
-- security audit of spec 05 section 3: publish, rollback, permission
-- denial, purge, key decisions (audit_kind = that action). Who: actor_id /
-- actor_role; what: action, resource_type, resource_id, outcome. Append
-- idempotency (G.2, 7 d window) and decision-point uniqueness
-- (traceKey, attemptKey, decisionType) are claimed in idempotency_keys
-- (scopes 'g_append', 'g_decision'). created_at is the storage time that
-- replay cuts compare with ("stored by cut").
CREATE TABLE IF NOT EXISTS audit_records (
    id                          bigserial   NOT NULL,
    tenant_id                   text        NOT NULL CHECK (tenant_id <> ''),
    app_id                      text,
    placement_id                text,
    audit_kind                  text        NOT NULL,
    audit_record_id             text,
    decision_type               text,
    stage                       text,
    actor_id                    text,
    actor_role                  text,
    action                      text,
    resource_type               text,
    resource_id                 text,
    outcome                     text,
    reason_code                 text,
    trace_key                   text,
    request_key                 text,
    attempt_key                 text,
    opportunity_key             text,
    response_reference          text,
    render_attempt_id           text,
    closure_key                 text,
    idempotency_key             text,
    append_token                text,
    payload_digest              text,
    audit_at                    timestamptz NOT NULL DEFAULT now(),
    anchor_hash                 text,
    version_anchor_snapshot_ref text,
    payload                     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_records_pkey PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);

CREATE INDEX IF NOT EXISTS audit_records_trace_idx ON audit_records (trace_key);
CREATE INDEX IF NOT EXISTS audit_records_request_idx ON audit_records (request_key);
CREATE INDEX IF NOT EXISTS audit_records_opportunity_idx ON audit_records (opportunity_key);
CREATE INDEX IF NOT EXISTS audit_records_closure_idx
    ON audit_records (response_reference, render_attempt_id);
CREATE INDEX IF NOT EXISTS audit_records_anchor_idx
    ON audit_records (anchor_hash, version_anchor_snapshot_ref);
CREATE INDEX IF NOT EXISTS audit_records_scope_idx
    ON audit_records (created_at, tenant_id, app_id, placement_id);
CREATE INDEX IF NOT EXISTS audit_records_replay_idx
    ON audit_records (tenant_id, audit_at, trace_key, request_key, attempt_key, audit_record_id);
CREATE INDEX IF NOT EXISTS audit_records_kind_idx ON audit_records (tenant_id, audit_kind, created_at);

-- ------------------------------------------------------ security ------
SELECT med_apply_tenant_rls('opportunity_records');
SELECT med_apply_tenant_rls('opportunity_keys');
SELECT med_apply_tenant_rls('delivery_records');
SELECT med_apply_tenant_rls('delivery_keys');
SELECT med_apply_tenant_rls('event_records');
SELECT med_apply_tenant_rls('audit_records');

SELECT med_grant_app('opportunity_records', 'SELECT, INSERT, UPDATE');
SELECT med_grant_app('opportunity_keys', 'SELECT, INSERT');
SELECT med_grant_app('delivery_records', 'SELECT, INSERT, UPDATE');
SELECT med_grant_app('delivery_keys', 'SELECT, INSERT');
SELECT med_grant_app('event_records', 'SELECT, INSERT, UPDATE');
SELECT med_grant_app('audit_records', 'SELECT, INSERT, UPDATE');
GRANT USAGE, SELECT ON SEQUENCE opportunity_records_id_seq, delivery_records_id_seq,
    event_records_id_seq, audit_records_id_seq TO med_app;

SELECT count(*) AS partitions_created FROM med_ensure_partitions(2);
