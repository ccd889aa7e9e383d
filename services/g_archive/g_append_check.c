#include "g_append_check.h"

#include <stdio.h>
#include <string.h>

#include "med/names.h"
#include "med/reason.h"

#define AP(x) MEDIATION__V1__ADAPTER_PARTICIPATION_LITE__##x
#define WS(x) MEDIATION__V1__WINNER_SNAPSHOT_LITE__##x
#define RR(x) MEDIATION__V1__RENDER_RESULT_SNAPSHOT_LITE__##x
#define KE(x) MEDIATION__V1__KEY_EVENT_SUMMARY_LITE__##x

static const struct {
    const char *code;
    int retryable;
    med_disposition disposition;
} k_rows[] = {
    [G_APPEND_ROW_ENVELOPE] = { MED_R_G_APPEND_MISSING_REQUIRED, 1, MED_DISPOSE_FAIL },
    [G_APPEND_ROW_VERSION] = { MED_R_G_APPEND_INVALID_SCHEMA_VERSION, 0, MED_DISPOSE_FAIL },
    [G_APPEND_ROW_AUTH] = { MED_R_G_APPEND_AUTH_FAILED, 0, MED_DISPOSE_FAIL },
    [G_APPEND_ROW_RATE] = { MED_R_G_APPEND_RATE_LIMITED, 1, MED_DISPOSE_RETRY },
    [G_APPEND_ROW_STORE] = { MED_R_G_APPEND_INTERNAL_UNAVAILABLE, 1, MED_DISPOSE_RETRY },
    [G_APPEND_ROW_MATRIX] = { MED_R_G_APPEND_MISSING_REQUIRED, 1, MED_DISPOSE_FAIL },
    [G_APPEND_ROW_SIZE] = { MED_R_G_APPEND_PAYLOAD_TOO_LARGE, 1, MED_DISPOSE_FAIL },
    [G_APPEND_ROW_CONFLICT] = { MED_R_G_APPEND_PAYLOAD_CONFLICT, 0, MED_DISPOSE_FAIL },
};

g_append_verdict g_append_verdict_reject(g_append_row row)
{
    if (row <= G_APPEND_PASS || row > G_APPEND_ROW_CONFLICT) row = G_APPEND_ROW_STORE;
    return (g_append_verdict){ "rejected", k_rows[row].code, k_rows[row].retryable,
                               k_rows[row].disposition, 0 };
}

g_append_verdict g_append_verdict_accept(int duplicate)
{
    return (g_append_verdict){ "accepted",
                               duplicate ? MED_R_G_APPEND_DUPLICATE_ACCEPTED_NOOP
                                         : MED_R_G_APPEND_ACCEPTED_COMMITTED,
                               0, MED_DISPOSE_ACK, 1 };
}

static int blank(const char *s) { return !s || !*s; }

static g_append_row fail(g_append_row row, med_err *err, const char *field, const char *why)
{
    med_err_set(err, MED_ERR_INVALID, k_rows[row].code, field, "%s", why);
    return row;
}

g_append_row g_append_check_envelope(const Mediation__V1__GAppendRequestLite *req, med_err *err)
{
    if (!req) return fail(G_APPEND_ROW_ENVELOPE, err, "appendRequest", "no append request");
    if (blank(req->request_id)) return fail(G_APPEND_ROW_ENVELOPE, err, "requestId", "missing");
    if (!req->audit_record) return fail(G_APPEND_ROW_ENVELOPE, err, "auditRecord", "missing");
    if (req->append_at_unix_ms <= 0) return fail(G_APPEND_ROW_ENVELOPE, err, "appendAt", "missing");
    if (blank(req->append_contract_version))
        return fail(G_APPEND_ROW_ENVELOPE, err, "appendContractVersion", "missing");
    if (strcmp(req->append_contract_version, G_APPEND_CONTRACT_V1) != 0)
        return fail(G_APPEND_ROW_VERSION, err, "appendContractVersion", "unknown contract version");
    return G_APPEND_PASS;
}

int g_audit_subject_stage(const char *subject, char *out, size_t cap)
{
    size_t pl = strlen(MED_SUBJ_AUDIT_PREFIX), sl = strlen(MED_SUBJ_VERSION_SUFFIX);
    if (!subject || strncmp(subject, MED_SUBJ_AUDIT_PREFIX, pl) != 0) return -1;
    size_t n = strlen(subject);
    if (n <= pl + sl || strcmp(subject + n - sl, MED_SUBJ_VERSION_SUFFIX) != 0) return -1;
    size_t len = n - pl - sl;
    if (len + 1 > cap || memchr(subject + pl, '.', len)) return -1;
    memcpy(out, subject + pl, len);
    out[len] = '\0';
    return 0;
}

static int known_stage(const char *s)
{
    static const char *const stages[] = { MED_STAGE_EDGE, MED_STAGE_A, MED_STAGE_B, MED_STAGE_C,
                                          MED_STAGE_D, MED_STAGE_E, MED_STAGE_F, MED_STAGE_G,
                                          MED_STAGE_H };
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++)
        if (strcmp(s, stages[i]) == 0) return 1;
    return 0;
}

