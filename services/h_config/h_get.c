/* med.h.get.v1: GET /v1/config (H.3). Checks the query, answers from the
 * per-configKey Redis entry while it is fresh, otherwise resolves the live
 * layers (h_get_resolve.c) and applies the H.3 table: 304 when the
 * caller's tag matches, 200 with the cache decision, the old answer within
 * the stale grace when resolution fails, 503 after it. Redis is only a
 * cache: when it is down every request resolves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h_cache.h"
#include "h_get_audit.h"
#include "h_get_body.h"
#include "h_get_decide.h"
#include "h_get_entry.h"
#include "h_get_request.h"
#include "h_get_resolve.h"
#include "h_service.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"
#include "mediation/v1/config.pb-c.h"

#define ANSWER_MAX_CODES 4

typedef struct get_answer {
    int http_status;
    const char *decision;                  /* cacheDecision, 200 only */
    const char *codes[ANSWER_MAX_CODES];
    size_t n_codes;
    char etag[65];
    int ttl_sec;
    int64_t expire_at_ms, response_at_ms;
    char *body;                            /* owned; NULL on 304 */
    med_err err;                           /* the reason of a 4xx/5xx */
    h_get_decisions dec;                   /* 200/304: gate, canary, audit */
    int has_dec;
} get_answer;

typedef struct get_call {
    h_ctx *ctx;
    const Mediation__V1__ConfigGetRequest *req;
    h_get_query q;
    char config_key[H_GET_KEY_MAX];
    const char *if_none_match;             /* raw header, NULL when absent */
    char gen[H_GET_GEN_MAX];
    int cache_ok;                          /* Redis answered the marker read */
    h_get_entry entry;
    int has_entry;
    int64_t now_ms;
} get_call;

static void add_code(get_answer *a, const char *code)
{
    if (a->n_codes < ANSWER_MAX_CODES) a->codes[a->n_codes++] = code;
}

static void log_ctx(const get_call *c, const char *code, med_log_ctx *lc)
{
    memset(lc, 0, sizeof *lc);
    lc->tenant_id = c->q.tenant;
    lc->request_id = c->config_key;
    lc->error_code = code;
}

/* ---- answers ------------------------------------------------------------ */

static med_rc answer_error(get_answer *a, int status, const med_err *why)
{
    a->http_status = status;
    a->err = *why;
    med_err e;
    return h_get_body_error(why->code, why->message, why->field, &a->body, &e);
}

/* The text a 200 or 304 serves: the cached entry or the new resolution. */
typedef struct served {
    const char *etag, *versions_json, *snapshot_json;
    int ttl_sec;
} served;

/* ---- per-request decisions (H.5, H.7, H.8) ------------------------------ */

/* Canary breaker state from Redis; absent, undecodable or Redis trouble
 * all read as closed (h_get_decide's contract). */
static int read_breaker(void *ud, const char *breaker_key, h_breaker_state *out)
{
    const get_call *c = ud;
    char key[H_GET_KEY_MAX + 32];
    if (snprintf(key, sizeof key, "%s%s", H_GET_BREAKER_KEY_PREFIX, breaker_key) >=
        (int)sizeof key)
        return 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err e;
    if (med_redis_get(c->ctx->redis_get, key, &buf, &len, &e) != MED_OK) return 0;
    int ok = h_breaker_decode(buf, len, out, &e) == MED_OK;
    free(buf);
    return ok;
}

/* The request's adapterVersionMapOrNA as gate input (borrowed). */
static med_rc request_adapters(const get_call *c, h_kv **out, size_t *n, med_err *err)
{
    *out = NULL;
    *n = c->req->n_adapter_version_map_or_na;
    if (*n == 0) return MED_OK;
    *out = calloc(*n, sizeof **out);
    if (!*out) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "adapters");
    for (size_t i = 0; i < *n; i++)
        (*out)[i] = (h_kv){ c->req->adapter_version_map_or_na[i]->key,
                            c->req->adapter_version_map_or_na[i]->value };
    return MED_OK;
}

