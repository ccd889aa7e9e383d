#include "fake_rtb.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = { "fill", "nobid", "delay", "error", "garbage", "oversized" };

int fake_kind_parse(const char *s, fake_kind *out)
{
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++) {
        if (strcmp(s, kind_names[i]) == 0) {
            *out = (fake_kind)i;
            return 0;
        }
    }
    return -1;
}

const char *fake_kind_name(fake_kind k)
{
    return (size_t)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "unknown";
}

static int parse_param(char *kv, fake_behavior *b)
{
    char *eq = strchr(kv, '=');
    if (!eq) return -1;
    *eq = '\0';
    const char *k = kv, *v = eq + 1;
    char *end = NULL;
    if (strcmp(k, "price") == 0) {
        b->price = strtod(v, &end);
        return (*end || b->price < 0) ? -1 : 0;
    }
    if (strcmp(k, "ms") == 0) {
        long ms = strtol(v, &end, 10);
        if (*end || ms < 0 || ms > 600000) return -1;
        b->delay_ms = (int)ms;
        return 0;
    }
    if (strcmp(k, "bytes") == 0) {
        long long n = strtoll(v, &end, 10);
        if (*end || n <= 0 || n > 64LL * 1024 * 1024) return -1;
        b->oversized_bytes = (size_t)n;
        return 0;
    }
    return -1;
}

int fake_behavior_parse(const char *spec, const fake_behavior *base, fake_behavior *out)
{
    char buf[256];
    if (!spec || strlen(spec) >= sizeof buf) return -1;
    snprintf(buf, sizeof buf, "%s", spec);
    fake_behavior b = *base;
    char *save = NULL;
    char *tok = strtok_r(buf, ";", &save);
    if (!tok || fake_kind_parse(tok, &b.kind) != 0) return -1;
    while ((tok = strtok_r(NULL, ";", &save)))
        if (parse_param(tok, &b) != 0) return -1;
    *out = b;
    return 0;
}

static int set_body(fake_answer *out, int status, char *body)
{
    out->status = status;
    out->body = body;
    out->len = body ? strlen(body) : 0;
    return body || status == 204 ? 0 : -1;
}

/* OpenRTB Native 1.2 response markup: what a chat-inline card renders. */
#define FAKE_NATIVE_ADM                                                                      \
    "{\"native\":{\"ver\":\"1.2\",\"assets\":[{\"id\":1,\"title\":{\"text\":\"Fake advertiser\"}}," \
    "{\"id\":2,\"img\":{\"url\":\"https://cdn.advertiser.example/ad.png\",\"w\":1200,\"h\":627}}]," \
    "\"link\":{\"url\":\"https://advertiser.example/landing\"}}}"

static char *bid_response(const char *req_id, const char *imp_id, double price, const char *seat)
{
    json_t *bid = json_pack("{s:s, s:s, s:f, s:s, s:s, s:s, s:[s], s:i, s:i}",
                            "id", "bid-1", "impid", imp_id, "price", price, "adid", "ad-1",
                            "crid", "cr-1",
                            "adm", FAKE_NATIVE_ADM,
                            "adomain", "advertiser.example", "w", 320, "h", 50);
    json_t *resp = json_pack("{s:s, s:[{s:[o], s:s}], s:s}", "id", req_id, "seatbid", "bid",
                             bid, "seat", seat, "cur", "USD");
    if (!resp) return NULL;
    char *s = json_dumps(resp, JSON_COMPACT);
    json_decref(resp);
    return s;
}

static char *oversized_body(size_t n)
{
    char *s = malloc(n + 1);
    if (!s) return NULL;
    /* Valid JSON all the way, so only the size is wrong. */
    memset(s, ' ', n);
    s[0] = '{';
    s[n - 1] = '}';
    s[n] = '\0';
    return s;
}

int fake_answer_build(const char *req, size_t req_len, const fake_behavior *b,
                      const char *seat, fake_answer *out)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *j = json_loadb(req, req_len, 0, &jerr);
    json_t *imps = j ? json_object_get(j, "imp") : NULL;
    json_t *imp0 = json_is_array(imps) ? json_array_get(imps, 0) : NULL;
    const char *req_id = j ? json_string_value(json_object_get(j, "id")) : NULL;
    const char *imp_id = imp0 ? json_string_value(json_object_get(imp0, "id")) : NULL;
    int rc;
    if (!req_id || !imp_id) {
        rc = set_body(out, 400, strdup("{\"error\":\"not an OpenRTB bid request\"}"));
    } else {
        switch (b->kind) {
        case FAKE_NOBID: rc = set_body(out, 204, NULL); break;
        case FAKE_ERROR: rc = set_body(out, 500, strdup("{\"error\":\"internal\"}")); break;
        case FAKE_GARBAGE: rc = set_body(out, 200, strdup("{\"seatbid\": [ {\"bid\": oops")); break;
        case FAKE_OVERSIZED: rc = set_body(out, 200, oversized_body(b->oversized_bytes)); break;
        case FAKE_DELAY:
            out->delay_ms = b->delay_ms; /* a late fill */
            __attribute__((fallthrough));
        case FAKE_FILL:
        default:
            rc = set_body(out, 200, bid_response(req_id, imp_id, b->price, seat));
        }
    }
    json_decref(j);
    return rc;
}

void fake_answer_free(fake_answer *a)
{
    free(a->body);
    memset(a, 0, sizeof *a);
}
