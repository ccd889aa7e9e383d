/* Stage A's relay transform: one OpportunityRequest -> its decision
 * (a_decide, pure) around the two lookups it needs (resolved config from
 * H, dedup record from Redis), the opportunity row, and the outputs:
 * a reject reply to the inbox, a terminal ComposeInput for E, or the
 * opportunity_created event + the seed for B. A StageAudit always. */
#include "a_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a_out.h"
#include "a_seed.h"
#include "a_store.h"
#include "a_types.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/metric_names.h"
#include "med/metrics.h"
#include "med/names.h"
#include "med/pbtrace.h"
#include "med/reason.h"
#include "med/rows.h"

/* Per-message working state; everything the outputs point into. */
typedef struct a_work {
    const med_relay_in *in;
    a_service *svc;
    Mediation__V1__OpportunityRequest *req_pb;
    const med_rconfig_entry *cfg;
    med_rconfig_status cfg_status;
    a_request req;
    a_decision d;
    med_arena arena;
    Mediation__V1__TraceContext tc;
    Mediation__V1__StageHop hop;
    Mediation__V1__StageHop **hops;
    char dedup_redis_key[512];
    h_anchor_snapshot anchors;
    Mediation__V1__VersionAnchorSnapshot *anchors_pb;
    char tenant[160];
    /* create: the seed and the row, written for the whole batch at once */
    Mediation__V1__OpportunitySeed *seed;
    char ev_idem[65], ev_key[64];
    /* A.9: the event's StageAudit bytes (sent by attempt 1 and kept on the
     * row for resends), its digest, and the first attempt's ack */
    uint8_t *ev_payload;
    size_t ev_len;
    char ev_digest[65];
    const char *ev_missing;
    med_emit_ack ev_ack;
    char *row_payload;
    a_store_opportunity row;
    int created;
    med_rc rc;             /* this message's result so far */
    med_err err;
} a_work;

static const char *or_empty(const char *s) { return s ? s : ""; }

/* ---- config ---- */

/* A.1 step 4, keyed by the parsed request (L1 guarantees its fields). */
static void fetch_config(a_work *w)
{
    w->cfg_status = MED_RCFG_FRESH;
    if (!w->svc->rconfig) return;
    med_rconfig_key k = {
        .tenant_id = w->tenant,
        .app_id = w->req.app_id,
        .placement_id = w->req.placement_id,
        .environment = w->req_pb->environment,
        .schema_version = w->req.schema_version,
        .sdk_version = w->req.sdk_version,
    };
    med_err e;
    med_err_clear(&e);
    if (med_rconfig_get(w->svc->rconfig, &k, NULL, &w->cfg, &w->cfg_status, &e) != MED_OK)
        w->cfg_status = MED_RCFG_NONE_UNAVAILABLE;
    if (w->cfg_status != MED_RCFG_FRESH) {
        med_log_ctx lc = { .tenant_id = w->tenant, .error_code = e.code };
        MED_LOGW(&lc, "config for %s/%s: %s %s%s%s", w->req.app_id, w->req.placement_id,
                 med_rconfig_status_name(w->cfg_status), e.message, e.field[0] ? " field=" : "",
                 e.field);
    }
}

/* ---- trace context of every output ---- */

static med_rc build_trace(a_work *w, med_err *err)
{
    med_hop hop = { .stage = w->in->stage, .instance = w->in->instance,
                    .at_unix_ms = w->in->now_unix_ms };
    med_rc rc = med_pb_trace_with_hop(w->req_pb->trace, &hop, &w->tc, &w->hop, &w->hops, err);
    if (rc != MED_OK) return rc;
    w->tc.tenant_id = (char *)w->tenant;
    w->tc.app_id = (char *)or_empty(w->req.app_id ? w->req.app_id : w->req_pb->app_id);
    w->tc.placement_id = (char *)or_empty(w->req.placement_id);
    if (w->d.has_keys) {
        w->tc.trace_key = w->d.keys.trace_key;
        w->tc.request_key = w->d.keys.request_key;
        w->tc.opportunity_key = w->d.keys.opportunity_key;
        w->tc.attempt_key = w->d.keys.attempt_key;
    }
    if (w->anchors_pb) w->tc.anchor_hash = w->anchors_pb->anchor_hash;
    return MED_OK;
}

