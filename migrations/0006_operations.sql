-- 0006 operations: replay jobs (G.5-G.8) and dead letters (00 transport).

-- A replay run or a reconciliation rerun (G.8: a diff becomes a
-- snapshot_replay / dispute job by recordKey with responseReference,
-- renderAttemptId and both anchors fixed; it runs only after an operator
-- approved it). job_key makes creating a job idempotent (e.g.
-- 'recon:<window>:<recordKey>').
CREATE TABLE IF NOT EXISTS replay_jobs (
    job_id                      text        PRIMARY KEY,
    tenant_id                   text        NOT NULL CHECK (tenant_id <> ''),
    job_key                     text,
    execution_mode              text        NOT NULL DEFAULT 'snapshot_replay'
                                    CHECK (execution_mode IN ('snapshot_replay', 'rule_recompute')),
    purpose                     text        NOT NULL DEFAULT 'debug'
                                    CHECK (purpose IN ('debug', 'dispute', 'sampling')),
    query_mode                  text,
    query                       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    query_hash                  text,
    replay_run_id               text,
    record_key                  text,
    trace_key                   text,
    opportunity_key             text,
    response_reference          text,
    render_attempt_id           text,
    anchor_hash                 text,
    version_anchor_snapshot_ref text,
    reason_code                 text,
    status                      text        NOT NULL DEFAULT 'pending_approval'
                                    CHECK (status IN ('pending_approval', 'approved', 'running',
                                                      'succeeded', 'failed', 'cancelled')),
    requested_by                text,
    approved_by                 text,
    approved_at                 timestamptz,
    started_at                  timestamptz,
    finished_at                 timestamptz,
    determinism_status          text,
    result                      jsonb,
    error_code                  text,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS replay_jobs_job_key_uq ON replay_jobs (tenant_id, job_key)
    WHERE job_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS replay_jobs_status_idx ON replay_jobs (status, created_at);
CREATE INDEX IF NOT EXISTS replay_jobs_record_idx ON replay_jobs (record_key);
CREATE INDEX IF NOT EXISTS replay_jobs_closure_idx ON replay_jobs (response_reference, render_attempt_id);
CREATE INDEX IF NOT EXISTS replay_jobs_anchor_idx ON replay_jobs (anchor_hash, version_anchor_snapshot_ref);
CREATE INDEX IF NOT EXISTS replay_jobs_scope_idx ON replay_jobs (created_at, tenant_id);

-- Messages that ended in med.dlq.<stage>.v1 (DeadLetter), and records G
-- quarantined (g_ingest_invalid_record), for operators to inspect and
-- re-drive. A dead letter whose tenant is unknown uses tenant '_platform'.
-- (stream, consumer, stream_seq) makes recording a redelivered DeadLetter
-- a no-op.
CREATE TABLE IF NOT EXISTS dead_letter_records (
    id              bigserial   PRIMARY KEY,
    tenant_id       text        NOT NULL CHECK (tenant_id <> ''),
    stage           text        NOT NULL,
    failed_subject  text        NOT NULL,
    stream          text,
    stream_seq      bigint,
    consumer        text,
    msg_id          text,
    reason_code     text        NOT NULL,
    last_error      text,
    num_delivered   integer,
    history         jsonb       NOT NULL DEFAULT '[]'::jsonb,
    headers         jsonb,
    payload         bytea,
    trace_key       text,
    request_key     text,
    opportunity_key text,
    dead_at         timestamptz NOT NULL DEFAULT now(),
    status          text        NOT NULL DEFAULT 'open'
                        CHECK (status IN ('open', 'redriven', 'discarded')),
    redriven_at     timestamptz,
    redriven_by     text,
    resolution_note text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT dead_letter_records_origin_key UNIQUE (stream, consumer, stream_seq)
);
CREATE INDEX IF NOT EXISTS dead_letter_records_open_idx
    ON dead_letter_records (tenant_id, stage, status, created_at);
CREATE INDEX IF NOT EXISTS dead_letter_records_trace_idx ON dead_letter_records (trace_key);
CREATE INDEX IF NOT EXISTS dead_letter_records_scope_idx ON dead_letter_records (created_at, tenant_id);

SELECT med_apply_tenant_rls('replay_jobs');
SELECT med_apply_tenant_rls('dead_letter_records');

SELECT med_grant_app('replay_jobs', 'SELECT, INSERT, UPDATE');
SELECT med_grant_app('dead_letter_records', 'SELECT, INSERT, UPDATE');
GRANT USAGE, SELECT ON SEQUENCE dead_letter_records_id_seq TO med_app;
GRANT SELECT ON schema_migrations TO med_app;
