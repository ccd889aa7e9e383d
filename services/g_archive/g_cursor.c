#include "g_cursor.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "g_replay_time.h"
#include "med/b64url.h"
#include "med/jcs.h"
#include "med/reason.h"

static int str_cmp(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

int g_sort_key_cmp(const g_sort_key *a, const g_sort_key *b, int desc)
{
    if (a->sort_ms != b->sort_ms) {
        int asc = a->sort_ms < b->sort_ms ? -1 : 1;
        return desc ? -asc : asc;
    }
    int c = str_cmp(a->trace_key, b->trace_key);
    if (!c) c = str_cmp(a->request_key, b->request_key);
    if (!c) c = str_cmp(a->attempt_key, b->attempt_key);
    if (!c) c = str_cmp(a->audit_record_id, b->audit_record_id);
    return c;
}

char *g_cursor_encode(const char *query_hash, int64_t cut_ms, const g_sort_key *last)
{
    char cut[G_TIME_TEXT_CAP], sv[G_TIME_TEXT_CAP];
    g_time_format(cut_ms, cut);
    g_time_format(last->sort_ms, sv);
    json_t *o = json_pack("{s:i, s:s, s:s, s:[s, s, s, s, s]}", "v", 1, "queryHash", query_hash,
                          "resolvedReplayAsOfAt", cut, "after", sv, last->trace_key ? last->trace_key : "",
                          last->request_key ? last->request_key : "",
                          last->attempt_key ? last->attempt_key : "",
                          last->audit_record_id ? last->audit_record_id : "");
    char *text = NULL, *out = NULL;
    size_t len = 0;
    med_err e;
    if (o && med_jcs_serialize(o, &text, &len, &e) == MED_OK) {
        size_t cap = med_b64url_encoded_len(len) + 1;
        out = malloc(cap);
        if (out && med_b64url_encode((const uint8_t *)text, len, out, cap) < 0) {
            free(out);
            out = NULL;
        }
    }
    free(text);
    json_decref(o);
    return out;
}

static med_rc bad(med_err *err, const char *why)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_G_REPLAY_INVALID_CURSOR, "cursor", "%s", why);
}

static json_t *decode_json(const char *text)
{
    size_t n = strlen(text);
    uint8_t *buf = malloc(med_b64url_decoded_max(n) + 1);
    if (!buf) return NULL;
    long got = n ? med_b64url_decode(text, n, buf, med_b64url_decoded_max(n) + 1) : -1;
    json_t *j = NULL;
    if (got > 0) {
        json_error_t je;
        j = json_loadb((const char *)buf, (size_t)got, JSON_REJECT_DUPLICATES, &je);
    }
    free(buf);
    return j;
}

static char *dup_str(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? strdup(s) : NULL;
}

static med_rc read_after(const json_t *after, g_cursor *out, med_err *err)
{
    if (!json_is_array(after) || json_array_size(after) != 5) return bad(err, "after is not 5 values");
    for (size_t i = 0; i < 5; i++)
        if (!json_is_string(json_array_get(after, i))) return bad(err, "after holds a non-string");
    if (g_time_parse(json_string_value(json_array_get(after, 0)), &out->after.sort_ms))
        return bad(err, "after[0] is not a time");
    char **dst[4] = {(char **)&out->after.trace_key, (char **)&out->after.request_key,
                     (char **)&out->after.attempt_key, (char **)&out->after.audit_record_id};
    for (size_t i = 0; i < 4; i++)
        if (!(*dst[i] = dup_str(json_array_get(after, i + 1))))
            return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "cursor");
    return MED_OK;
}

static med_rc read_fields(const json_t *j, g_cursor *out, med_err *err)
{
    if (!json_is_object(j) || json_object_size(j) != 4) return bad(err, "cursor is not the cursor object");
    const json_t *v = json_object_get(j, "v");
    if (!json_is_integer(v) || json_integer_value(v) != 1) return bad(err, "unknown cursor version");
    const char *h = json_string_value(json_object_get(j, "queryHash"));
    if (!h || strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64) return bad(err, "bad queryHash");
    memcpy(out->query_hash, h, 65);
    if (g_time_parse(json_string_value(json_object_get(j, "resolvedReplayAsOfAt")), &out->cut_ms))
        return bad(err, "bad resolvedReplayAsOfAt");
    return read_after(json_object_get(j, "after"), out, err);
}

med_rc g_cursor_decode(const char *text, g_cursor *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *j = text ? decode_json(text) : NULL;
    if (!j) return bad(err, "cursor is not base64url JSON");
    med_rc rc = read_fields(j, out, err);
    json_decref(j);
    if (rc != MED_OK) g_cursor_free(out);
    return rc;
}

void g_cursor_free(g_cursor *c)
{
    if (!c) return;
    free((char *)c->after.trace_key);
    free((char *)c->after.request_key);
    free((char *)c->after.attempt_key);
    free((char *)c->after.audit_record_id);
    memset(&c->after, 0, sizeof c->after);
}
