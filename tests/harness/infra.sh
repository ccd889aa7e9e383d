#!/usr/bin/env bash
# Starts and stops a private NATS JetStream, PostgreSQL and Redis on free
# loopback ports under one directory, for tests and the dev stack.
#
#   infra.sh start DIR      start all three, apply migrations, write DIR/env
#   infra.sh stop DIR       stop everything started under DIR (by pid)
#   infra.sh stop-one DIR nats|pg|redis
#   infra.sh start-one DIR nats|pg|redis   (same port as before)
#   infra.sh migrate DIR    apply pending migrations
#
# DIR/env is a shell fragment (NATS_URL, PG_DSN, PG_ADMIN_DSN, REDIS_HOST,
# REDIS_PORT) that callers source. PG_EXTRA_OPTS adds server options (e.g.
# "-c shared_preload_libraries=pg_stat_statements" for a bench profile).
# autovacuum wakes every 5 s (PG_AUTOVACUUM_NAPTIME), not the default 60 s:
# the hot tables grow from empty to 10^5 rows within a minute here, and
# until they are analyzed the cached plans of F and G scan them by the
# tenant prefix of their keys (see docs/decisions.md, "Statistics").
# PostgreSQL refuses to run as root, so as
# root the server runs as the 'postgres' system user.
set -euo pipefail

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

die() { echo "infra: $*" >&2; exit 1; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local p tries=0
    while :; do
        p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        if ! port_busy "$p" && ! grep -qs ":$p\$" "$DIR/.ports" 2>/dev/null; then
            echo ":$p" >> "$DIR/.ports"; echo "$p"; return
        fi
        tries=$((tries + 1)); [ $tries -lt 200 ] || die "no free port"
    done
}

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

wait_port() { # port seconds
    local i
    for ((i = 0; i < $2 * 20; i++)); do port_busy "$1" && return 0; sleep 0.05; done
    return 1
}

# The start_* functions return non-zero (leaving nothing running) when the
# server did not come up, so that "start" can retry on another port.
start_nats() {
    mkdir -p "$DIR/nats"
    nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$DIR/nats" \
        -l "$DIR/nats.log" -P "$DIR/nats.pid" >/dev/null 2>&1 &
    wait_port "$NATS_PORT" 10 && return 0
    stop_pid_file "$DIR/nats.pid"
    return 1
}

# A port found free can be taken before the server binds it (test worlds
# and benches start their own servers at the same time): on a failed
# start, pick another port and try again.
start_on_free_port() { # VAR start_fn what
    local var=$1 fn=$2 what=$3 try
    for try in 1 2 3; do
        "$fn" && return 0
        echo "infra: $what did not start on port ${!var} (try $try)" >&2
        printf -v "$var" '%s' "$(free_port)"
    done
    die "$what did not start (see $DIR)"
}

init_pg() {
    mkdir -p "$DIR/pg"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR" "$DIR/pg"
    as_pg "$PG_BIN/initdb" -D "$DIR/pg/data" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C >"$DIR/pg-init.log" 2>&1 || die "initdb failed (see $DIR/pg-init.log)"
}

start_pg() {
    [ "$(id -u)" = 0 ] && chown postgres "$DIR/pg"
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/server.log" -w -t 30 \
        -o "-p $PG_PORT -k $DIR/pg -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c synchronous_commit=${PG_SYNC_COMMIT:-off} -c max_connections=200 -c autovacuum_naptime=${PG_AUTOVACUUM_NAPTIME:-5} ${PG_EXTRA_OPTS:-}" \
        start >/dev/null
}

create_db() {
    local psql=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q)
    "${psql[@]}" -d postgres -c "CREATE DATABASE mediation" >/dev/null
    # The services' role: no superuser and no BYPASSRLS, so row-level
    # security really applies to them.
    "${psql[@]}" -d postgres -c "CREATE ROLE med_app LOGIN PASSWORD 'med_app' NOSUPERUSER NOBYPASSRLS" >/dev/null
}

start_redis() {
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" \
        --dir "$DIR" >/dev/null || return 1
    wait_port "$REDIS_PORT" 10 && return 0
    stop_pid_file "$DIR/redis.pid"
    return 1
}

write_env() {
    cat > "$DIR/env" <<ENV
export NATS_URL=nats://127.0.0.1:$NATS_PORT
export NATS_PORT=$NATS_PORT
export PG_PORT=$PG_PORT
export PG_DSN='host=127.0.0.1 port=$PG_PORT dbname=mediation user=med_app password=med_app connect_timeout=3'
export PG_ADMIN_DSN='host=127.0.0.1 port=$PG_PORT dbname=mediation user=postgres connect_timeout=3'
export REDIS_HOST=127.0.0.1
export REDIS_PORT=$REDIS_PORT
export MED_INFRA_DIR=$DIR
ENV
}

migrate() {
    PG_ADMIN_DSN="host=127.0.0.1 port=$PG_PORT dbname=mediation user=postgres" \
        "$ROOT/tools/migrate" up >"$DIR/migrate.log" 2>&1 || die "migrations failed (see $DIR/migrate.log)"
}

stop_pid_file() { # file
    local f=$1 pid
    [ -s "$f" ] || return 0
    pid=$(head -1 "$f")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

stop_pg() {
    [ -d "$DIR/pg/data" ] || return 0
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg/data" -m fast -w -t 20 stop >/dev/null 2>&1 || true
}

load_ports() {
    [ -f "$DIR/env" ] || die "$DIR/env missing: run 'start' first"
    # shellcheck disable=SC1091
    . "$DIR/env"
}

cmd=${1:-}; DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || die "usage: infra.sh start|stop|start-one|stop-one DIR [nats|pg|redis]"
mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd)

case "$cmd" in
start)
    # "start" means fresh servers: stop and clear anything a previous run
    # left in DIR (the dev stack restarts existing data with start-one).
    if [ -f "$DIR/env" ]; then
        stop_pid_file "$DIR/nats.pid"; stop_pid_file "$DIR/redis.pid"; stop_pg
    fi
    rm -rf "$DIR/pg" "$DIR/nats" "$DIR/env"
    : > "$DIR/.ports"
    NATS_PORT=$(free_port); PG_PORT=$(free_port); REDIS_PORT=$(free_port)
    start_on_free_port NATS_PORT start_nats nats-server
    init_pg; start_on_free_port PG_PORT start_pg postgres; create_db
    start_on_free_port REDIS_PORT start_redis redis-server
    write_env
    [ "${INFRA_SKIP_MIGRATE:-0}" = 1 ] || migrate
    echo "$DIR/env"
    ;;
migrate)
    load_ports
    migrate
    ;;
stop)
    stop_pid_file "$DIR/nats.pid"
    stop_pid_file "$DIR/redis.pid"
    stop_pg
    ;;
stop-one)
    load_ports
    case "${3:-}" in
    nats) stop_pid_file "$DIR/nats.pid" ;;
    redis) stop_pid_file "$DIR/redis.pid" ;;
    pg) stop_pg ;;
    *) die "stop-one: nats|pg|redis" ;;
    esac
    ;;
start-one)
    load_ports
    case "${3:-}" in
    nats) start_nats || die "nats-server did not start (see $DIR/nats.log)" ;;
    redis) start_redis || die "redis did not start (see $DIR/redis.log)" ;;
    pg) start_pg || die "postgres did not start (see $DIR/pg/server.log)" ;;
    *) die "start-one: nats|pg|redis" ;;
    esac
    ;;
*) die "unknown command $cmd" ;;
esac
