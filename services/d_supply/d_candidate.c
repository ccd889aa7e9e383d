#include "d_candidate.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "d_strlist.h"
#include "med/reason.h"

#define ACT_EXACT "exact_match"
#define ACT_ALIAS "alias_map"
#define ACT_UNKNOWN "unknown_fallback"
#define ACT_DROP "drop"

typedef struct bid_view {
    const d_norm_ctx *nc;
    const json_t *bid;
    d_candidate *c;
    d_mapping_log *log;
} bid_view;

/* Trimmed, case-folded copy (upper for currencies, lower otherwise). */
static void fold(char *dst, size_t cap, const char *src, int upper)
{
    while (src && isspace((unsigned char)*src)) src++;
    size_t n = 0;
    for (; src && *src && n + 1 < cap; src++)
        dst[n++] = (char)(upper ? toupper((unsigned char)*src) : tolower((unsigned char)*src));
    while (n > 0 && isspace((unsigned char)dst[n - 1])) n--;
    dst[n] = '\0';
}

static int record(bid_view *v, const char *field, const char *raw, const char *norm,
                  const char *action, const char *code)
{
    d_mapping m;
    memset(&m, 0, sizeof m);
    d_copy_str(m.source_id, sizeof m.source_id, v->nc->source_id);
    d_copy_str(m.candidate_id, sizeof m.candidate_id, v->c->candidate_id);
    d_copy_str(m.field_path, sizeof m.field_path, field);
    d_copy_str(m.raw_value, sizeof m.raw_value, raw ? raw : "NA");
    d_copy_str(m.normalized_value, sizeof m.normalized_value, norm ? norm : "NA");
    m.mapping_action = action;
    d_copy_str(m.reason_code, sizeof m.reason_code, code);
    return d_mapping_add(v->log, &m);
}

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Required: id, price (finite, >= 0), crid (else adid). */
static const char *take_required(bid_view *v)
{
    const char *id = str_of(v->bid, "id");
    const json_t *price = json_object_get(v->bid, "price");
    const char *crid = str_of(v->bid, "crid");
    if (!crid || !crid[0]) crid = str_of(v->bid, "adid");
    d_copy_str(v->c->candidate_id, sizeof v->c->candidate_id, id);
    if (!id || !id[0] || !json_is_number(price) || !crid || !crid[0])
        return MED_R_D_CANDIDATE_REQUIRED_MISSING;
    double p = json_number_value(price);
    if (!isfinite(p) || p < 0) return MED_R_D_CANDIDATE_REQUIRED_MISSING;
    v->c->bid_value = p;
    v->c->bid_micros = llround(p * 1e6);
    d_copy_str(v->c->creative_id, sizeof v->c->creative_id, crid);
    return NULL;
}

/* Currency must be the settlement currency after folding. */
static const char *take_currency(bid_view *v, int *wrong_currency)
{
    const char *raw = str_of(v->bid, "cur");
    if (!raw) raw = v->nc->response_currency ? v->nc->response_currency : "USD";
    char norm[8];
    fold(norm, sizeof norm, raw, 1);
    d_copy_str(v->c->currency, sizeof v->c->currency, norm);
    int ok = !strcmp(norm, v->nc->settlement_currency);
    if (!ok) *wrong_currency = 1;
    const char *action = !ok ? ACT_DROP : strcmp(norm, raw) ? ACT_ALIAS : ACT_EXACT;
    const char *code = ok ? "" : MED_R_D_CANDIDATE_INVALID_REQUIRED_ENUM;
    if (record(v, "pricing.currency", raw, ok ? norm : NULL, action, code) != 0) return "";
    return ok ? NULL : MED_R_D_CANDIDATE_INVALID_REQUIRED_ENUM;
}

static const char *landing_alias(const char *s)
{
    if (!strcmp(s, "external") || !strcmp(s, "in_app") || !strcmp(s, "deeplink")) return s;
    if (!strcmp(s, "inapp") || !strcmp(s, "in-app")) return "in_app";
    if (!strcmp(s, "deep_link") || !strcmp(s, "deep-link")) return "deeplink";
    if (!strcmp(s, "browser") || !strcmp(s, "web")) return "external";
    return NULL;
}