static med_rc add_keyed(a_work *w, med_relay_out *out, const char *subject, const char *msg_id,
                        const ProtobufCMessage *m, med_err *err)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    med_rc rc = med_pb_pack(m, &buf, &n, err);
    if (rc == MED_OK) rc = med_relay_out_add(out, subject, msg_id, buf, n, 0, err);
    if (rc != MED_OK || !w->d.has_keys) return rc;
    rc = med_relay_out_header(out, MED_HDR_TRACE_KEY, w->d.keys.trace_key, err);
    if (rc == MED_OK) rc = med_relay_out_header(out, MED_HDR_REQUEST_KEY, w->d.keys.request_key, err);
    if (rc == MED_OK)
        rc = med_relay_out_header(out, MED_HDR_OPPORTUNITY_KEY, w->d.keys.opportunity_key, err);
    if (rc == MED_OK && w->req.placement_id)
        rc = med_relay_out_header(out, MED_HDR_PLACEMENT, w->req.placement_id, err);
    if (rc == MED_OK && w->req.app_id) rc = med_relay_out_header(out, MED_HDR_APP, w->req.app_id, err);
    if (rc == MED_OK && w->anchors_pb)
        rc = med_relay_out_header(out, MED_HDR_ANCHOR_HASH, w->anchors_pb->anchor_hash, err);
    return rc;
}

static a_seed_ctx seed_ctx(a_work *w)
{
    return (a_seed_ctx){ .d = &w->d, .req = &w->req, .cfg = w->cfg, .trace = &w->tc,
                         .received_at_ms = w->req_pb->received_at_unix_ms,
                         .now_ms = w->in->now_unix_ms, .tenant_id = w->tenant };
}

static med_rc add_audit(a_work *w, med_relay_out *out, med_err *err)
{
    a_seed_ctx c = seed_ctx(w);
    char id[256];
    snprintf(id, sizeof id, "a.audit:%s",
             w->d.has_keys ? w->d.keys.request_key : or_empty(w->in->headers->request_key));
    Mediation__V1__StageAudit *s = a_audit_build(&w->arena, &c, "decision", id, NULL, w->anchors_pb);
    if (!s) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "A audit");
    return add_keyed(w, out, MED_SUBJ_AUDIT_PREFIX MED_STAGE_A MED_SUBJ_VERSION_SUFFIX, id,
                     &s->base, err);
}

/* ---- dedup record ---- */

static int64_t record_ttl_ms(const a_service *s) { return (int64_t)s->dedup_window_sec * 2000; }

/* The alias this request's record is also stored under (A.4/A.5: the
 * generated client id); NULL when none. key: the caller's buffer. */
static const a_store_alias *record_alias(const a_work *w, char *key, size_t cap,
                                         a_store_alias *out)
{
    char dk[A_DEDUP_KEY_MAX];
    if (!a_decision_alias_key(&w->d, &w->req, dk, sizeof dk)) return NULL;
    a_store_dedup_key(w->svc->app_env, w->tenant, dk, key, cap);
    *out = (a_store_alias){ .key = key, .alias_of = w->d.dkey.dedup_key };
    return out;
}

/* The completed record (no compare: the request owns its claim by now),
 * its alias refreshed to the same TTL. */
static void record_put(a_work *w, const char *state)
{
    a_dedup_record rec;
    a_decision_record(&w->d, &w->req, w->in->now_unix_ms,
                      w->in->info ? w->in->info->stream_seq : 0, state, &rec);
    char akey[512];
    a_store_alias alias;
    med_err e;
    if (a_store_dedup_put_aliased(w->svc->redis, w->dedup_redis_key,
                                  record_alias(w, akey, sizeof akey, &alias), &rec,
                                  record_ttl_ms(w->svc), &e) != MED_OK)
        w->d.dedup_degraded = 1;
}

