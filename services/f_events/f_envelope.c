/* F.2: the envelope of an event batch. The body arrives as the edge
 * received it; fields are camelCase. A wrongly typed per-event field is
 * kept (malformed_fields) so F.4 rejects that event alone; only envelope
 * fields can refuse the whole batch. */
#include "f_envelope.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "med/rfc3339.h"
#include "f_keys.h"
#include "med/reason.h"

#define F_JSON_TEXT_MAX 1024 /* echo of a malformed value kept for the audit */

typedef Mediation__V1__SdkEvent__MalformedFieldsEntry malformed_entry;
typedef Mediation__V1__SdkEvent__ExtensionsEntry ev_ext_entry;
typedef Mediation__V1__EventBatchRequestLite__ExtensionsEntry req_ext_entry;

/* Compact JSON text of v, truncated, in the arena. */
static char *json_text(med_arena *a, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) return med_arena_strdup(a, "");
    if (strlen(s) > F_JSON_TEXT_MAX) s[F_JSON_TEXT_MAX] = '\0';
    return med_arena_adopt(a, s);
}

typedef struct ev_ctx {
    med_arena *a;
    Mediation__V1__SdkEvent *ev;
    const json_t *obj;
    size_t cap_malformed;
} ev_ctx;

static med_rc add_malformed(ev_ctx *c, const char *name, const json_t *v)
{
    Mediation__V1__SdkEvent *ev = c->ev;
    if (!ev->malformed_fields) {
        ev->malformed_fields = MED_NEWN(c->a, malformed_entry *, c->cap_malformed);
        if (!ev->malformed_fields) return MED_ERR_NOMEM;
    }
    if (ev->n_malformed_fields >= c->cap_malformed) return MED_OK;
    malformed_entry *e = MED_NEW(c->a, malformed_entry);
    if (!e) return MED_ERR_NOMEM;
    *e = (malformed_entry)MEDIATION__V1__SDK_EVENT__MALFORMED_FIELDS_ENTRY__INIT;
    e->key = med_arena_strdup(c->a, name);
    e->value = json_text(c->a, v);
    if (!e->key || !e->value) return MED_ERR_NOMEM;
    ev->malformed_fields[ev->n_malformed_fields++] = e;
    return MED_OK;
}

/* *dst = the string at name; a null is absent; another type is malformed.
 * Returns 1 when set, 0 when not, <0 on ENOMEM. */
static int take_str(ev_ctx *c, const char *name, char **dst)
{
    const json_t *v = json_object_get(c->obj, name);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return add_malformed(c, name, v) == MED_OK ? 0 : -1;
    *dst = med_arena_strdup(c->a, json_string_value(v));
    return *dst ? 1 : -1;
}

/* The optional (oneof) string fields: name, value slot, case slot and the
 * case value that marks it set. */
typedef struct opt_str {
    const char *name;
    size_t off_val, off_case;
    int case_set;
} opt_str;

