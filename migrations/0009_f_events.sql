-- 0009 F's shared state (spec 03 F.5-F.8, 00 cross-module decisions 3-5):
-- closures, last accepted eventSeq per scope, what F knows of each
-- Delivery, and the outbox of processed batches. Dedup keys are claimed in
-- idempotency_keys (scope 'f_dedup'), billing keys in billing_ledger (0005).
--
-- Every row is written inside the one transaction that processes an
-- EventBatch (or a timer run, or a Delivery), which commits before F
-- answers the ACK. Rows another replica must not touch concurrently are
-- locked with SELECT ... FOR UPDATE in sorted key order (no deadlocks
-- between batches that share closures).

-- ---------------------------------------------------------------- F ----
-- One closure per responseReference|renderAttemptId (F.6), changed by
-- compare-and-set. state 'none' is a placeholder a batch inserts only to
-- lock a key it has not seen yet (deleted again if the batch leaves it
-- untouched); 'released' is a Delivery-opened default closure the scanner
-- closed silently because the SDK reported its own renderAttemptIds
-- (is_default). pending_click_* is the F.7 click received before a billable
-- impression; timeout_record_key the attribution record of a synthesized
-- timeout failure (superseded at most once by a late impression).
CREATE TABLE IF NOT EXISTS f_closures (
    tenant_id                 text        NOT NULL CHECK (tenant_id <> ''),
    app_id                    text,
    closure_key               text        NOT NULL,
    response_reference        text        NOT NULL,
    render_attempt_id         text        NOT NULL,
    state                     text        NOT NULL DEFAULT 'none' CHECK (state IN
                                  ('none', 'open', 'closed_success', 'closed_failure', 'released')),
    terminal_source           text        CHECK (terminal_source IN
                                  ('real_failure', 'system_timeout_synthesized')),
    is_default                boolean     NOT NULL DEFAULT false,
    opened_at                 timestamptz,
    closed_at                 timestamptz,
    superseded_once           boolean     NOT NULL DEFAULT false,
    billed_impression         boolean     NOT NULL DEFAULT false,
    billed_click              boolean     NOT NULL DEFAULT false,
    pending_click_event_id    text,
    pending_click_received_at timestamptz,
    pending_click_dedup_key   text,
    pending_click_trace_key   text,
    open_trace_key            text,
    open_request_key          text,
    open_attempt_key          text,
    open_opportunity_key      text,
    open_event_version        text,
    timeout_record_key        text,
    anchor_hash               text,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT f_closures_pkey PRIMARY KEY (tenant_id, closure_key),
    CONSTRAINT f_closures_key_shape CHECK (closure_key = response_reference || '|' || render_attempt_id)
);
-- The scanner's work lists: open closures by age, pending clicks by age.
CREATE INDEX IF NOT EXISTS f_closures_open_idx ON f_closures (tenant_id, opened_at)
    WHERE state = 'open';
CREATE INDEX IF NOT EXISTS f_closures_pending_click_idx
    ON f_closures (tenant_id, pending_click_received_at)
    WHERE pending_click_received_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS f_closures_reference_idx ON f_closures (tenant_id, response_reference);

-- Last accepted eventSeq per appId|responseReference|renderAttemptIdOrNA|eventType
-- (F.3, kept 14 d). An expired row counts as none. last_seq 0 + expired is
-- a placeholder a batch inserted to lock the scope.
CREATE TABLE IF NOT EXISTS f_event_seq (
    tenant_id  text        NOT NULL CHECK (tenant_id <> ''),
    scope      text        NOT NULL,
    last_seq   bigint      NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    expires_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT f_event_seq_pkey PRIMARY KEY (tenant_id, scope)
);
CREATE INDEX IF NOT EXISTS f_event_seq_expiry_idx ON f_event_seq (expires_at);

-- What F knows of each Delivery (from med.delivery.v1, durable f_delivery;
-- a batch that finds no row here falls back to delivery_records, which E
-- writes before it publishes). amount_micros/currency: the winner's price,
-- copied onto billing_ledger rows for reconciliation (G.8).
CREATE TABLE IF NOT EXISTS f_deliveries (
    tenant_id                   text        NOT NULL CHECK (tenant_id <> ''),
    response_reference          text        NOT NULL,
    app_id                      text,
    placement_id                text,
    delivery_status             text        NOT NULL CHECK (delivery_status IN ('served', 'no_fill', 'error')),
    final_reason_code           text,
    trace_key                   text,
    request_key                 text,
    attempt_key                 text,
    opportunity_key             text,
    default_render_attempt_id   text,
    anchor_hash                 text,
    version_anchor_snapshot_ref text,
    amount_micros               bigint      NOT NULL DEFAULT 0,
    currency                    text,
    delivered_at                timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT f_deliveries_pkey PRIMARY KEY (tenant_id, response_reference)
);
CREATE INDEX IF NOT EXISTS f_deliveries_scope_idx ON f_deliveries (created_at, tenant_id, app_id);

