/* Building the request for stage A (see edge_request.h). */
#include "edge_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/ids.h"
#include "med/names.h"
#include "med/reason.h"
#include "med/trace.h"
#include "mediation/v1/opportunity.pb-c.h"

static void copy_field(char dst[MED_HDR_VALUE_MAX], const char *src)
{
    snprintf(dst, MED_HDR_VALUE_MAX, "%s", src ? src : "");
}

med_rc edge_trace_init(const char *client_traceparent, const char *tenant, const char *app,
                       const char *placement, med_trace_headers *h, med_err *err)
{
    memset(h, 0, sizeof *h);
    med_traceparent parent, tp;
    med_err ignored;
    if (client_traceparent &&
        med_traceparent_parse(client_traceparent, &parent, &ignored) == MED_OK)
        med_traceparent_child(&parent, &tp);
    else
        med_traceparent_new(&tp);
    char text[MED_TRACEPARENT_LEN + 1];
    med_traceparent_format(&tp, text);
    copy_field(h->traceparent, text);
    if (med_id_new(h->trace_key, sizeof h->trace_key, "tr_") != 0 ||
        med_id_new(h->request_key, sizeof h->request_key, "req_") != 0)
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_EDGE_INTERNAL, NULL,
                           "cannot generate trace keys");
    copy_field(h->tenant, tenant);
    copy_field(h->app, app);
    copy_field(h->placement, placement);
    return MED_OK;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

med_rc edge_opportunity_pack(const edge_opportunity_in *in, uint8_t **out, size_t *len,
                             med_err *err)
{
    *out = NULL;
    *len = 0;
    Mediation__V1__TraceContext tc;
    mediation__v1__trace_context__init(&tc);
    med_headers_to_trace_ctx(in->trace, &tc);
    /* IntegrityHints values are JSON text (proto/README.md). */
    char auth_json[64];
    snprintf(auth_json, sizeof auth_json, "\"%s\"", or_empty(in->auth_method));
    Mediation__V1__OpportunityRequest__IntegrityHintsEntry hint;
    mediation__v1__opportunity_request__integrity_hints_entry__init(&hint);
    hint.key = (char *)"authMethod";
    hint.value = auth_json;
    Mediation__V1__OpportunityRequest__IntegrityHintsEntry *hints[] = { &hint };
    Mediation__V1__OpportunityRequest req;
    mediation__v1__opportunity_request__init(&req);
    req.trace = &tc;
    /* The body travels byte for byte: A parses it itself and may hash it.
     * A string field needs a terminator, which h2o's buffer lacks; the
     * body was validated as JSON, so it holds no NUL. */
    char *body = strndup(in->body ? in->body : "", in->body ? in->body_len : 0);
    if (!body) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "request body");
    req.body_json = body;
    req.reply_to = (char *)or_empty(in->reply_to);
    req.received_at_unix_ms = in->received_at_unix_ms;
    req.tenant_id = (char *)in->trace->tenant;
    req.app_id = (char *)in->trace->app;
    req.content_type = (char *)or_empty(in->content_type);
    req.deadline_unix_ms = in->deadline_unix_ms;
    req.edge_request_id = (char *)in->trace->request_key;
    req.environment = (char *)or_empty(in->environment);
    if (in->auth_method) {
        req.n_integrity_hints = 1;
        req.integrity_hints = hints;
    }
    med_auth_proto auth;
    if (in->auth) {
        med_auth_context_to_proto(in->auth, &auth);
        req.auth = &auth.msg;
    }
    size_t n = mediation__v1__opportunity_request__get_packed_size(&req);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf) *len = mediation__v1__opportunity_request__pack(&req, buf);
    free(body);
    if (!buf) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "packed request");
    *out = buf;
    return MED_OK;
}

med_rc edge_msg_build(const char *subject, const uint8_t *buf, size_t n,
                      const med_trace_headers *trace, const char *reply_to, natsMsg **out,
                      med_err *err)
{
    *out = NULL;
    natsMsg *m = NULL;
    natsStatus s = natsMsg_Create(&m, subject, NULL, (const char *)buf, (int)n);
    if (s != NATS_OK)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_ENCODE_FAILED, NULL,
                           "cannot create the %s message: %s", subject, natsStatus_GetText(s));
    med_rc rc = med_headers_write(m, trace, err);
    if (rc == MED_OK && reply_to && natsMsgHeader_Set(m, MED_HDR_REPLY_TO, reply_to) != NATS_OK)
        rc = med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_ENCODE_FAILED, MED_HDR_REPLY_TO,
                         "cannot set the reply header");
    if (rc != MED_OK) {
        natsMsg_Destroy(m);
        return rc;
    }
    *out = m;
    return MED_OK;
}

med_rc edge_opportunity_msg(const edge_opportunity_in *in, natsMsg **out, med_err *err)
{
    *out = NULL;
    uint8_t *buf = NULL;
    size_t n = 0;
    med_rc rc = edge_opportunity_pack(in, &buf, &n, err);
    if (rc != MED_OK) return rc;
    rc = edge_msg_build(MED_SUBJ_A_REQUEST, buf, n, in->trace, in->reply_to, out, err);
    free(buf);
    return rc;
}

void edge_msg_id(const char *request_key, char *out, size_t cap)
{
    snprintf(out, cap, "edge:%s", request_key ? request_key : "");
}
