#!/usr/bin/env bash
# Event ingest through the whole local stack (edge -> F -> G, with A..E
# serving the Deliveries the events refer to), batches of 100 events.
# Prints:
#   1. baselines on this machine, same run: raw JetStream async publish
#      (bench/js_pub) and PostgreSQL COPY into an event-shaped table
#   2. sustained ingest: wrk closed loop posting 100-event batches; events/s
#      accepted (HTTP 200 ACKs x 100), ACK latency p50/p99 per batch
#   3. archive lag: events committed by F vs archive rows written by G, per
#      second during the run and until G drains
#   4. closure lag: closures still open past the terminal wait at the end
#   5. peak RSS (VmHWM) of every service
#   bench/events.sh [seconds=20] [connections=8] [deliveries=3000]
# BENCH_EVENTS_RATE=N paces the load at about N events/s (else closed loop).
# Env: MED_BUILD_DIR (build-bench), BENCH_DIR, BENCH_PG_SLOW_MS, BENCH_PG_STATS,
# BENCH_PERF=1 (perf profile of the ingest, BENCH_PERF_TOP lines).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib-stack.sh
. "$HERE/lib-stack.sh"
DUR=${1:-20}; CONNS=${2:-8}; NDELIV=${3:-3000}
STAGES="a_ingress b_normalize c_policy d_supply e_delivery f_events g_archive"
command -v wrk >/dev/null || { echo "events: wrk missing (apt-get install wrk)" >&2; exit 1; }
[ -x "$BUILD/bench/js_pub" ] || { echo "events: $BUILD/bench/js_pub missing (meson configure -Dbench=true)" >&2; exit 1; }

trap 'bench_nets_down; stack_down' EXIT
[ -n "${BENCH_PG_STATS:-}" ] && export PG_EXTRA_OPTS="-c shared_preload_libraries=pg_stat_statements,auto_explain -c auto_explain.log_min_duration=${BENCH_PG_STATS_EXPLAIN_MS:-20} -c auto_explain.log_analyze=on"
mkdir -p "$BENCH_DIR"
bench_nets_up || exit 1
# shellcheck disable=SC2086
stack_up $STAGES || exit 1

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); load generator on the same cores"
echo "date: $(date -u +%FT%TZ)  build: $BUILD  edge: $EDGE_URL"

echo; echo "=== 1. baselines"
"$BUILD/bench/js_pub" "$NATS_URL" 200000 600 1000
psql_admin -c "CREATE TABLE IF NOT EXISTS bench_copy (id bigint, tenant_id text, batch_id text,
  event_id text, event_type text, response_reference text, render_attempt_id text,
  canonical_dedup_key text, payload jsonb, created_at timestamptz DEFAULT now())"
seq 1 200000 | awk '{printf "%d\tt_bench\tb_%d\te_%d\timpression\tresp_%d\tra_%d\tf_dedup_v1:client_event_id:app|b|%d\t{\"k\":%d}\n", $1, $1/100, $1, $1/4, $1, $1, $1}' \
    > "$BENCH_DIR/copy.tsv"
t0=$(date +%s.%N)
psql_admin -c "\\copy bench_copy (id, tenant_id, batch_id, event_id, event_type, response_reference, render_attempt_id, canonical_dedup_key, payload) FROM '$BENCH_DIR/copy.tsv'"
t1=$(date +%s.%N)
echo "FIGURES pg_copy rows=200000 seconds=$(echo "$t1 - $t0" | bc) rows_per_s=$(echo "200000 / ($t1 - $t0)" | bc)"
psql_admin -c "DROP TABLE bench_copy"

echo; echo "=== 2. seeding $NDELIV served Deliveries"
DELIV=$BENCH_DIR/deliveries.txt
: > "$DELIV"
mkdir -p "$BENCH_DIR/seed"
for i in $(seq 1 "$NDELIV"); do echo "$i"; done | xargs -P8 -I{} sh -c '
  at=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
  curl -sS -o "'"$BENCH_DIR"'/seed/{}.json" -X POST -H "Content-Type: application/json" "'"$EDGE_URL"'/v1/opportunities" --data-binary \
    "{\"placementId\":\"plc_feed\",\"sdkVersion\":\"2.1.0\",\"ingressEnvelopeVersion\":\"ingress_v1\",\"triggerContractVersion\":\"a_trigger_v1\",\"appContext\":{\"appId\":\"app_demo\",\"sessionId\":\"evb_{}_$$\",\"channelType\":\"app\",\"session_state\":\"active\",\"privacy_status\":\"consent_granted\",\"requestAt\":\"$at\"},\"triggerContext\":{\"triggerType\":\"answer_end\",\"triggerAt\":\"$at\"}}"'
