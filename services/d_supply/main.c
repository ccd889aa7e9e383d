/* Stage D: supply orchestrator. Foundation skeleton: decodes each message, stamps
 * this stage into the trace, and re-emits it downstream. The stage's rules
 * (spec 01..04) replace the pass-through transform. */
#include "med/names.h"
#include "med/relay.h"
#include "mediation/v1/compose.pb-c.h"
#include "mediation/v1/policy.pb-c.h"

static const med_passthrough_spec passthrough = {
    .in_desc = &mediation__v1__policy_decision__descriptor,
    .out_desc = &mediation__v1__compose_input__descriptor,
    .out_subject = MED_SUBJ_E_COMPOSE,
    .msg_id_prefix = "d.compose",
};

int main(void)
{
    const med_service_opts opts = {
        .name = "d_supply", .stage = MED_STAGE_D, .send_asap = 1,
        .need_config = 1, /* decide on the current config snapshot */
    };
    return med_stage_main(&opts, MED_STREAM_CHAIN, MED_SUBJ_D_ROUTABLE, med_relay_passthrough,
                          (void *)&passthrough);
}
