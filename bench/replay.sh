#!/usr/bin/env bash
# Replay of N opportunities in snapshot mode through the edge (GET
# /v1/replay by_time_range, pages of 200, following the cursor), after the
# whole stack served them. Prints the seeding rate, the replay's wall time,
# pages, items, p50/p99 per page, and how many items came back
# deterministic (snapshot mode: no diff unless a pin mismatches), then the
# same range in rule_recompute with the count of exact_match items.
#   bench/replay.sh [opportunities=10000] [seed_seconds_max=60]
# Env: MED_BUILD_DIR (build-bench), BENCH_DIR.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib-stack.sh
. "$HERE/lib-stack.sh"
N=${1:-10000}; SEED_MAX=${2:-60}
STAGES="a_ingress b_normalize c_policy d_supply e_delivery f_events g_archive"
command -v wrk >/dev/null || { echo "replay: wrk missing (apt-get install wrk)" >&2; exit 1; }

trap 'bench_nets_down; stack_down' EXIT
mkdir -p "$BENCH_DIR"
bench_nets_up || exit 1
# shellcheck disable=SC2086
stack_up $STAGES || exit 1
delivered() { psql_admin -c "SELECT count(*) FROM delivery_records"; }

echo "machine: $(nproc) cores; date: $(date -u +%FT%TZ); build: $BUILD"
START=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
LUA=$BENCH_DIR/seed.lua
cat > "$LUA" <<'LUAEOF'
local counter, tid, n = 0, 0, 0
function setup(thread) counter = counter + 1; thread:set("tid", counter) end
function init(args) tid = wrk.thread:get("tid") or 0 end
function request()
  n = n + 1
  local at = os.date("!%Y-%m-%dT%H:%M:%S") .. ".000Z"
  local body = '{"placementId":"plc_feed","sdkVersion":"2.1.0",' ..
    '"ingressEnvelopeVersion":"ingress_v1","triggerContractVersion":"a_trigger_v1",' ..
    '"appContext":{"appId":"app_demo","sessionId":"rp_' .. tid .. '_' .. n .. '_' .. os.time() ..
    '","channelType":"app","session_state":"active","privacy_status":"consent_granted",' ..
    '"requestAt":"' .. at .. '"},"triggerContext":{"triggerType":"answer_end","triggerAt":"' .. at .. '"}}'
  return wrk.format("POST", "/v1/opportunities", {["Content-Type"] = "application/json"}, body)
end
LUAEOF
echo; echo "=== 1. seeding $N opportunities through the request path"
t0=$(date +%s.%N)
while [ "$(delivered)" -lt "$N" ]; do
    wrk -t2 -c32 -d5s -s "$LUA" "$EDGE_URL" >/dev/null
    [ "$(echo "$(date +%s.%N) - $t0 > $SEED_MAX" | bc)" = 1 ] && break
done
# G appends the stage audits asynchronously: replay once it has caught up
# (fragments stored after the cut make an item not_comparable, by design).
audits() { psql_admin -c "SELECT count(*) FROM audit_records"; }
t1=$(date +%s.%N); last=-1
for _ in $(seq 1 300); do a=$(audits); [ "$a" = "$last" ] && break; last=$a; sleep 1; done
echo "G's audit append caught up $(echo "$(date +%s.%N) - $t1" | bc | cut -c1-5) s after the seeding ($last audit rows)"
HAVE=$(delivered)
echo "deliveries stored: $HAVE in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5) s"
END=$(date -u -d '+1 second' +%Y-%m-%dT%H:%M:%S.000Z)

run_replay() { # mode -> prints FIGURES
    local mode=$1 cursor="" pages=0 items=0 det=0 exact=0 body t1 t2
    : > "$BENCH_DIR/page_ms.txt"
    local q="queryMode=by_time_range&outputMode=summary&replayContractVersion=g_replay_v1"
    q="$q&pagination.pageSize=200&timeRange.startAt=$START&timeRange.endAt=$END&replayExecutionMode=$mode"
    local tstart; tstart=$(date +%s.%N)
    while :; do
        t1=$(date +%s%N)
        body=$(curl -sS "$EDGE_URL/v1/replay?$q${cursor:+&cursor=$cursor}")
        t2=$(date +%s%N)
        echo $(( (t2 - t1) / 1000000 )) >> "$BENCH_DIR/page_ms.txt"
        pages=$((pages + 1))
        echo "$body" > "$BENCH_DIR/page_${mode}_$pages.json"
        local n d x more
        read -r n d x more cursor <<<"$(echo "$body" | jq -r '[(.items | length),
            (if .resultMeta.determinismStatus == "deterministic" then (.items | length) else 0 end),
            ([.items[] | select(.diff.diffStatus == "exact_match")] | length),
            .resultMeta.hasMore, (.resultMeta.nextCursorOrNA // "")] | @tsv')"
        items=$((items + n)); det=$((det + d)); exact=$((exact + x))
        [ "$more" = true ] && [ -n "$cursor" ] || break
    done
    local dt; dt=$(echo "$(date +%s.%N) - $tstart" | bc)
    sort -n "$BENCH_DIR/page_ms.txt" > "$BENCH_DIR/page_sorted.txt"
    local cnt p50 p99
    cnt=$(wc -l < "$BENCH_DIR/page_sorted.txt")
    p50=$(sed -n "$(( (cnt + 1) / 2 ))p" "$BENCH_DIR/page_sorted.txt")
    p99=$(sed -n "$(( (cnt * 99 + 99) / 100 ))p" "$BENCH_DIR/page_sorted.txt")
    echo "FIGURES replay mode=$mode items=$items pages=$pages seconds=$(echo "$dt" | cut -c1-5) page_p50_ms=$p50 page_p99_ms=$p99 deterministic_items=$det exact_match_items=$exact"
}

echo; echo "=== 2. snapshot_replay of the range (pages of 200, cursor)"
run_replay snapshot_replay
echo; echo "=== 3. rule_recompute of the same range"
run_replay rule_recompute
echo; echo "rule_recompute items that are not exact_match, by status and codes:"
cat "$BENCH_DIR"/page_rule_recompute_*.json | jq -r '.items[] | select(.diff.diffStatus != "exact_match")
    | "\(.diff.diffStatus) \(.diff.diffReasonCodes | join(","))"' | sort | uniq -c | sort -rn | head
echo; echo "=== 4. peak RSS of G: $(grep VmHWM "/proc/$PID_g_archive/status" | awk '{print $2 " kB"}')"