/* A reject frees the record (and its alias) for a corrected retry. */
static void record_delete(a_work *w)
{
    char akey[512];
    a_store_alias alias;
    med_err e;
    a_store_dedup_delete_aliased(w->svc->redis, w->dedup_redis_key,
                                 record_alias(w, akey, sizeof akey, &alias), &e);
}

/* The record an alias points at (A.4): 1 = *rec filled; 0 = none (absent,
 * undecodable, or not a record); -1 = Redis failed. */
static int alias_target(const a_work *w, const char *alias_of, a_dedup_record *rec)
{
    char key[512], again[A_DEDUP_KEY_MAX];
    uint8_t *b = NULL;
    size_t n = 0;
    med_err e;
    a_store_dedup_key(w->svc->app_env, w->tenant, alias_of, key, sizeof key);
    if (a_store_dedup_read(w->svc->redis, key, &b, &n, &e) != MED_OK) return -1;
    int found = a_dedup_bytes_read(b, n, rec, again, sizeof again) == A_DEDUP_BYTES_RECORD;
    free(b);
    return found;
}

/* What the claim script last returned: known = 0 before the first call;
 * bytes NULL = no record (owned, freed by the loop). */
typedef struct dedup_seen {
    int known;
    uint8_t *bytes;
    size_t len;
} dedup_seen;

/* A.1 steps 6-8 on what was seen, from the decision as it stood before
 * them (a_decide_back adds secondary codes, so it never runs twice on one
 * decision). A record that does not decode counts as absent. */
static void decide_on(a_work *w, const a_decide_in *di, const a_decision *before,
                      const dedup_seen *seen, int redis_down)
{
    w->d = *before;
    a_dedup_record rec;
    char alias_of[A_DEDUP_KEY_MAX];
    a_dedup_bytes kind = redis_down ? A_DEDUP_BYTES_NONE
                                    : a_dedup_bytes_read(seen->bytes, seen->len, &rec, alias_of,
                                                         sizeof alias_of);
    int found = kind == A_DEDUP_BYTES_RECORD;
    if (kind == A_DEDUP_BYTES_ALIAS) {
        /* A retry with a generated client id: decided on the computed
         * record; the claim still compares the alias bytes it saw. */
        int t = alias_target(w, alias_of, &rec);
        found = t == 1;
        redis_down = t < 0;
    }
    a_decide_back(di, &w->req, found ? &rec : NULL, redis_down, &w->d);
}

/* Rounds of decide + claim: an absent record assumed first (one script
 * call for a new request), then each round decides on what the script
 * returned. Losing every round (the record changed under each claim) is
 * left to the opportunity_records unique claim. */
#define A_DEDUP_CLAIM_ROUNDS 4

/* A.4 through the claim script (a_dedup_lua.h): reading the record and
 * claiming it for this request are one server-side step. */