static const char *request_trace_key(const Mediation__V1__ConfigGetRequest *r)
{
    return r->trace_key_or_na_opt_case ==
                   MEDIATION__V1__CONFIG_GET_REQUEST__TRACE_KEY_OR_NA_OPT_TRACE_KEY_OR_NA
               ? r->trace_key_or_na
               : NULL;
}

/* Decides on what is served. Only out of memory fails the answer: a
 * snapshot the decisions cannot read is logged and served without them. */
static med_rc decide(const get_call *c, const h_cache_answer *ca, const served *sv,
                     get_answer *a, med_err *err)
{
    h_kv *adapters = NULL;
    size_t n = 0;
    med_rc rc = request_adapters(c, &adapters, &n, err);
    if (rc != MED_OK) return rc;
    h_get_decide_in in = {
        .snapshot_json = sv->snapshot_json, .versions_json = sv->versions_json,
        .config_key = c->config_key, .app_id = c->q.app_id, .placement_id = c->q.placement_id,
        .environment = c->q.environment, .schema_version = c->q.schema_version,
        .sdk_version = c->req->sdk_version, .trace_key = request_trace_key(c->req),
        .adapters = adapters, .n_adapters = n, .http_status = ca->http_status,
        .cache_decision = a->decision,
        .cache_code = ca->n_reason_codes ? ca->reason_codes[0] : NULL,
        /* Redis that just failed the marker read is not asked again. */
        .breaker_reader = c->cache_ok ? read_breaker : NULL, .breaker_ud = (void *)c,
        .now_ms = c->now_ms,
    };
    med_err why;
    rc = h_get_decide(&in, &a->dec, &why);
    free(adapters);
    a->has_dec = rc == MED_OK;
    if (rc == MED_ERR_NOMEM) return med_err_set(err, rc, why.code, NULL, "%s", why.message);
    if (rc != MED_OK) {
        med_log_ctx lc;
        log_ctx(c, why.code, &lc);
        MED_LOGW(&lc, "config decisions left out of the answer: %s", why.message);
    }
    return MED_OK;
}

static med_rc answer_served(const get_call *c, const h_cache_answer *ca, const served *sv,
                            get_answer *a, med_err *err)
{
    a->http_status = ca->http_status;
    a->decision = h_cache_decision_name(ca->decision);
    for (size_t i = 0; i < ca->n_reason_codes; i++) add_code(a, ca->reason_codes[i]);
    snprintf(a->etag, sizeof a->etag, "%s", sv->etag);
    a->ttl_sec = sv->ttl_sec;
    a->response_at_ms = c->now_ms;
    a->expire_at_ms = h_cache_expire_at(c->now_ms, sv->ttl_sec);
    med_rc rc = decide(c, ca, sv, a, err);
    if (rc != MED_OK || ca->http_status == 304) return rc;
    h_get_ok in = {
        .config_key = c->config_key,
        .etag = sv->etag,
        .ttl_sec = sv->ttl_sec,
        .cache_decision = a->decision,
        .codes = a->codes,
        .n_codes = a->n_codes,
        .versions_json = sv->versions_json,
        .snapshot_json = sv->snapshot_json,
        .expire_at_ms = a->expire_at_ms,
        .response_at_ms = a->response_at_ms,
        .gate_json = a->has_dec ? a->dec.gate_json : NULL,
        .rollout_json = a->has_dec ? a->dec.rollout_json : NULL,
        .audit_json = a->has_dec ? a->dec.audit_json : NULL,
    };
    return h_get_body_ok(&in, &a->body, err);
}

static med_rc answer_unavailable(const get_call *c, const med_err *why, get_answer *a)
{
    med_err out;
    if (why->code[0])
        med_err_set(&out, MED_ERR_UNAVAILABLE, MED_R_H_CFG_CACHE_EXPIRED_REVALIDATE_FAILED, NULL,
                    "config could not be resolved (%s: %s) and no answer is within the stale "
                    "grace", why->code, why->message);
    else
        med_err_set(&out, MED_ERR_UNAVAILABLE, MED_R_H_CFG_CACHE_EXPIRED_REVALIDATE_FAILED, NULL,
                    "config could not be resolved and no answer is within the stale grace");
    med_log_ctx lc;
    log_ctx(c, out.code, &lc);
    MED_LOGW(&lc, "%s", out.message);
    return answer_error(a, 503, &out);
}

