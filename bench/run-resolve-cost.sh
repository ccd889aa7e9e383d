#!/usr/bin/env bash
# Builds bench/resolve_cost by hand against a meson build dir (default
# build-bench; it must already be built: meson setup build-bench && ninja -C
# build-bench) and runs it on deploy/config/demo. Prints figures only.
#   bench/run-resolve-cost.sh [runs=7] [ms_per_run=300]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${MED_BUILD_DIR:-$ROOT/build-bench}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
OUT=${BENCH_OUT:-/tmp/bench-resolve_cost}
for lib in services/h_config/libh_logic.a common/libmedcommon.a proto/mediation/v1/libmedproto.a; do
    [ -f "$BUILD/$lib" ] || { echo "run-resolve-cost: missing $BUILD/$lib (ninja -C $BUILD first)" >&2; exit 1; }
done
# shellcheck disable=SC2046
cc -std=c11 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror \
    -I"$ROOT/services/h_config" -I"$ROOT/common/include" -I"$BUILD/proto" -I"$BUILD/proto/mediation/v1" \
    $(pkg-config --cflags jansson) \
    "$ROOT/bench/resolve_cost.c" \
    "$BUILD/services/h_config/libh_logic.a" "$BUILD/common/libmedcommon.a" \
    "$BUILD/proto/mediation/v1/libmedproto.a" \
    $(pkg-config --libs libnats libprotobuf-c libpq hiredis libh2o-evloop openssl msgpack jansson libcurl) \
    -lpthread -lm -o "$OUT"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(date -u +%FT%TZ)"
cd "$ROOT"
exec "$OUT" deploy/config/demo "${1:-7}" "${2:-300}"
