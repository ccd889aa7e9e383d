/* Stage C: policy governor (spec 02 Part C). Evaluates each normalized
 * opportunity against the policy snapshot it carries; the rules live in
 * c_*.c, the relay glue in c_service.c. */
#include "c_service.h"
#include "med/names.h"
#include "med/relay.h"

int main(void)
{
    /* No pg / redis: C.1 evaluates only the snapshot in the message, so C
     * keeps deciding with H, PostgreSQL and Redis down. It still follows
     * MED_CONFIG (H.1: every stage reports the generation it holds). */
    const med_service_opts opts = {
        .name = "c_policy", .stage = MED_STAGE_C, .send_asap = 1, .need_config = 1,
    };
    return med_stage_main(&opts, MED_STREAM_CHAIN, MED_SUBJ_C_NORMALIZED, c_service_transform,
                          NULL);
}