#define OPT(json, field, CASE)                                                            \
    { json, offsetof(Mediation__V1__SdkEvent, field),                                     \
      offsetof(Mediation__V1__SdkEvent, field##_opt_case),                                \
      MEDIATION__V1__SDK_EVENT__##CASE }

static const opt_str opt_strs[] = {
    OPT("responseReference", response_reference, RESPONSE_REFERENCE_OPT_RESPONSE_REFERENCE),
    OPT("idempotencyKey", idempotency_key, IDEMPOTENCY_KEY_OPT_IDEMPOTENCY_KEY),
    OPT("eventIdScope", event_id_scope, EVENT_ID_SCOPE_OPT_EVENT_ID_SCOPE),
    OPT("renderAttemptId", render_attempt_id, RENDER_ATTEMPT_ID_OPT_RENDER_ATTEMPT_ID),
    OPT("placementKey", placement_key, PLACEMENT_KEY_OPT_PLACEMENT_KEY),
    OPT("auctionChannel", auction_channel, AUCTION_CHANNEL_OPT_AUCTION_CHANNEL),
    OPT("creativeId", creative_id, CREATIVE_ID_OPT_CREATIVE_ID),
    OPT("clickTarget", click_target, CLICK_TARGET_OPT_CLICK_TARGET),
    OPT("interactionType", interaction_type, INTERACTION_TYPE_OPT_INTERACTION_TYPE),
    OPT("postbackType", postback_type, POSTBACK_TYPE_OPT_POSTBACK_TYPE),
    OPT("postbackStatus", postback_status, POSTBACK_STATUS_OPT_POSTBACK_STATUS),
    OPT("errorStage", error_stage, ERROR_STAGE_OPT_ERROR_STAGE),
    OPT("errorCode", error_code, ERROR_CODE_OPT_ERROR_CODE),
    OPT("errorClass", error_class, ERROR_CLASS_OPT_ERROR_CLASS),
    OPT("startStage", start_stage, START_STAGE_OPT_START_STAGE),
    OPT("failureStage", failure_stage, FAILURE_STAGE_OPT_FAILURE_STAGE),
    OPT("failureReasonCode", failure_reason_code, FAILURE_REASON_CODE_OPT_FAILURE_REASON_CODE),
    OPT("renderMode", render_mode, RENDER_MODE_OPT_RENDER_MODE),
    OPT("containerType", container_type, CONTAINER_TYPE_OPT_CONTAINER_TYPE),
    OPT("destinationRef", destination_ref, DESTINATION_REF_OPT_DESTINATION_REF),
};

static med_rc take_opt_strs(ev_ctx *c)
{
    for (size_t i = 0; i < sizeof opt_strs / sizeof opt_strs[0]; i++) {
        const opt_str *o = &opt_strs[i];
        char **val = (char **)((char *)c->ev + o->off_val);
        int r = take_str(c, o->name, val);
        if (r < 0) return MED_ERR_NOMEM;
        if (r > 0) *(int *)((char *)c->ev + o->off_case) = o->case_set;
    }
    return MED_OK;
}

static med_rc take_required_strs(ev_ctx *c)
{
    Mediation__V1__SdkEvent *ev = c->ev;
    struct { const char *name; char **dst; } req[] = {
        {"eventId", &ev->event_id},           {"eventType", &ev->event_type},
        {"eventAt", &ev->event_at},           {"traceKey", &ev->trace_key},
        {"requestKey", &ev->request_key},     {"attemptKey", &ev->attempt_key},
        {"opportunityKey", &ev->opportunity_key}, {"eventVersion", &ev->event_version},
    };
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (take_str(c, req[i].name, req[i].dst) < 0) return MED_ERR_NOMEM;
    return MED_OK;
}

/* eventSeq and renderLatencyMs (integers), viewReady (boolean). */
static med_rc take_scalars(ev_ctx *c)
{
    Mediation__V1__SdkEvent *ev = c->ev;
    const json_t *v = json_object_get(c->obj, "eventSeq");
    if (v && !json_is_null(v)) {
        if (json_is_integer(v)) {
            ev->event_seq_opt_case = MEDIATION__V1__SDK_EVENT__EVENT_SEQ_OPT_EVENT_SEQ;
            ev->event_seq = json_integer_value(v);
        } else if (add_malformed(c, "eventSeq", v) != MED_OK) {
            return MED_ERR_NOMEM;
        }
    }
    v = json_object_get(c->obj, "renderLatencyMs");
    if (v && !json_is_null(v)) {
        if (json_is_integer(v)) {
            ev->render_latency_ms_opt_case =
                MEDIATION__V1__SDK_EVENT__RENDER_LATENCY_MS_OPT_RENDER_LATENCY_MS;
            ev->render_latency_ms = json_integer_value(v);
        } else if (add_malformed(c, "renderLatencyMs", v) != MED_OK) {
            return MED_ERR_NOMEM;
        }
    }
    v = json_object_get(c->obj, "viewReady");
    if (v && !json_is_null(v)) {
        if (json_is_boolean(v)) {
            ev->view_ready_opt_case = MEDIATION__V1__SDK_EVENT__VIEW_READY_OPT_VIEW_READY;
            ev->view_ready = json_is_true(v);
        } else if (add_malformed(c, "viewReady", v) != MED_OK) {
            return MED_ERR_NOMEM;
        }
    }
    return MED_OK;
}

/* extensions: an object; a non-string value is kept as its JSON text. */
static med_rc take_event_extensions(ev_ctx *c)
{
    const json_t *x = json_object_get(c->obj, "extensions");
    if (!x || json_is_null(x)) return MED_OK;
    if (!json_is_object(x)) return add_malformed(c, "extensions", x);
    size_t n = json_object_size(x);
    c->ev->extensions = MED_NEWN(c->a, ev_ext_entry *, n);
    if (!c->ev->extensions) return MED_ERR_NOMEM;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)x, k, v) {
        ev_ext_entry *e = MED_NEW(c->a, ev_ext_entry);
        if (!e) return MED_ERR_NOMEM;
        *e = (ev_ext_entry)MEDIATION__V1__SDK_EVENT__EXTENSIONS_ENTRY__INIT;
        e->key = med_arena_strdup(c->a, k);
        e->value = json_is_string(v) ? med_arena_strdup(c->a, json_string_value(v))
                                     : json_text(c->a, v);
        if (!e->key || !e->value) return MED_ERR_NOMEM;
        c->ev->extensions[c->ev->n_extensions++] = e;
    }
    return MED_OK;
}

