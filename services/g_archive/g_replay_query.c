#include "g_replay_query.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "g_replay_time.h"
#include "med/ids.h"
#include "med/jcs.h"
#include "med/reason.h"

const char *const g_anchor_names[G_ANCHOR_COUNT] = {
    "schemaVersion", "mappingRuleVersion", "routingPolicyVersion", "policyRuleVersion",
    "deliveryRuleVersion", "eventContractVersion", "dedupFingerprintVersion", "anchorHash",
};

#define Q(name) MEDIATION__V1__REPLAY_QUERY__##name

static int blank(const char *s)
{
    return !s || !*s;
}

static int one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0) return 1;
    return 0;
}

static med_rc fail(med_err *err, const char *code, const char *field, const char *why)
{
    med_rc rc = strcmp(code, MED_R_G_REPLAY_OPPORTUNITY_ALIAS_CONFLICT) == 0 ? MED_ERR_CONFLICT
                                                                             : MED_ERR_INVALID;
    return med_err_set(err, rc, code, field, "%s", why);
}

static const char *opt_str(int is_set, const char *v)
{
    return is_set ? (v ? v : "") : NULL;
}

/* ---- step 1: presence and enums ---- */

static med_rc check_required(const Mediation__V1__ReplayQuery *q, med_err *err)
{
    if (blank(q->query_mode)) return fail(err, MED_R_G_REPLAY_MISSING_REQUIRED, "queryMode", "queryMode is required");
    if (blank(q->output_mode))
        return fail(err, MED_R_G_REPLAY_MISSING_REQUIRED, "outputMode", "outputMode is required");
    if (blank(q->replay_contract_version))
        return fail(err, MED_R_G_REPLAY_MISSING_REQUIRED, "replayContractVersion",
                    "replayContractVersion is required");
    return MED_OK;
}

static med_rc check_enums(const Mediation__V1__ReplayQuery *q, med_err *err)
{
    static const char *const modes[] = {"by_opportunity", "by_time_range", NULL};
    static const char *const execs[] = {"snapshot_replay", "rule_recompute", NULL};
    static const char *const purposes[] = {"debug", "dispute", "sampling", NULL};
    static const char *const outputs[] = {"summary", "full", NULL};
    const char *exec = opt_str(q->replay_execution_mode_opt_case == Q(REPLAY_EXECUTION_MODE_OPT_REPLAY_EXECUTION_MODE),
                               q->replay_execution_mode);
    const char *purpose = opt_str(q->replay_purpose_opt_case == Q(REPLAY_PURPOSE_OPT_REPLAY_PURPOSE), q->replay_purpose);
    if (!one_of(q->query_mode, modes))
        return fail(err, MED_R_G_REPLAY_INVALID_QUERY_MODE, "queryMode", "unknown queryMode");
    if (exec && !one_of(exec, execs))
        return fail(err, MED_R_G_REPLAY_INVALID_QUERY_MODE, "replayExecutionMode", "unknown replayExecutionMode");
    if (purpose && !one_of(purpose, purposes))
        return fail(err, MED_R_G_REPLAY_INVALID_QUERY_MODE, "replayPurpose", "unknown replayPurpose");
    if (!one_of(q->output_mode, outputs))
        return fail(err, MED_R_G_REPLAY_INVALID_OUTPUT_MODE, "outputMode", "unknown outputMode");
    if (strcmp(q->replay_contract_version, G_REPLAY_CONTRACT_VERSION) != 0)
        return fail(err, MED_R_G_REPLAY_INVALID_CONTRACT_VERSION, "replayContractVersion",
                    "replayContractVersion must be g_replay_v1");
    return MED_OK;
}

static med_rc check_paging_sort(const Mediation__V1__ReplayQuery *q, g_query *out, med_err *err)
{
    if (!q->pagination || q->pagination->page_size < 1 || q->pagination->page_size > G_REPLAY_MAX_PAGE)
        return fail(err, MED_R_G_REPLAY_INVALID_PAGINATION, "pagination.pageSize", "pageSize must be 1..200");
    out->page_size = q->pagination->page_size;
    const char *by = q->sort && !blank(q->sort->sort_by) ? q->sort->sort_by : "auditAt";
    const char *order = q->sort && !blank(q->sort->sort_order) ? q->sort->sort_order : "desc";
    if (strcmp(by, "auditAt") == 0) out->sort_by = G_SORT_AUDIT_AT;
    else if (strcmp(by, "outputAt") == 0) out->sort_by = G_SORT_OUTPUT_AT;
    else if (strcmp(by, "eventAt") == 0) out->sort_by = G_SORT_EVENT_AT;
    else return fail(err, MED_R_G_REPLAY_INVALID_SORT, "sort.sortBy", "unknown sortBy");
    if (strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0)
        return fail(err, MED_R_G_REPLAY_INVALID_SORT, "sort.sortOrder", "sortOrder must be asc or desc");
    out->desc = strcmp(order, "desc") == 0;
    return MED_OK;
}

