#!/usr/bin/env bash
# The PostgreSQL floor of event ingest (issue 5): what the least PostgreSQL
# work the contract forces per event costs on this machine, without any of
# our services. Only the infra runs (tests/harness/infra.sh, migrations
# applied); pgbench sends, per transaction, one batch of 100 events whose
# rows PostgreSQL generates itself (INSERT .. SELECT over generate_series),
# shaped like the real ones: sha256-hex-long record keys, f_dedup_v1 dedup
# keys, ~720 B jsonb event payloads, ~640 B bytea archive payloads.
#
# Scenarios, each with FLOOR_CLIENTS clients (default "2 4"), every batch
# 100 events = 50 billable (impression, click) + 50 not (ad_filled,
# interaction), 250 archive records (a decision_audit per event, an
# attribution_fact per event, a billable_fact per billable event):
#   floor_minimal      private schema `floor`, three tables with only the
#                      unique keys the contract needs (events: dedup key,
#                      billing claims: billing key, archive: record key),
#                      INSERT .. ON CONFLICT DO NOTHING, one transaction
#   floor_real_tables  the same rows into the platform's tables with all
#                      their indexes and triggers, statement shapes of F
#                      (idempotency_keys f_dedup claim, billing_ledger
#                      claim, event_records) and G (archive_record_keys
#                      claim, then archive_records, whose trigger claims
#                      again), as the admin role (RLS bypassed)
#   floor_events_only  only the 100 event_records rows: what must be
#                      durable before the ACK
# and, with FLOOR_GEN=1 (default), one run per scenario of its statements
# as plain SELECTs (same generated rows, nothing written, no jsonb parse):
# PostgreSQL's cost of making up the rows, which the real services do not
# pay there. `net` in the summary = scenario - its generation run.
#
# Per run a FIGURES line: events/s (tps x 100), PostgreSQL CPU per event
# (utime + stime of every postgres process from /proc, exited backends
# through the postmaster's cutime + cstime), WAL bytes per event
# (pg_current_wal_lsn diff), full-page images per batch; then rows written
# against rows expected (every insert must be a real one, not a conflict).
# Tables are truncated and a CHECKPOINT taken before every run. pgbench's
# sessions run with jit=off: the generator's statements cost enough for the
# planner to JIT-compile them (about 300 ms a statement on this machine),
# which measures LLVM, not the writes.
#
#   bench/events_floor.sh [seconds=15]
# Env: BENCH_DIR (default /tmp/bench-floor.<pid>: scripts, pgbench outputs;
# its PostgreSQL data is removed on exit unless FLOOR_KEEP=1),
# FLOOR_CLIENTS, FLOOR_SCENARIOS, FLOOR_GEN, PG_FSYNC / PG_SYNC_COMMIT
# (infra.sh: both off by default, as every bench here),
# PG_EXTRA_OPTS (more server options), BENCH_PG_STATS=1 (per-statement
# times after each run), PGBENCH.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/bench-floor.$$}
# shellcheck source=bench/lib-stack.sh disable=SC1091
. "$HERE/lib-stack.sh"
DUR=${1:-15}
CLIENTS=${FLOOR_CLIENTS:-2 4}
SCENARIOS=${FLOOR_SCENARIOS:-floor_minimal floor_real_tables floor_events_only}
FLOOR_GEN=${FLOOR_GEN:-1}
PGBENCH=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}
EVENTS_PER_BATCH=100
[ -x "$PGBENCH" ] || { echo "events_floor: $PGBENCH missing" >&2; exit 1; }
case "$DUR" in '' | *[!0-9]*) echo "usage: bench/events_floor.sh [seconds=15]" >&2; exit 2 ;; esac