med_rc f_envelope_parse_event(med_arena *a, const void *json_item, Mediation__V1__SdkEvent *ev)
{
    const json_t *item = json_item;
    *ev = (Mediation__V1__SdkEvent)MEDIATION__V1__SDK_EVENT__INIT;
    if (!json_is_object(item)) {
        ev->invalid_event_json_opt_case =
            MEDIATION__V1__SDK_EVENT__INVALID_EVENT_JSON_OPT_INVALID_EVENT_JSON;
        ev->invalid_event_json = json_text(a, item);
        return ev->invalid_event_json ? MED_OK : MED_ERR_NOMEM;
    }
    /* every field can be malformed at most once */
    ev_ctx c = {a, ev, item, json_object_size(item)};
    med_rc rc = take_required_strs(&c);
    if (rc == MED_OK) rc = take_opt_strs(&c);
    if (rc == MED_OK) rc = take_scalars(&c);
    if (rc == MED_OK) rc = take_event_extensions(&c);
    return rc;
}

/* ---- the envelope ---- */

static char *env_str(med_arena *a, const json_t *doc, const char *name)
{
    const json_t *v = json_object_get(doc, name);
    return json_is_string(v) ? med_arena_strdup(a, json_string_value(v)) : med_arena_strdup(a, "");
}

static med_rc take_req_extensions(med_arena *a, const json_t *doc,
                                  Mediation__V1__EventBatchRequestLite *req)
{
    const json_t *x = json_object_get(doc, "extensions");
    if (!json_is_object(x)) return MED_OK;
    req->extensions = MED_NEWN(a, req_ext_entry *, json_object_size(x));
    if (!req->extensions) return MED_ERR_NOMEM;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)x, k, v) {
        req_ext_entry *e = MED_NEW(a, req_ext_entry);
        if (!e) return MED_ERR_NOMEM;
        *e = (req_ext_entry)MEDIATION__V1__EVENT_BATCH_REQUEST_LITE__EXTENSIONS_ENTRY__INIT;
        e->key = med_arena_strdup(a, k);
        e->value = json_is_string(v) ? med_arena_strdup(a, json_string_value(v)) : json_text(a, v);
        if (!e->key || !e->value) return MED_ERR_NOMEM;
        req->extensions[req->n_extensions++] = e;
    }
    return MED_OK;
}

/* events[]: parses at most F_MAX_EVENTS + 1 items (one more than allowed
 * is enough for the size check, and bounds the work for a huge array). */
