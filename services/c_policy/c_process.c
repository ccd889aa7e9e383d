#include "c_process.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "med/arena.h"
#include "c_audit.h"
#include "c_decide.h"
#include "c_input.h"
#include "c_output.h"
#include "med/names.h"
#include "med/pbtrace.h"
#include "med/reason.h"
#include "mediation/v1/opportunity.pb-c.h"

void c_emit_free(c_emit *e)
{
    for (int i = 0; i < e->n; i++) free(e->v[i].data);
    e->n = 0;
}

/* Everything one message needs until its outputs are packed. */
typedef struct c_work {
    const c_process_in *in;
    Mediation__V1__NormalizedOpportunity *msg; /* NULL when undecodable */
    c_eval eval;
    med_arena arena;
    Mediation__V1__TraceContext trace;
    Mediation__V1__StageHop hop;
    Mediation__V1__StageHop **hops_owned;
    c_keys keys;
} c_work;

static med_rc nomem(med_err *err)
{
    return med_err_set(err, MED_ERR_NOMEM, MED_R_C_POLICY_ENGINE_ERROR, NULL,
                       "out of memory building C outputs");
}

static void msg_id(const c_work *w, const char *prefix, char *out, size_t cap)
{
    if (strcmp(w->keys.opportunity_key, C_NA) != 0)
        snprintf(out, cap, "%s:%s", prefix, w->keys.opportunity_key);
    else if (strcmp(w->keys.request_key, C_NA) != 0)
        snprintf(out, cap, "%s:req-%s", prefix, w->keys.request_key);
    else
        snprintf(out, cap, "%s:seq-%llu", prefix, (unsigned long long)w->in->stream_seq);
}

static med_rc emit(c_work *w, c_emit *out, const char *subject, const char *prefix,
                   const ProtobufCMessage *m, med_err *err)
{
    if (!m) return nomem(err);
    c_emit_item *it = &out->v[out->n];
    med_rc rc = med_pb_pack(m, &it->data, &it->len, err);
    if (rc != MED_OK) return rc;
    it->subject = subject;
    msg_id(w, prefix, it->msg_id, sizeof it->msg_id);
    out->n++;
    return MED_OK;
}

static med_rc with_hop(c_work *w, med_err *err)
{
    const c_process_in *in = w->in;
    const Mediation__V1__TraceContext *src = w->msg && w->msg->trace ? w->msg->trace : in->hdr_trace;
    med_hop hop = { .stage = in->stage, .instance = in->instance, .at_unix_ms = in->now_ms };
    return med_pb_trace_with_hop(src, &hop, &w->trace, &w->hop, &w->hops_owned, err);
}

static med_rc emit_forward(c_work *w, c_emit *out, const c_out_ctx *ctx, med_err *err)
{
    snprintf(out->final_action, sizeof out->final_action, "forward");
    c_copy(out->primary_code, sizeof out->primary_code, w->msg->reason_code);
    med_rc rc = emit(w, out, MED_SUBJ_E_COMPOSE, C_MSG_ID_COMPOSE,
                     (const ProtobufCMessage *)c_output_compose_b_reject(ctx, &w->keys), err);
    char id[192];
    msg_id(w, C_MSG_ID_AUDIT, id, sizeof id);
    if (rc == MED_OK)
        rc = emit(w, out, C_SUBJ_AUDIT, C_MSG_ID_AUDIT,
                  (const ProtobufCMessage *)c_output_stage_audit(ctx, NULL, id, w->in->instance), err);
    return rc;
}

static void evaluate(c_work *w)
{
    const c_process_in *in = w->in;
    med_err why;
    med_err_clear(&why);
    if (!w->msg) {
        med_err_set(&why, MED_ERR_INVALID, MED_R_C_INVALID_STRUCTURE, "", "undecodable input");
        c_decide_reject(NULL, &w->keys, &why, 0, in->now_ms, &w->eval);
        return;
    }
    c_input ci;
    if (c_input_check(w->msg, &in->hdr, in->now_ms, &ci, &w->eval.warnings, &why) == MED_OK) {
        c_decide_evaluate(&ci, in->now_ms, &w->eval);
        return;
    }
    /* Only an expired fail_closed snapshot passed checks 6-7 (C.2 #8). */
    int snapshot_valid = strcmp(why.code, MED_R_C_POLICY_SNAPSHOT_EXPIRED) == 0;
    c_decide_reject(w->msg, &ci.keys, &why, snapshot_valid, in->now_ms, &w->eval);
}

static med_rc emit_decision(c_work *w, c_emit *out, const c_out_ctx *ctx, med_err *err)
{
    const c_eval *e = &w->eval;
    snprintf(out->final_action, sizeof out->final_action, "%s", c_action_name(e->final_action));
    c_copy(out->primary_code, sizeof out->primary_code, e->primary_code);
    Mediation__V1__PolicyAuditSnapshotLite *audit = c_audit_build(&w->arena, e, w->msg);
    if (!audit) return nomem(err);
    med_err defect;
    if (c_audit_validate(audit, &defect) != MED_OK)
        /* A retryable rc: the message is retried, then dead-lettered. */
        return med_err_set(err, MED_ERR_IO, defect.code, defect.field, "%s", defect.message);
    med_rc rc;
    if (e->is_routable)
        rc = emit(w, out, MED_SUBJ_D_ROUTABLE, C_MSG_ID_ROUTE,
                  (const ProtobufCMessage *)c_output_policy_decision(ctx, audit), err);
    else
        rc = emit(w, out, MED_SUBJ_E_COMPOSE, C_MSG_ID_COMPOSE,
                  (const ProtobufCMessage *)c_output_compose_block(ctx), err);
    char id[192];
    msg_id(w, C_MSG_ID_AUDIT, id, sizeof id);
    if (rc == MED_OK)
        rc = emit(w, out, C_SUBJ_AUDIT, C_MSG_ID_AUDIT,
                  (const ProtobufCMessage *)c_output_stage_audit(ctx, audit, id, w->in->instance),
                  err);
    return rc;
}

med_rc c_process(const c_process_in *in, c_emit *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    c_work w;
    memset(&w, 0, sizeof w);
    w.in = in;
    c_eval_init(&w.eval);
    med_arena_init(&w.arena);
    w.msg = mediation__v1__normalized_opportunity__unpack(NULL, in->len, in->data);
    c_input_keys(w.msg, &in->hdr, &w.keys);
    med_rc rc = with_hop(&w, err);
    if (rc == MED_OK) {
        c_out_ctx ctx = { .arena = &w.arena, .e = &w.eval, .msg = w.msg, .trace = &w.trace,
                          .now_ms = in->now_ms };
        if (w.msg && !w.msg->normalize_accepted) {
            ctx.e = NULL;
            rc = emit_forward(&w, out, &ctx, err);
        } else {
            evaluate(&w);
            w.keys = w.eval.keys;
            rc = emit_decision(&w, out, &ctx, err);
        }
    }
    if (rc != MED_OK) c_emit_free(out);
    free(w.hops_owned);
    med_arena_free(&w.arena);
    c_eval_free(&w.eval);
    if (w.msg) mediation__v1__normalized_opportunity__free_unpacked(w.msg, NULL);
    return rc;
}