static void decide_with_dedup(a_work *w, const a_decide_in *di)
{
    a_store_dedup_key(w->svc->app_env, w->tenant, w->d.dkey.dedup_key, w->dedup_redis_key,
                      sizeof w->dedup_redis_key);
    const a_decision before = w->d;
    dedup_seen seen = { 0 };
    for (int round = 0; round < A_DEDUP_CLAIM_ROUNDS; round++) {
        decide_on(w, di, &before, &seen, 0);
        /* degraded: an alias whose record could not be read */
        a_dedup_claim c = a_dedup_claim_for(w->d.kind == A_KIND_CREATE, w->d.dedup_degraded,
                                            &w->d.dedup, seen.bytes != NULL);
        if (c == A_DEDUP_CLAIM_NONE && seen.known) break;
        a_dedup_record rec;
        if (c != A_DEDUP_CLAIM_NONE)
            a_decision_record(&w->d, &w->req, w->in->now_unix_ms,
                              w->in->info ? w->in->info->stream_seq : 0, A_DEDUP_INFLIGHT, &rec);
        int claimed = 0;
        uint8_t *cur = NULL;
        size_t cur_len = 0;
        med_err e;
        char akey[512];
        a_store_alias alias;
        med_rc rc = a_store_dedup_claim_aliased(
            w->svc->redis, w->dedup_redis_key, record_alias(w, akey, sizeof akey, &alias),
            c == A_DEDUP_CLAIM_IF_UNCHANGED ? seen.bytes : NULL, seen.len,
            c != A_DEDUP_CLAIM_NONE ? &rec : NULL, record_ttl_ms(w->svc), &claimed, &cur,
            &cur_len, &e);
        if (rc != MED_OK) {
            decide_on(w, di, &before, &seen, 1);
            break;
        }
        if (claimed) break;
        free(seen.bytes);
        seen = (dedup_seen){ .known = 1, .bytes = cur, .len = cur_len };
    }
    free(seen.bytes);
}

/* ---- outputs per kind ---- */

static med_rc emit_reject(a_work *w, med_relay_out *out, med_err *err)
{
    if (w->d.has_dkey && w->dedup_redis_key[0]) record_delete(w);
    med_rc rc = add_audit(w, out, err);
    if (rc != MED_OK || !w->in->reply_to) return rc;
    Mediation__V1__OpportunityRejectReply *r =
        a_out_reject_reply(&w->arena, &w->d, &w->tc, w->in->now_unix_ms);
    uint8_t *buf = NULL;
    size_t n = 0;
    if (!r) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "reject reply");
    rc = med_pb_pack(&r->base, &buf, &n, err);
    if (rc != MED_OK) return rc;
    return med_relay_out_reply(out, w->in->reply_to, MED_REPLY_KIND_REJECT, buf, n, err);
}

static med_rc emit_terminal(a_work *w, med_relay_out *out, med_err *err)
{
    int duplicate = w->d.has_dedup && (w->d.dedup.state == A_DEDUP_INFLIGHT_DUPLICATE ||
                                       w->d.dedup.state == A_DEDUP_REUSED_RESULT);
    if (!duplicate && w->dedup_redis_key[0]) {
        /* A reject frees the key for a corrected retry; a no_op/block is a
         * result a repeat within the window reuses. */
        if (strcmp(w->d.trigger_action, A_ACT_REJECT) == 0) {
            record_delete(w);
        } else {
            record_put(w, A_DEDUP_COMPLETED);
        }
    }
    Mediation__V1__ComposeInput *c = a_out_terminal_compose(
        &w->arena, &w->d, w->req.trigger_contract_version, &w->tc, w->in->now_unix_ms);
    if (!c) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "terminal");
    c->version_anchor_snapshot = w->anchors_pb;
    char id[256];
    /* A duplicate's terminal must not collide with the first request's own
     * messages: its id carries this message's stream sequence. */
    if (duplicate)
        snprintf(id, sizeof id, "a.compose:%s:dup-%llu", w->d.keys.request_key,
                 (unsigned long long)(w->in->info ? w->in->info->stream_seq : 0));
    else
        snprintf(id, sizeof id, "a.compose:%s",
                 w->d.has_keys ? w->d.keys.request_key : or_empty(w->in->headers->request_key));
    med_rc rc = add_keyed(w, out, MED_SUBJ_E_COMPOSE, id, &c->base, err);
    if (rc == MED_OK && !duplicate) rc = add_audit(w, out, err);
    return rc;
}

/* The row's payload: the decision a reader filters on. The full seed is
 * in MED_CHAIN and G's archive; rendering it as JSON per opportunity cost
 * more than the rest of A, and the raw SDK slot must never be stored. */