/* Applies h_cache_decide to what is known and renders its answer. */
static med_rc answer_decided(get_call *c, const h_get_resolved *r, h_cache_resolve outcome,
                             const med_err *why, get_answer *a, med_err *err)
{
    const h_get_entry *e = &c->entry;
    h_cache_request cr = {
        .entry = { .present = c->has_entry, .resolved_ok = c->has_entry,
                   .etag = e->etag, .expire_at_ms = e->expire_at_ms },
        .now_ms = c->now_ms,
        .if_none_match = c->if_none_match,
        .resolve = outcome,
        .new_etag = r ? r->etag : NULL,
    };
    h_cache_answer ca;
    med_rc rc = h_cache_decide(&cr, &ca, err);
    if (rc != MED_OK) return rc;
    if (ca.serve == H_CACHE_SERVE_NONE) return answer_unavailable(c, why, a);
    served sv = ca.serve == H_CACHE_SERVE_NEW
                    ? (served){ r->etag, r->versions_json, r->snapshot_json, r->ttl_sec }
                    : (served){ e->etag, e->versions_json, e->snapshot_json, e->ttl_sec };
    if (ca.decision == H_CACHE_STALE_SERVED) {
        med_log_ctx lc;
        log_ctx(c, why->code, &lc);
        MED_LOGW(&lc, "config resolution failed, stale answer served: %s", why->message);
    }
    return answer_served(c, &ca, &sv, a, err);
}

static void remember(get_call *c, const h_get_resolved *r)
{
    med_redis *redis = c->ctx->redis_get;
    if (!redis || !c->cache_ok) return;
    h_get_entry e = { .ttl_sec = r->ttl_sec,
                      .expire_at_ms = h_cache_expire_at(c->now_ms, r->ttl_sec),
                      .snapshot_json = r->snapshot_json,
                      .versions_json = r->versions_json };
    snprintf(e.etag, sizeof e.etag, "%s", r->etag);
    snprintf(e.gen, sizeof e.gen, "%s", c->gen);
    med_err err;
    if (h_get_entry_write(redis, c->q.tenant, c->config_key, &e, c->now_ms, &err) != MED_OK) {
        med_log_ctx lc;
        log_ctx(c, err.code, &lc);
        MED_LOGW(&lc, "config cache write failed (answer still served): %s", err.message);
    }
}

static void rejected_reason(const h_get_resolved *r, med_err *why)
{
    const char *first = r->n_codes > 0 ? r->codes[0] : MED_R_H_CFG_MISSING_REQUIRED_AFTER_MERGE;
    for (size_t i = 0; i < r->n_codes; i++)
        if (strcmp(r->codes[i], MED_R_H_CFG_GLOBAL_UNAVAILABLE_FAIL_CLOSED) == 0 ||
            strcmp(r->codes[i], MED_R_H_CFG_MISSING_REQUIRED_AFTER_MERGE) == 0)
            first = r->codes[i];
    med_err_set(why, MED_ERR_INVALID, first, NULL, "resolution rejected");
}

static med_rc resolve_and_answer(get_call *c, get_answer *a, med_err *err)
{
    h_get_resolved r;
    med_err why;
    med_err_clear(&why);
    med_rc rc = h_get_resolve_config(c->ctx->pg_get, &c->q, &r, &why);
    if (rc == MED_ERR_NOMEM) return med_err_set(err, rc, why.code, NULL, "%s", why.message);
    int ok = rc == MED_OK && r.status != H_RES_REJECTED;
    if (rc == MED_OK && !ok) rejected_reason(&r, &why);
    if (ok) remember(c, &r);
    rc = answer_decided(c, ok ? &r : NULL, ok ? H_CACHE_RESOLVE_OK : H_CACHE_RESOLVE_FAILED,
                        &why, a, err);
    h_get_resolved_clear(&r);
    return rc;
}

/* ---- cache lookup ------------------------------------------------------- */

