/* Replies -> HTTP answers (see edge_delivery.h). */
#include "edge_delivery.h"

#include <stdlib.h>
#include <string.h>

#include "med/pbjson.h"
#include "med/http_util.h"
#include "med/ids.h"
#include "med/names.h"
#include "med/reason.h"

#define EDGE_REF_MAX 64

static const char *pick(const char *primary, const char *fallback)
{
    if (primary && *primary) return primary;
    return fallback ? fallback : "";
}

/* A key E wrote into the Delivery itself wins over the trace copy; an
 * empty one is filled in. */
static int put_key(json_t *obj, const char *name, const char *value, int optional)
{
    const char *have = json_string_value(json_object_get(obj, name));
    if (have && *have) return 0;
    if (optional && !*value) return 0;
    json_t *v = json_string(value);
    return v ? json_object_set_new(obj, name, v) : -1;
}

med_rc edge_delivery_to_json(const Mediation__V1__Delivery *d, const edge_trace_keys *fallback,
                             char **out, size_t *len, med_err *err)
{
    *out = NULL;
    *len = 0;
    static const edge_trace_keys none = { NULL, NULL, NULL };
    const edge_trace_keys *fb = fallback ? fallback : &none;
    const Mediation__V1__TraceContext *tc = d->trace;
    json_t *obj = med_pb_to_json(&d->base, "trace");
    int bad = !obj;
    if (!bad) bad |= put_key(obj, "traceKey", pick(tc ? tc->trace_key : NULL, fb->trace_key), 0);
    if (!bad)
        bad |= put_key(obj, "requestKey", pick(tc ? tc->request_key : NULL, fb->request_key), 0);
    if (!bad)
        bad |= put_key(obj, "opportunityKey",
                       pick(tc ? tc->opportunity_key : NULL, fb->opportunity_key), 1);
    char *text = bad ? NULL : json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!text) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "delivery JSON");
    *out = text;
    *len = strlen(text);
    return MED_OK;
}

med_rc edge_reject_answer(const Mediation__V1__OpportunityRejectReply *rr, edge_answer *out,
                          med_err *err)
{
    memset(out, 0, sizeof *out);
    const Mediation__V1__ErrorBodyLite *e = rr ? rr->error : NULL;
    if (!e || rr->http_status < 400 || rr->http_status > 599)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "not a usable reject reply");
    const char *field =
        e->field_opt_case == MEDIATION__V1__ERROR_BODY_LITE__FIELD_OPT_FIELD ? e->field : NULL;
    med_rc rc = med_http_error_body(pick(e->code, MED_R_EDGE_INTERNAL), pick(e->message, ""), field,
                                    &out->body, &out->len, err);
    if (rc != MED_OK) return rc;
    out->status = rr->http_status;
    out->retry_after_sec =
        rr->http_status == 503 && rr->retry_after_sec > 0 ? rr->retry_after_sec : 0;
    return MED_OK;
}

/* The two reply types share field 1 (trace) but not the wire types of
 * fields 3 and 5 (int32 in the reject, strings in a Delivery), so a
 * Delivery never decodes as a reject carrying an HTTP status. */
static int try_reject(const uint8_t *data, size_t n, edge_answer *out, med_err *err)
{
    Mediation__V1__OpportunityRejectReply *rr =
        mediation__v1__opportunity_reject_reply__unpack(NULL, n, data);
    if (!rr) return 0;
    int used = rr->http_status != 0 && edge_reject_answer(rr, out, err) == MED_OK;
    mediation__v1__opportunity_reject_reply__free_unpacked(rr, NULL);
    return used;
}

med_rc edge_reply_answer(const uint8_t *data, size_t n, const char *kind,
                         const edge_trace_keys *fallback, edge_answer *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    int is_reject = kind && strcmp(kind, MED_REPLY_KIND_REJECT) == 0;
    int is_delivery = kind && strcmp(kind, MED_REPLY_KIND_DELIVERY) == 0;
    if (is_reject) {
        if (try_reject(data, n, out, err)) return MED_OK;
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "reply marked reject is not a usable reject (%zu bytes)", n);
    }
    if (!is_delivery && try_reject(data, n, out, err)) return MED_OK;
    Mediation__V1__Delivery *d = mediation__v1__delivery__unpack(NULL, n, data);
    if (!d)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "reply is neither a Delivery nor a reject (%zu bytes)", n);
    med_rc rc = edge_delivery_to_json(d, fallback, &out->body, &out->len, err);
    mediation__v1__delivery__free_unpacked(d, NULL);
    if (rc == MED_OK) out->status = 200;
    return rc;
}

void edge_answer_free(edge_answer *a)
{
    if (!a) return;
    free(a->body);
    memset(a, 0, sizeof *a);
}

med_rc edge_deadline_delivery_json(const edge_trace_keys *keys, char **out, size_t *len,
                                   med_err *err)
{
    char ref[EDGE_REF_MAX];
    if (med_id_new(ref, sizeof ref, "rsp_") != 0)
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_EDGE_INTERNAL, NULL,
                           "cannot generate a responseReference");
    Mediation__V1__Delivery d;
    mediation__v1__delivery__init(&d);
    d.status = (char *)EDGE_DELIVERY_STATUS_ERROR;
    d.response_reference = ref;
    d.final_reason_code = (char *)MED_R_E_ER_EDGE_DEADLINE;
    d.edge_deadline_error = 1;
    d.delivered_at_unix_ms = med_now_unix_ms();
    return edge_delivery_to_json(&d, keys, out, len, err);
}