/* ---- steps 2 and 3: mode combinations, alias, key or range ---- */

static int has_range(const Mediation__V1__ReplayQuery *q)
{
    return q->time_range && (!blank(q->time_range->start_at) || !blank(q->time_range->end_at));
}

static med_rc check_combination(const Mediation__V1__ReplayQuery *q, g_query *out, med_err *err)
{
    int has_key = !blank(q->opportunity_key) || !blank(q->opportunity_id);
    if (out->mode == G_QM_BY_OPPORTUNITY && has_range(q))
        return fail(err, MED_R_G_REPLAY_INVALID_QUERY_MODE, "timeRange", "timeRange is not allowed by_opportunity");
    if (out->mode == G_QM_BY_TIME_RANGE && has_key)
        return fail(err, MED_R_G_REPLAY_INVALID_QUERY_MODE, "opportunityKey",
                    "opportunityKey is not allowed by_time_range");
    if (out->exec == G_EXEC_RECOMPUTE && strcmp(out->purpose, "dispute") == 0)
        return fail(err, MED_R_G_REPLAY_INVALID_QUERY_MODE, "replayExecutionMode",
                    "a dispute replays snapshots only");
    return MED_OK;
}

static med_rc check_key_or_range(const Mediation__V1__ReplayQuery *q, g_query *out, med_err *err)
{
    if (!blank(q->opportunity_key) && !blank(q->opportunity_id) &&
        strcmp(q->opportunity_key, q->opportunity_id) != 0)
        return fail(err, MED_R_G_REPLAY_OPPORTUNITY_ALIAS_CONFLICT, "opportunityId",
                    "opportunityKey and opportunityId differ");
    if (out->mode == G_QM_BY_OPPORTUNITY) {
        out->opportunity_key = !blank(q->opportunity_key) ? q->opportunity_key : q->opportunity_id;
        if (blank(out->opportunity_key))
            return fail(err, MED_R_G_REPLAY_MISSING_REQUIRED, "opportunityKey", "opportunityKey is required");
    } else if (!q->time_range || blank(q->time_range->start_at) || blank(q->time_range->end_at)) {
        return fail(err, MED_R_G_REPLAY_MISSING_REQUIRED, "timeRange", "timeRange.startAt and endAt are required");
    }
    return MED_OK;
}

/* ---- step 4: times and cursor ---- */

static med_rc check_range(const Mediation__V1__ReplayQuery *q, g_query *out, med_err *err)
{
    if (out->mode != G_QM_BY_TIME_RANGE) return MED_OK;
    if (g_time_parse(q->time_range->start_at, &out->start_ms))
        return fail(err, MED_R_G_REPLAY_INVALID_TIME_RANGE, "timeRange.startAt", "startAt is not RFC 3339");
    if (g_time_parse(q->time_range->end_at, &out->end_ms))
        return fail(err, MED_R_G_REPLAY_INVALID_TIME_RANGE, "timeRange.endAt", "endAt is not RFC 3339");
    if (out->end_ms < out->start_ms)
        return fail(err, MED_R_G_REPLAY_INVALID_TIME_RANGE, "timeRange", "endAt is before startAt");
    if (out->end_ms - out->start_ms > G_REPLAY_MAX_SPAN_MS)
        return fail(err, MED_R_G_REPLAY_INVALID_TIME_RANGE, "timeRange", "the range spans more than 7 days");
    return MED_OK;
}

static med_rc check_as_of(const Mediation__V1__ReplayQuery *q, g_query *out, int64_t *as_of, int *has_as_of,
                          med_err *err)
{
    *has_as_of = q->replay_as_of_at_opt_case == Q(REPLAY_AS_OF_AT_OPT_REPLAY_AS_OF_AT);
    if (!*has_as_of) return MED_OK;
    if (g_time_parse(q->replay_as_of_at, as_of))
        return fail(err, MED_R_G_REPLAY_INVALID_AS_OF_TIME, "replayAsOfAt", "replayAsOfAt is not RFC 3339");
    if (*as_of > out->received_ms)
        return fail(err, MED_R_G_REPLAY_INVALID_AS_OF_TIME, "replayAsOfAt", "replayAsOfAt is in the future");
    return MED_OK;
}

