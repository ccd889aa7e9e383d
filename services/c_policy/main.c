/* Stage C: policy governor. Foundation skeleton: decodes each message, stamps
 * this stage into the trace, and re-emits it downstream. The stage's rules
 * (spec 01..04) replace the pass-through transform. */
#include "med/names.h"
#include "med/relay.h"
#include "mediation/v1/opportunity.pb-c.h"
#include "mediation/v1/policy.pb-c.h"

static const med_passthrough_spec passthrough = {
    .in_desc = &mediation__v1__normalized_opportunity__descriptor,
    .out_desc = &mediation__v1__policy_decision__descriptor,
    .out_subject = MED_SUBJ_D_ROUTABLE,
    .msg_id_prefix = "c.decision",
};

int main(void)
{
    const med_service_opts opts = {
        .name = "c_policy", .stage = MED_STAGE_C, .send_asap = 1,
        .need_config = 1, /* decide on the current config snapshot */
    };
    return med_stage_main(&opts, MED_STREAM_CHAIN, MED_SUBJ_C_NORMALIZED, med_relay_passthrough,
                          (void *)&passthrough);
}