g_append_row g_append_check_caller(const char *subject, const Mediation__V1__StageAudit *a,
                                   const char *tenant, med_err *err)
{
    char stage[32];
    if (g_audit_subject_stage(subject, stage, sizeof stage) != 0 || !known_stage(stage))
        return fail(G_APPEND_ROW_AUTH, err, "stage", "not published by a platform stage");
    if (!a || blank(a->stage) || strcmp(a->stage, stage) != 0)
        return fail(G_APPEND_ROW_AUTH, err, "stage", "stage does not match its subject");
    if (blank(tenant)) return fail(G_APPEND_ROW_AUTH, err, "tenant", "no tenant");
    return G_APPEND_PASS;
}

/* ---- G.3 matrix ---- */

/* An ...OrNA value is absent when unset or "NA". */
static int na_str(int set, const char *v) { return !set || blank(v) || strcmp(v, "NA") == 0; }

#define NEED(cond, field) \
    do { if (!(cond)) return fail(G_APPEND_ROW_MATRIX, err, field, "missing or inconsistent"); } while (0)

static g_append_row check_keys(const Mediation__V1__GAuditRecordLite *r, med_err *err)
{
    NEED(!blank(r->audit_record_id), "auditRecord.auditRecordId");
    NEED(!blank(r->opportunity_key), "auditRecord.opportunityKey");
    NEED(!blank(r->trace_key), "auditRecord.traceKey");
    NEED(!blank(r->request_key), "auditRecord.requestKey");
    NEED(!blank(r->attempt_key), "auditRecord.attemptKey");
    NEED(r->audit_at_unix_ms > 0, "auditRecord.auditAt");
    return G_APPEND_PASS;
}

static g_append_row check_input(const Mediation__V1__OpportunityInputSnapshotLite *s, med_err *err)
{
    NEED(s, "auditRecord.opportunityInputSnapshot");
    NEED(!blank(s->request_schema_version), "auditRecord.opportunityInputSnapshot.requestSchemaVersion");
    NEED(!blank(s->placement_key), "auditRecord.opportunityInputSnapshot.placementKey");
    NEED(!blank(s->placement_type), "auditRecord.opportunityInputSnapshot.placementType");
    NEED(!blank(s->placement_surface), "auditRecord.opportunityInputSnapshot.placementSurface");
    NEED(!blank(s->policy_context_digest), "auditRecord.opportunityInputSnapshot.policyContextDigest");
    NEED(!blank(s->user_context_digest), "auditRecord.opportunityInputSnapshot.userContextDigest");
    NEED(!blank(s->opportunity_context_digest),
         "auditRecord.opportunityInputSnapshot.opportunityContextDigest");
    NEED(s->ingress_received_at_unix_ms > 0, "auditRecord.opportunityInputSnapshot.ingressReceivedAt");
    return G_APPEND_PASS;
}

static int status_is(const char *s, const char *want) { return s && strcmp(s, want) == 0; }

static g_append_row check_adapter(const Mediation__V1__AdapterParticipationLite *p, med_err *err)
{
    NEED(p, "auditRecord.adapterParticipation[]");
    NEED(!blank(p->adapter_id), "auditRecord.adapterParticipation[].adapterId");
    NEED(!blank(p->adapter_request_id), "auditRecord.adapterParticipation[].adapterRequestId");
    NEED(p->request_sent_at_unix_ms > 0, "auditRecord.adapterParticipation[].requestSentAt");
    const char *st = p->response_status;
    NEED(status_is(st, "responded") || status_is(st, "timeout") || status_is(st, "error") ||
             status_is(st, "no_bid"),
         "auditRecord.adapterParticipation[].responseStatus");
    if (status_is(st, "responded")) {
        NEED(p->response_received_at_or_na_unix_ms_opt_case ==
                 AP(RESPONSE_RECEIVED_AT_OR_NA_UNIX_MS_OPT_RESPONSE_RECEIVED_AT_OR_NA_UNIX_MS),
             "auditRecord.adapterParticipation[].responseReceivedAtOrNA");
        NEED(p->response_latency_ms_or_na_opt_case == AP(RESPONSE_LATENCY_MS_OR_NA_OPT_RESPONSE_LATENCY_MS_OR_NA),
             "auditRecord.adapterParticipation[].responseLatencyMsOrNA");
    }
    if (status_is(st, "timeout")) {
        NEED(p->did_timeout, "auditRecord.adapterParticipation[].didTimeout");
        NEED(p->timeout_threshold_ms > 0, "auditRecord.adapterParticipation[].timeoutThresholdMs");
    }
    return G_APPEND_PASS;
}

