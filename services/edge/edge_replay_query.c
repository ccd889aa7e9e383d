/* Replay / reconciliation queries from HTTP input (see edge_replay_query.h).
 *
 * Both input forms go through the same table (EDGE_RQ_FIELDS) and the
 * same setters; they differ only in how a value is read: a JSON value of
 * the member's type, or the text of a parameter. */
#include "edge_replay_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_query_params.h"
#include "med/reason.h"

typedef enum rq_kind { RQ_STR, RQ_PAGE, RQ_BOOL, RQ_LIST } rq_kind;

typedef struct rq_field {
    const char *group; /* NULL: top level */
    const char *member;
    rq_kind kind;
} rq_field;

#define RQ_ROW(id, group, member, kind) [EDGE_RQ_##id] = { group, member, RQ_##kind },
static const rq_field k_fields[EDGE_RQ__COUNT] = { EDGE_RQ_FIELDS(RQ_ROW) };
#undef RQ_ROW

static const char *const k_groups[] = { EDGE_RQ_PAGINATION, EDGE_RQ_SORT, EDGE_RQ_TIME_RANGE,
                                        EDGE_RQ_FILTERS };

#define PATH_MAX_LEN 160

typedef Mediation__V1__ReplayQuery__PinnedVersionsEntry pinned_entry;

/* ---- errors ------------------------------------------------------------- */

static med_rc nomem(med_err *err)
{
    return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay query");
}

static med_rc unknown_field(const char *path, med_err *err)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_FIELD_INVALID, path,
                       "%s is not a replay query field (G.5)", path);
}

static med_rc wrong_type(const char *path, const char *want, med_err *err)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_FIELD_TYPE, path, "%s must be %s", path,
                       want);
}

static med_rc given_twice(const char *path, med_err *err)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_QUERY_MALFORMED, path,
                       "query parameter %s is given more than once", path);
}

static void path_of(const char *group, const char *member, char *out, size_t cap)
{
    if (group)
        snprintf(out, cap, "%s.%s", group, member);
    else
        snprintf(out, cap, "%s", member);
}

/* ---- the message's parts ------------------------------------------------ */

void edge_replay_query_init(edge_replay_query *rq)
{
    memset(rq, 0, sizeof *rq);
    med_arena_init(&rq->arena);
    mediation__v1__replay_query__init(&rq->msg);
}

void edge_replay_query_free(edge_replay_query *rq)
{
    if (!rq) return;
    med_arena_free(&rq->arena);
    memset(rq, 0, sizeof *rq);
}

static Mediation__V1__ReplayPagination *pagination(edge_replay_query *rq)
{
    if (!rq->msg.pagination) {
        rq->msg.pagination = MED_NEW(&rq->arena, Mediation__V1__ReplayPagination);
        if (rq->msg.pagination) mediation__v1__replay_pagination__init(rq->msg.pagination);
    }
    return rq->msg.pagination;
}

static Mediation__V1__ReplaySort *sort(edge_replay_query *rq)
{
    if (!rq->msg.sort) {
        rq->msg.sort = MED_NEW(&rq->arena, Mediation__V1__ReplaySort);
        if (rq->msg.sort) mediation__v1__replay_sort__init(rq->msg.sort);
    }
    return rq->msg.sort;
}

static Mediation__V1__ReplayTimeRange *time_range(edge_replay_query *rq)
{
    if (!rq->msg.time_range) {
        rq->msg.time_range = MED_NEW(&rq->arena, Mediation__V1__ReplayTimeRange);
        if (rq->msg.time_range) mediation__v1__replay_time_range__init(rq->msg.time_range);
    }
    return rq->msg.time_range;
}

static Mediation__V1__ReplayFilters *filters(edge_replay_query *rq)
{
    if (!rq->msg.filters) {
        rq->msg.filters = MED_NEW(&rq->arena, Mediation__V1__ReplayFilters);
        if (rq->msg.filters) mediation__v1__replay_filters__init(rq->msg.filters);
    }
    return rq->msg.filters;
}

