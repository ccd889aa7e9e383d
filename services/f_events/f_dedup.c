/* F.5: which key identifies an event, and what a key's state means for a
 * new submission. */
#include "f_dedup.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "f_keys.h"
#include "med/reason.h"

/* eventSeq as the digest writes it: the integer, or the raw malformed text. */
static const char *seq_text(med_arena *a, const Mediation__V1__SdkEvent *ev, int *usable)
{
    if (ev->event_seq_opt_case) return med_arena_printf(a, "%" PRId64, ev->event_seq);
    *usable = 0;
    for (size_t i = 0; i < ev->n_malformed_fields; i++)
        if (strcmp(ev->malformed_fields[i]->key, "eventSeq") == 0)
            return ev->malformed_fields[i]->value;
    return F_NA;
}

char *f_dedup_semantic_digest(med_arena *a, const Mediation__V1__SdkEvent *ev, f_event_type t,
                              int *usable)
{
    *usable = 1;
    const char *ra = F_OPT(ev, render_attempt_id);
    switch (t) {
    case F_T_OPPORTUNITY_CREATED: return F_JOIN(a, F_OPT(ev, placement_key));
    case F_T_AUCTION_STARTED: return F_JOIN(a, F_OPT(ev, auction_channel));
    case F_T_AD_FILLED: return F_JOIN(a, F_OPT(ev, creative_id));
    case F_T_IMPRESSION: return F_JOIN(a, F_OPT(ev, creative_id), ra);
    case F_T_CLICK: return F_JOIN(a, ra, F_OPT(ev, click_target), seq_text(a, ev, usable));
    case F_T_INTERACTION:
        return F_JOIN(a, ra, F_OPT(ev, interaction_type), seq_text(a, ev, usable));
    case F_T_POSTBACK:
        return F_JOIN(a, F_OPT(ev, postback_type), F_OPT(ev, postback_status),
                      seq_text(a, ev, usable));
    case F_T_ERROR: return F_JOIN(a, F_OPT(ev, error_stage), F_OPT(ev, error_code));
    case F_T_FAILURE:
        return F_JOIN(a, F_REQ(ev->terminal_source), F_OPT(ev, failure_reason_code));
    default: *usable = 0; return F_JOIN(a, F_NA);
    }
}

char *f_dedup_fingerprint(med_arena *a, const char *app_id, const Mediation__V1__SdkEvent *ev,
                          f_event_type t, int *usable)
{
    char *digest = f_dedup_semantic_digest(a, ev, t, usable);
    if (!digest) return NULL;
    char *joined = F_JOIN(a, app_id, F_REQ(ev->event_type), F_REQ(ev->request_key),
                          F_REQ(ev->attempt_key), F_REQ(ev->opportunity_key),
                          F_OPT(ev, response_reference), F_OPT(ev, render_attempt_id), digest);
    return joined ? f_sha256(a, joined) : NULL;
}

static int idempotency_key_present(const Mediation__V1__SdkEvent *ev)
{
    if (ev->idempotency_key_opt_case) return 1;
    for (size_t i = 0; i < ev->n_malformed_fields; i++)
        if (strcmp(ev->malformed_fields[i]->key, "idempotencyKey") == 0) return 1;
    return 0;
}

static int global_scope(const Mediation__V1__SdkEvent *ev)
{
    const char *s = F_OPT(ev, event_id_scope);
    return s && strcmp(s, "global_unique") == 0;
}

static med_rc set_key(med_arena *a, f_dedup_key *out, const char *source, const char *value)
{
    out->source = source;
    out->key = value ? med_arena_printf(a, F_DEDUP_VERSION ":%s:%s", source, value) : NULL;
    return out->key ? MED_OK : MED_ERR_NOMEM;
}

med_rc f_dedup_compute(med_arena *a, const char *app_id, const char *batch_id,
                       const Mediation__V1__SdkEvent *ev, f_event_type t, int global_verified,
                       f_dedup_key *out)
{
    memset(out, 0, sizeof *out);
    int computed_usable;
    out->fingerprint = f_dedup_fingerprint(a, app_id, ev, t, &computed_usable);
    if (!out->fingerprint) return MED_ERR_NOMEM;
    const char *idem = F_OPT(ev, idempotency_key);
    if (f_token_valid(idem, 8, 200)) return set_key(a, out, F_KEY_SOURCE_IDEMPOTENCY, F_JOIN(a, app_id, idem));
    out->idem_fallback = idempotency_key_present(ev);
    const char *eid = F_REQ(ev->event_id);
    if (f_token_valid(eid, 1, 128)) {
        if (!global_scope(ev))
            return set_key(a, out, F_KEY_SOURCE_EVENT_ID, F_JOIN(a, app_id, batch_id, eid));
        if (global_verified)
            return set_key(a, out, F_KEY_SOURCE_EVENT_ID, F_JOIN(a, app_id, "global", eid));
        out->reject = MED_R_F_EVENT_ID_GLOBAL_UNIQUENESS_UNVERIFIED;
        return MED_OK;
    }
    if (computed_usable) return set_key(a, out, F_KEY_SOURCE_COMPUTED, out->fingerprint);
    out->reject = MED_R_F_EVENT_ID_INVALID_NO_FALLBACK;
    return MED_OK;
}

static f_dedup_verdict process(void)
{
    return (f_dedup_verdict){1, F_ACK_PENDING, NULL, F_DEDUP_OUTCOME_NEW, 0};
}

static f_dedup_verdict conflict(void)
{
    return (f_dedup_verdict){0, F_ACK_REJECTED, MED_R_F_DEDUP_PAYLOAD_CONFLICT,
                             F_DEDUP_OUTCOME_CONFLICT, 0};
}

f_dedup_verdict f_dedup_decide(f_key_state state, int64_t lock_age_ms, int same_fingerprint,
                               const f_windows *w)
{
    switch (state) {
    case F_KEY_INFLIGHT:
        if (lock_age_ms >= w->inflight_lock_ms) return process(); /* the holder died */
        if (!same_fingerprint) return conflict();
        return (f_dedup_verdict){0, F_ACK_DUPLICATE, MED_R_F_DEDUP_INFLIGHT_DUPLICATE,
                                 F_DEDUP_OUTCOME_INFLIGHT, 0};
    case F_KEY_COMMITTED:
        if (!same_fingerprint) return conflict();
        return (f_dedup_verdict){0, F_ACK_DUPLICATE, MED_R_F_DEDUP_COMMITTED_DUPLICATE,
                                 F_DEDUP_OUTCOME_COMMITTED, 0};
    default:
        return process();
    }
}

f_dedup_verdict f_dedup_row_verdict(const f_dedup_row *row, const char *fingerprint, int first,
                                    const f_windows *w)
{
    if (row->won) {
        if (first) return process();
        int same = row->fingerprint && fingerprint && strcmp(row->fingerprint, fingerprint) == 0;
        return f_dedup_decide(F_KEY_INFLIGHT, 0, same, w);
    }
    if (!row->stored_found) {
        /* lost the claim, yet no live record: the holder released it
         * between our insert and read; the SDK retries (F.4 step 13) */
        return (f_dedup_verdict){0, F_ACK_REJECTED, MED_R_F_EVENT_STORE_UNAVAILABLE, NULL, 1};
    }
    int same = row->stored_fingerprint && fingerprint &&
               strcmp(row->stored_fingerprint, fingerprint) == 0;
    return f_dedup_decide(F_KEY_COMMITTED, 0, same, w);
}