# shellcheck disable=SC2317  # called by the EXIT trap
floor_down() {
    "$ROOT/tests/harness/infra.sh" stop "$BENCH_DIR/infra" >/dev/null 2>&1 || true
    # The runs write gigabytes; keep them only when asked.
    [ "${FLOOR_KEEP:-0}" = 1 ] || rm -rf "$BENCH_DIR/infra/pg" "$BENCH_DIR/infra/nats"
}
trap floor_down EXIT
mkdir -p "$BENCH_DIR"
# BENCH_PG_STATS=1: where the time goes, per statement (pg_stat_statements,
# lib-stack.sh's pg_stats_reset / pg_stats_print), after every run. It
# costs PostgreSQL CPU itself: leave it off for the figures.
[ -n "${BENCH_PG_STATS:-}" ] && export PG_EXTRA_OPTS="${PG_EXTRA_OPTS:-} -c shared_preload_libraries=pg_stat_statements"
"$ROOT/tests/harness/infra.sh" start "$BENCH_DIR/infra" >/dev/null || { echo "events_floor: infra failed" >&2; exit 1; }
# shellcheck disable=SC1091
. "$BENCH_DIR/infra/env"
psql_run() { psql_admin -v ON_ERROR_STOP=1 "$@"; }

# lib-stack.sh's cpu_ms reads live processes only, but every pgbench
# backend exits when its run ends: its CPU then sits in the postmaster's
# cutime + cstime (the postmaster reaps its children at once). Live
# processes' utime + stime plus that, in ms.
pg_cpu_ms() {
    local pm hz t=0 p
    pm=$(head -1 "$BENCH_DIR/infra/pg/data/postmaster.pid") || return 1
    hz=$(getconf CLK_TCK)
    for p in $(pg_pids); do
        [ -r "/proc/$p/stat" ] || continue
        t=$((t + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
    done
    t=$((t + $(sed 's/^.*) //' "/proc/$pm/stat" | awk '{print $14 + $15}')))
    echo $((t * 1000 / hz))
}

# ------------------------------------------------------------- schema ----
# floor.tpl holds every constant with a ':' in it: pgbench would take
# ':name' inside a literal of its scripts for a variable.
psql_run <<'SQL' || { echo "events_floor: schema setup failed" >&2; exit 1; }
CREATE SCHEMA floor;
CREATE TABLE floor.tpl (
    tenant text, app text, placement text, anchor text, snap text, dk_prefix text,
    ts_fmt text, ev_fmt text, pb_fmt text, ap_fmt text, va text);
INSERT INTO floor.tpl VALUES (
    't_floor', 'app_demo', 'plc_feed',
    md5('anchor') || md5('hash'), 'snap_' || left(md5('snapshot'), 24),
    'f_dedup_v1:client_event_id:app_demo|',
    'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"',
    -- 1 eventId 2 eventType 3 at 4 trace 5 request 6 attempt 7 opportunity
    -- 8 responseReference 9 renderAttemptId 10 layer: the payload F stores
    -- (services/f_events/f_store_write.c event_payload: the SdkEvent as
    -- received plus the outcome details the columns do not hold)
    '{"event":{"eventId":"%1$s","eventType":"%2$s","eventAt":"%3$s","traceKey":"%4$s",'
    '"requestKey":"%5$s","attemptKey":"%6$s","opportunityKey":"%7$s","eventVersion":"event_v1",'
    '"responseReference":"%8$s","renderAttemptId":"%9$s","creativeId":"cr_1",'
    '"placementKey":"plc_feed","sdkVersion":"2.1.0"},"retryable":false,"dedupOutcome":"new",'
    '"internalType":"%2$s","eventLayer":"%10$s","closureReasonCode":"f_event_accepted",'
    '"decisionReasonCode":"f_facts_mapped","receivedAt":"%3$s"}',
    -- the packed FToGArchiveRecordLite: its strings dominate its bytes.
    -- 1 recordKey 2 recordType 3 payloadKey 4 dedup key 5 eventId 6 trace
    -- 7 request 8 attempt 9 opportunity 10 rr 11 ra 12 reason 13 billingKey
    -- 14 outputAt
    'R@%1$s|T%2$s|K%3$s|D%4$s|E%5$s|tr%6$s|rq%7$s|at%8$s|op%9$s|rr%10$s|ra%11$s|'
    'rc%12$s|oa%14$s|bk%13$s|va event_v1 f_mapping_rule_v1 f_dedup_v1 f_closure_rule_v1 '
    'f_billing_rule_v1 f_archive_contract_v1',
    '{"recordType":"%1$s","recordStatus":"new","decisionReasonCode":"%2$s","contentKind":"%3$s"}',
    '{"eventContractVersion":"event_v1","mappingRuleVersion":"f_mapping_rule_v1",'
    '"dedupFingerprintVersion":"f_dedup_v1","closureRuleVersion":"f_closure_rule_v1",'
    '"billingRuleVersion":"f_billing_rule_v1","archiveContractVersion":"f_archive_contract_v1"}');
-- Only the unique keys the contract needs: one index per table.
CREATE TABLE floor.events (
    canonical_dedup_key text PRIMARY KEY,
    tenant_id text NOT NULL, app_id text NOT NULL, batch_id text NOT NULL,
    event_index integer NOT NULL, event_id text, event_type text, event_seq bigint,
    event_at timestamptz, received_at timestamptz NOT NULL DEFAULT now(),
    trace_key text, request_key text, attempt_key text, opportunity_key text,
    response_reference text, render_attempt_id text, fingerprint text,
    ack_status text NOT NULL, ack_reason_code text NOT NULL, payload jsonb NOT NULL);
CREATE TABLE floor.billing (
    billing_key text PRIMARY KEY,
    tenant_id text NOT NULL, response_reference text NOT NULL, render_attempt_id text NOT NULL,
    billable_type text NOT NULL, record_key text, source_event_id text, trace_key text,
    amount_micros bigint NOT NULL DEFAULT 0, currency text,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE floor.archive (
    record_key text PRIMARY KEY,
    tenant_id text NOT NULL, record_type text NOT NULL, record_status text NOT NULL,
    payload_digest text NOT NULL, trace_key text NOT NULL, closure_key text, billing_key text,
    canonical_dedup_key text, decision_reason_code text NOT NULL, output_at timestamptz NOT NULL,
    payload_pb bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
ANALYZE floor.tpl;
SQL


# ----------------------------------------------------- generated rows ----
# One batch: 25 render attempts (each on its own Delivery) x ad_filled,
# impression, click (seq 1), interaction (seq 1). :run, :client_id and the
# per-client counter :n make every key new. MATERIALIZED: each hash is
# computed once, not once per reference.
GEN_EV="WITH p AS MATERIALIZED (
    SELECT :run::text || '-' || :client_id || '-' || :n AS tok,
           to_char(now() AT TIME ZONE 'UTC', t.ts_fmt) AS at FROM floor.tpl t),
  a AS MATERIALIZED (
    SELECT p.tok, p.at, k, md5(p.tok || '/' || k) AS h1, md5(k || '/' || p.tok) AS h2,
           md5(p.tok || '#' || k) AS h3
      FROM p, generate_series(0, 24) k),
  e AS (
    SELECT a.k * 4 + j AS idx, (ARRAY['ad_filled', 'impression', 'click', 'interaction'])[j + 1] AS typ,
           j IN (1, 2) AS billable, CASE WHEN j >= 2 THEN 1 END AS seq, a.at,
           'b_' || a.tok AS batch_id, 'e_ra_' || a.tok || '_' || a.k || '_' || j AS event_id,
           'resp_' || substr(a.h1, 1, 20) AS rr, 'ra_' || a.tok || '_' || a.k AS ra,
           'tr_' || substr(a.h2, 1, 16) AS trace_key, 'req_' || substr(a.h2, 17, 16) AS request_key,
           'att_' || substr(a.h3, 1, 16) AS attempt_key, 'opp_' || substr(a.h3, 17, 16) AS opportunity_key
      FROM a, generate_series(0, 3) j),
  ev AS MATERIALIZED (
    SELECT e.*, t.tenant, t.app, t.placement, t.anchor, t.snap,
           CASE WHEN e.billable THEN 'billing' ELSE 'diagnostics' END AS layer,
           e.rr || '|' || e.ra AS closure_key,
           t.dk_prefix || e.batch_id || '|' || e.event_id AS dedup_key,
           md5(e.event_id || '/' || e.batch_id) || md5(e.batch_id || '/' || e.event_id) AS fingerprint,
           CASE WHEN e.billable THEN e.rr || '|' || e.ra || '|billable_' || e.typ END AS billing_key
      FROM e, floor.tpl t)"
EV_PAYLOAD="format(t.ev_fmt, ev.event_id, ev.typ, ev.at, ev.trace_key, ev.request_key,
           ev.attempt_key, ev.opportunity_key, ev.rr, ev.ra, ev.layer)::jsonb"
# The record key of a billable fact is the one billing_ledger points to.
RECORD_KEY() { echo "md5($1 || ev.dedup_key) || md5(ev.dedup_key || $1)"; }
GEN_AR="$GEN_EV,
  r AS MATERIALIZED (
    SELECT ev.*, v.o, v.rt, $(RECORD_KEY v.rt) AS rk,
           CASE v.rt WHEN 'decision_audit' THEN ev.event_id || '|f_event_accepted'
                     WHEN 'billable_fact' THEN ev.billing_key
                     ELSE md5('attribution' || ev.event_id) || md5(ev.event_id || 'attribution') END AS payload_key,
           CASE v.rt WHEN 'decision_audit' THEN 'f_event_accepted' ELSE 'f_facts_mapped' END AS reason
      FROM ev CROSS JOIN (VALUES (0, 'decision_audit'), (1, 'billable_fact'), (2, 'attribution_fact')) v(o, rt)
     WHERE v.rt <> 'billable_fact' OR ev.billable)"
AR_DIGEST="md5(r.rk || '#') || md5('#' || r.rk)"
AR_PB="convert_to(format(t.pb_fmt, r.rk, r.rt, r.payload_key, r.dedup_key, r.event_id, r.trace_key,
           r.request_key, r.attempt_key, r.opportunity_key, r.rr, r.ra, r.reason, r.billing_key, r.at), 'UTF8')"

