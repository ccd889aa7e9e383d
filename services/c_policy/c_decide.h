/* C.3 resolution: run the gates in order with short-circuit, pick the
 * winner (block > degrade > allow; among degrades higher risk, then the
 * bytewise-smallest ruleId), derive the codes, then map the action to
 * routability, adDecision and the state transition (C.4). */
#ifndef C_DECIDE_H
#define C_DECIDE_H

#include "c_input.h"
#include "c_types.h"
#include "med/err.h"

/* Evaluates a checked input (c_input_check returned MED_OK) into e, which
 * the caller initialised with c_eval_init and frees with c_eval_free.
 * Warnings already collected by the checks are kept in e->warnings, so
 * pass them in e. NOMEM while building constraints becomes the engine
 * guard (C.2 internal errors) and is not returned. */
void c_decide_evaluate(const c_input *in, int64_t eval_now, c_eval *e);

/* A reject (C.2 checks, undecodable input, fail_closed engine error): winner
 * input_guard, short_circuit_block, constraints from the snapshot only when
 * snapshot_valid, otherwise the complete NA set. msg may be NULL. */
void c_decide_reject(const Mediation__V1__NormalizedOpportunity *msg, const c_keys *keys,
                     const med_err *why, int snapshot_valid, int64_t eval_now, c_eval *e);

/* C.2 internal error under fail_open: an engine_guard degrade with the base
 * constraints and nonPersonalizedOnly=true; under fail_closed a reject
 * with c_policy_engine_error. */
void c_decide_engine_error(const c_input *in, int64_t eval_now, c_eval *e);

/* Index of the winning step among e->steps[0..n) (C.3 priority). */
size_t c_decide_winner(const c_gate_result *steps, size_t n);

#endif