static char *create_payload(const a_work *w)
{
    json_t *j = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}",
                          "triggerType", w->d.sensing.trigger_type,
                          "hitType", w->d.sensing.hit_type,
                          "decisionOutcome", w->d.decision_outcome,
                          "reasonCode", w->d.reason_code,
                          "dedupState", a_dedup_state_name(w->d.dedup.state),
                          "configHash", w->cfg ? med_rconfig_config_hash(w->cfg) : NULL,
                          "anchorHash", w->anchors_pb ? w->anchors_pb->anchor_hash : NULL);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text;
}

/* The opportunity_created StageAudit, packed once: attempt 1 and every
 * resend send these bytes. */
static med_rc event_prepare(a_work *w, med_err *err)
{
    a_seed_ctx c = seed_ctx(w);
    Mediation__V1__OpportunityCreatedEventLite *ev =
        a_event_build(&w->arena, &c, w->ev_key, w->ev_idem);
    Mediation__V1__StageAudit *ea =
        ev ? a_audit_build(&w->arena, &c, A_EVENT_TYPE_CREATED, w->ev_idem, ev, w->anchors_pb)
           : NULL;
    if (!ea) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "event");
    med_rc rc = a_emit_digest_of(ea, w->ev_digest, &w->ev_missing, err);
    if (rc == MED_OK) rc = med_pb_pack(&ea->base, &w->ev_payload, &w->ev_len, err);
    return rc;
}

/* The seed, the event keys and the row a created opportunity writes. */
static med_rc create_prepare(a_work *w, med_err *err)
{
    a_seed_ctx c = seed_ctx(w);
    w->seed = a_seed_build(&w->arena, &c, w->anchors_pb);
    if (!w->seed) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "seed");
    uint8_t rnd[10];
    a_event_idempotency_key(w->d.keys.request_key, w->d.keys.opportunity_key,
                            w->d.keys.attempt_key, A_VER_OPPORTUNITY_EVENT, w->ev_idem);
    med_random_bytes(rnd, sizeof rnd);
    a_event_key_from(w->in->now_unix_ms, rnd, w->ev_key, sizeof w->ev_key);
    med_rc rc = event_prepare(w, err);
    if (rc != MED_OK) return rc;
    w->created = 1;
    w->row_payload = create_payload(w);
    w->row = (a_store_opportunity){
        .tenant_id = w->tenant, .app_id = w->req.app_id,
        .placement_id = w->req.placement_id, .opportunity_key = w->d.keys.opportunity_key,
        .request_key = w->d.keys.request_key, .trace_key = w->d.keys.trace_key,
        .attempt_key = w->d.keys.attempt_key, .contract_version = A_VER_CREATE_OPPORTUNITY,
        .dedup_key = w->d.dkey.dedup_key, .reason_code = w->d.reason_code,
        .resolved_config_ref = w->cfg ? med_rconfig_resolve_id(w->cfg) : NULL,
        .anchor_hash = w->anchors_pb ? w->anchors_pb->anchor_hash : NULL,
        .event_key = w->ev_key, .event_idempotency_key = w->ev_idem, .event_status = "pending",
        .event_first_ms = w->in->now_unix_ms,
        .event_next_ms = w->in->now_unix_ms + A_EMIT_PENDING_GRACE_MS,
        .event_payload = w->ev_payload, .event_payload_len = w->ev_len,
        .payload_json = w->row_payload,
    };
    return w->row_payload ? MED_OK
                          : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "row payload");
}

/* The event's first attempt already ran (emit_first_attempts): whatever
 * its ack, the seed leaves now; resends are the sweeper's. A
 * duplicate_noop (A.8) sends no event: the row exists, so the event went
 * with it; the seed goes again with the same Nats-Msg-Id, which the stream
 * drops if it already holds it (case 10). */
static med_rc emit_create(a_work *w, med_relay_out *out, med_err *err)
{
    med_rc rc = MED_OK;
    char id[256];
    snprintf(id, sizeof id, "a.seed:%s", w->d.keys.opportunity_key);
    if (rc == MED_OK) rc = add_keyed(w, out, MED_SUBJ_B_SEED, id, &w->seed->base, err);
    if (rc == MED_OK) rc = add_audit(w, out, err);
    if (rc == MED_OK && w->dedup_redis_key[0]) record_put(w, A_DEDUP_COMPLETED);
    return rc;
}