static const char *cursor_text(const Mediation__V1__ReplayQuery *q, med_err *err, med_rc *rc)
{
    const char *cur = opt_str(q->cursor_opt_case == Q(CURSOR_OPT_CURSOR), q->cursor);
    const Mediation__V1__ReplayPagination *p = q->pagination;
    const char *tok = p && p->page_token_or_na_opt_case ==
                                MEDIATION__V1__REPLAY_PAGINATION__PAGE_TOKEN_OR_NA_OPT_PAGE_TOKEN_OR_NA
                          ? p->page_token_or_na : NULL;
    if (tok && (!*tok || strcmp(tok, "NA") == 0)) tok = NULL;
    *rc = MED_OK;
    if (cur && tok && strcmp(cur, tok) != 0)
        *rc = fail(err, MED_R_G_REPLAY_INVALID_CURSOR, "cursor", "cursor and pageTokenOrNA differ");
    return cur ? cur : tok;
}

/* ---- queryEcho ---- */

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "In" filters are sets: sorted and deduplicated, so the same question
 * asked in another order hashes the same. */
static json_t *sorted_set(char **v, size_t n)
{
    json_t *a = json_array();
    char **c = calloc(n ? n : 1, sizeof *c);
    if (!a || !c) {
        free(c);
        json_decref(a);
        return NULL;
    }
    if (n) memcpy(c, v, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_str_ptr);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(c[i], c[i - 1]) != 0) json_array_append_new(a, json_string(c[i]));
    free(c);
    return a;
}

static const char *or_na(const char *s)
{
    return blank(s) ? "NA" : s;
}

static json_t *filters_json(const Mediation__V1__ReplayFilters *f)
{
    static const Mediation__V1__ReplayFilters none = MEDIATION__V1__REPLAY_FILTERS__INIT;
    if (!f) f = &none;
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:b, s:b}", "traceKey", or_na(f->trace_key),
                     "requestKey", or_na(f->request_key), "attemptKey", or_na(f->attempt_key),
                     "responseReference", or_na(f->response_reference), "adapterIdIn",
                     sorted_set(f->adapter_id_in, f->n_adapter_id_in), "recordTypeIn",
                     sorted_set(f->record_type_in, f->n_record_type_in), "recordStatusIn",
                     sorted_set(f->record_status_in, f->n_record_status_in), "hasTimeoutOnly",
                     f->has_timeout_only_opt_case && f->has_timeout_only, "hasConflictOnly",
                     f->has_conflict_only_opt_case && f->has_conflict_only);
}

static json_t *pins_json(const Mediation__V1__ReplayQuery *q)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < q->n_pinned_versions; i++)
        if (json_object_set_new(o, q->pinned_versions[i]->key ? q->pinned_versions[i]->key : "",
                                json_string(or_na(q->pinned_versions[i]->value))) != 0) {
            json_decref(o);
            return NULL;
        }
    return o;
}

static json_t *range_json(const g_query *g)
{
    if (g->mode != G_QM_BY_TIME_RANGE) return json_string("NA");
    char s[G_TIME_TEXT_CAP], e[G_TIME_TEXT_CAP];
    g_time_format(g->start_ms, s);
    g_time_format(g->end_ms, e);
    return json_pack("{s:s, s:s}", "startAt", s, "endAt", e);
}

static json_t *echo_json(const g_query *g)
{
    const Mediation__V1__ReplayQuery *q = g->raw;
    static const char *const sorts[] = {"auditAt", "outputAt", "eventAt"};
    char cut[G_TIME_TEXT_CAP];
    g_time_format(g->cut_ms, cut);
    return json_pack("{s:s, s:s, s:{s:i, s:s}, s:{s:s, s:s}, s:s, s:s, s:o, s:o, s:b, s:s, s:s, s:s, s:o}",
                     "queryMode", q->query_mode, "outputMode", q->output_mode, "pagination",
                     "pageSize", g->page_size, "pageTokenOrNA", "NA", "sort", "sortBy",
                     sorts[g->sort_by], "sortOrder", g->desc ? "desc" : "asc",
                     "replayContractVersion", q->replay_contract_version, "opportunityKey",
                     g->mode == G_QM_BY_OPPORTUNITY ? g->opportunity_key : "NA", "timeRange",
                     range_json(g), "filters", filters_json(q->filters), "includeRawPayload",
                     g->include_raw, "resolvedReplayAsOfAt", cut, "replayExecutionMode",
                     g->exec == G_EXEC_RECOMPUTE ? "rule_recompute" : "snapshot_replay",
                     "replayPurpose", g->purpose, "pinnedVersions", pins_json(q));
}

