#!/usr/bin/env bash
# Publish -> visible propagation on a private stack (see bench/propagation.c):
# N successive placement-layer publishes through the edge; per publish the
# time to the ConfigChanged on med.h.config.v1, to GET /v1/config showing
# the new ETag, and - when the stages export med_config_generation - to
# all five stages A..E showing a new generation. Median and max printed.
#   bench/propagation.sh [N=30]
# Env: MED_BUILD_DIR (build-bench), BENCH_DIR, BENCH_STAGES=yes|no.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib-stack.sh
. "$HERE/lib-stack.sh"
N=${1:-30}
BIN=${BENCH_OUT:-/tmp/bench-propagation}
# shellcheck disable=SC2046
cc -std=c11 -O2 -D_GNU_SOURCE -Wall -Wextra -Werror "$HERE/propagation.c" \
    $(pkg-config --cflags --libs libnats libcurl jansson) -lpthread -o "$BIN" || exit 1

STAGES=(a_ingress b_normalize c_policy d_supply e_delivery)
# The stages report med_config_generation{stage} on /metrics once the
# config snapshot watcher (common/src/cfgsnap_watch.c) is in the build;
# without it the program says "not measured". BENCH_STAGES=no skips them.
[ "${BENCH_STAGES:-yes}" = no ] && STAGES=()
trap stack_down EXIT
stack_up "${STAGES[@]}" || exit 1
METRICS=()
for s in "${STAGES[@]}"; do eval "METRICS+=(http://127.0.0.1:\$ADMIN_PORT_$s/metrics)"; done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); client on the same cores"
echo "date: $(date -u +%FT%TZ)  N=$N  stages: ${STAGES[*]:-none (BENCH_STAGES=no)}"
. "$BENCH_DIR/infra/env"
"$BIN" "$EDGE_URL" "$NATS_URL" "$N" "${METRICS[@]}"
