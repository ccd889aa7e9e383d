/* Stage G, foundation skeleton: a durable consumer of MED_SUBJ_AUDIT_ALL that
 * validates each StageAudit and acks it, so the stream's consumer position, lag
 * metrics and the DLQ path for undecodable messages work end to end before
 * the stage's own rules (spec 03/04) land. */
#include "med/names.h"
#include "med/relay.h"
#include "mediation/v1/audit.pb-c.h"

int main(void)
{
    const med_service_opts opts = { .name = "g_archive", .stage = MED_STAGE_G };
    return med_stage_main(&opts, MED_STREAM_AUDIT, MED_SUBJ_AUDIT_ALL, med_relay_sink,
                          (void *)&mediation__v1__stage_audit__descriptor);
}
