/* POST /v1/events messages (see edge_events_msg.h). */
#include "edge_events_msg.h"

#include "edge_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_fields.h"
#include "edge_json.h"
#include "med/names.h"
#include "med/reason.h"
#include "mediation/v1/events.pb-c.h"

#define ANY_APP "*"

static med_rc forbidden(const char *field, const char *why, med_err *err)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_AUTH_FORBIDDEN, field,
                       "the token does not allow this: %s", why);
}

static void take_app(const char *s, char *app, size_t cap)
{
    snprintf(app, cap, "%s", edge_id_valid(s) ? s : "");
}

med_rc edge_events_app(const med_auth_context *ctx, const json_t *body, char *app, size_t cap,
                       med_err *err)
{
    const char *claimed = json_string_value(json_object_get(body, EDGE_EVENTS_APP_ID));
    app[0] = '\0';
    if (!ctx) {
        take_app(claimed, app, cap);
        return MED_OK;
    }
    med_rc rc = med_auth_require_role(ctx, MED_ROLE_SDK, err);
    if (rc != MED_OK) return rc;
    const med_jwt_list *apps = &ctx->apps;
    if (apps->n == 0) return forbidden(NULL, "no app binding", err);
    if (apps->n == 1 && strcmp(apps->v[0], ANY_APP) != 0) {
        if (!edge_id_valid(apps->v[0])) return forbidden(NULL, "unusable app binding", err);
        take_app(apps->v[0], app, cap);
        return MED_OK;
    }
    if (!claimed) return MED_OK; /* F: f_envelope_missing_required */
    if (med_auth_scope_covers(ctx, NULL, claimed, NULL, err) != MED_OK)
        return forbidden(EDGE_EVENTS_APP_ID, "appId outside the token's apps", err);
    take_app(claimed, app, cap);
    return MED_OK;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

med_rc edge_events_pack(const edge_events_in *in, uint8_t **out, size_t *len, med_err *err)
{
    *out = NULL;
    *len = 0;
    Mediation__V1__TraceContext tc = MEDIATION__V1__TRACE_CONTEXT__INIT;
    med_headers_to_trace_ctx(in->trace, &tc);
    Mediation__V1__EventBatch b = MEDIATION__V1__EVENT_BATCH__INIT;
    b.trace = &tc;
    /* h2o's buffer has no terminator; the body parsed as JSON, so no NUL. */
    char *body = strndup(in->body ? in->body : "", in->body ? in->body_len : 0);
    if (!body) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "events body");
    b.body_case = MEDIATION__V1__EVENT_BATCH__BODY_BODY_JSON;
    b.body_json = body;
    b.reply_to = (char *)or_empty(in->reply_to);
    b.received_at_unix_ms = in->received_at_unix_ms;
    b.tenant_id = (char *)in->trace->tenant;
    b.app_id = (char *)in->trace->app;
    b.content_type = (char *)or_empty(in->content_type);
    b.deadline_unix_ms = in->deadline_unix_ms;
    b.edge_request_id = (char *)or_empty(in->edge_request_id);
    med_auth_proto auth;
    if (in->auth) {
        med_auth_context_to_proto(in->auth, &auth);
        b.auth = &auth.msg;
    }
    size_t n = mediation__v1__event_batch__get_packed_size(&b);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf) *len = mediation__v1__event_batch__pack(&b, buf);
    free(body);
    if (!buf) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "packed batch");
    *out = buf;
    return MED_OK;
}

med_rc edge_events_msg(const edge_events_in *in, natsMsg **out, med_err *err)
{
    *out = NULL;
    uint8_t *buf = NULL;
    size_t n = 0;
    med_rc rc = edge_events_pack(in, &buf, &n, err);
    if (rc != MED_OK) return rc;
    rc = edge_msg_build(MED_SUBJ_F_EVENTS, buf, n, in->trace, in->reply_to, out, err);
    free(buf);
    return rc;
}