static const char *take_landing(bid_view *v)
{
    const char *raw = str_of(json_object_get(v->bid, "ext"), "landing_type");
    if (!raw) {
        d_copy_str(v->c->landing_type, sizeof v->c->landing_type, "external");
        int rc = record(v, "creativeRef.landingType", NULL, "external", ACT_UNKNOWN,
                        MED_R_D_CANDIDATE_OPTIONAL_DEFAULT_APPLIED);
        return rc ? "" : NULL;
    }
    char folded[32];
    fold(folded, sizeof folded, raw, 0);
    const char *canon = landing_alias(folded);
    const char *action = !canon ? ACT_DROP : strcmp(canon, raw) ? ACT_ALIAS : ACT_EXACT;
    const char *code = canon ? "" : MED_R_D_CANDIDATE_INVALID_REQUIRED_ENUM;
    if (record(v, "creativeRef.landingType", raw, canon, action, code) != 0) return "";
    if (!canon) return MED_R_D_CANDIDATE_INVALID_REQUIRED_ENUM;
    d_copy_str(v->c->landing_type, sizeof v->c->landing_type, canon);
    return NULL;
}

static void take_optional(bid_view *v)
{
    const json_t *q = json_object_get(json_object_get(v->bid, "ext"), "quality_score");
    if (json_is_number(q) && isfinite(json_number_value(q))) {
        v->c->has_quality = 1;
        v->c->quality_score = json_number_value(q);
    }
    if (v->nc->latency_ms >= 0) {
        v->c->has_latency = 1;
        v->c->latency_ms = v->nc->latency_ms;
    }
}

const char *d_markup_render_mode(const char *adm)
{
    while (adm && isspace((unsigned char)*adm)) adm++;
    if (!adm || !*adm) return NULL;
    if (strstr(adm, "<VAST") || strstr(adm, "<vast")) return "video_vast_container";
    return *adm == '<' ? "webview" : NULL;
}

static int any_listed(const json_t *arr, const d_str_list *blocked, const char **hit)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
        if (json_is_string(x) && d_strlist_has(blocked, json_string_value(x))) {
            *hit = json_string_value(x);
            return 1;
        }
    return 0;
}

/* badv / bcat / disallowed render mode: a policy drop. */
static const char *check_policy(bid_view *v)
{
    const d_constraints *c = v->nc->constraints;
    const char *hit = NULL, *field = NULL;
    const char *mode = d_markup_render_mode(str_of(v->bid, "adm"));
    if (c && any_listed(json_object_get(v->bid, "adomain"), &c->badv, &hit)) field = "adomain";
    else if (c && any_listed(json_object_get(v->bid, "cat"), &c->bcat, &hit)) field = "cat";
    else if (c && mode && d_strlist_has(&c->disallow_render_modes, mode)) {
        field = "adm";
        hit = mode;
    }
    if (!field) return NULL;
    if (record(v, field, hit, NULL, ACT_DROP, MED_R_D_NF_POLICY_FILTERED) != 0) return "";
    return MED_R_D_NF_POLICY_FILTERED;
}

static int seen_pair(const d_cand_list *l, const char *source_id, const char *cand_id)
{
    for (size_t i = 0; l && i < l->n; i++)
        if (!strcmp(l->items[i].source_id, source_id) && !strcmp(l->items[i].candidate_id, cand_id))
            return 1;
    return 0;
}

