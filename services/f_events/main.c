/* Stage F, foundation skeleton: a durable consumer of MED_SUBJ_DELIVERY that
 * validates each Delivery and acks it, so the stream's consumer position, lag
 * metrics and the DLQ path for undecodable messages work end to end before
 * the stage's own rules (spec 03/04) land. */
#include "med/names.h"
#include "med/relay.h"
#include "mediation/v1/delivery.pb-c.h"

int main(void)
{
    const med_service_opts opts = { .name = "f_events", .stage = MED_STAGE_F };
    return med_stage_main(&opts, MED_STREAM_DELIVERY, MED_SUBJ_DELIVERY, med_relay_sink,
                          (void *)&mediation__v1__delivery__descriptor);
}