static void cache_lookup(get_call *c)
{
    med_redis *redis = c->ctx->redis_get;
    if (!redis) return;
    med_err e;
    if (h_get_gen_read(redis, c->q.environment, c->gen, &e) != MED_OK) {
        med_log_ctx lc;
        log_ctx(c, e.code, &lc);
        MED_LOGW(&lc, "config cache unavailable, resolving without it: %s", e.message);
        return;
    }
    c->cache_ok = 1;
    c->has_entry =
        h_get_entry_read(redis, c->q.tenant, c->config_key, c->gen, &c->entry, &e) == MED_OK;
}

/* ---- request ------------------------------------------------------------ */

static const char *request_tenant(const Mediation__V1__ConfigGetRequest *r)
{
    if (r->tenant_id && *r->tenant_id) return r->tenant_id;
    return r->trace && r->trace->tenant_id ? r->trace->tenant_id : "";
}

static med_rc check_request(get_call *c, med_err *why)
{
    const Mediation__V1__ConfigGetRequest *r = c->req;
    h_get_params p = { r->app_id, r->placement_id, r->environment,
                       r->schema_version, r->sdk_version, r->request_at };
    int64_t at = 0;
    med_rc rc = h_get_params_check(&p, &at, why);
    if (rc != MED_OK) return rc;
    c->q = (h_get_query){ .tenant = request_tenant(r), .app_id = r->app_id,
                          .placement_id = r->placement_id, .environment = r->environment,
                          .schema_version = r->schema_version, .resolve_at_ms = at,
                          .config_key = c->config_key };
    if (!*c->q.tenant)
        return med_err_set(why, MED_ERR_INVALID, MED_R_H_CFG_MISSING_REQUIRED_AFTER_MERGE,
                           "tenant", "the request carries no tenant");
    rc = h_cache_config_key(r->app_id, r->placement_id, r->environment, r->schema_version,
                            c->config_key, sizeof c->config_key, why);
    if (rc != MED_OK) return rc;
    if (r->if_none_match_opt_case ==
        MEDIATION__V1__CONFIG_GET_REQUEST__IF_NONE_MATCH_OPT_IF_NONE_MATCH)
        c->if_none_match = r->if_none_match;
    return MED_OK;
}

static med_rc answer_call(get_call *c, get_answer *a, med_err *err)
{
    med_err why;
    med_err_clear(&why);
    if (check_request(c, &why) != MED_OK) return answer_error(a, 400, &why);
    c->now_ms = med_now_unix_ms();
    cache_lookup(c);
    h_cache_entry ce = { .present = c->has_entry, .resolved_ok = c->has_entry,
                         .etag = c->entry.etag, .expire_at_ms = c->entry.expire_at_ms };
    if (!h_cache_needs_resolve(&ce, c->now_ms)) {
        med_err none;
        med_err_clear(&none);
        return answer_decided(c, NULL, H_CACHE_RESOLVE_NOT_RUN, &none, a, err);
    }
    return resolve_and_answer(c, a, err);
}

/* ---- reply -------------------------------------------------------------- */

static med_rc pack_reply(const get_call *c, const get_answer *a, uint8_t **out, size_t *len,
                         med_err *err)
{
    Mediation__V1__ConfigGetReply rep = MEDIATION__V1__CONFIG_GET_REPLY__INIT;
    Mediation__V1__ErrorBodyLite eb = MEDIATION__V1__ERROR_BODY_LITE__INIT;
    rep.trace = c->req ? c->req->trace : NULL;
    rep.http_status = a->http_status;
    rep.status = a->http_status < 400 ? "ok" : "";
    rep.config_key = (char *)c->config_key;
    rep.etag = (char *)a->etag;
    rep.ttl_sec = a->ttl_sec;
    rep.expire_at_unix_ms = a->expire_at_ms;
    rep.response_at_unix_ms = a->response_at_ms;
    rep.cache_decision = (char *)(a->decision ? a->decision : "");
    rep.n_reason_codes = a->n_codes;
    rep.reason_codes = (char **)a->codes;
    rep.get_config_contract_version = H_GET_CONTRACT_VERSION;
    rep.body_json = a->body ? a->body : "";
    if (a->http_status >= 400) {
        eb.code = (char *)a->err.code;
        eb.message = (char *)a->err.message;
        if (a->err.field[0]) {
            eb.field_opt_case = MEDIATION__V1__ERROR_BODY_LITE__FIELD_OPT_FIELD;
            eb.field = (char *)a->err.field;
        }
        rep.error = &eb;
    }
    *len = mediation__v1__config_get_reply__get_packed_size(&rep);
    *out = malloc(*len ? *len : 1);
    if (!*out) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "GET reply");
    mediation__v1__config_get_reply__pack(&rep, *out);
    return MED_OK;
}

