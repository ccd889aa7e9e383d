/* Stage F: event batches (med.f.events.v1, one transaction per batch, the
 * ACK after the commit), the Delivery consumer (med.delivery.v1, durable
 * f_delivery) and the timers/outbox scanner, each on its own thread with
 * its own connections; F_EVENT_WORKERS batch loops (f_workers.h). See
 * README.md. */
#include <signal.h>
#include <stdio.h>

#include "f_archive_comp.h"
#include "f_delivery.h"
#include "f_scan.h"
#include "f_service.h"
#include "f_workers.h"
#include "med/log.h"
#include "med/names.h"
#include "med/service.h"

static int fail(const char *what, const med_err *err)
{
    med_log_ctx lc = { .error_code = err->code };
    MED_LOGE(&lc, "%s: %s", what, err->message);
    fprintf(stderr, "f_events: %s: %s %s\n", what, err->code, err->message);
    return 1;
}

static int run(med_service *svc)
{
    static f_workers ws;
    static f_delivery_consumer dc;
    static f_scanner sc;
    static f_archive_comp ac;
    med_err err;
    med_err_clear(&err);
    int n = (int)med_config_int(med_service_config(svc), "F_EVENT_WORKERS");
    if (f_workers_start(&ws, svc, n, &err) != MED_OK) return fail("event workers not started", &err);
    if (f_delivery_start(&dc, svc, &err) != MED_OK) {
        raise(SIGTERM);
        f_workers_join(&ws, &err);
        return fail("delivery consumer not started", &err);
    }
    if (f_scan_start(&sc, svc, &err) != MED_OK) {
        raise(SIGTERM);
        f_workers_join(&ws, &err);
        f_delivery_stop(&dc);
        return fail("scanner not started", &err);
    }
    if (f_archive_comp_start(&ac, svc, &err) != MED_OK) {
        raise(SIGTERM);
        f_workers_join(&ws, &err);
        f_delivery_stop(&dc);
        f_scan_stop(&sc);
        return fail("archive compensation not started", &err);
    }
    med_service_set_started(svc);
    med_rc rc = f_workers_join(&ws, &err);
    f_delivery_stop(&dc);
    f_scan_stop(&sc);
    f_archive_comp_stop(&ac);
    if (rc != MED_OK) return fail("event consumer stopped", &err);
    MED_LOGI(NULL, "stopped cleanly");
    return 0;
}

int main(void)
{
    const med_service_opts opts = { .name = "f_events", .stage = MED_STAGE_F, .need_pg = 1,
                                    .send_asap = 1 };
    med_err err;
    med_err_clear(&err);
    med_service *svc = NULL;
    if (med_service_start(&opts, &svc, &err) != MED_OK) {
        fprintf(stderr, "f_events: start-up failed: %s %s\n", err.code, err.message);
        return 1;
    }
    int code = run(svc);
    med_service_free(svc);
    return code;
}