/* ---- the transform ---- */

/* med_dedup_hits_total{stage="a",window="request"}: looked up once; the
 * registry returns the same handle to racing threads. */
static med_counter *dedup_hits(void)
{
    static med_counter *_Atomic c;
    if (!c)
        c = med_counter_get(MED_M_DEDUP_HITS, MED_M_DEDUP_HITS_HELP,
                            "stage=\"" MED_STAGE_A "\",window=\"" MED_MV_WINDOW_REQUEST "\"");
    return c;
}

/* A answered from its dedup record (A.1 steps 6-8): an in-flight
 * duplicate or a completed result reused within the window. */
static void count_dedup_hit(const a_work *w)
{
    if (!w->d.has_dedup) return;
    if (w->d.dedup.state != A_DEDUP_INFLIGHT_DUPLICATE && w->d.dedup.state != A_DEDUP_REUSED_RESULT)
        return;
    med_counter *c = dedup_hits();
    if (c) med_counter_inc(c);
}

static void bind_service(a_service *s, med_service *svc)
{
    if (s->bound || !svc) return;
    const med_config *cfg = med_service_config(svc);
    s->pg = med_service_pg(svc);
    s->redis = med_service_redis(svc);
    s->rconfig = med_service_rconfig(svc);
    s->app_env = med_config_env_name(med_config_env(cfg));
    s->dedup_window_sec = (int)med_config_int(cfg, "A_DEDUP_WINDOW_SEC");
    s->soft_budget_ms = med_config_int(cfg, "A_SOFT_BUDGET_MS");
    s->hard_budget_ms = med_config_int(cfg, "A_HARD_BUDGET_MS");
    med_err e;
    if (s->pg && a_store_prepare(s->pg, &e) != MED_OK) {
        med_log_ctx lc = { .error_code = e.code };
        MED_LOGW(&lc, "opportunity statement not prepared: %s", e.message);
    }
    s->emit = (a_emit_ctx){ .js = med_service_js(svc), .redis = s->redis, .app_env = s->app_env,
                            .subject = med_config_str(cfg, "A_OC_EMIT_SUBJECT"),
                            .window_ms = med_config_int(cfg, "A_OC_EMIT_WINDOW_SEC") * 1000 };
    if (s->pg && a_emit_store_prepare(s->pg, &e) != MED_OK) {
        med_log_ctx lc = { .error_code = e.code };
        MED_LOGW(&lc, "emit statements not prepared: %s", e.message);
    }
    (void)dedup_hits(); /* a zero series from start-up */
    s->bound = 1;
}

static void work_free(a_work *w)
{
    free(w->ev_payload);
    free(w->row_payload);
    med_arena_free(&w->arena);
    free(w->hops);
    a_request_free(&w->req);
    med_rconfig_release(w->cfg);
    if (w->req_pb) mediation__v1__opportunity_request__free_unpacked(w->req_pb, NULL);
}

