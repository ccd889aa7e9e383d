/* H.3 GET cache rules: header parsing, key, freshness, answer table. */
#include "h_cache.h"

#include <stdio.h>
#include <string.h>

#include "med/reason.h"

/* ---- If-None-Match -------------------------------------------------- */

static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* etagc of RFC 9110: %x21 / %x23-7E / obs-text; no DQUOTE, no space. */
static int is_etagc(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x7E) || c >= 0x80;
}

static med_rc bad_tag(char *tag, med_err *err, const char *why)
{
    tag[0] = '\0';
    return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_CACHE_INVALID_ETAG_FORMAT,
                       "If-None-Match", "%s", why);
}

med_rc h_cache_parse_if_none_match(const char *header, char *tag, size_t cap, med_err *err)
{
    tag[0] = '\0';
    if (!header)
        return MED_OK;
    const char *b = header, *e = header + strlen(header);
    while (b < e && is_ows(*b))
        b++;
    while (e > b && is_ows(e[-1]))
        e--;
    if (b == e)
        return MED_OK;
    if (e - b < 3 || b[0] != '"' || e[-1] != '"')
        return bad_tag(tag, err, "must be one strong quoted entity-tag");
    size_t n = (size_t)(e - b) - 2;
    for (size_t i = 0; i < n; i++)
        if (!is_etagc((unsigned char)b[1 + i]))
            return bad_tag(tag, err, "entity-tag holds a character outside etagc");
    if (n + 1 > cap || n + 1 > H_CACHE_TAG_MAX)
        return bad_tag(tag, err, "entity-tag too long");
    memcpy(tag, b + 1, n);
    tag[n] = '\0';
    return MED_OK;
}

/* ---- key and time ----------------------------------------------------- */

med_rc h_cache_config_key(const char *app_id, const char *placement_id, const char *environment,
                          const char *schema_version, char *out, size_t cap, med_err *err)
{
    if (cap)
        out[0] = '\0';
    if (!app_id || !app_id[0] || !placement_id || !placement_id[0] || !environment ||
        !environment[0] || !schema_version || !schema_version[0])
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_MISSING_REQUIRED_AFTER_MERGE, "",
                           "configKey needs appId, placementId, environment, schemaVersion");
    int n = snprintf(out, cap, "%s|%s|%s|%s", app_id, placement_id, environment, schema_version);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_INVALID_RANGE, "",
                           "configKey longer than %zu bytes", cap ? cap - 1 : 0);
    }
    return MED_OK;
}

int64_t h_cache_expire_at(int64_t response_at_ms, int64_t ttl_sec)
{
    return response_at_ms + ttl_sec * 1000;
}

h_cache_freshness h_cache_freshness_at(int64_t expire_at_ms, int64_t now_ms)
{
    if (now_ms < expire_at_ms)
        return H_CACHE_FRESH;
    if (now_ms < expire_at_ms + H_CACHE_GRACE_MS)
        return H_CACHE_STALE_GRACE;
    return H_CACHE_EXPIRED;
}

static int entry_usable(const h_cache_entry *e)
{
    return e->present && e->resolved_ok && e->etag && e->etag[0];
}

int h_cache_needs_resolve(const h_cache_entry *entry, int64_t now_ms)
{
    return !entry_usable(entry) || h_cache_freshness_at(entry->expire_at_ms, now_ms) != H_CACHE_FRESH;
}

const char *h_cache_decision_name(h_cache_decision d)
{
    switch (d) {
    case H_CACHE_MISS: return "miss";
    case H_CACHE_REVALIDATED_CHANGED: return "revalidated_changed";
    case H_CACHE_REVALIDATED_NOT_MODIFIED: return "revalidated_not_modified";
    case H_CACHE_STALE_SERVED: return "stale_served";
    case H_CACHE_NO_DECISION: break;
    }
    return "NA";
}

/* ---- the answer table ---------------------------------------------- */

static void add_code(h_cache_answer *ans, const char *code)
{
    ans->reason_codes[ans->n_reason_codes++] = code;
    if (ans->n_reason_codes == 2 && strcmp(ans->reason_codes[0], ans->reason_codes[1]) > 0) {
        ans->reason_codes[1] = ans->reason_codes[0];
        ans->reason_codes[0] = code;
    }
}

static void answer(h_cache_answer *ans, int status, h_cache_decision d, h_cache_serve serve,
                   const char *code)
{
    ans->http_status = status;
    ans->decision = d;
    ans->serve = serve;
    add_code(ans, code);
}

static int tag_equals(const char *tag, const char *etag)
{
    return tag[0] && etag && strcmp(tag, etag) == 0;
}

static void decide_fresh(const h_cache_request *req, const char *tag, h_cache_answer *ans)
{
    answer(ans, tag_equals(tag, req->entry.etag) ? 304 : 200, H_CACHE_REVALIDATED_NOT_MODIFIED,
           H_CACHE_SERVE_OLD, MED_R_H_CFG_CACHE_HIT_FRESH);
}

static void decide_resolved(const h_cache_request *req, const char *tag, h_cache_answer *ans)
{
    int status = tag_equals(tag, req->new_etag) ? 304 : 200;
    if (!entry_usable(&req->entry))
        answer(ans, status, H_CACHE_MISS, H_CACHE_SERVE_NEW, MED_R_H_CFG_CACHE_MISS);
    else if (strcmp(req->entry.etag, req->new_etag) == 0)
        answer(ans, status, H_CACHE_REVALIDATED_NOT_MODIFIED, H_CACHE_SERVE_NEW,
               MED_R_H_CFG_CACHE_REVALIDATED_NOT_MODIFIED);
    else
        answer(ans, status, H_CACHE_REVALIDATED_CHANGED, H_CACHE_SERVE_NEW,
               MED_R_H_CFG_CACHE_REVALIDATED_CHANGED);
}

static void decide_failed(const h_cache_request *req, h_cache_answer *ans)
{
    if (entry_usable(&req->entry) &&
        h_cache_freshness_at(req->entry.expire_at_ms, req->now_ms) == H_CACHE_STALE_GRACE)
        answer(ans, 200, H_CACHE_STALE_SERVED, H_CACHE_SERVE_OLD,
               MED_R_H_CFG_CACHE_STALE_GRACE_SERVED);
    else
        answer(ans, 503, H_CACHE_NO_DECISION, H_CACHE_SERVE_NONE,
               MED_R_H_CFG_CACHE_EXPIRED_REVALIDATE_FAILED);
}

med_rc h_cache_decide(const h_cache_request *req, h_cache_answer *ans, med_err *err)
{
    memset(ans, 0, sizeof *ans);
    char tag[H_CACHE_TAG_MAX];
    med_err tag_err;
    if (h_cache_parse_if_none_match(req->if_none_match, tag, sizeof tag, &tag_err) != MED_OK)
        add_code(ans, MED_R_H_CFG_CACHE_INVALID_ETAG_FORMAT);
    if (!h_cache_needs_resolve(&req->entry, req->now_ms)) {
        decide_fresh(req, tag, ans);
        return MED_OK;
    }
    if (req->resolve == H_CACHE_RESOLVE_OK && req->new_etag && req->new_etag[0]) {
        decide_resolved(req, tag, ans);
        return MED_OK;
    }
    if (req->resolve == H_CACHE_RESOLVE_FAILED) {
        decide_failed(req, ans);
        return MED_OK;
    }
    memset(ans, 0, sizeof *ans);
    return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_CACHE_EXPIRED_REVALIDATE_FAILED, "",
                       "the entry is not fresh and no resolution outcome was given");
}
