#include "c_service.h"

#include "c_process.h"
#include "med/headers.h"
#include "med/log.h"

static const char *hdr_or_null(const char *v)
{
    return v && v[0] ? v : NULL;
}

med_rc c_service_transform(void *ud, const med_relay_in *in, med_relay_out *out, med_err *err)
{
    (void)ud;
    Mediation__V1__TraceContext hdr_trace;
    mediation__v1__trace_context__init(&hdr_trace);
    const med_trace_headers *h = in->headers;
    if (h) med_headers_to_trace_ctx(h, &hdr_trace);
    c_process_in pin = {
        .data = in->data,
        .len = in->len,
        .hdr = { .trace_key = h ? hdr_or_null(h->trace_key) : NULL,
                 .request_key = h ? hdr_or_null(h->request_key) : NULL,
                 .opportunity_key = h ? hdr_or_null(h->opportunity_key) : NULL },
        .hdr_trace = &hdr_trace,
        .stream_seq = in->info ? in->info->stream_seq : 0,
        .stage = in->stage,
        .instance = in->instance,
        .now_ms = in->now_unix_ms,
    };
    c_emit em;
    med_rc rc = c_process(&pin, &em, err);
    if (rc != MED_OK) return rc;
    for (int i = 0; i < em.n; i++) {
        c_emit_item *it = &em.v[i];
        rc = med_relay_out_add(out, it->subject, it->msg_id, it->data, it->len, 0, err);
        it->data = NULL; /* the relay owns it now, even on failure */
        if (rc != MED_OK) break;
    }
    c_emit_free(&em);
    if (rc == MED_OK) {
        med_log_ctx lc = { .error_code = em.primary_code };
        MED_LOGD(&lc, "policy %s", em.final_action);
    }
    return rc;
}