/* Makes the group's sub-message exist (a present group is not absent). */
static med_rc ensure_group(edge_replay_query *rq, const char *group, med_err *err)
{
    void *made = NULL;
    if (!group) return MED_OK;
    if (strcmp(group, EDGE_RQ_PAGINATION) == 0) made = pagination(rq);
    else if (strcmp(group, EDGE_RQ_SORT) == 0) made = sort(rq);
    else if (strcmp(group, EDGE_RQ_TIME_RANGE) == 0) made = time_range(rq);
    else if (strcmp(group, EDGE_RQ_FILTERS) == 0) made = filters(rq);
    return made ? MED_OK : nomem(err);
}

/* The string slot of a STR field; sets the oneof case of optional ones. */
static char **str_slot(edge_replay_query *rq, edge_rq_id id)
{
    Mediation__V1__ReplayQuery *q = &rq->msg;
    switch (id) {
    case EDGE_RQ_QUERY_MODE: return &q->query_mode;
    case EDGE_RQ_OUTPUT_MODE: return &q->output_mode;
    case EDGE_RQ_PAGE_TOKEN:
        q->pagination->page_token_or_na_opt_case =
            MEDIATION__V1__REPLAY_PAGINATION__PAGE_TOKEN_OR_NA_OPT_PAGE_TOKEN_OR_NA;
        return &q->pagination->page_token_or_na;
    case EDGE_RQ_SORT_BY: return &q->sort->sort_by;
    case EDGE_RQ_SORT_ORDER: return &q->sort->sort_order;
    case EDGE_RQ_CONTRACT_VERSION: return &q->replay_contract_version;
    case EDGE_RQ_OPPORTUNITY_KEY: return &q->opportunity_key;
    case EDGE_RQ_OPPORTUNITY_ID: return &q->opportunity_id;
    case EDGE_RQ_START_AT: return &q->time_range->start_at;
    case EDGE_RQ_END_AT: return &q->time_range->end_at;
    case EDGE_RQ_TRACE_KEY: return &q->filters->trace_key;
    case EDGE_RQ_REQUEST_KEY: return &q->filters->request_key;
    case EDGE_RQ_ATTEMPT_KEY: return &q->filters->attempt_key;
    case EDGE_RQ_RESPONSE_REFERENCE: return &q->filters->response_reference;
    case EDGE_RQ_CURSOR:
        q->cursor_opt_case = MEDIATION__V1__REPLAY_QUERY__CURSOR_OPT_CURSOR;
        return &q->cursor;
    case EDGE_RQ_REPLAY_AS_OF_AT:
        q->replay_as_of_at_opt_case = MEDIATION__V1__REPLAY_QUERY__REPLAY_AS_OF_AT_OPT_REPLAY_AS_OF_AT;
        return &q->replay_as_of_at;
    case EDGE_RQ_REPLAY_EXECUTION_MODE:
        q->replay_execution_mode_opt_case =
            MEDIATION__V1__REPLAY_QUERY__REPLAY_EXECUTION_MODE_OPT_REPLAY_EXECUTION_MODE;
        return &q->replay_execution_mode;
    case EDGE_RQ_REPLAY_PURPOSE:
        q->replay_purpose_opt_case = MEDIATION__V1__REPLAY_QUERY__REPLAY_PURPOSE_OPT_REPLAY_PURPOSE;
        return &q->replay_purpose;
    default: return NULL;
    }
}

static med_rc set_str(edge_replay_query *rq, edge_rq_id id, const char *v, med_err *err)
{
    if (ensure_group(rq, k_fields[id].group, err) != MED_OK) return MED_ERR_NOMEM;
    char *copy = med_arena_strdup(&rq->arena, v);
    char **slot = copy ? str_slot(rq, id) : NULL;
    if (!slot) return nomem(err);
    *slot = copy;
    return MED_OK;
}

static med_rc set_page_size(edge_replay_query *rq, int32_t n, med_err *err)
{
    if (!pagination(rq)) return nomem(err);
    rq->msg.pagination->page_size = n;
    return MED_OK;
}