# stmt FILE GENFILE INSERT-HEAD BODY [TAIL]: the statement into FILE, and
# into GENFILE the same rows selected and counted instead of inserted (a
# whole-row count evaluates every column; no jsonb parse).
stmt() {
    printf '%s\n%s\n%s;\n' "$3" "$4" "${5:-}" >> "$1"
    printf 'SELECT count(s) FROM (%s OFFSET 0) s;\n' "${4//::jsonb/}" >> "$2"
}
SQL_EVENTS_MIN="SELECT ev.dedup_key, ev.tenant, ev.app, ev.batch_id, ev.idx, ev.event_id, ev.typ, ev.seq,
           now(), now(), ev.trace_key, ev.request_key, ev.attempt_key, ev.opportunity_key, ev.rr, ev.ra,
           ev.fingerprint, 'accepted', 'f_event_accepted', $EV_PAYLOAD
      FROM ev, floor.tpl t"
SQL_BILLING_MIN="SELECT ev.billing_key, ev.tenant, ev.rr, ev.ra, 'billable_' || ev.typ,
           $(RECORD_KEY "'billable_fact'"), ev.event_id, ev.trace_key, 1500, 'USD'
      FROM ev WHERE ev.billable"
SQL_ARCHIVE_MIN="SELECT r.rk, r.tenant, r.rt, 'committed', $AR_DIGEST, r.trace_key, r.closure_key,
           r.billing_key, r.dedup_key, r.reason, now(), $AR_PB
      FROM r, floor.tpl t"