static med_rc take_events(med_arena *a, const json_t *doc, Mediation__V1__EventBatchRequestLite *req)
{
    const json_t *arr = json_object_get(doc, "events");
    if (!arr) return MED_OK;
    if (!json_is_array(arr)) {
        req->invalid_events_json_opt_case =
            MEDIATION__V1__EVENT_BATCH_REQUEST_LITE__INVALID_EVENTS_JSON_OPT_INVALID_EVENTS_JSON;
        req->invalid_events_json = json_text(a, arr);
        return req->invalid_events_json ? MED_OK : MED_ERR_NOMEM;
    }
    size_t n = json_array_size(arr);
    if (n > F_MAX_EVENTS + 1) n = F_MAX_EVENTS + 1;
    req->events = MED_NEWN(a, Mediation__V1__SdkEvent *, n);
    if (!req->events) return MED_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        Mediation__V1__SdkEvent *ev = MED_NEW(a, Mediation__V1__SdkEvent);
        if (!ev) return MED_ERR_NOMEM;
        med_rc rc = f_envelope_parse_event(a, json_array_get(arr, i), ev);
        if (rc != MED_OK) return rc;
        req->events[req->n_events++] = ev;
    }
    return MED_OK;
}

static med_rc build_request(med_arena *a, const json_t *doc, Mediation__V1__EventBatchRequestLite *req)
{
    *req = (Mediation__V1__EventBatchRequestLite)MEDIATION__V1__EVENT_BATCH_REQUEST_LITE__INIT;
    req->batch_id = env_str(a, doc, "batchId");
    req->app_id = env_str(a, doc, "appId");
    req->sdk_version = env_str(a, doc, "sdkVersion");
    req->sent_at = env_str(a, doc, "sentAt");
    req->schema_version = env_str(a, doc, "schemaVersion");
    if (!req->batch_id || !req->app_id || !req->sdk_version || !req->sent_at || !req->schema_version)
        return MED_ERR_NOMEM;
    const json_t *rs = json_object_get(doc, "retrySequence");
    if (json_is_integer(rs) && json_integer_value(rs) >= 0 && json_integer_value(rs) <= INT32_MAX) {
        req->retry_sequence_opt_case =
            MEDIATION__V1__EVENT_BATCH_REQUEST_LITE__RETRY_SEQUENCE_OPT_RETRY_SEQUENCE;
        req->retry_sequence = (int32_t)json_integer_value(rs);
    }
    const json_t *tc = json_object_get(doc, "transportCompression");
    if (json_is_string(tc)) {
        req->transport_compression_opt_case =
            MEDIATION__V1__EVENT_BATCH_REQUEST_LITE__TRANSPORT_COMPRESSION_OPT_TRANSPORT_COMPRESSION;
        req->transport_compression = med_arena_strdup(a, json_string_value(tc));
        if (!req->transport_compression) return MED_ERR_NOMEM;
    }
    med_rc rc = take_req_extensions(a, doc, req);
    return rc == MED_OK ? take_events(a, doc, req) : rc;
}

med_rc f_envelope_parse(f_batch_work *b, const char *body, size_t len, med_err *err)
{
    json_error_t je;
    json_t *doc = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!json_is_object(doc)) {
        json_decref(doc);
        /* the edge refuses such bodies first; F answers the same way */
        return f_envelope_reject(b, MED_R_EDGE_JSON_MALFORMED, 400, NULL) == MED_OK
                   ? MED_OK
                   : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "out of memory");
    }
    Mediation__V1__EventBatchRequestLite *req = MED_NEW(&b->arena, Mediation__V1__EventBatchRequestLite);
    med_rc rc = req ? build_request(&b->arena, doc, req) : MED_ERR_NOMEM;
    json_decref(doc);
    if (rc != MED_OK)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "out of memory parsing events");
    return f_envelope_check(b, req, err);
}

/* ---- F.2 whole-batch checks ---- */

static int sdk_version_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 64) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) return 0;
    return 1;
}