static med_rc decide(a_work *w, med_err *err)
{
    const med_relay_in *in = w->in;
    a_decide_in di = {
        .med_app = w->req_pb->app_id && *w->req_pb->app_id ? w->req_pb->app_id : in->headers->app,
        .received_at_ms = w->req_pb->received_at_unix_ms ? w->req_pb->received_at_unix_ms
                                                         : in->now_unix_ms,
        .now_ms = in->now_unix_ms,
        .dedup_window_sec = w->svc->dedup_window_sec,
        .soft_budget_ms = w->svc->soft_budget_ms,
        .hard_budget_ms = w->svc->hard_budget_ms,
        .stream_seq = in->info ? in->info->stream_seq : 0,
    };
    const char *body = or_empty(w->req_pb->body_json);
    if (a_decide_parse(&di, body, strlen(body), &w->req, &w->d)) {
        fetch_config(w);
        di.config_status = w->cfg_status;
        di.placement_doc = w->cfg ? med_rconfig_doc(w->cfg, "placement") : NULL;
        if (a_decide_config(&di, &w->req, &w->d)) decide_with_dedup(w, &di);
    }
    if (w->d.kind == A_KIND_CREATE && w->d.dedup_degraded && !w->svc->pg)
        a_decision_internal_unavailable(&w->d, "redis and postgresql unavailable");
    if (w->d.kind == A_KIND_CREATE) {
        a_seed_ctx c = seed_ctx(w);
        med_rc rc = a_anchor_ingress(&c, &w->anchors, err);
        if (rc != MED_OK) return rc;
        w->anchors_pb = a_anchor_pb(&w->arena, &w->anchors);
    }
    return MED_OK;
}

/* Decode, config, decision, trace, and for a create the seed and row. */
static void work_prepare(a_work *w)
{
    const med_relay_in *in = w->in;
    w->req_pb = mediation__v1__opportunity_request__unpack(NULL, in->len, in->data);
    if (!w->req_pb) {
        w->rc = med_err_set(&w->err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                            "payload is not a valid OpportunityRequest");
        return;
    }
    snprintf(w->tenant, sizeof w->tenant, "%s",
             w->req_pb->tenant_id && *w->req_pb->tenant_id ? w->req_pb->tenant_id
                                                           : in->headers->tenant);
    w->rc = decide(w, &w->err);
    if (w->rc == MED_OK) w->rc = build_trace(w, &w->err);
    if (w->rc == MED_OK && w->d.kind == A_KIND_CREATE) w->rc = create_prepare(w, &w->err);
}

static med_rc work_finish(a_work *w, med_relay_out *out, med_err *err)
{
    if (w->rc != MED_OK) {
        *err = w->err;
        return w->rc;
    }
    med_rc rc = MED_OK;
    switch (w->d.kind) {
    case A_KIND_REJECT_REPLY: rc = emit_reject(w, out, err); break;
    case A_KIND_TERMINAL: rc = emit_terminal(w, out, err); break;
    case A_KIND_CREATE: rc = emit_create(w, out, err); break;
    }
    if (rc == MED_OK && w->arena.failed)
        rc = med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "A outputs");
    if (rc == MED_OK) count_dedup_hit(w);
    return rc;
}

/* One statement per tenant for every row the batch creates (A.8): a
 * transaction per opportunity was most of PostgreSQL's work. */
static void store_rows(a_service *svc, a_work *ws, size_t n)
{
    if (!svc->pg) return;
    const char *tenants[A_BATCH_MAX];
    unsigned char taken[A_BATCH_MAX] = { 0 };
    size_t idx[A_BATCH_MAX];
    a_store_opportunity *rows[A_BATCH_MAX];
    int created[A_BATCH_MAX];
    for (size_t i = 0; i < n; i++)
        tenants[i] = ws[i].rc == MED_OK && ws[i].d.kind == A_KIND_CREATE ? ws[i].tenant : NULL;
    size_t k;
    while ((k = med_rows_next_tenant_group(tenants, n, taken, idx)) > 0) {
        for (size_t m = 0; m < k; m++) rows[m] = &ws[idx[m]].row;
        med_err e;
        med_err_clear(&e);
        med_rc rc = a_store_opportunity_insert_many(svc->pg, rows, k, created, &e);
        for (size_t m = 0; m < k; m++) {
            a_work *w = &ws[idx[m]];
            w->rc = rc;
            if (rc != MED_OK) w->err = e;
            else w->created = created[m];
        }
    }
}

