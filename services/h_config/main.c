/* Stage H (config and version governance), foundation skeleton: starts,
 * connects to NATS, PostgreSQL and Redis, reports readiness and metrics,
 * and shuts down cleanly. Resolution, GET config, publish and propagation
 * (spec 04 Module H) are built on this process. */
#include <stdio.h>
#include <unistd.h>

#include "med/log.h"
#include "med/names.h"
#include "med/service.h"

int main(void)
{
    const med_service_opts opts = { .name = "h_config", .stage = MED_STAGE_H, .need_pg = 1 };
    med_err err;
    med_err_clear(&err);
    med_service *svc = NULL;
    if (med_service_start(&opts, &svc, &err) != MED_OK) {
        fprintf(stderr, "h_config: start-up failed: %s %s\n", err.code, err.message);
        return 1;
    }
    med_service_set_started(svc);
    while (!med_service_stopping(svc)) usleep(100 * 1000);
    MED_LOGI(NULL, "stopped cleanly");
    med_service_free(svc);
    return 0;
}