/* 1 kept, 0 dropped (code in *drop), -1 ENOMEM. */
static int normalize_one(bid_view *v, const d_cand_list *seen, const d_cand_list *out,
                         const char **drop, int *wrong_currency)
{
    d_candidate *c = v->c;
    c->source = v->nc->source;
    d_copy_str(c->source_id, sizeof c->source_id, v->nc->source_id);
    c->tier = v->nc->tier;
    c->step_index = v->nc->step_index;
    *drop = take_required(v);
    if (!*drop && (seen_pair(seen, c->source_id, c->candidate_id) ||
                   seen_pair(out, c->source_id, c->candidate_id)))
        *drop = MED_R_D_CANDIDATE_DUPLICATE_DROPPED;
    if (!*drop) *drop = take_currency(v, wrong_currency);
    if (!*drop) *drop = take_landing(v);
    if (!*drop) *drop = check_policy(v);
    if (*drop && !**drop) return -1;   /* "" marks a failed record (ENOMEM) */
    if (*drop) {
        int is_policy = !strcmp(*drop, MED_R_D_NF_POLICY_FILTERED);
        int is_currency = !strcmp(*drop, MED_R_D_CANDIDATE_INVALID_REQUIRED_ENUM);
        if (!is_policy && !is_currency &&
            record(v, "bid", c->candidate_id, NULL, ACT_DROP, *drop) != 0)
            return -1;
        return 0;
    }
    take_optional(v);
    return 1;
}

static int push(d_cand_list *l, const d_candidate *c)
{
    d_candidate *grown = realloc(l->items, (l->n + 1) * sizeof *grown);
    if (!grown) return -1;
    l->items = grown;
    l->items[l->n++] = *c;
    return 0;
}

int d_candidate_normalize_all(const d_norm_ctx *nc, const json_t *bids, const d_cand_list *seen,
                              d_cand_list *out, d_bid_tally *tally, d_mapping_log *log)
{
    size_t i;
    json_t *bid;
    json_array_foreach(bids, i, bid) {
        d_candidate c;
        memset(&c, 0, sizeof c);
        bid_view v = { .nc = nc, .bid = bid, .c = &c, .log = log };
        const char *drop = NULL;
        int wrong_currency = 0;
        tally->bids++;
        int kept = normalize_one(&v, seen, out, &drop, &wrong_currency);
        if (kept < 0) return -1;
        if (!kept) {
            if (!strcmp(drop, MED_R_D_NF_POLICY_FILTERED)) tally->policy_dropped++;
            if (wrong_currency) tally->currency_dropped++;
            continue;
        }
        c.bid = json_incref(bid);
        if (push(out, &c) != 0) {
            json_decref(c.bid);
            return -1;
        }
        tally->eligible++;
    }
    return 0;
}

int d_candidate_compare(const d_candidate *a, const d_candidate *b)
{
    if (a->bid_micros != b->bid_micros) return a->bid_micros > b->bid_micros ? -1 : 1;
    if (a->has_quality != b->has_quality) return a->has_quality ? -1 : 1;
    if (a->has_quality && a->quality_score != b->quality_score)
        return a->quality_score > b->quality_score ? -1 : 1;
    if (a->has_latency != b->has_latency) return a->has_latency ? -1 : 1;
    if (a->has_latency && a->latency_ms != b->latency_ms)
        return a->latency_ms < b->latency_ms ? -1 : 1;
    int c = strcmp(a->source_id, b->source_id);
    return c ? c : strcmp(a->candidate_id, b->candidate_id);
}

static int cmp_candidates(const void *a, const void *b)
{
    return d_candidate_compare(a, b);
}

void d_candidate_rank(d_cand_list *l)
{
    if (l->n > 1) qsort(l->items, l->n, sizeof *l->items, cmp_candidates);
}

int d_cand_list_append(d_cand_list *to, d_cand_list *from)
{
    if (!from->n) return 0;
    d_candidate *grown = realloc(to->items, (to->n + from->n) * sizeof *grown);
    if (!grown) return -1;
    to->items = grown;
    memcpy(to->items + to->n, from->items, from->n * sizeof *from->items);
    to->n += from->n;
    free(from->items);
    from->items = NULL;
    from->n = 0;
    return 0;
}

void d_cand_list_free(d_cand_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].bid) json_decref(l->items[i].bid);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

int d_mapping_add(d_mapping_log *log, const d_mapping *m)
{
    if (!log) return 0;
    d_mapping *grown = realloc(log->items, (log->n + 1) * sizeof *grown);
    if (!grown) return -1;
    log->items = grown;
    log->items[log->n++] = *m;
    return 0;
}

void d_mapping_log_free(d_mapping_log *log)
{
    free(log->items);
    log->items = NULL;
    log->n = 0;
}