/* After the reply is packed; async, so a slow or absent JetStream costs
 * the answer nothing. A 304 has no body but its audit still goes out. */
static void publish_audit(const get_call *c, const get_answer *a)
{
    med_err e;
    /* The audit belongs to the caller's tenant (G stores it under it),
     * whether or not the caller sent a trace context. */
    Mediation__V1__TraceContext tc = MEDIATION__V1__TRACE_CONTEXT__INIT;
    if (c->req->trace) tc = *c->req->trace;
    if (!tc.tenant_id || !*tc.tenant_id) tc.tenant_id = c->req->tenant_id;
    if (h_get_audit_publish(c->ctx->js, &a->dec, &tc, c->ctx->instance, a->http_status,
                            c->now_ms, &e) == MED_OK)
        return;
    med_log_ctx lc;
    log_ctx(c, e.code, &lc);
    MED_LOGW(&lc, "config decision audit %s not published: %s", a->dec.snapshot_id, e.message);
}

med_rc h_get_handle(h_ctx *ctx, const uint8_t *req, size_t len, uint8_t **reply,
                    size_t *reply_len)
{
    *reply = NULL;
    *reply_len = 0;
    get_call c;
    memset(&c, 0, sizeof c);
    c.ctx = ctx;
    get_answer a;
    memset(&a, 0, sizeof a);
    med_err err;
    med_err_clear(&err);
    Mediation__V1__ConfigGetRequest *r = mediation__v1__config_get_request__unpack(NULL, len, req);
    c.req = r;
    med_rc rc;
    if (!r) {
        med_err_set(&err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                    "ConfigGetRequest does not decode");
        rc = answer_error(&a, 400, &err);
    } else {
        rc = answer_call(&c, &a, &err);
    }
    if (rc == MED_OK) rc = pack_reply(&c, &a, reply, reply_len, &err);
    if (rc == MED_OK && a.has_dec) publish_audit(&c, &a);
    free(a.body);
    h_get_decisions_clear(&a.dec);
    h_get_entry_clear(&c.entry);
    if (r) mediation__v1__config_get_request__free_unpacked(r, NULL);
    return rc;
}

/* ---- eviction ----------------------------------------------------------- */

static void bump_generation(h_ctx *ctx, const Mediation__V1__ConfigChanged *m)
{
    char marker[H_GET_GEN_MAX];
    snprintf(marker, sizeof marker, "%s:%lld", m->publish_operation_id,
             (long long)m->committed_at_unix_ms);
    /* Its own connection: this runs on the ConfigChanged callback thread,
     * and the GET handler's connection is not thread-safe. */
    med_redis *r = NULL;
    med_err e;
    med_rc rc = med_redis_connect(med_config_str(ctx->cfg, "REDIS_HOST"),
                                  (int)med_config_int(ctx->cfg, "REDIS_PORT"), 1000, &r, &e);
    if (rc == MED_OK) rc = h_get_gen_bump(r, m->environment, marker, &e);
    med_redis_close(r);
    med_log_ctx lc = { .error_code = rc == MED_OK ? NULL : e.code };
    if (rc != MED_OK)
        MED_LOGW(&lc, "config cache of %s not evicted: %s", m->environment, e.message);
    else
        MED_LOGI(&lc, "config cache of %s evicted by %s", m->environment, m->release_unit);
}

void h_get_on_config_changed(h_ctx *ctx, const uint8_t *msg, size_t len)
{
    Mediation__V1__ConfigChanged *m = mediation__v1__config_changed__unpack(NULL, len, msg);
    if (!m) {
        MED_LOGW(NULL, "ConfigChanged does not decode; cache left alone");
        return;
    }
    if (m->environment && *m->environment) bump_generation(ctx, m);
    mediation__v1__config_changed__free_unpacked(m, NULL);
}
