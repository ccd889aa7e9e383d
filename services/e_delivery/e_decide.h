/* E.8 final status and canonical codes, E.9 route/delivery consistency and
 * the final self-check. Pure. */
#ifndef E_DECIDE_H
#define E_DECIDE_H

#include "e_types.h"

#define E_ACT_DROP "drop_candidate_and_continue"
#define E_ACT_DEGRADE "degrade_mode_chain"
#define E_ACT_BLOCK "block_render"
#define E_ACT_TERMINAL "terminal_error"
#define E_ACT_SAFE_PAYLOAD "return_error_safe_payload"
#define E_ACT_PASS_THROUGH "pass_through"

typedef struct e_action_rec {
    const char *stage;
    const char *action;
    const char *raw;
    const char *canonical; /* e_nf_* / e_er_* when the entry decides, else "none" */
} e_action_rec;

#define E_MAX_ACTIONS 16

typedef struct e_decision {
    e_action_rec actions[E_MAX_ACTIONS];
    int n_actions;
    const char *status;          /* served | no_fill | error */
    const char *final_code;      /* e_render_candidate_selected | e_nf_* | e_er_* */
    const char *canonical;       /* "none" when served */
    const char *raw;             /* raw code behind the final one */
    const char *failure_class;   /* no_fill | error | none */
    const char *fail_strategy;   /* fail_open | fail_closed | mixed */
    const char *route_outcome;
    const char *route_final_code;
    const char *consistency_action;
    const char *consistency_code;
    int self_check_failed;       /* E.9 forbidden state turned into e_er_unknown */
} e_decision;

/* Canonical code of a raw one (E.8 table); e_er_unknown when unmapped. */
const char *e_canonical_of(const char *raw);

void e_decision_init(e_decision *d, const char *route_outcome, const char *route_final_code);
void e_decision_add(e_decision *d, const char *stage, const char *action, const char *raw,
                    const char *canonical);
/* E.8 order (error, then no_fill, else served when renderable, else
 * e_er_unknown), the fail strategy, E.9 consistency and the self-check.
 * renderable: a mode and a winner were selected. */
void e_decision_finish(e_decision *d, int renderable);

#endif