/* The first failing F.2 check, in spec order; NULL when the envelope is ok. */
static const char *first_failure(const f_batch_work *b, const Mediation__V1__EventBatchRequestLite *r,
                                 int *status, const char **field)
{
    int64_t ms;
    *status = 400;
    if (r->invalid_events_json_opt_case || r->n_events == 0 || r->n_events > F_MAX_EVENTS)
        return *field = "events", MED_R_F_ENVELOPE_EVENTS_INVALID;
    if (!f_token_valid(r->batch_id, 1, 128))
        return *field = "batchId", MED_R_F_ENVELOPE_BATCH_ID_INVALID;
    if (!r->schema_version || strcmp(r->schema_version, F_SCHEMA_VERSION) != 0)
        return *field = "schemaVersion", MED_R_F_ENVELOPE_SCHEMA_UNSUPPORTED;
    if (!f_token_valid(r->app_id, 1, 128))
        return *field = "appId", MED_R_F_ENVELOPE_MISSING_REQUIRED;
    if (!sdk_version_valid(r->sdk_version))
        return *field = "sdkVersion", MED_R_F_ENVELOPE_MISSING_REQUIRED;
    if (!r->sent_at || med_rfc3339_parse(r->sent_at, &ms) != 0)
        return *field = "sentAt", MED_R_F_ENVELOPE_MISSING_REQUIRED;
    /* without an authenticated app (auth disabled in dev) there is nothing
     * to compare with */
    if (b->auth_app_id && b->auth_app_id[0] && strcmp(b->auth_app_id, r->app_id) != 0)
        return *status = 403, *field = "appId", MED_R_F_ENVELOPE_APP_MISMATCH;
    return NULL;
}

/* Internal fields never come from outside F, whatever the producer set. */
static void scrub_internal(Mediation__V1__EventBatchRequestLite *req)
{
    for (size_t i = 0; i < req->n_events; i++) {
        Mediation__V1__SdkEvent *ev = req->events[i];
        if (!ev) continue;
        ev->synthesized = 0;
        ev->terminal_source = (char *)"";
        ev->internal_kind = (char *)"";
        ev->internal_dedup_key = (char *)"";
    }
}

med_rc f_envelope_check(f_batch_work *b, Mediation__V1__EventBatchRequestLite *req, med_err *err)
{
    b->req = req;
    if (req->n_events <= F_MAX_EVENTS) scrub_internal(req);
    int status;
    const char *field = NULL;
    const char *reason = first_failure(b, req, &status, &field);
    if (!reason) return MED_OK;
    if (f_envelope_reject(b, reason, status, field) != MED_OK)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "out of memory");
    return MED_OK;
}

med_rc f_envelope_reject(f_batch_work *b, const char *reason, int http_status, const char *field)
{
    med_arena *a = &b->arena;
    b->envelope_reason = reason;
    b->envelope_http_status = http_status;
    b->envelope_field = field;
    Mediation__V1__EventBatchAck *ack = MED_NEW(a, Mediation__V1__EventBatchAck);
    Mediation__V1__ErrorBodyLite *eb = MED_NEW(a, Mediation__V1__ErrorBodyLite);
    Mediation__V1__FEventAuditLite *au = MED_NEW(a, Mediation__V1__FEventAuditLite);
    if (!ack || !eb || !au) return MED_ERR_NOMEM;
    *eb = (Mediation__V1__ErrorBodyLite)MEDIATION__V1__ERROR_BODY_LITE__INIT;
    eb->code = (char *)reason;
    eb->message = (char *)"event batch envelope refused; nothing was stored";
    if (field) {
        eb->field_opt_case = MEDIATION__V1__ERROR_BODY_LITE__FIELD_OPT_FIELD;
        eb->field = (char *)field;
    }
    *ack = (Mediation__V1__EventBatchAck)MEDIATION__V1__EVENT_BATCH_ACK__INIT;
    ack->http_status = http_status;
    ack->error = eb;
    ack->received_at_unix_ms = b->received_at_ms;
    if (b->req && b->req->batch_id) ack->batch_id = b->req->batch_id;
    *au = (Mediation__V1__FEventAuditLite)MEDIATION__V1__FEVENT_AUDIT_LITE__INIT;
    au->batch_id = ack->batch_id;
    au->app_id = b->req && b->req->app_id ? b->req->app_id : (char *)"";
    au->received_at_unix_ms = b->received_at_ms;
    au->envelope_reason_code = (char *)reason;
    b->ack = ack;
    b->audit = au;
    return MED_OK;
}
