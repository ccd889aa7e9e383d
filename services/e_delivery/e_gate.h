/* E.5 render capability gate: evaluates the four modes against policy,
 * placement and device, and lists the eligible ones in chain order. */
#ifndef E_GATE_H
#define E_GATE_H

#include "e_input.h"

typedef struct e_mode_eval {
    e_mode mode;
    int pass;
    const char *reason_code; /* e_gate_* */
} e_mode_eval;

typedef struct e_degrade_entry {
    e_mode mode;
    const char *reason_code;
} e_degrade_entry;

typedef struct e_gate {
    e_modeset policy_disallowed;
    e_mode_eval evals[E_MODE_COUNT];   /* chain order, then the rest */
    e_mode chain[E_MODE_COUNT];        /* the placement's modes in chain order */
    int n_chain;
    e_mode eligible[E_MODE_COUNT];     /* passing chain modes, chain order */
    int n_eligible;
    int any_policy_failure;            /* a chain mode failed on policy */
    const char *final_gate_code;       /* pass / policy_mode_disallowed / all_modes_rejected */
} e_gate;

void e_gate_evaluate(const e_input *in, e_gate *out);

/* The evaluation of mode m (always present after e_gate_evaluate). */
const e_mode_eval *e_gate_eval_of(const e_gate *g, e_mode m);

#endif