for f in "$BENCH_DIR"/seed/*.json; do
    jq -r 'select(.status == "served") | "\(.traceKey) \(.requestKey) \(.attemptKey) \(.opportunityKey) \(.responseReference)"' "$f" 2>/dev/null
done >> "$DELIV"
echo "served deliveries: $(wc -l < "$DELIV")"
[ -s "$DELIV" ] || { echo "events: no served delivery to report events for" >&2; exit 1; }

LUA=$BENCH_DIR/events.lua
cat > "$LUA" <<'LUAEOF'
-- 100 events per batch: 25 render attempts x (ad_filled, impression,
-- click seq 1, interaction seq 1), each attempt new, on Deliveries taken
-- round-robin from the seeded list. Every event is new: all accepted.
local deliveries = {}
local counter = 0
local tid, n = 0, 0
function setup(thread) counter = counter + 1; thread:set("tid", counter) end
function init(args)
  tid = wrk.thread:get("tid") or 0
  for line in io.lines(os.getenv("DELIV")) do
    local t, r, a, o, ref = line:match("(%S+) (%S+) (%S+) (%S+) (%S+)")
    if t then deliveries[#deliveries + 1] = {t, r, a, o, ref} end
  end
end
local function ev(id, typ, at, d, ra, extra)
  return '{"eventId":"' .. id .. '","eventType":"' .. typ .. '","eventAt":"' .. at ..
    '","traceKey":"' .. d[1] .. '","requestKey":"' .. d[2] .. '","attemptKey":"' .. d[3] ..
    '","opportunityKey":"' .. d[4] .. '","eventVersion":"event_v1","responseReference":"' .. d[5] ..
    '","renderAttemptId":"' .. ra .. '"' .. extra .. '}'
end
-- BENCH_EVENTS_RATE paces the run: each connection waits DELAY_MS
-- before its next batch (on top of the answer's latency).
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0") or 0
function delay() return delay_ms end
function request()
  n = n + 1
  local at = os.date("!%Y-%m-%dT%H:%M:%S") .. ".000Z"
  local evs = {}
  for k = 1, 25 do
    local d = deliveries[((n * 25 + k + tid * 7919) % #deliveries) + 1]
    local ra = "ra_" .. tid .. "_" .. n .. "_" .. k .. "_" .. os.time()
    local p = "e_" .. ra
    evs[#evs + 1] = ev(p .. "_f", "ad_filled", at, d, ra, ',"creativeId":"cr_1"')
    evs[#evs + 1] = ev(p .. "_i", "impression", at, d, ra, ',"creativeId":"cr_1"')
    evs[#evs + 1] = ev(p .. "_c", "click", at, d, ra, ',"clickTarget":"cta","eventSeq":1')
    evs[#evs + 1] = ev(p .. "_x", "interaction", at, d, ra, ',"interactionType":"expand","eventSeq":1')
  end
  local body = '{"batchId":"b_' .. tid .. '_' .. n .. '_' .. os.time() ..
    '","appId":"app_demo","sdkVersion":"2.1.0","sentAt":"' .. at ..
    '","schemaVersion":"schema_v1","events":[' .. table.concat(evs, ",") .. ']}'
  return wrk.format("POST", "/v1/events", {["Content-Type"] = "application/json"}, body)
end
local accepted_all, other = 0, 0
function response(status, headers, body)
  if status == 200 and body:find('"overallStatus":"accepted_all"', 1, true) then
    accepted_all = accepted_all + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("FIGURES batches=%d events=%d duration_s=%.2f events_per_s=%.0f batch_p50_ms=%.2f batch_p99_ms=%.2f max_ms=%.2f non2xx=%d timeouts=%d\n",
    summary.requests, summary.requests * 100, summary.duration / 1e6,
    summary.requests * 100 / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status, summary.errors.timeout))
end
LUAEOF

counts() {
    psql_admin -c "SELECT (SELECT count(*) FROM event_records WHERE ack_status = 'accepted'),
                          (SELECT count(*) FROM archive_records WHERE write_status = 'written')" | tr '|' ' '
}
# The per-second lag samples must not load PostgreSQL themselves: two
# count(*) over the growing tables cost about 200 ms of PostgreSQL CPU per
# sample (10 % of the run's PostgreSQL CPU). Rows inserted come from the
# statistics collector (flushed by the writers about once a second), rows
# still waiting from the partial work index; exact counts only before and
# after the run.
inserted_rows() { # parent table
    echo "SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_user_tables
          WHERE relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = '$1'::regclass)"
}
lag_sample() {
    psql_admin -c "SELECT ($(inserted_rows event_records)),
                          ($(inserted_rows archive_records)) - (SELECT count(*) FROM archive_records
                              WHERE write_status IN ('pending', 'writing', 'write_failed_retryable'))" | tr '|' ' '
}
read -r EV0 AR0 <<<"$(counts)"
read -r SE0 SA0 <<<"$(lag_sample)"

# BENCH_PG_SLOW_MS=N logs every statement slower than N ms to the bench's
# PostgreSQL log (infra/pg/server.log), for finding the expensive ones.
if [ -n "${BENCH_PG_SLOW_MS:-}" ]; then
    psql_admin -c "ALTER SYSTEM SET log_min_duration_statement = ${BENCH_PG_SLOW_MS}" \
               -c "SELECT pg_reload_conf()" >/dev/null
fi
# BENCH_PG_STATS=1 starts PostgreSQL with pg_stat_statements and prints the
# statements that cost the most time, from the start of the ingest through
# G's drain (see stack_up: PG_EXTRA_OPTS reaches tests/harness/infra.sh).
pg_stats_reset

echo; echo "=== 3. sustained ingest: wrk -t2 -c$CONNS -d${DUR}s, 100 events per batch"
( for s in $(seq 1 $((DUR + 1))); do sleep 1; echo "t=${s}s $(lag_sample)"; done ) > "$BENCH_DIR/lag.txt" &
SAMPLER=$!
cpu0=$(stack_cpu_all $STAGES)
wal0=$(psql_admin -c "SELECT pg_current_wal_lsn()")
perf_start "$DUR"
DELAY_MS=0
# BENCH_EVENTS_RATE=N: an open pace of about N events/s (100 per batch)
# instead of the closed loop, to find the rate the archive keeps up with.
[ -n "${BENCH_EVENTS_RATE:-}" ] && DELAY_MS=$((CONNS * 100000 / BENCH_EVENTS_RATE))
DELAY_MS=$DELAY_MS DELIV=$DELIV wrk -t2 -c"$CONNS" -d"${DUR}s" --timeout 10s --latency -s "$LUA" "$EDGE_URL" | grep FIGURES
cpu1=$(stack_cpu_all $STAGES)
wal1=$(psql_admin -c "SELECT pg_current_wal_lsn()")
perf_finish
wait "$SAMPLER"
read -r EV1 AR1 <<<"$(counts)"
echo "accepted events committed by F: $((EV1 - EV0)); archive rows written by G: $((AR1 - AR0))"
cpu_report "CPU per accepted event during the run (us):" "$cpu0" "$cpu1" "$((EV1 - EV0))"
psql_admin -c "SELECT 'WAL written during the run: ' || pg_size_pretty(pg_wal_lsn_diff('$wal1', '$wal0')) ||
    ', ' || round(pg_wal_lsn_diff('$wal1', '$wal0') / greatest($((EV1 - EV0)), 1)) || ' B per accepted event'"

echo; echo "=== 4. archive lag (events stored vs archive rows written, cumulative, from the statistics collector)"
# Every event of this workload yields 2.5 archive records (per attempt:
# ad_filled 2, impression 3, click 3, interaction 2), so `behind` is the
# archive's backlog: flat when G keeps up, growing when it does not.
awk -v e0="$SE0" -v a0="$SA0" '{split($0, f, " "); e = f[2] - e0; a = f[3] - a0;
    printf "%s events=%d archived=%d behind=%d\n", f[1], e, a, 2.5 * e - a}' "$BENCH_DIR/lag.txt"
# Drained when the written estimate stood still for two samples (the
# statistics lag up to a second, so the time includes about 2 s of tail).
t0=$(date +%s.%N); last=-1; still=0
for _ in $(seq 1 300); do
    read -r _ AR <<<"$(lag_sample)"
    if [ "$AR" = "$last" ]; then still=$((still + 1)); [ "$still" -ge 2 ] && break; else still=0; fi
    last=$AR; sleep 1
done
t1=$(date +%s.%N)
read -r _ AR <<<"$(counts)"
echo "G drained $((AR - AR1)) more rows in $(echo "$t1 - $t0" | bc | cut -c1-5) s after the load stopped"

if [ -n "${BENCH_PG_STATS:-}" ]; then
    echo; echo "=== 4b. PostgreSQL statements by total time (ingest + drain)"
    pg_stats_print 25
    echo; echo "=== 4c. rows written per table (whole bench: table | ins | upd | hot_upd | del)"
    pg_table_writes_print
fi

echo; echo "=== 5. closure lag"
psql_admin -c "SELECT 'open closures past the terminal wait: ' || count(*) FROM f_closures
               WHERE state = 'open' AND opened_at < now() - interval '150 seconds'"

echo; echo "=== 6. peak RSS (VmHWM)"
for s in edge h_config $STAGES; do
    eval "pid=\$PID_$s"
    echo "$s $(grep VmHWM "/proc/$pid/status" 2>/dev/null | awk '{print $2 " kB"}')"
done
