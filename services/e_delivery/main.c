/* Stage E: the only writer of Delivery. Publishes each Delivery to
 * med.delivery.v1 (for F and G) and, when the request came through the
 * edge, to its reply inbox. Foundation skeleton: every Delivery is no_fill
 * until Module E's rules land. */
#include <stdlib.h>
#include <string.h>

#include "e_passthrough.h"
#include "med/names.h"
#include "med/reason.h"
#include "med/relay.h"

static med_rc e_transform(void *ud, const med_relay_in *in, med_relay_out *out, med_err *err)
{
    (void)ud;
    med_hop hop = { .stage = in->stage, .instance = in->instance, .at_unix_ms = in->now_unix_ms };
    uint8_t *buf = NULL;
    size_t n = 0;
    med_rc rc = e_delivery_build_passthrough(in->data, in->len, &hop, &buf, &n, err);
    if (rc != MED_OK) return rc;
    uint8_t *copy = NULL;
    if (in->reply_to && *in->reply_to) {
        copy = malloc(n ? n : 1);
        if (!copy) {
            free(buf);
            return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "reply copy");
        }
        memcpy(copy, buf, n);
    }
    char msg_id[192];
    med_relay_msg_id(in, "e.delivery", msg_id, sizeof msg_id);
    /* Durable copy first: the reply inbox is best effort (the edge may
     * have given up at its deadline), the stream is the record. */
    rc = med_relay_out_add(out, MED_SUBJ_DELIVERY, msg_id, buf, n, 0, err);
    if (copy) {
        if (rc == MED_OK)
            rc = med_relay_out_add(out, in->reply_to, NULL, copy, n, 1, err);
        else
            free(copy);
    }
    return rc;
}

int main(void)
{
    const med_service_opts opts = { .name = "e_delivery", .stage = MED_STAGE_E, .send_asap = 1,
                                    .need_config = 1 };
    return med_stage_main(&opts, MED_STREAM_CHAIN, MED_SUBJ_E_COMPOSE, e_transform, NULL);
}
