#include "b_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b_signal.h"
#include "med/ids.h"
#include "med/names.h"
#include "med/pbtrace.h"
#include "med/reason.h"
#include "mediation/v1/compose.pb-c.h"

#define S(x) ((char *)(x))

typedef struct b_trace {
    Mediation__V1__TraceContext tc;
    Mediation__V1__StageHop hop;
    Mediation__V1__StageHop **hops;
} b_trace;

static med_rc trace_with_hop(const med_relay_in *in, const Mediation__V1__OpportunitySeed *seed,
                             b_trace *t, med_err *err)
{
    med_hop hop = { .stage = in->stage, .instance = in->instance, .at_unix_ms = in->now_unix_ms };
    t->hops = NULL;
    return med_pb_trace_with_hop(seed ? seed->trace : NULL, &hop, &t->tc, &t->hop, &t->hops, err);
}

static med_rc add_packed(med_relay_out *out, const ProtobufCMessage *m, const char *subject,
                         const char *msg_id, med_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    med_rc rc = med_pb_pack(m, &buf, &len, err);
    if (rc != MED_OK) return rc;
    return med_relay_out_add(out, subject, msg_id, buf, len, 0, err);
}

/* <prefix>:<opportunityKey>, else the relay's request-key/sequence id. */
static void msg_id(const med_relay_in *in, const b_normalize_out *res, const char *prefix,
                   char *buf, size_t cap)
{
    const char *k = res->norm->opportunity_key;
    if (k && strcmp(k, "NA") != 0) snprintf(buf, cap, "%s:%s", prefix, k);
    else med_relay_msg_id(in, prefix, buf, cap);
}

static med_rc emit_reject(const med_relay_in *in, const Mediation__V1__OpportunitySeed *seed,
                          b_normalize_out *res, Mediation__V1__TraceContext *tc,
                          med_relay_out *out, med_err *err)
{
    const Mediation__V1__NormalizedOpportunity *n = res->norm;
    Mediation__V1__UpstreamTerminalLite ut;
    mediation__v1__upstream_terminal_lite__init(&ut);
    ut.stage = S(MED_STAGE_B);
    ut.decision_action = S("reject");
    ut.reason_code = n->reason_code;
    ut.error_action = n->error_action;
    ut.secondary_reason_codes = n->secondary_reason_codes;
    ut.n_secondary_reason_codes = n->n_secondary_reason_codes;
    ut.delivery_status_hint = S("error");
    Mediation__V1__ComposeInput ci;
    mediation__v1__compose_input__init(&ci);
    ci.trace = tc;
    ci.compose_source = S("b_reject");
    ci.upstream_terminal = &ut;
    ci.version_anchor_snapshot = seed ? seed->version_anchor_snapshot : NULL;
    ci.published_at_unix_ms = in->now_unix_ms;
    char id[192];
    msg_id(in, res, "b.compose", id, sizeof id);
    return add_packed(out, &ci.base, MED_SUBJ_E_COMPOSE, id, err);
}

static void audit_common(const med_relay_in *in, const Mediation__V1__OpportunitySeed *seed,
                         Mediation__V1__TraceContext *tc, Mediation__V1__StageAudit *a)
{
    mediation__v1__stage_audit__init(a);
    a->trace = tc;
    a->stage = S(MED_STAGE_B);
    a->version_anchor_snapshot = seed ? seed->version_anchor_snapshot : NULL;
    a->anchor_hash = S(tc->anchor_hash ? tc->anchor_hash : "");
    a->started_at_unix_ms = in->now_unix_ms;
    a->finished_at_unix_ms = med_now_unix_ms();
    a->emitted_at_unix_ms = a->finished_at_unix_ms;
    a->instance = S(in->instance ? in->instance : "");
    a->snapshot_case = MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_B_AUDIT;
}

