-- 0003 config (module H, spec 04 H.1-H.4, spec 06 sections 1-3).
--
-- Tenancy: config rows belong to a tenant. The per-environment global layer
-- and the documents it references belong to the reserved tenant
-- '_platform'; every tenant can read those rows (policy platform_read), only
-- a session with app.tenant_id = '_platform' can write them.

-- Immutable, content-addressed config documents (06 section 1). A change is
-- a new version; the same kind+version with the same sha256 is a no-op
-- (INSERT ... ON CONFLICT DO NOTHING), with another sha256 a 409.
CREATE TABLE IF NOT EXISTS config_documents (
    tenant_id            text        NOT NULL CHECK (tenant_id <> ''),
    kind                 text        NOT NULL CHECK (kind IN ('schema', 'policy', 'route_policy',
                                         'template_whitelist', 'black_white_list', 'placement')),
    version              text        NOT NULL CHECK (version <> ''),
    ref                  text        GENERATED ALWAYS AS (kind || ':' || version) STORED,
    body                 jsonb       NOT NULL,
    sha256               text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    publish_operation_id text,
    created_by           text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT config_documents_pkey PRIMARY KEY (tenant_id, kind, version)
);
CREATE INDEX IF NOT EXISTS config_documents_sha256_idx ON config_documents (sha256);
CREATE INDEX IF NOT EXISTS config_documents_created_idx ON config_documents (created_at, tenant_id);

CREATE OR REPLACE TRIGGER config_documents_immutable
    BEFORE UPDATE ON config_documents
    FOR EACH ROW EXECUTE FUNCTION med_forbid_update();

-- Published layers per release unit (environment|targetScope|targetKey),
-- one row per published version set, the live one flagged. A publish
-- commit (H.4) locks the live row (SELECT ... FOR UPDATE), re-checks the
-- base, clears is_live on it and inserts the new live row in one
-- transaction. The partial unique index allows one live row per unit, so
-- two first publishes of a unit cannot both win.
CREATE TABLE IF NOT EXISTS config_snapshots (
    id                       bigserial   PRIMARY KEY,
    tenant_id                text        NOT NULL CHECK (tenant_id <> ''),
    environment              text        NOT NULL,
    target_scope             text        NOT NULL CHECK (target_scope IN ('global', 'app', 'placement')),
    target_key               text        NOT NULL,
    release_unit             text        GENERATED ALWAYS AS
                                         (environment || '|' || target_scope || '|' || target_key) STORED,
    app_id                   text,
    placement_id             text,
    snapshot_seq             integer     NOT NULL CHECK (snapshot_seq > 0),
    schema_version           text        NOT NULL,
    routing_strategy_version text        NOT NULL,
    placement_config_version text        NOT NULL,
    layer                    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    layer_sha256             text,
    is_live                  boolean     NOT NULL DEFAULT false,
    publish_operation_id     text        NOT NULL,
    change_set_id            text,
    action_type              text        NOT NULL DEFAULT 'publish'
                                         CHECK (action_type IN ('publish', 'rollback')),
    published_at             timestamptz NOT NULL DEFAULT now(),
    superseded_at            timestamptz,
    created_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT config_snapshots_unit_seq_key UNIQUE (tenant_id, release_unit, snapshot_seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS config_snapshots_live_uq
    ON config_snapshots (tenant_id, release_unit) WHERE is_live;
CREATE INDEX IF NOT EXISTS config_snapshots_resolve_idx
    ON config_snapshots (tenant_id, environment, target_scope, app_id, placement_id) WHERE is_live;
CREATE INDEX IF NOT EXISTS config_snapshots_versions_idx
    ON config_snapshots (tenant_id, release_unit, schema_version, routing_strategy_version,
                         placement_config_version);
CREATE INDEX IF NOT EXISTS config_snapshots_operation_idx ON config_snapshots (publish_operation_id);

-- Publish / rollback operations and their state machine (H.4):
-- draft -> validated -> published | failed; a rollback request
-- validated -> rollback -> rolled_back | failed; the operation it reverts
-- published -> rollback -> rolled_back. The stored response answers
-- idempotent repeats (idempotency window in idempotency_keys, scope
-- 'h_publish'). The outbox columns carry the ConfigChanged message written
-- in the commit transaction until it is published on med.h.config.v1.
CREATE TABLE IF NOT EXISTS config_publish_operations (
    publish_operation_id         text        PRIMARY KEY,
    tenant_id                    text        NOT NULL CHECK (tenant_id <> ''),
    request_id                   text        NOT NULL,
    operator_id                  text        NOT NULL,
    actor_id                     text,
    actor_role                   text,
    environment                  text        NOT NULL,
    action_type                  text        NOT NULL CHECK (action_type IN ('publish', 'rollback')),
    target_scope                 text        NOT NULL CHECK (target_scope IN ('global', 'app', 'placement')),
    target_key                   text        NOT NULL,
    release_unit                 text        GENERATED ALWAYS AS
                                             (environment || '|' || target_scope || '|' || target_key) STORED,
    change_set_id                text        NOT NULL,
    idempotency_key              text        NOT NULL,
    payload_hash                 text        NOT NULL,
    publish_state                text        NOT NULL DEFAULT 'draft'
                                             CHECK (publish_state IN ('draft', 'validated', 'published',
                                                                      'failed', 'rollback', 'rolled_back')),
    ack_reason_code              text,
    retryable                    boolean     NOT NULL DEFAULT false,
    dry_run                      boolean     NOT NULL DEFAULT false,
    base_version_snapshot        jsonb,
    target_version_snapshot      jsonb,
    rollback_to_version_snapshot jsonb,
    change_set                   jsonb,
    approval_context             jsonb,
    reason                       text,
    reverts_operation_id         text,
    response                     jsonb,
    state_history                jsonb       NOT NULL DEFAULT '[]'::jsonb,
    trace_key                    text,
    publish_at                   timestamptz,
    outbox_status                text        CHECK (outbox_status IN ('pending', 'sent')),
    outbox_payload               bytea,
    outbox_sent_at               timestamptz,
    created_at                   timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS config_publish_operations_unit_idx
    ON config_publish_operations (tenant_id, release_unit, created_at);
CREATE INDEX IF NOT EXISTS config_publish_operations_idem_idx
    ON config_publish_operations (tenant_id, idempotency_key);
CREATE INDEX IF NOT EXISTS config_publish_operations_outbox_idx
    ON config_publish_operations (created_at) WHERE outbox_status = 'pending';
-- "A published changeSetId is never re-published" (H.4), per release unit.
CREATE UNIQUE INDEX IF NOT EXISTS config_publish_operations_changeset_uq
    ON config_publish_operations (tenant_id, release_unit, change_set_id)
    WHERE action_type = 'publish' AND publish_state IN ('published', 'rollback', 'rolled_back');

SELECT med_apply_tenant_rls('config_documents', true);
SELECT med_apply_tenant_rls('config_snapshots', true);
SELECT med_apply_tenant_rls('config_publish_operations', false);

SELECT med_grant_app('config_documents', 'SELECT, INSERT');
SELECT med_grant_app('config_snapshots', 'SELECT, INSERT, UPDATE');
SELECT med_grant_app('config_publish_operations', 'SELECT, INSERT, UPDATE');
GRANT USAGE, SELECT ON SEQUENCE config_snapshots_id_seq TO med_app;
