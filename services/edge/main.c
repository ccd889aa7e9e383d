/* med-edge: the public HTTP edge. Start-up (config, logs, NATS, readiness
 * probes) is the shared service runtime; the edge then serves its routes,
 * /healthz, /readyz and /metrics on one public port until SIGTERM, and
 * shuts down gracefully: every request in flight gets its answer. */
#include <stdio.h>

#include "edge_config.h"
#include "edge_server.h"
#include "med/log.h"
#include "med/names.h"
#include "med/service.h"

static int fail(const char *what, const med_err *e)
{
    med_log_ctx lc = { .error_code = e->code };
    MED_LOGE(&lc, "%s: %s%s%s", what, e->message, e->field[0] ? " field=" : "", e->field);
    return 1;
}

int main(void)
{
    const med_service_opts opts = { .name = "edge", .stage = MED_STAGE_EDGE, .send_asap = 1 };
    med_service *svc = NULL;
    med_err err;
    med_err_clear(&err);
    if (med_service_start(&opts, &svc, &err) != MED_OK) {
        fprintf(stderr, "med-edge: start-up failed: %s (%s)\n", err.message, err.code);
        return 1;
    }
    edge_config cfg;
    edge_server *srv = NULL;
    int rc = 0;
    if (edge_config_load(med_service_config(svc), &cfg, &err) != MED_OK)
        rc = fail("edge config", &err);
    else if (edge_server_new(&cfg, med_service_js(svc), med_service_readiness(svc), &srv, &err) !=
             MED_OK)
        rc = fail("edge start-up", &err);
    if (rc == 0) {
        med_service_set_started(svc);
        edge_server_run(srv, med_service_stop_flag(svc));
        MED_LOGI(NULL, "edge stopped");
    }
    edge_server_free(srv);
    edge_config_release(&cfg);
    med_service_free(svc);
    return rc;
}