static med_rc set_bool(edge_replay_query *rq, edge_rq_id id, int v, med_err *err)
{
    if (ensure_group(rq, k_fields[id].group, err) != MED_OK) return MED_ERR_NOMEM;
    Mediation__V1__ReplayQuery *q = &rq->msg;
    if (id == EDGE_RQ_HAS_TIMEOUT_ONLY) {
        q->filters->has_timeout_only_opt_case =
            MEDIATION__V1__REPLAY_FILTERS__HAS_TIMEOUT_ONLY_OPT_HAS_TIMEOUT_ONLY;
        q->filters->has_timeout_only = v;
    } else if (id == EDGE_RQ_HAS_CONFLICT_ONLY) {
        q->filters->has_conflict_only_opt_case =
            MEDIATION__V1__REPLAY_FILTERS__HAS_CONFLICT_ONLY_OPT_HAS_CONFLICT_ONLY;
        q->filters->has_conflict_only = v;
    } else {
        q->include_raw_payload_opt_case =
            MEDIATION__V1__REPLAY_QUERY__INCLUDE_RAW_PAYLOAD_OPT_INCLUDE_RAW_PAYLOAD;
        q->include_raw_payload = v;
    }
    return MED_OK;
}

/* Appends v to a LIST field, growing its array in the arena. */
static med_rc list_push(edge_replay_query *rq, edge_rq_id id, const char *v, med_err *err)
{
    if (!filters(rq)) return nomem(err);
    Mediation__V1__ReplayFilters *f = rq->msg.filters;
    char ***arr = id == EDGE_RQ_ADAPTER_ID_IN    ? &f->adapter_id_in
                  : id == EDGE_RQ_RECORD_TYPE_IN ? &f->record_type_in
                                                 : &f->record_status_in;
    size_t *n = id == EDGE_RQ_ADAPTER_ID_IN    ? &f->n_adapter_id_in
                : id == EDGE_RQ_RECORD_TYPE_IN ? &f->n_record_type_in
                                               : &f->n_record_status_in;
    if (*n == rq->cap[id]) {
        size_t cap = rq->cap[id] ? rq->cap[id] * 2 : 4;
        char **grown = MED_NEWN(&rq->arena, char *, cap);
        if (!grown) return nomem(err);
        if (*n) memcpy(grown, *arr, *n * sizeof *grown);
        *arr = grown;
        rq->cap[id] = cap;
    }
    char *copy = med_arena_strdup(&rq->arena, v);
    if (!copy) return nomem(err);
    (*arr)[(*n)++] = copy;
    return MED_OK;
}

static med_rc pinned_put(edge_replay_query *rq, const char *name, const char *version,
                         const char *path, med_err *err)
{
    Mediation__V1__ReplayQuery *q = &rq->msg;
    if (!*name) return unknown_field(path, err);
    for (size_t i = 0; i < q->n_pinned_versions; i++)
        if (strcmp(q->pinned_versions[i]->key, name) == 0) return given_twice(path, err);
    if (q->n_pinned_versions == rq->pinned_cap) {
        size_t cap = rq->pinned_cap ? rq->pinned_cap * 2 : 4;
        pinned_entry **grown = MED_NEWN(&rq->arena, pinned_entry *, cap);
        if (!grown) return nomem(err);
        if (q->n_pinned_versions)
            memcpy(grown, q->pinned_versions, q->n_pinned_versions * sizeof *grown);
        q->pinned_versions = grown;
        rq->pinned_cap = cap;
    }
    pinned_entry *e = MED_NEW(&rq->arena, pinned_entry);
    if (!e) return nomem(err);
    mediation__v1__replay_query__pinned_versions_entry__init(e);
    e->key = med_arena_strdup(&rq->arena, name);
    e->value = med_arena_strdup(&rq->arena, version);
    if (!e->key || !e->value) return nomem(err);
    q->pinned_versions[q->n_pinned_versions++] = e;
    return MED_OK;
}

static int pinned_cmp(const void *a, const void *b)
{
    return strcmp((*(pinned_entry *const *)a)->key, (*(pinned_entry *const *)b)->key);
}

