# Sourced by the bench scripts: a private stack on free loopback ports,
# built from MED_BUILD_DIR (default build-bench), never .run/ or ./build.
#   stack_up [stage ...]   infra (tests/harness/infra.sh) + med-h-config +
#                          med-edge (+ the named stages, e.g. a_ingress), seeded
#   stack_down             stops what stack_up started, by pid
# Sets EDGE_URL, EDGE_PORT, H_ADMIN_PORT, ADMIN_PORT_<stage>, BENCH_DIR.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${MED_BUILD_DIR:-$ROOT/build-bench}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BENCH_DIR=${BENCH_DIR:-/tmp/bench-stack.$$}
STACK_PIDS=()
# psql as the cluster's admin on the stack's database (after stack_up).
psql_admin() { psql "$PG_ADMIN_DSN" -XAtq "$@"; }
# With BENCH_PG_STATS set (PostgreSQL started with pg_stat_statements
# preloaded): forget what was measured so far / print the top statements.
pg_stats_reset() {
    [ -n "${BENCH_PG_STATS:-}" ] || return 0
    psql_admin -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
               -c "SELECT pg_stat_statements_reset()" >/dev/null
}
pg_stats_print() { # limit
    [ -n "${BENCH_PG_STATS:-}" ] || return 0
    psql_admin -F ' | ' -c "SELECT round(total_exec_time)::bigint AS ms, calls, rows,
        round((total_exec_time / greatest(calls, 1))::numeric, 2) AS ms_per_call,
        left(regexp_replace(query, '\\s+', ' ', 'g'), 110)
        FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT $1"
}

# With BENCH_PG_STATS set: rows written per table (partitions summed into
# their parent), and how many updates were HOT (no index writes).
pg_table_writes_print() {
    [ -n "${BENCH_PG_STATS:-}" ] || return 0
    psql_admin -F ' | ' -c "SELECT coalesce(i.inhparent::regclass::text, s.relname) AS tbl,
        sum(n_tup_ins) AS ins, sum(n_tup_upd) AS upd, sum(n_tup_hot_upd) AS hot_upd, sum(n_tup_del) AS del
        FROM pg_stat_user_tables s LEFT JOIN pg_inherits i ON i.inhrelid = s.relid
        GROUP BY 1 HAVING sum(n_tup_ins + n_tup_upd + n_tup_del) > 0 ORDER BY 2 DESC"
}

bench_free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
    echo "no free port" >&2; return 1
}

bench_start() { # name binary env...
    local name=$1 bin=$2; shift 2
    [ -x "$bin" ] || { echo "bench: missing $bin (ninja -C $BUILD)" >&2; return 1; }
    (
        set -a
        # shellcheck disable=SC1091
        . "$BENCH_DIR/infra/env"
        APP_ENV=ci AUTH_ENABLED=false LOG_LEVEL=${BENCH_LOG_LEVEL:-warn} SERVICE_INSTANCE="$name-bench"
        for kv in "$@"; do export "${kv?}"; done
        exec "$bin" >>"$BENCH_DIR/$name.log" 2>&1
    ) &
    STACK_PIDS+=($!)
    eval "PID_$name=$!"
}

bench_wait_ready() { # name port
    for _ in $(seq 1 150); do
        curl -fsS -o /dev/null "http://127.0.0.1:$2/readyz" 2>/dev/null && return 0
        sleep 0.2
    done
    echo "bench: $1 not ready; log:" >&2; tail -20 "$BENCH_DIR/$1.log" >&2; return 1
}

stack_up() {
    mkdir -p "$BENCH_DIR"
    "$ROOT/tests/harness/infra.sh" start "$BENCH_DIR/infra" >/dev/null || { echo "bench: infra failed" >&2; return 1; }
    # shellcheck disable=SC1091
    . "$BENCH_DIR/infra/env"
    EDGE_PORT=$(bench_free_port); H_ADMIN_PORT=$(bench_free_port)
    bench_start h_config "$BUILD/services/h_config/med-h-config" "ADMIN_HTTP_PORT=$H_ADMIN_PORT"
    bench_start edge "$BUILD/services/edge/med-edge" "EDGE_HTTP_PORT=$EDGE_PORT" "ADMIN_HTTP_PORT=0"
    local s port
    for s in "$@"; do
        port=$(bench_free_port); eval "ADMIN_PORT_$s=$port"
        bench_start "$s" "$BUILD/services/$s/med-${s//_/-}" "ADMIN_HTTP_PORT=$port"
    done
    bench_wait_ready h_config "$H_ADMIN_PORT" || return 1
    bench_wait_ready edge "$EDGE_PORT" || return 1
    for s in "$@"; do eval "port=\$ADMIN_PORT_$s"; bench_wait_ready "$s" "$port" || return 1; done
    EDGE_URL=http://127.0.0.1:$EDGE_PORT
    EDGE_URL=$EDGE_URL AUTH_ENABLED=false MED_BUILD_DIR=$BUILD \
        FAKE_NET_A_PORT=${FAKE_NET_A_PORT:-18081} FAKE_NET_B_PORT=${FAKE_NET_B_PORT:-18082} "$ROOT/tools/seed-demo" >&2 || return 1
}

