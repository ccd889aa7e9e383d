/* Stage D: supply orchestrator (spec 02 part D). Consumes PolicyDecision,
 * routes each opportunity over its sources, and emits ComposeInput for E
 * plus its StageAudit. The relay's batch loop hands D a whole fetch so the
 * outbound HTTP of every message overlaps (d_service.c). */
#include <stdio.h>
#include <stdlib.h>
#include "d_service.h"
#include "med/log.h"
#include "med/names.h"
#include "med/service.h"

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    char *end = NULL;
    long x = v && *v ? strtol(v, &end, 10) : dflt;
    return end && *end ? dflt : x;
}

int main(void)
{
    const med_service_opts opts = {
        .name = "d_supply", .stage = MED_STAGE_D, .send_asap = 1,
        .need_config = 1, /* decide on the current config snapshot */
    };
    med_err err;
    med_err_clear(&err);
    med_service *svc = NULL;
    if (med_service_start(&opts, &svc, &err) != MED_OK) {
        fprintf(stderr, "d_supply: start-up failed: %s %s\n", err.code, err.message);
        return 1;
    }
    /* The rconfig client needs the service's NATS connection, which
     * med_stage_main_batch does not expose: D runs the same lifecycle here. */
    med_rconfig_opts ro = { .timeout_ms = env_long("D_CONFIG_TIMEOUT_MS", 200) };
    static d_service d;
    d.rconfig = med_rconfig_new(med_js_conn(med_service_js(svc)), med_service_cfgsnap(svc), &ro);
    d.http = d_http_new((size_t)env_long("D_MAX_RESPONSE_BYTES", 262144));
    if (!d.rconfig || !d.http) {
        fprintf(stderr, "d_supply: out of memory at start-up\n");
        med_rconfig_free(d.rconfig);
        d_http_free(d.http);
        med_service_free(svc);
        return 1;
    }
    med_service_set_started(svc);
    med_rc rc = med_relay_run_batch(svc, MED_STREAM_CHAIN, MED_SUBJ_D_ROUTABLE, d_service_batch, &d,
                                    &err);
    if (rc != MED_OK) {
        med_log_ctx lc = { .error_code = err.code };
        MED_LOGE(&lc, "consumer stopped: %s", err.message);
    }
    d_http_free(d.http);
    med_rconfig_free(d.rconfig);
    med_service_free(svc);
    return rc == MED_OK ? 0 : 1;
}
