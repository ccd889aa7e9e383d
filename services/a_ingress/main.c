/* Stage A: SDK ingress (spec 01 part A). Rules in a_*.c (pure); the
 * transform and its I/O in a_service.c / a_store.c. */
#include "a_service.h"
#include "med/names.h"

int main(void)
{
    static a_service svc;
    const med_service_opts opts = {
        .name = "a_ingress", .stage = MED_STAGE_A, .send_asap = 1,
        .need_pg = 1, .need_redis = 1, .need_config = 1,
    };
    return med_stage_main_batch(&opts, MED_STREAM_CHAIN, MED_SUBJ_A_REQUEST, a_service_batch, &svc);
}
