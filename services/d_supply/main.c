/* Stage D: supply orchestrator (spec 02 part D). Consumes PolicyDecision,
 * routes each opportunity over its sources, and emits ComposeInput for E
 * plus its StageAudit. The relay's batch loop hands D a whole fetch so the
 * outbound HTTP of every message overlaps (d_service.c). */
#include <stdio.h>
#include <stdlib.h>
#include "d_service.h"
#include "med/log.h"
#include "med/names.h"
#include "med/service.h"

int main(void)
{
    static d_service d;
    const med_service_opts opts = {
        .name = "d_supply", .stage = MED_STAGE_D, .send_asap = 1,
        .need_config = 1, /* decide on the current config snapshot */
    };
    int rc = med_stage_main_batch(&opts, MED_STREAM_CHAIN, MED_SUBJ_D_ROUTABLE, d_service_batch, &d);
    d_http_free(d.http);
    d_store_free(d.store);
    d_breaker_store_free(d.breakers_shared);
    return rc;
}
