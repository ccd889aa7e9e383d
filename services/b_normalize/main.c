/* Stage B: schema normalization. Foundation skeleton: decodes each message, stamps
 * this stage into the trace, and re-emits it downstream. The stage's rules
 * (spec 01..04) replace the pass-through transform. */
#include "med/names.h"
#include "med/relay.h"
#include "mediation/v1/opportunity.pb-c.h"

static const med_passthrough_spec passthrough = {
    .in_desc = &mediation__v1__opportunity_seed__descriptor,
    .out_desc = &mediation__v1__normalized_opportunity__descriptor,
    .out_subject = MED_SUBJ_C_NORMALIZED,
    .msg_id_prefix = "b.normalized",
};

int main(void)
{
    const med_service_opts opts = {
        .name = "b_normalize", .stage = MED_STAGE_B, .send_asap = 1,
        .need_config = 1, /* decide on the current config snapshot */
    };
    return med_stage_main(&opts, MED_STREAM_CHAIN, MED_SUBJ_B_SEED, med_relay_passthrough,
                          (void *)&passthrough);
}