/* Map entries go out sorted by name, so both input forms pack alike. */
static void pinned_sort(edge_replay_query *rq)
{
    if (rq->msg.n_pinned_versions > 1)
        qsort(rq->msg.pinned_versions, rq->msg.n_pinned_versions, sizeof(pinned_entry *),
              pinned_cmp);
}

static int find_field(const char *group, const char *member)
{
    for (int i = 0; i < EDGE_RQ__COUNT; i++) {
        const rq_field *f = &k_fields[i];
        if (strcmp(f->member, member) != 0) continue;
        if (group ? (f->group && strcmp(f->group, group) == 0) : !f->group) return i;
    }
    return -1;
}

static int is_group(const char *name)
{
    for (size_t i = 0; i < sizeof k_groups / sizeof k_groups[0]; i++)
        if (strcmp(k_groups[i], name) == 0) return 1;
    return 0;
}

/* ---- POST: JSON values -------------------------------------------------- */

/* 1..2^31-1 or EDGE_RQ_PAGE_SIZE_INVALID (G reports it). */
static int32_t page_size_of_json(const json_t *v)
{
    if (!json_is_integer(v)) return EDGE_RQ_PAGE_SIZE_INVALID;
    json_int_t n = json_integer_value(v);
    return n >= 1 && n <= INT32_MAX ? (int32_t)n : EDGE_RQ_PAGE_SIZE_INVALID;
}

static med_rc list_from_json(edge_replay_query *rq, edge_rq_id id, const json_t *v,
                             const char *path, med_err *err)
{
    if (!json_is_array(v)) return wrong_type(path, "an array of strings", err);
    if (!filters(rq)) return nomem(err);
    size_t i;
    json_t *el;
    json_array_foreach(v, i, el) {
        if (!json_is_string(el)) return wrong_type(path, "an array of strings", err);
        med_rc rc = list_push(rq, id, json_string_value(el), err);
        if (rc != MED_OK) return rc;
    }
    return MED_OK;
}

static med_rc field_from_json(edge_replay_query *rq, edge_rq_id id, const json_t *v,
                              med_err *err)
{
    const rq_field *f = &k_fields[id];
    char path[PATH_MAX_LEN];
    path_of(f->group, f->member, path, sizeof path);
    if (json_is_null(v)) return MED_OK;
    switch (f->kind) {
    case RQ_STR:
        if (!json_is_string(v)) return wrong_type(path, "a string", err);
        return set_str(rq, id, json_string_value(v), err);
    case RQ_PAGE: return set_page_size(rq, page_size_of_json(v), err);
    case RQ_BOOL:
        if (!json_is_boolean(v)) return wrong_type(path, "true or false", err);
        return set_bool(rq, id, json_is_true(v), err);
    case RQ_LIST: return list_from_json(rq, id, v, path, err);
    }
    return unknown_field(path, err);
}

static med_rc group_from_json(edge_replay_query *rq, const char *group, const json_t *obj,
                              med_err *err)
{
    if (json_is_null(obj)) return MED_OK;
    if (!json_is_object(obj)) return wrong_type(group, "an object", err);
    med_rc rc = ensure_group(rq, group, err);
    const char *member;
    json_t *v;
    json_object_foreach((json_t *)obj, member, v) {
        if (rc != MED_OK) break;
        int id = find_field(group, member);
        if (id < 0) {
            char path[PATH_MAX_LEN];
            path_of(group, member, path, sizeof path);
            return unknown_field(path, err);
        }
        rc = field_from_json(rq, (edge_rq_id)id, v, err);
    }
    return rc;
}

static med_rc pinned_from_json(edge_replay_query *rq, const json_t *obj, med_err *err)
{
    if (json_is_null(obj)) return MED_OK;
    if (!json_is_object(obj)) return wrong_type(EDGE_RQ_PINNED_VERSIONS, "an object", err);
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)obj, name, v) {
        char path[PATH_MAX_LEN];
        path_of(EDGE_RQ_PINNED_VERSIONS, name, path, sizeof path);
        if (!json_is_string(v)) return wrong_type(path, "a string", err);
        med_rc rc = pinned_put(rq, name, json_string_value(v), path, err);
        if (rc != MED_OK) return rc;
    }
    return MED_OK;
}

