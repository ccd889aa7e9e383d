/* F.6: closed_success and a real closed_failure are final; a synthesized
 * failure is superseded (at most once) by an impression; impression beats
 * failure. */
#include "f_closure.h"

#include "med/reason.h"

static f_closure_verdict accept(f_closure_state to, f_terminal_source src, const char *reason)
{
    return (f_closure_verdict){to, src, F_ACK_ACCEPTED, reason, F_CONFLICT_NONE, 0, 0};
}

static f_closure_verdict dup(f_closure_state st, f_terminal_source src, const char *reason,
                             const char *conflict)
{
    return (f_closure_verdict){st, src, F_ACK_DUPLICATE, reason, conflict, 0, 0};
}

static int is_open(f_closure_state s)
{
    return s == F_CLOSURE_NONE || s == F_CLOSURE_OPEN;
}

static f_closure_verdict on_impression(f_closure_state st, f_terminal_source src)
{
    if (is_open(st)) {
        f_closure_verdict v = accept(F_CLOSURE_CLOSED_SUCCESS, F_TERMINAL_NONE, MED_R_F_EVENT_ACCEPTED);
        v.start_signal_missing = st == F_CLOSURE_NONE;
        return v;
    }
    if (st == F_CLOSURE_CLOSED_SUCCESS)
        return dup(st, src, MED_R_F_BILLING_CONFLICT_DUPLICATE_IMPRESSION, F_CONFLICT_BILLING_KEY);
    if (src == F_TERMINAL_SYSTEM_TIMEOUT) {
        f_closure_verdict v = accept(F_CLOSURE_CLOSED_SUCCESS, F_TERMINAL_NONE,
                                     MED_R_F_TERMINAL_SUPERSEDED_BY_IMPRESSION);
        v.supersede = 1;
        return v;
    }
    return dup(st, src, MED_R_F_TERMINAL_CONFLICT_IMPRESSION_AFTER_FAILURE, F_CONFLICT_TERMINAL);
}

static f_closure_verdict on_failure(f_closure_state st, f_terminal_source src, int synthesized)
{
    f_terminal_source mine = synthesized ? F_TERMINAL_SYSTEM_TIMEOUT : F_TERMINAL_REAL_FAILURE;
    const char *ok = synthesized ? MED_R_F_TERMINAL_TIMEOUT_AUTOFILL : MED_R_F_EVENT_ACCEPTED;
    if (is_open(st)) {
        f_closure_verdict v = accept(F_CLOSURE_CLOSED_FAILURE, mine, ok);
        v.start_signal_missing = st == F_CLOSURE_NONE;
        return v;
    }
    if (st == F_CLOSURE_CLOSED_SUCCESS)
        return dup(st, src, MED_R_F_TERMINAL_CONFLICT_FAILURE_AFTER_IMPRESSION, F_CONFLICT_TERMINAL);
    if (src == F_TERMINAL_SYSTEM_TIMEOUT) {
        /* the scanner CAS-moved the closure before emitting its own failure */
        if (synthesized) return accept(st, src, ok);
        return dup(st, src, MED_R_F_TERMINAL_DUPLICATE_FAILURE_AFTER_SYNTHESIZED,
                   F_CONFLICT_TERMINAL);
    }
    return dup(st, src, MED_R_F_TERMINAL_DUPLICATE_FAILURE, F_CONFLICT_TERMINAL);
}

f_closure_verdict f_closure_apply(f_closure_state st, f_terminal_source src, f_closure_input in)
{
    switch (in) {
    case F_CI_AD_FILLED:
        if (is_open(st)) return accept(F_CLOSURE_OPEN, F_TERMINAL_NONE, MED_R_F_EVENT_ACCEPTED);
        return accept(st, src, MED_R_F_TERMINAL_EVENT_IGNORED);
    case F_CI_IMPRESSION: return on_impression(st, src);
    case F_CI_FAILURE: return on_failure(st, src, 0);
    default: return on_failure(st, src, 1);
    }
}

const char *f_closure_state_name(f_closure_state s)
{
    switch (s) {
    case F_CLOSURE_OPEN: return "open";
    case F_CLOSURE_CLOSED_SUCCESS: return "closed_success";
    case F_CLOSURE_CLOSED_FAILURE: return "closed_failure";
    default: return "none";
    }
}

const char *f_terminal_source_name(f_terminal_source s)
{
    switch (s) {
    case F_TERMINAL_REAL_FAILURE: return "real_failure";
    case F_TERMINAL_SYSTEM_TIMEOUT: return "system_timeout_synthesized";
    default: return "";
    }
}