stack_down() {
    local p
    for p in "${STACK_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${STACK_PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
    STACK_PIDS=()
    [ -d "$BENCH_DIR/infra" ] && "$ROOT/tests/harness/infra.sh" stop "$BENCH_DIR/infra" >/dev/null 2>&1 || true
    # An event run leaves 1 to 2.5 GB of database and stream files: gone
    # unless BENCH_KEEP=1 (logs and figures stay).
    if [ "${BENCH_KEEP:-0}" != 1 ] && [ -d "$BENCH_DIR/infra" ]; then
        rm -rf "$BENCH_DIR/infra/pg" "$BENCH_DIR/infra/nats" "$BENCH_DIR/seed" "$BENCH_DIR/copy.tsv"
    fi
}

# The two fake OpenRTB networks of the demo config, filling at once.
BENCH_NET_PIDS=()
bench_nets_up() {
    FAKE_NET_A_PORT=$(bench_free_port); FAKE_NET_B_PORT=$(bench_free_port)
    export FAKE_NET_A_PORT FAKE_NET_B_PORT
    "$BUILD/tools/fake-network/fake-network" --port "$FAKE_NET_A_PORT" --seat net_a --behavior 'fill;price=2.0' \
        >>"$BENCH_DIR/fake_a.log" 2>&1 & BENCH_NET_PIDS+=($!)
    "$BUILD/tools/fake-network/fake-network" --port "$FAKE_NET_B_PORT" --seat net_b --behavior 'fill;price=1.0' \
        >>"$BENCH_DIR/fake_b.log" 2>&1 & BENCH_NET_PIDS+=($!)
}
bench_nets_down() { local p; for p in "${BENCH_NET_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }

rss_kb() { ps -o rss= -p "$1" 2>/dev/null | tr -d ' '; }

# CPU time (ms, user+system) of one pid, or of a pid and its children.
cpu_ms() {
    local t=0 p ticks hz; hz=$(getconf CLK_TCK)
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] || continue
        ticks=$(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')
        t=$((t + ticks))
    done
    echo $((t * 1000 / hz))
}
pg_pids() {
    local pm; pm=$(head -1 "$BENCH_DIR/infra/pg/data/postmaster.pid" 2>/dev/null) || return 0
    echo "$pm" $(ps -o pid= --ppid "$pm")
}
# "edge h_config postgres redis nats" CPU ms, space-separated
stack_cpu() {
    echo "$(cpu_ms "$PID_edge") $(cpu_ms "$PID_h_config") $(cpu_ms $(pg_pids)) \
$(cpu_ms "$(head -1 "$BENCH_DIR/infra/redis.pid" 2>/dev/null)") $(cpu_ms "$(head -1 "$BENCH_DIR/infra/nats.pid" 2>/dev/null)")"
}

# CPU ms of every process of the stack: edge h_config <stages> postgres
# redis nats (same order as cpu_report's names).
stack_cpu_all() {
    local out="" name pid
    for name in edge h_config "$@"; do eval "pid=\${PID_$name:-}"; out="$out $(cpu_ms "$pid")"; done
    echo "$out $(cpu_ms $(pg_pids)) $(cpu_ms "$(head -1 "$BENCH_DIR/infra/redis.pid" 2>/dev/null)") $(cpu_ms "$(head -1 "$BENCH_DIR/infra/nats.pid" 2>/dev/null)")"
}
# label before after units -> "label edge N h_config N ... nats N" (us per unit);
# the stage names come from $STAGES.
cpu_report() {
    local label=$1; local -a a=($2) b=($3); local i=0 name line=$label
    for name in edge h_config $STAGES postgres redis nats; do
        line="$line $name $(( (${b[$i]} - ${a[$i]}) * 1000 / ($4 > 0 ? $4 : 1) ))"
        i=$((i + 1))
    done
    echo "$line"
}

# BENCH_PERF=1: a system-wide CPU profile (call graphs) of the next $1
# seconds, summarised per process and symbol by perf_finish.
perf_start() { # seconds
    PERF_PID=
    if [ "${BENCH_PERF:-0}" = 1 ] && command -v perf >/dev/null; then
        perf record -a -g -F 499 -o "$BENCH_DIR/perf.data" -- sleep "$1" >/dev/null 2>&1 &
        PERF_PID=$!
    fi
}
perf_finish() {
    [ -n "${PERF_PID:-}" ] || return 0
    wait "$PERF_PID"
    perf report -i "$BENCH_DIR/perf.data" --no-children --sort comm,dso,sym --stdio 2>/dev/null \
        | grep -E '^ +[0-9]' | head -"${BENCH_PERF_TOP:-60}" > "$BENCH_DIR/perf-top.txt"
    echo "CPU profile (top symbols): $BENCH_DIR/perf-top.txt"
}