static g_append_row check_winner(const Mediation__V1__GAuditRecordLite *r, med_err *err)
{
    const Mediation__V1__WinnerSnapshotLite *w = r->winner_snapshot;
    NEED(w, "auditRecord.winnerSnapshot");
    NEED(!blank(w->winner_reason_code), "auditRecord.winnerSnapshot.winnerReasonCode");
    int set = w->winner_adapter_id_or_na_opt_case == WS(WINNER_ADAPTER_ID_OR_NA_OPT_WINNER_ADAPTER_ID_OR_NA);
    if (na_str(set, w->winner_adapter_id_or_na)) return G_APPEND_PASS;
    /* A winner exists only among the adapters that took part (and the
     * list is empty only when the opportunity never reached D). */
    for (size_t i = 0; i < r->n_adapter_participation; i++)
        if (r->adapter_participation[i] &&
            strcmp(r->adapter_participation[i]->adapter_id, w->winner_adapter_id_or_na) == 0)
            return G_APPEND_PASS;
    return fail(G_APPEND_ROW_MATRIX, err, "auditRecord.winnerSnapshot.winnerAdapterIdOrNA",
                "winner is not a participating adapter");
}

static g_append_row check_render(const Mediation__V1__RenderResultSnapshotLite *s, med_err *err)
{
    NEED(s, "auditRecord.renderResultSnapshot");
    const char *st = s->render_status;
    NEED(status_is(st, "rendered") || status_is(st, "failed") || status_is(st, "not_rendered"),
         "auditRecord.renderResultSnapshot.renderStatus");
    if (!status_is(st, "not_rendered"))
        NEED(!na_str(s->render_attempt_id_or_na_opt_case == RR(RENDER_ATTEMPT_ID_OR_NA_OPT_RENDER_ATTEMPT_ID_OR_NA),
                     s->render_attempt_id_or_na),
             "auditRecord.renderResultSnapshot.renderAttemptIdOrNA");
    return G_APPEND_PASS;
}

static g_append_row check_events(const Mediation__V1__KeyEventSummaryLite *k, med_err *err)
{
    NEED(k, "auditRecord.keyEventSummary");
    NEED(k->event_window_start_at_unix_ms > 0, "auditRecord.keyEventSummary.eventWindowStartAt");
    NEED(k->event_window_end_at_unix_ms > 0, "auditRecord.keyEventSummary.eventWindowEndAt");
    int typed = !na_str(k->terminal_event_type_or_na_opt_case == KE(TERMINAL_EVENT_TYPE_OR_NA_OPT_TERMINAL_EVENT_TYPE_OR_NA),
                        k->terminal_event_type_or_na);
    if (typed)
        NEED(k->terminal_event_at_or_na_unix_ms_opt_case ==
                     KE(TERMINAL_EVENT_AT_OR_NA_UNIX_MS_OPT_TERMINAL_EVENT_AT_OR_NA_UNIX_MS) &&
                 k->terminal_event_at_or_na_unix_ms > 0,
             "auditRecord.keyEventSummary.terminalEventAtOrNA");
    return G_APPEND_PASS;
}

static g_append_row check_versions(const Mediation__V1__GAuditRecordLite *r, med_err *err)
{
    NEED(!blank(r->audit_record_version), "auditRecord.auditRecordVersion");
    NEED(!blank(r->audit_rule_version), "auditRecord.auditRuleVersion");
    NEED(!blank(r->audit_contract_version), "auditRecord.auditContractVersion");
    /* Each anchor may be missing (replay then reports not_comparable,
     * G.9 case 14); the anchor set itself is required. */
    NEED(r->replay_anchors, "auditRecord.replayAnchors");
    return G_APPEND_PASS;
}

g_append_row g_append_check_record(const Mediation__V1__GAuditRecordLite *r, med_err *err)
{
    if (!r) return fail(G_APPEND_ROW_MATRIX, err, "auditRecord", "missing");
    g_append_row row = check_keys(r, err);
    if (row == G_APPEND_PASS) row = check_input(r->opportunity_input_snapshot, err);
    for (size_t i = 0; row == G_APPEND_PASS && i < r->n_adapter_participation; i++)
        row = check_adapter(r->adapter_participation[i], err);
    if (row == G_APPEND_PASS) row = check_winner(r, err);
    if (row == G_APPEND_PASS) row = check_render(r->render_result_snapshot, err);
    if (row == G_APPEND_PASS) row = check_events(r->key_event_summary, err);
    if (row == G_APPEND_PASS) row = check_versions(r, err);
    return row;
}

g_append_row g_append_check_size(size_t jcs_len, med_err *err)
{
    if (jcs_len <= G_APPEND_MAX_RECORD_BYTES) return G_APPEND_PASS;
    return fail(G_APPEND_ROW_SIZE, err, "auditRecord", "canonical record larger than 512 KiB");
}

g_append_row g_append_resolve(g_append_row pre, int store_ok, g_append_row post, int conflict)
{
    if (pre != G_APPEND_PASS) return pre;
    if (!store_ok) return G_APPEND_ROW_STORE;
    if (post != G_APPEND_PASS) return post;
    return conflict ? G_APPEND_ROW_CONFLICT : G_APPEND_PASS;
}