-- One row per processed EventBatch ('batch:' + the edge request id / the
-- message's Nats-Msg-Id), timer run ('timeout:', 'click_expiry:') or
-- terminal Delivery ('delivery:'): the packed EventBatchAck, the packed
-- archive records (FOutboxRecords) and the batch's StageAudit. Inserted
-- first in the batch's transaction, so a JetStream redelivery of a batch
-- already committed (or being committed by another replica: the insert
-- waits for it) answers the stored ACK and republishes instead of deciding
-- again. published_at NULL = still to publish; the sweeper retries on the
-- compensation ladder (F.8: 1 s, 5 s, 30 s, 120 s, then every 120 s) and
-- past 15 min dead-letters the row (dead_at, med.dlq.f.v1).
CREATE TABLE IF NOT EXISTS f_outbox (
    tenant_id        text        NOT NULL CHECK (tenant_id <> ''),
    outbox_key       text        NOT NULL,
    kind             text        NOT NULL CHECK (kind IN ('batch', 'timeout', 'click_expiry', 'delivery')),
    app_id           text,
    batch_id         text,
    ack_pb           bytea,
    records_pb       bytea,
    audit_pb         bytea,
    record_count     integer     NOT NULL DEFAULT 0,
    published_at     timestamptz,
    attempts         integer     NOT NULL DEFAULT 0,
    first_attempt_at timestamptz,
    next_attempt_at  timestamptz,
    last_error       text,
    dead_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT f_outbox_pkey PRIMARY KEY (tenant_id, outbox_key)
);
CREATE INDEX IF NOT EXISTS f_outbox_due_idx ON f_outbox (tenant_id, next_attempt_at)
    WHERE published_at IS NULL AND dead_at IS NULL;
CREATE INDEX IF NOT EXISTS f_outbox_published_idx ON f_outbox (published_at)
    WHERE published_at IS NOT NULL;

-- ------------------------------------------------------ security ------
SELECT med_apply_tenant_rls('f_closures');
SELECT med_apply_tenant_rls('f_event_seq');
SELECT med_apply_tenant_rls('f_deliveries');
SELECT med_apply_tenant_rls('f_outbox');

SELECT med_grant_app('f_closures', 'SELECT, INSERT, UPDATE, DELETE');
SELECT med_grant_app('f_event_seq', 'SELECT, INSERT, UPDATE, DELETE');
SELECT med_grant_app('f_deliveries', 'SELECT, INSERT, UPDATE');
SELECT med_grant_app('f_outbox', 'SELECT, INSERT, UPDATE, DELETE');

-- ---------------------------------------------------- timer tenants ----
-- F's scanner works per tenant (med_pg_tx sets app.tenant_id, so RLS
-- holds for every row it reads or writes), but it must first learn which
-- tenants have due work. f_due_tenants answers only that: tenant ids, no
-- row content. It runs as its owner (SECURITY DEFINER); FORCE ROW LEVEL
-- SECURITY applies to the owner too, so the owner gets a read-only policy
-- of its own on the two tables; med_app gets nothing but EXECUTE.
DO $$
BEGIN
    EXECUTE 'DROP POLICY IF EXISTS f_due_scan ON f_closures';
    EXECUTE format('CREATE POLICY f_due_scan ON f_closures FOR SELECT TO %I USING (true)', current_user);
    EXECUTE 'DROP POLICY IF EXISTS f_due_scan ON f_outbox';
    EXECUTE format('CREATE POLICY f_due_scan ON f_outbox FOR SELECT TO %I USING (true)', current_user);
    EXECUTE 'DROP POLICY IF EXISTS f_outbox_purge ON f_outbox';
    EXECUTE format('CREATE POLICY f_outbox_purge ON f_outbox FOR DELETE TO %I USING (published_at IS NOT NULL)',
                   current_user);
END
$$;

-- Tenants with work due at now_ts: closures open for at least
-- terminal_wait, pending clicks older than terminal_wait, outbox rows to
-- (re)publish. At most max_tenants, those with the oldest work first.
CREATE OR REPLACE FUNCTION f_due_tenants(now_ts timestamptz, terminal_wait interval,
                                         max_tenants integer)
RETURNS TABLE (tenant_id text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
    SELECT d.tenant_id FROM (
        SELECT c.tenant_id, min(c.opened_at) AS due FROM public.f_closures c
         WHERE c.state = 'open' AND c.opened_at <= now_ts - terminal_wait
         GROUP BY c.tenant_id
        UNION ALL
        SELECT c.tenant_id, min(c.pending_click_received_at) FROM public.f_closures c
         WHERE c.pending_click_received_at IS NOT NULL
           AND c.pending_click_received_at <= now_ts - terminal_wait
         GROUP BY c.tenant_id
        UNION ALL
        SELECT o.tenant_id, min(o.next_attempt_at) FROM public.f_outbox o
         WHERE o.published_at IS NULL AND o.dead_at IS NULL AND o.next_attempt_at <= now_ts
         GROUP BY o.tenant_id
    ) d
    GROUP BY d.tenant_id
    ORDER BY min(d.due), d.tenant_id
    LIMIT greatest(max_tenants, 1)
$fn$;

REVOKE ALL ON FUNCTION f_due_tenants(timestamptz, interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION f_due_tenants(timestamptz, interval, integer) TO med_app;

-- Retention of the outbox: a published row is only kept so a JetStream
-- redelivery of its batch (within ack wait x max deliveries) answers the
-- stored ACK. Deletes up to max_rows rows published before now() - keep,
-- across tenants; returns how many. Unpublished and dead rows stay.
CREATE OR REPLACE FUNCTION f_outbox_purge(keep interval, max_rows integer)
RETURNS bigint
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
    WITH gone AS (
        DELETE FROM public.f_outbox o
         WHERE (o.tenant_id, o.outbox_key) IN (
               SELECT p.tenant_id, p.outbox_key FROM public.f_outbox p
                WHERE p.published_at IS NOT NULL AND p.published_at < now() - keep
                ORDER BY p.published_at LIMIT greatest(max_rows, 1)
                FOR UPDATE SKIP LOCKED)
        RETURNING 1)
    SELECT count(*) FROM gone
$fn$;

REVOKE ALL ON FUNCTION f_outbox_purge(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION f_outbox_purge(interval, integer) TO med_app;