# F's statements (services/f_events/f_store_load.c, f_store_write.c).
SQL_DEDUP_CLAIM="SELECT ev.tenant, 'f_dedup', ev.dedup_key, 'accepted_committed', ev.fingerprint,
           'batch:' || ev.batch_id, ev.trace_key,
           now() + CASE WHEN ev.billable THEN interval '14 days' ELSE interval '3 days' END, now(), now()
      FROM ev ORDER BY ev.dedup_key"
SQL_BILLING_CLAIM="SELECT ev.billing_key, ev.tenant, ev.app, ev.placement, ev.rr, ev.ra,
           'billable_' || ev.typ, $(RECORD_KEY "'billable_fact'"),
           'fact_' || left(md5(ev.event_id || 'fact'), 20), ev.event_id, ev.trace_key, ev.request_key,
           ev.opportunity_key, 1500, 'USD', ev.anchor, ev.snap, now()
      FROM ev WHERE ev.billable ORDER BY ev.billing_key"
SQL_EVENT_RECORDS="SELECT ev.tenant, ev.app, ev.placement, ev.batch_id, ev.idx, ev.event_id, ev.typ,
           ev.layer, ev.seq, now(), now(), ev.trace_key, ev.request_key, ev.attempt_key,
           ev.opportunity_key, ev.rr, ev.ra, ev.closure_key, ev.dedup_key, 'client_event_id',
           ev.fingerprint, 'accepted', 'f_event_accepted', ev.anchor, ev.snap, $EV_PAYLOAD
      FROM ev, floor.tpl t"
