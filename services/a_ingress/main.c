/* Stage A: SDK ingress (spec 01 part A). Rules in a_*.c (pure); the
 * transform and its I/O in a_service.c / a_store.c; the opportunity_created
 * resends in a_sweeper.c (its own thread and connections). */
#include <stdio.h>

#include "a_service.h"
#include "a_sweeper.h"
#include "med/log.h"
#include "med/names.h"

int main(void)
{
    static a_service svc;
    const med_service_opts opts = {
        .name = "a_ingress", .stage = MED_STAGE_A, .send_asap = 1,
        .need_pg = 1, .need_redis = 1, .need_config = 1,
    };
    med_err err;
    med_err_clear(&err);
    med_service *s = NULL;
    if (med_service_start(&opts, &s, &err) != MED_OK) {
        fprintf(stderr, "a_ingress: start-up failed: %s %s%s%s\n", err.code, err.message,
                err.field[0] ? " field=" : "", err.field);
        return 1;
    }
    a_sweeper *sweeper = NULL;
    if (a_sweeper_start(s, &sweeper, &err) != MED_OK) {
        med_log_ctx lc = { .error_code = err.code };
        MED_LOGE(&lc, "start-up failed: opportunity_created sweeper: %s", err.message);
        med_service_free(s);
        return 1;
    }
    med_service_set_started(s);
    med_rc rc = med_relay_run_batch(s, MED_STREAM_CHAIN, MED_SUBJ_A_REQUEST, a_service_batch, &svc,
                                    &err);
    if (rc != MED_OK) {
        med_log_ctx lc = { .error_code = err.code };
        MED_LOGE(&lc, "consumer stopped: %s", err.message);
    } else {
        MED_LOGI(NULL, "stopped cleanly");
    }
    a_sweeper_stop(sweeper);
    med_service_free(s);
    return rc == MED_OK ? 0 : 1;
}
