/* F.6 terminal closure: the transition table as a pure function. */
#ifndef F_CLOSURE_H
#define F_CLOSURE_H

#include "f_work.h"

#define F_CONFLICT_NONE "none"
#define F_CONFLICT_BILLING_KEY "billing_key_duplicate"
#define F_CONFLICT_TERMINAL "terminal_conflict"

typedef enum f_closure_input {
    F_CI_AD_FILLED = 0,
    F_CI_IMPRESSION,
    F_CI_FAILURE,       /* terminal error (real_failure) */
    F_CI_SYNTH_FAILURE, /* the autofill's own synthesized failure */
} f_closure_input;

typedef struct f_closure_verdict {
    f_closure_state to_state;
    f_terminal_source to_source;
    f_ack_status status;      /* ACCEPTED or DUPLICATE */
    const char *reason;       /* closure reason; the ACK code of a duplicate */
    const char *conflict;     /* F_CONFLICT_* */
    int supersede;            /* the synthesized failure is superseded */
    int start_signal_missing; /* a terminal without a prior open */
} f_closure_verdict;

f_closure_verdict f_closure_apply(f_closure_state state, f_terminal_source source,
                                  f_closure_input in);

const char *f_closure_state_name(f_closure_state s);
const char *f_terminal_source_name(f_terminal_source s); /* "" for none */

#endif