# G's statements (services/g_archive/g_archive_store.c): claim, then the
# rows in their final state (G writes a record written at once when its
# group's gate is open, as it is for records F publishes in order).
SQL_ARCHIVE_CLAIM="SELECT DISTINCT ON (r.rk) r.rk, r.tenant, r.rt, $AR_DIGEST, now()
      FROM r ORDER BY r.rk, r.o"
SQL_ARCHIVE_RECORDS="SELECT r.tenant, r.app, r.placement, r.rk, r.rt, 'committed', r.rt, r.payload_key,
           $AR_DIGEST, r.event_id, r.event_id, r.trace_key, r.request_key, r.attempt_key,
           r.opportunity_key, r.rr, r.ra, r.closure_key,
           CASE WHEN r.rt = 'billable_fact' THEN r.billing_key END,
           CASE WHEN r.rt = 'attribution_fact' THEN r.payload_key END, r.dedup_key, r.reason,
           NULL::text, NULL::text, now(), 'written', NULL::timestamptz, now(),
           r.rt = 'billable_fact', CASE WHEN r.rt = 'billable_fact' THEN 1500 END,
           CASE WHEN r.rt = 'billable_fact' THEN 'USD' END, r.anchor, r.snap, t.va::jsonb,
           format(t.ap_fmt, r.rt, r.reason, r.typ)::jsonb, $AR_PB
      FROM r, floor.tpl t"

