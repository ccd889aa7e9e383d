#!/usr/bin/env bash
# GET /v1/config throughput and latency through med-edge -> med-h-config
# on a private stack (infra on free loopback ports, AUTH_ENABLED=false,
# APP_ENV=ci, demo config seeded with tools/seed-demo). Three wrk runs:
#   hit   If-None-Match = current etag -> 304 (cache entry in Redis, fresh)
#   miss  no If-None-Match -> 200 with the full body, served from the Redis
#         cache entry (no resolution)
#   cold  every request names a placementId never asked before
#         (plc_cold_<thread>_<n>): no cache entry -> layers loaded from
#         PostgreSQL (global + app; the placement layer is absent),
#         documents dereferenced, h_resolve, Redis write, 200
# Prints wrk --latency output, and the RSS of med-edge and med-h-config
# after each run. Everything runs on this machine: wrk shares the cores.
#   bench/config_get.sh [seconds=15] [threads=2] [connections=32]
# Env: MED_BUILD_DIR (build-bench), BENCH_DIR (/tmp/bench-stack.<pid>),
#      BENCH_MODES ("hit miss cold").
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib-stack.sh
. "$HERE/lib-stack.sh"
DUR=${1:-15}; THREADS=${2:-2}; CONNS=${3:-32}
command -v wrk >/dev/null || { echo "config_get: wrk missing (apt-get install wrk)" >&2; exit 1; }
trap stack_down EXIT
stack_up || exit 1

REQ_AT=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
Q="appId=app_demo&placementId=plc_feed&environment=prod&schemaVersion=1.0.0&sdkVersion=1.5.0&requestAt=$REQ_AT"
URL="$EDGE_URL/v1/config?$Q"
ETAG=$(curl -sS -o /dev/null -D - "$URL" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
[ -n "$ETAG" ] || { echo "config_get: no ETag from $URL" >&2; exit 1; }

LUA=$BENCH_DIR/lua; mkdir -p "$LUA"
cat > "$LUA/hit.lua" <<LUAEOF
wrk.headers["If-None-Match"] = '$ETAG'
LUAEOF
: > "$LUA/miss.lua"
cat > "$LUA/cold.lua" <<LUAEOF
local n = 0
local tid = 0
local counter = 0
function setup(thread) counter = counter + 1; thread:set("tid", counter) end
function init(args) tid = wrk.thread:get("tid") or 0 end
function request()
  n = n + 1
  return wrk.format("GET", "/v1/config?appId=app_demo&placementId=plc_cold_" .. tid .. "_" .. n ..
    "&environment=prod&schemaVersion=1.0.0&sdkVersion=1.5.0&requestAt=$REQ_AT")
end
LUAEOF

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); wrk on the same cores"
echo "date: $(date -u +%FT%TZ)  wrk: -t$THREADS -c$CONNS -d${DUR}s --latency  edge: $EDGE_URL"
echo "etag: $ETAG"
echo "RSS before: med-edge $(rss_kb "$PID_edge") KiB, med-h-config $(rss_kb "$PID_h_config") KiB"
for mode in ${BENCH_MODES:-hit miss cold}; do
    case $mode in
    hit) probe=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG" "$URL") ;;
    miss) probe=$(curl -s -o /dev/null -w '%{http_code} %{size_download}B' "$URL")
          probe="$probe $(curl -s "$URL" | jq -r .cacheDecision)" ;;
    cold) probe=$(curl -s -w ' %{http_code}' "${URL/plc_feed/plc_probe_cold}" | jq -rR 'split(" ")|.[-1]')
          probe="$probe $(curl -s "${URL/plc_feed/plc_probe_cold2}" | jq -r '.cacheDecision + " " + .status')" ;;
    esac
    echo
    echo "=== $mode (probe: $probe) ==="
    cpu0=($(stack_cpu))
    wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --timeout 5s --latency -s "$LUA/$mode.lua" "$URL" | tee "$BENCH_DIR/wrk-$mode.txt"
    cpu1=($(stack_cpu))
    reqs=$(awk '/requests in/{print $1}' "$BENCH_DIR/wrk-$mode.txt")
    line="CPU during $mode (ms, and us/request):"
    i=0
    for name in edge h_config postgres redis nats; do
        d=$(( ${cpu1[$i]} - ${cpu0[$i]} ))
        line="$line $name ${d}ms/$(( reqs > 0 ? d * 1000 / reqs : 0 ))us"
        i=$((i + 1))
    done
    echo "$line"
    echo "RSS after $mode: med-edge $(rss_kb "$PID_edge") KiB, med-h-config $(rss_kb "$PID_h_config") KiB"
    sleep 1
done