static med_rc member_from_json(edge_replay_query *rq, const char *key, const json_t *v,
                               med_err *err)
{
    if (strcmp(key, EDGE_RQ_CLIENT_AUTH) == 0) return MED_OK;
    if (is_group(key)) return group_from_json(rq, key, v, err);
    if (strcmp(key, EDGE_RQ_PINNED_VERSIONS) == 0) return pinned_from_json(rq, v, err);
    int id = find_field(NULL, key);
    if (id < 0) return unknown_field(key, err);
    return field_from_json(rq, (edge_rq_id)id, v, err);
}

med_rc edge_replay_query_from_json(const json_t *body, edge_replay_query *rq, med_err *err)
{
    if (!json_is_object(body))
        return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_FIELD_TYPE, NULL,
                           "the body must be a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v) {
        med_rc rc = member_from_json(rq, key, v, err);
        if (rc != MED_OK) return rc;
    }
    pinned_sort(rq);
    return MED_OK;
}

/* ---- GET: parameter text ------------------------------------------------ */

/* Digits only, 1..2^31-1; anything else EDGE_RQ_PAGE_SIZE_INVALID. */
static int32_t page_size_of_text(const char *s)
{
    int64_t n = 0;
    size_t len = strlen(s);
    if (len == 0) return EDGE_RQ_PAGE_SIZE_INVALID;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return EDGE_RQ_PAGE_SIZE_INVALID;
        n = n * 10 + (s[i] - '0');
        if (n > INT32_MAX) return EDGE_RQ_PAGE_SIZE_INVALID;
    }
    return n >= 1 ? (int32_t)n : EDGE_RQ_PAGE_SIZE_INVALID;
}

/* "a,b" -> a, b; "" -> no element (the filters group still exists). */
static med_rc list_from_text(edge_replay_query *rq, edge_rq_id id, const char *text,
                             med_err *err)
{
    if (!filters(rq)) return nomem(err);
    if (!*text) return MED_OK;
    char *copy = strdup(text);
    if (!copy) return nomem(err);
    med_rc rc = MED_OK;
    char *start = copy;
    for (;;) {
        char *sep = strchr(start, EDGE_RQ_LIST_SEP);
        if (sep) *sep = '\0';
        rc = list_push(rq, id, start, err);
        if (rc != MED_OK || !sep) break;
        start = sep + 1;
    }
    free(copy);
    return rc;
}

static med_rc field_from_text(edge_replay_query *rq, edge_rq_id id, const char *text,
                              const char *path, med_err *err)
{
    const rq_field *f = &k_fields[id];
    if (f->kind != RQ_LIST && rq->seen[id]++) return given_twice(path, err);
    switch (f->kind) {
    case RQ_STR: return set_str(rq, id, text, err);
    case RQ_PAGE: return set_page_size(rq, page_size_of_text(text), err);
    case RQ_BOOL:
        if (strcmp(text, EDGE_RQ_BOOL_TRUE) == 0) return set_bool(rq, id, 1, err);
        if (strcmp(text, EDGE_RQ_BOOL_FALSE) == 0) return set_bool(rq, id, 0, err);
        return wrong_type(path, "true or false", err);
    case RQ_LIST: return list_from_text(rq, id, text, err);
    }
    return unknown_field(path, err);
}

static med_rc param_to_query(void *ud, const char *name, const char *value, med_err *err)
{
    edge_replay_query *rq = ud;
    const char *dot = strchr(name, '.');
    if (!dot) {
        int id = find_field(NULL, name);
        return id < 0 ? unknown_field(name, err) : field_from_text(rq, (edge_rq_id)id, value, name, err);
    }
    char group[PATH_MAX_LEN];
    size_t glen = (size_t)(dot - name);
    if (glen >= sizeof group) return unknown_field(name, err);
    memcpy(group, name, glen);
    group[glen] = '\0';
    if (strcmp(group, EDGE_RQ_PINNED_VERSIONS) == 0) return pinned_put(rq, dot + 1, value, name, err);
    int id = is_group(group) ? find_field(group, dot + 1) : -1;
    return id < 0 ? unknown_field(name, err) : field_from_text(rq, (edge_rq_id)id, value, name, err);
}