write_scripts() {
    local d=$BENCH_DIR s g
    s=$d/floor_minimal.sql; g=$d/floor_minimal_gen.sql; : > "$s"; : > "$g"
    printf '\\set n :n + 1\nBEGIN;\n' | tee -a "$s" >> "$g"
    stmt "$s" "$g" "INSERT INTO floor.events (canonical_dedup_key, tenant_id, app_id, batch_id,
      event_index, event_id, event_type, event_seq, event_at, received_at, trace_key, request_key,
      attempt_key, opportunity_key, response_reference, render_attempt_id, fingerprint, ack_status,
      ack_reason_code, payload)" "$GEN_EV $SQL_EVENTS_MIN" "ON CONFLICT DO NOTHING"
    stmt "$s" "$g" "INSERT INTO floor.billing (billing_key, tenant_id, response_reference,
      render_attempt_id, billable_type, record_key, source_event_id, trace_key, amount_micros, currency)" \
        "$GEN_EV $SQL_BILLING_MIN" "ON CONFLICT DO NOTHING"
    stmt "$s" "$g" "INSERT INTO floor.archive (record_key, tenant_id, record_type, record_status,
      payload_digest, trace_key, closure_key, billing_key, canonical_dedup_key, decision_reason_code,
      output_at, payload_pb)" "$GEN_AR $SQL_ARCHIVE_MIN" "ON CONFLICT DO NOTHING"
    echo 'COMMIT;' | tee -a "$s" >> "$g"

    s=$d/floor_real_tables.sql; g=$d/floor_real_tables_gen.sql; : > "$s"; : > "$g"
    printf '\\set n :n + 1\nBEGIN;\n' | tee -a "$s" >> "$g"
    stmt "$s" "$g" "INSERT INTO idempotency_keys AS k (tenant_id, scope, key, state, fingerprint,
      owner_ref, trace_key, expires_at, created_at, updated_at)" "$GEN_EV $SQL_DEDUP_CLAIM" \
        "ON CONFLICT (tenant_id, scope, key) DO UPDATE SET state = EXCLUDED.state,
      fingerprint = EXCLUDED.fingerprint, owner_ref = EXCLUDED.owner_ref,
      trace_key = EXCLUDED.trace_key, expires_at = EXCLUDED.expires_at,
      created_at = EXCLUDED.created_at, updated_at = now(), result = NULL
      WHERE k.expires_at IS NOT NULL AND k.expires_at <= now() RETURNING k.key"
    stmt "$s" "$g" "INSERT INTO billing_ledger (billing_key, tenant_id, app_id, placement_id,
      response_reference, render_attempt_id, billable_type, record_key, fact_id, source_event_id,
      trace_key, request_key, opportunity_key, amount_micros, currency, anchor_hash,
      version_anchor_snapshot_ref, fact_at)" "$GEN_EV $SQL_BILLING_CLAIM" \
        "ON CONFLICT DO NOTHING RETURNING billing_key"
    stmt "$s" "$g" "$EVENT_RECORDS_HEAD" "$GEN_EV $SQL_EVENT_RECORDS"
    stmt "$s" "$g" "INSERT INTO archive_record_keys (record_key, tenant_id, record_type,
      payload_digest, created_at)" "$GEN_AR $SQL_ARCHIVE_CLAIM" \
        "ON CONFLICT (record_key) DO NOTHING RETURNING record_key"
    stmt "$s" "$g" "INSERT INTO archive_records (tenant_id, app_id, placement_id, record_key,
      record_type, record_status, payload_type, payload_key, payload_digest, event_id,
      source_event_id, trace_key, request_key, attempt_key, opportunity_key, response_reference,
      render_attempt_id, closure_key, billing_key, attribution_key, canonical_dedup_key,
      decision_reason_code, conflict_with_record_key, superseded_record_key, output_at,
      write_status, next_attempt_at, written_at, billable, amount_micros, currency, anchor_hash,
      version_anchor_snapshot_ref, version_anchors, payload, payload_pb)" "$GEN_AR $SQL_ARCHIVE_RECORDS"
    echo 'COMMIT;' | tee -a "$s" >> "$g"

    s=$d/floor_events_only.sql; g=$d/floor_events_only_gen.sql; : > "$s"; : > "$g"
    printf '\\set n :n + 1\n' | tee -a "$s" >> "$g"
    stmt "$s" "$g" "$EVENT_RECORDS_HEAD" "$GEN_EV $SQL_EVENT_RECORDS"
}
EVENT_RECORDS_HEAD="INSERT INTO event_records (tenant_id, app_id, placement_id, batch_id,
      event_index, event_id, event_type, event_layer, event_seq, event_at, received_at, trace_key,
      request_key, attempt_key, opportunity_key, response_reference, render_attempt_id,
      closure_key, canonical_dedup_key, key_source, fingerprint, ack_status, ack_reason_code,
      anchor_hash, version_anchor_snapshot_ref, payload)"
write_scripts