/* The headers the event carries: the input's, with the keys A minted. */
static void event_headers(const a_work *w, med_trace_headers *h)
{
    *h = *w->in->headers;
    snprintf(h->tenant, sizeof h->tenant, "%s", w->tenant);
    snprintf(h->trace_key, sizeof h->trace_key, "%s", w->d.keys.trace_key);
    snprintf(h->request_key, sizeof h->request_key, "%s", w->d.keys.request_key);
    snprintf(h->opportunity_key, sizeof h->opportunity_key, "%s", w->d.keys.opportunity_key);
    if (w->req.placement_id) snprintf(h->placement, sizeof h->placement, "%s", w->req.placement_id);
    if (w->req.app_id) snprintf(h->app, sizeof h->app, "%s", w->req.app_id);
    if (w->anchors_pb) snprintf(h->anchor_hash, sizeof h->anchor_hash, "%s", w->anchors_pb->anchor_hash);
}

/* A.9: create -> event -> seed. Attempt 1 of every created opportunity's
 * event runs here, after its row and before its seed; its ack is recorded
 * on the row (one statement per tenant) and a retryable rejection is left
 * to the sweeper, so the seed never waits for a resend. */
static void emit_first_attempts(a_service *svc, a_work *ws, size_t n)
{
    const char *tenants[A_BATCH_MAX];
    unsigned char taken[A_BATCH_MAX] = { 0 };
    size_t idx[A_BATCH_MAX];
    const a_emit_result *rows[A_BATCH_MAX];
    a_emit_result results[A_BATCH_MAX];
    for (size_t i = 0; i < n; i++) {
        a_work *w = &ws[i];
        int go = w->rc == MED_OK && w->d.kind == A_KIND_CREATE && w->created;
        tenants[i] = go ? w->tenant : NULL;
        if (!go) continue;
        med_trace_headers h;
        event_headers(w, &h);
        a_emit_attempt(&svc->emit, w->ev_payload, w->ev_len, &h, w->ev_idem, w->ev_digest,
                       w->ev_missing, 1, w->in->now_unix_ms, &w->ev_ack);
        results[i] = (a_emit_result){ .opportunity_key = w->d.keys.opportunity_key,
                                      .contract_version = A_VER_CREATE_OPPORTUNITY,
                                      .event_key = w->ev_key, .ack = &w->ev_ack };
    }
    if (!svc->pg) return;
    size_t k;
    while ((k = med_rows_next_tenant_group(tenants, n, taken, idx)) > 0) {
        for (size_t m = 0; m < k; m++) rows[m] = &results[idx[m]];
        med_err e;
        med_err_clear(&e);
        /* Unrecorded, the rows stay pending and the sweeper resends them
         * after A_EMIT_PENDING_GRACE_MS: the stream or the digest store
         * then answers duplicate. */
        if (a_emit_store_results(svc->pg, ws[idx[0]].tenant, rows, k, &e) != MED_OK) {
            med_log_ctx lc = { .tenant_id = ws[idx[0]].tenant, .error_code = e.code };
            MED_LOGW(&lc, "opportunity_created outcomes not recorded: %s", e.message);
        }
    }
}

void a_service_batch(void *ud, const med_relay_in *ins, size_t n, med_relay_out *outs,
                     med_rc *rcs, med_err *errs)
{
    a_service *svc = ud;
    if (n == 0) return;
    bind_service(svc, ins[0].svc);
    for (size_t off = 0; off < n; off += A_BATCH_MAX) {
        size_t m = n - off < A_BATCH_MAX ? n - off : A_BATCH_MAX;
        a_work *ws = calloc(m, sizeof *ws);
        if (!ws) {
            for (size_t i = off; i < off + m; i++)
                rcs[i] = med_err_set(&errs[i], MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "A batch");
            continue;
        }
        for (size_t i = 0; i < m; i++) {
            ws[i].in = &ins[off + i];
            ws[i].svc = svc;
            work_prepare(&ws[i]);
        }
        store_rows(svc, ws, m);
        emit_first_attempts(svc, ws, m);
        for (size_t i = 0; i < m; i++) {
            rcs[off + i] = work_finish(&ws[i], &outs[off + i], &errs[off + i]);
            work_free(&ws[i]);
        }
        free(ws);
    }
}
