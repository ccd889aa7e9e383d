#include "e_passthrough.h"

#include <stdlib.h>
#include <string.h>

#include "med/ids.h"
#include "med/reason.h"
#include "mediation/v1/compose.pb-c.h"
#include "mediation/v1/delivery.pb-c.h"

int e_response_reference(const char *request_key, char *out, size_t cap)
{
    return med_hash_key(out, cap, "rsp_", request_key ? request_key : "", 16);
}

static const char *request_key_of(const Mediation__V1__TraceContext *tc)
{
    if (!tc) return "";
    if (tc->request_key && *tc->request_key) return tc->request_key;
    return tc->trace_key ? tc->trace_key : "";
}

med_rc e_delivery_build_passthrough(const uint8_t *compose, size_t len, const med_hop *hop,
                                    uint8_t **out, size_t *out_len, med_err *err)
{
    Mediation__V1__ComposeInput *in = mediation__v1__compose_input__unpack(NULL, len, compose);
    if (!in)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "payload is not a valid ComposeInput");
    Mediation__V1__TraceContext tc;
    Mediation__V1__StageHop hs;
    Mediation__V1__StageHop **hops = NULL;
    med_rc rc = med_pb_trace_with_hop(in->trace, hop, &tc, &hs, &hops, err);
    if (rc == MED_OK) {
        char ref[64];
        e_response_reference(request_key_of(in->trace), ref, sizeof ref);
        Mediation__V1__Delivery d;
        mediation__v1__delivery__init(&d);
        d.trace = &tc;
        d.status = (char *)"no_fill";
        d.response_reference = ref;
        d.final_reason_code = (char *)MED_R_E_NF_NO_CANDIDATE;
        rc = med_pb_pack(&d.base, out, out_len, err);
    }
    free(hops);
    mediation__v1__compose_input__free_unpacked(in, NULL);
    return rc;
}