# ------------------------------------------------ per-scenario tables ----
# "table expected-rows-per-batch" of each scenario.
scenario_tables() {
    case "$1" in
    floor_minimal) echo "floor.events 100 floor.billing 50 floor.archive 250" ;;
    floor_real_tables) echo "event_records 100 idempotency_keys 100 billing_ledger 50 archive_record_keys 250 archive_records 250" ;;
    floor_events_only) echo "event_records 100" ;;
    esac
}
reset_tables() { # scenario
    local -a tv; read -r -a tv <<<"$(scenario_tables "$1")"
    local i list=""
    for ((i = 0; i < ${#tv[@]}; i += 2)); do list="$list${list:+, }${tv[$i]}"; done
    psql_run -c "TRUNCATE $list" -c "CHECKPOINT" >/dev/null
}
check_rows() { # scenario batches -> "table rows/expected ..." ; fails on a mismatch
    local -a tv; read -r -a tv <<<"$(scenario_tables "$1")"
    local i n out="" bad=0
    for ((i = 0; i < ${#tv[@]}; i += 2)); do
        n=$(psql_run -c "SELECT count(*) FROM ${tv[$i]}")
        out="$out ${tv[$i]}=$n/$(( ${tv[$((i + 1))]} * $2 ))"
        [ "$n" = "$(( ${tv[$((i + 1))]} * $2 ))" ] || bad=1
    done
    echo "rows written/expected:$out $([ $bad = 0 ] && echo OK || echo MISMATCH)"
    return $bad
}
sizes() { # scenario -> average stored sizes of the payload columns
    case "$1" in
    floor_minimal) psql_run -F ' ' -c "SELECT 'sizes: event payload jsonb avg', (SELECT round(avg(pg_column_size(payload))) FROM floor.events), 'B; archive payload_pb avg', (SELECT round(avg(octet_length(payload_pb))) FROM floor.archive), 'B'" ;;
    floor_real_tables) psql_run -F ' ' -c "SELECT 'sizes: event_records.payload avg', (SELECT round(avg(pg_column_size(payload))) FROM event_records), 'B; archive_records.payload_pb avg', (SELECT round(avg(octet_length(payload_pb))) FROM archive_records), 'B, row avg', (SELECT round(avg(pg_column_size(a.*))) FROM archive_records a), 'B; tables+indexes', pg_size_pretty(pg_database_size(current_database()))" ;;
    *) ;;
    esac
}

# ---------------------------------------------------------------- runs ----
SUMMARY=()
declare -A GEN_CPU
run_one() { # scenario clients script label
    local sc=$1 c=$2 script=$3 label=$4 out=$BENCH_DIR/$4-c$2.out lsn0 wal0 c0 c1 tx tps lat wal fpi cpu_us wal_b
    reset_tables "$sc" || return 1
    pg_stats_reset 2>/dev/null
    lsn0=$(psql_run -c "SELECT pg_current_wal_lsn()")
    wal0=$(psql_run -c "SELECT wal_fpi FROM pg_stat_wal")
    sleep 0.2
    c0=$(pg_cpu_ms)
    PGOPTIONS="-c jit=off" "$PGBENCH" -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M prepared -c "$c" -j "$c" -T "$DUR" \
        -D n=0 -D "run=${label}c${c}p$$" -f "$script" mediation > "$out" 2>&1
    local prc=$?
    sleep 0.5
    c1=$(pg_cpu_ms)
    wal=$(psql_run -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0')::bigint")
    fpi=$(( $(psql_run -c "SELECT wal_fpi FROM pg_stat_wal") - wal0 ))
    tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
    tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out")
    lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$out")
    if [ "$prc" != 0 ] || [ -z "$tx" ] || [ "$tx" = 0 ] || grep -q 'aborted' "$out"; then
        echo "events_floor: pgbench failed ($label c=$c):" >&2; tail -20 "$out" >&2; return 1
    fi
    local ev=$((tx * EVENTS_PER_BATCH))
    cpu_us=$(( (c1 - c0) * 1000 / ev )); wal_b=$((wal / ev))
    printf 'FIGURES scenario=%s clients=%d seconds=%d batches=%d events=%d events_per_s=%.0f batch_latency_ms=%s pg_cpu_ms=%d pg_cpu_us_per_event=%d wal_bytes_per_event=%d wal_fpi_per_batch=%.1f load1=%s\n' \
        "$label" "$c" "$DUR" "$tx" "$ev" "$(echo "$tps * $EVENTS_PER_BATCH" | bc)" "$lat" "$((c1 - c0))" \
        "$cpu_us" "$wal_b" "$(echo "scale=1; $fpi / $tx" | bc)" "$(cut -d' ' -f1 /proc/loadavg)"
    case "$label" in
    *_gen) GEN_CPU[$sc]=$cpu_us ;;
    *) pg_stats_print 6; check_rows "$sc" "$tx"; sizes "$sc"
       SUMMARY+=("$label $c $(printf '%.0f' "$(echo "$tps * $EVENTS_PER_BATCH" | bc)") $cpu_us $wal_b") ;;
    esac
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); pgbench on the same cores; load1 at start $(cut -d' ' -f1 /proc/loadavg)"
echo "date: $(date -u +%FT%TZ)  pgbench: $("$PGBENCH" --version)  $DUR s per run"
psql_run -F ' ' -c "SELECT 'server: fsync=' || current_setting('fsync') || ' synchronous_commit=' ||
    current_setting('synchronous_commit') || ' full_page_writes=' || current_setting('full_page_writes') ||
    ' shared_buffers=' || current_setting('shared_buffers') || ' max_wal_size=' || current_setting('max_wal_size')"
echo "migrations applied: $(psql_run -c "SELECT string_agg(version::text, ' ' ORDER BY version) FROM schema_migrations")"
# The indexes every row pays for (on the parent of a partitioned table).
psql_run -F ' ' -c "SELECT 'indexes ' || c.relname || ' (' || count(i.indexrelid) || '): ' ||
    coalesce(string_agg(ic.relname, ' ' ORDER BY ic.relname), '') ||
    CASE WHEN EXISTS (SELECT 1 FROM pg_trigger tg WHERE tg.tgrelid = c.oid AND NOT tg.tgisinternal
                      AND tg.tgtype & 4 = 4) THEN '; insert trigger' ELSE '' END
    FROM pg_class c LEFT JOIN pg_index i ON i.indrelid = c.oid LEFT JOIN pg_class ic ON ic.oid = i.indexrelid
    WHERE c.oid IN ('event_records'::regclass, 'idempotency_keys'::regclass, 'billing_ledger'::regclass,
                    'archive_record_keys'::regclass, 'archive_records'::regclass)
    GROUP BY c.oid, c.relname ORDER BY c.relname"

FAILED=0
for sc in $SCENARIOS; do
    [ -n "$(scenario_tables "$sc")" ] || { echo "events_floor: unknown scenario $sc" >&2; FAILED=1; continue; }
    echo; echo "=== $sc"
    for c in $CLIENTS; do run_one "$sc" "$c" "$BENCH_DIR/$sc.sql" "$sc" || FAILED=1; done
    if [ "$FLOOR_GEN" = 1 ]; then
        run_one "$sc" "${CLIENTS%% *}" "$BENCH_DIR/${sc}_gen.sql" "${sc}_gen" || FAILED=1
    fi
done

echo; echo "=== summary (noisy when the machine is shared; ceiling = $(nproc) cores / net PostgreSQL CPU per event,"
echo "    i.e. events/s if PostgreSQL alone had the whole machine; net = minus the row generation run)"
printf '%-18s %2s %9s %13s %7s %7s %9s %16s\n' scenario c events/s pg_cpu_us/ev gen_us net_us wal_B/ev ceiling_net_ev/s
for line in "${SUMMARY[@]}"; do
    read -r label c eps cpu wal <<<"$line"
    gen=${GEN_CPU[$label]:-}
    net=-; ceil=-
    if [ -n "$gen" ]; then
        net=$((cpu - gen))
        [ "$net" -gt 0 ] && ceil=$(( $(nproc) * 1000000 / net ))
    fi
    printf '%-18s %2s %9s %13s %7s %7s %9s %16s\n' "$label" "$c" "$eps" "$cpu" "${gen:--}" "$net" "$wal" "$ceil"
done
exit $FAILED