static med_rc build_echo(g_query *g, med_err *err)
{
    json_t *j = echo_json(g);
    size_t len = 0;
    med_rc rc = j ? med_jcs_serialize(j, &g->echo_json, &len, err)
                  : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "queryEcho");
    json_decref(j);
    if (rc != MED_OK) return rc;
    med_sha256_hex(g->echo_json, len, g->query_hash);
    char h[65];
    med_sha256_hex(g->query_hash, 64, h);
    snprintf(g->run_id, sizeof g->run_id, "replay_%.12s", h);
    return MED_OK;
}

/* ---- the whole check ---- */

static void resolve_modes(const Mediation__V1__ReplayQuery *q, g_query *g)
{
    g->mode = strcmp(q->query_mode, "by_time_range") == 0 ? G_QM_BY_TIME_RANGE : G_QM_BY_OPPORTUNITY;
    g->full = strcmp(q->output_mode, "full") == 0;
    g->purpose = q->replay_purpose_opt_case == Q(REPLAY_PURPOSE_OPT_REPLAY_PURPOSE) ? q->replay_purpose
                                                                                   : "debug";
    g->exec = q->replay_execution_mode_opt_case == Q(REPLAY_EXECUTION_MODE_OPT_REPLAY_EXECUTION_MODE) &&
                      strcmp(q->replay_execution_mode, "rule_recompute") == 0
                  ? G_EXEC_RECOMPUTE
                  : G_EXEC_SNAPSHOT;
    g->include_raw = q->include_raw_payload_opt_case == Q(INCLUDE_RAW_PAYLOAD_OPT_INCLUDE_RAW_PAYLOAD) &&
                     q->include_raw_payload;
}

/* Step 4's cursor part: a follow-up page runs on the cursor's cut and must
 * hash to the cursor's query. */
static med_rc resolve_cut(const Mediation__V1__ReplayQuery *q, g_query *g, med_err *err)
{
    int64_t as_of = 0;
    int has_as_of = 0;
    med_rc rc = check_as_of(q, g, &as_of, &has_as_of, err);
    const char *cur = rc == MED_OK ? cursor_text(q, err, &rc) : NULL;
    if (rc != MED_OK) return rc;
    g->cut_ms = has_as_of ? as_of : g->received_ms;
    if (!cur) return build_echo(g, err);
    if ((rc = g_cursor_decode(cur, &g->cursor, err)) != MED_OK) return rc;
    g->has_cursor = 1;
    if (has_as_of && as_of != g->cursor.cut_ms)
        return fail(err, MED_R_G_REPLAY_INVALID_CURSOR, "cursor", "the cursor was issued for another replayAsOfAt");
    g->cut_ms = g->cursor.cut_ms;
    if ((rc = build_echo(g, err)) != MED_OK) return rc;
    if (strcmp(g->query_hash, g->cursor.query_hash) != 0)
        return fail(err, MED_R_G_REPLAY_INVALID_CURSOR, "cursor", "the cursor belongs to another query");
    return MED_OK;
}

med_rc g_query_validate(const Mediation__V1__ReplayQuery *q, int64_t received_ms, g_query *out,
                        med_err *err)
{
    memset(out, 0, sizeof *out);
    out->raw = q;
    out->received_ms = received_ms;
    med_rc rc = check_required(q, err);
    if (rc == MED_OK) rc = check_enums(q, err);
    if (rc == MED_OK) rc = check_paging_sort(q, out, err);
    if (rc == MED_OK) {
        resolve_modes(q, out);
        rc = check_combination(q, out, err);
    }
    if (rc == MED_OK) rc = check_key_or_range(q, out, err);
    if (rc == MED_OK) rc = check_range(q, out, err);
    if (rc == MED_OK) rc = resolve_cut(q, out, err);
    if (rc != MED_OK) g_query_free(out);
    return rc;
}

void g_query_free(g_query *q)
{
    if (!q) return;
    g_cursor_free(&q->cursor);
    free(q->echo_json);
    q->echo_json = NULL;
    q->has_cursor = 0;
}

int g_replay_http_status(const char *code)
{
    if (!code) return 503;
    if (strcmp(code, MED_R_G_REPLAY_OPPORTUNITY_ALIAS_CONFLICT) == 0 ||
        strcmp(code, MED_R_G_REPLAY_VERSION_ANCHOR_CONFLICT) == 0)
        return 409;
    return strncmp(code, "g_replay_", 9) == 0 ? 400 : 503;
}