med_rc edge_replay_query_from_params(const char *q, size_t len, edge_replay_query *rq,
                                     med_err *err)
{
    med_rc rc = edge_query_each(q, len, param_to_query, rq, err);
    if (rc == MED_OK) pinned_sort(rq);
    return rc;
}

/* ---- packing ------------------------------------------------------------ */

static med_rc pack_into(const ProtobufCMessage *m, uint8_t **out, size_t *len, med_err *err)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return nomem(err);
    *len = protobuf_c_message_pack(m, buf);
    *out = buf;
    return MED_OK;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

med_rc edge_replay_request_pack(edge_replay_query *rq, const edge_query_caller *who,
                                int64_t now_ms, uint8_t **out, size_t *len, med_err *err)
{
    *out = NULL;
    *len = 0;
    Mediation__V1__TraceContext tc = MEDIATION__V1__TRACE_CONTEXT__INIT;
    if (who->trace) med_headers_to_trace_ctx(who->trace, &tc);
    tc.tenant_id = (char *)or_empty(who->tenant);
    Mediation__V1__ReplayQuery *q = &rq->msg;
    q->trace = &tc;
    q->auth = who->auth;
    q->tenant_id = (char *)or_empty(who->tenant);
    q->received_at_unix_ms = now_ms;
    q->http_method = (char *)or_empty(who->http_method);
    q->raw_read_allowed = who->raw_read_allowed ? 1 : 0;
    med_rc rc = pack_into(&q->base, out, len, err);
    /* The caller's parts are borrowed for this call only. */
    q->trace = NULL;
    q->auth = NULL;
    q->tenant_id = NULL;
    q->http_method = NULL;
    return rc;
}

/* ---- reconciliation ------------------------------------------------------ */

typedef struct recon_params {
    med_arena *arena;
    Mediation__V1__ReconciliationQuery *q;
    int seen_granularity, seen_window;
} recon_params;

static med_rc recon_param(void *ud, const char *name, const char *value, med_err *err)
{
    recon_params *p = ud;
    int is_gran = strcmp(name, EDGE_RECON_GRANULARITY) == 0;
    int is_window = strcmp(name, EDGE_RECON_WINDOW_START) == 0;
    if (!is_gran && !is_window)
        return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_FIELD_INVALID, name,
                           "%s is not a reconciliation parameter", name);
    if (is_gran ? p->seen_granularity++ : p->seen_window++) return given_twice(name, err);
    char *copy = med_arena_strdup(p->arena, value);
    if (!copy) return nomem(err);
    if (is_gran) {
        p->q->granularity = copy;
    } else {
        p->q->window_start_opt_case =
            MEDIATION__V1__RECONCILIATION_QUERY__WINDOW_START_OPT_WINDOW_START;
        p->q->window_start = copy;
    }
    return MED_OK;
}

med_rc edge_recon_request_pack(const char *q, size_t qlen, const edge_query_caller *who,
                               int64_t now_ms, uint8_t **out, size_t *len, med_err *err)
{
    *out = NULL;
    *len = 0;
    med_arena arena;
    med_arena_init(&arena);
    Mediation__V1__ReconciliationQuery rq = MEDIATION__V1__RECONCILIATION_QUERY__INIT;
    recon_params p = { &arena, &rq, 0, 0 };
    med_rc rc = edge_query_each(q, qlen, recon_param, &p, err);
    Mediation__V1__TraceContext tc = MEDIATION__V1__TRACE_CONTEXT__INIT;
    if (who->trace) med_headers_to_trace_ctx(who->trace, &tc);
    tc.tenant_id = (char *)or_empty(who->tenant);
    rq.trace = &tc;
    rq.auth = who->auth;
    rq.tenant_id = (char *)or_empty(who->tenant);
    rq.received_at_unix_ms = now_ms;
    if (rc == MED_OK) rc = pack_into(&rq.base, out, len, err);
    med_arena_free(&arena);
    return rc;
}