static med_rc emit_decision_audit(const med_relay_in *in, const Mediation__V1__OpportunitySeed *seed,
                                  b_normalize_out *res, Mediation__V1__TraceContext *tc,
                                  med_relay_out *out, med_err *err)
{
    const Mediation__V1__NormalizedOpportunity *n = res->norm;
    Mediation__V1__StageAudit a;
    audit_common(in, seed, tc, &a);
    char id[192];
    msg_id(in, res, "b.audit", id, sizeof id);
    char *codes[B_VERDICT_MAX + 1];
    size_t nc = 0;
    for (size_t i = 0; i < n->n_secondary_reason_codes && nc < B_VERDICT_MAX; i++)
        codes[nc++] = n->secondary_reason_codes[i];
    if (res->signal_reason) codes[nc++] = S(res->signal_reason);
    a.kind = S("decision");
    a.primary_reason_code = n->reason_code;
    a.secondary_reason_codes = codes;
    a.n_secondary_reason_codes = nc;
    a.audit_id = id;
    a.decision_action = n->error_action;
    a.b_audit = res->audit;
    return add_packed(out, &a.base, MED_SUBJ_AUDIT_PREFIX MED_STAGE_B MED_SUBJ_VERSION_SUFFIX, id, err);
}

static med_rc pack_signal(const med_relay_in *in, const Mediation__V1__OpportunitySeed *seed,
                          b_normalize_out *res, Mediation__V1__TraceContext *tc,
                          b_signal_msg *sig, med_err *err)
{
    med_rc rc = b_sig_digest(res->signal, sig->digest, err);
    if (rc != MED_OK) return rc;
    Mediation__V1__BStageAuditLite body;
    mediation__v1__bstage_audit_lite__init(&body);
    body.signal_normalized_event_lite = res->signal;
    /* The payload is sent unchanged by every attempt, so it names the
     * event's identity only; the ack of each attempt is B's log and
     * med_emit_acks_total{stage="b"}. */
    Mediation__V1__EventEmitAckLite ack;
    mediation__v1__event_emit_ack_lite__init(&ack);
    ack.event_idempotency_key = res->signal_idempotency_key;
    ack.payload_digest = sig->digest;
    body.emit_ack = &ack;
    Mediation__V1__StageAudit a;
    audit_common(in, seed, tc, &a);
    a.kind = S("signal_normalized");
    a.primary_reason_code = S(MED_R_B_SIG_EVT_SAMPLED_IN_EMIT);
    a.audit_id = res->signal_idempotency_key;
    a.decision_action = S("allow");
    a.b_audit = &body;
    return med_pb_pack(&a.base, &sig->data, &sig->len, err);
}

med_rc b_service_emit(const med_relay_in *in, const Mediation__V1__OpportunitySeed *seed,
                      b_normalize_out *res, med_relay_out *out, b_signal_msg *sig,
                      med_err *err)
{
    if (sig) memset(sig, 0, sizeof *sig);
    b_trace t;
    med_rc rc = trace_with_hop(in, seed, &t, err);
    if (rc != MED_OK) return rc;
    res->norm->trace = &t.tc;
    if (!res->norm->normalize_accepted) {
        rc = emit_reject(in, seed, res, &t.tc, out, err);
    } else {
        char id[192];
        msg_id(in, res, "b.norm", id, sizeof id);
        rc = add_packed(out, &res->norm->base, MED_SUBJ_C_NORMALIZED, id, err);
    }
    if (rc == MED_OK) rc = emit_decision_audit(in, seed, res, &t.tc, out, err);
    if (rc == MED_OK && res->signal && sig) rc = pack_signal(in, seed, res, &t.tc, sig, err);
    res->norm->trace = NULL;
    free(t.hops);
    return rc;
}

int b_service_event_key(int64_t now_ms, char *out, size_t cap)
{
    uint8_t b[16];
    if (med_random_bytes(b, sizeof b) != 0) return -1;
    uint64_t ms = (uint64_t)now_ms;
    for (int i = 0; i < 6; i++) b[i] = (uint8_t)(ms >> (40 - 8 * i));
    b[6] = (uint8_t)(0x70 | (b[6] & 0x0f));   /* version 7 */
    b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));   /* RFC 9562 variant */
    int n = snprintf(out, cap,
                     "evt_b_sig_%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                     b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                     b[12], b[13], b[14], b[15]);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}
