/* B.2 pipeline: one OpportunitySeed -> NormalizedOpportunity + B's stage
 * audit (+ the signal_normalized event when sampled in). Pure: no I/O, the
 * clock and the event key come from the caller. */
#ifndef B_NORMALIZE_H
#define B_NORMALIZE_H

#include <jansson.h>
#include <stdint.h>
#include "med/arena.h"
#include "b_verdict.h"
#include "med/err.h"
#include "mediation/v1/audit.pb-c.h"
#include "mediation/v1/opportunity.pb-c.h"

typedef struct b_normalize_in {
    const Mediation__V1__OpportunitySeed *seed;
    const json_t *schema_doc;        /* pinned `schema` body; NULL -> spec defaults */
    const char *salt;                /* value of the hashRule's saltKeyRef secret */
    int64_t now_unix_ms;
    const char *signal_event_key;    /* "evt_b_sig_<uuidv7>", made by the caller */
    /* Set by the caller when the pinned config could not be had at all
     * (e.g. h_cfg_fail_closed_no_stable_snapshot): B rejects with it. */
    const char *config_reject_code;
} b_normalize_in;

typedef struct b_normalize_out {
    med_arena arena;                                  /* owns everything below */
    Mediation__V1__NormalizedOpportunity *norm;     /* trace left unset for the caller */
    Mediation__V1__BStageAuditLite *audit;
    Mediation__V1__SignalNormalizedEventLite *signal;  /* NULL unless sampled in */
    char signal_idempotency_key[65];
    const char *signal_reason;      /* B.10 code for the audit */
    b_verdict verdict;
} b_normalize_out;

/* Everything in out borrows from in->seed (pass-through snapshots) and
 * in->schema_doc: keep both alive until the outputs are packed. Returns
 * MED_OK for every business outcome (see out->verdict), an error only for
 * ENOMEM. Free with b_normalize_out_free even on error. */
med_rc b_normalize_run(const b_normalize_in *in, b_normalize_out *out, med_err *err);
void b_normalize_out_free(b_normalize_out *out);

/* continue -> allow, degrade -> degrade, reject -> reject (errorAction). */
const char *b_normalize_error_action(const char *normalize_action);

#endif
