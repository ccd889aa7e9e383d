/* D.3 openrtb26_http: the BidRequest a source receives and how its
 * BidResponse is read. The HTTP exchange itself is d_http.c. */
#include <string.h>
#include "d_adapter.h"
#include "d_registry.h"
#include "med/reason.h"

static const char *const openrtb_caps[] = { "request_adapt", "candidate_normalize",
                                            "error_normalize", "source_trace" };

static json_t *str_array(const d_str_list *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && l && i < l->n; i++) json_array_append_new(a, json_string(l->items[i]));
    return a;
}

static int disallowed(const d_adapt_in *in, const char *mode)
{
    const d_str_list *l = in->constraints ? &in->constraints->disallow_render_modes : NULL;
    for (size_t i = 0; l && i < l->n; i++)
        if (!strcmp(l->items[i], mode)) return 1;
    return 0;
}

/* imp[0]: the placement's format, never one needing a disallowed render
 * mode. NULL when nothing can be offered. */
static json_t *build_imp(const d_adapt_in *in)
{
    const char *pt = in->placement_type;
    json_t *imp = json_pack("{s:s, s:s}", "id", "1", "tagid", in->placement_key);
    if (!imp) return NULL;
    int offered = 0;
    if ((strstr(pt, "video") || strstr(pt, "rewarded")) && !disallowed(in, "video_vast_container")) {
        json_object_set_new(imp, "video", json_pack("{s:[s], s:[i,i]}", "mimes", "video/mp4",
                                                    "protocols", 2, 3));
        offered = 1;
    } else if (strstr(pt, "banner") && !disallowed(in, "webview")) {
        json_object_set_new(imp, "banner", json_pack("{s:i, s:i}", "w", 320, "h", 50));
        offered = 1;
    } else if (!strstr(pt, "video") && !strstr(pt, "banner") && !strstr(pt, "rewarded")) {
        json_object_set_new(imp, "native", json_pack("{s:s, s:s}", "ver", "1.2", "request",
                                                     "{\"ver\":\"1.2\",\"assets\":[]}"));
        offered = 1;
    }
    if (!offered) {
        json_decref(imp);
        return NULL;
    }
    return imp;
}

static int adapt_inputs_complete(const d_adapt_in *in)
{
    return in->source_request_id && in->source_request_id[0] && in->opportunity_key &&
           in->opportunity_key[0] && in->placement_key && in->placement_key[0] &&
           in->placement_type && in->placement_type[0] && in->timeout_budget_ms > 0 && in->reg;
}

static json_t *build_request(const d_adapt_in *in, json_t *imp)
{
    const d_constraints *c = in->constraints;
    json_t *req = json_pack("{s:s, s:I, s:i, s:[s], s:{s:s}, s:[o], s:o, s:o}",
                            "id", in->source_request_id, "tmax",
                            (json_int_t)in->timeout_budget_ms, "at", 1, "cur",
                            in->reg->settlement_currency, "source", "tid", in->opportunity_key,
                            "imp", imp, "bcat", str_array(c ? &c->bcat : NULL), "badv",
                            str_array(c ? &c->badv : NULL));
    if (!req) return NULL;
    json_t *app = json_object();
    if (app && in->app_id && in->app_id[0]) json_object_set_new(app, "id", json_string(in->app_id));
    json_object_set_new(req, "app", app ? app : json_object());
    /* Only non-identifying device data: identifiers never reach D. */
    json_t *device = json_object();
    if (device && in->language && in->language[0])
        json_object_set_new(device, "language", json_string(in->language));
    json_object_set_new(req, "device", device ? device : json_object());
    if (c && c->non_personalized_only)
        json_object_set_new(req, "regs", json_pack("{s:{s:i}}", "ext", "non_personalized", 1));
    return req;
}

static med_rc openrtb_adapt(const d_adapt_in *in, char **payload, size_t *len, med_err *err)
{
    *payload = NULL;
    *len = 0;
    if (!adapt_inputs_complete(in))
        return med_err_set(err, MED_ERR_INVALID, MED_R_D_ADAPTER_REQUEST_ADAPT_CONTRACT_INVALID,
                           NULL, "a canonical field of the source request is missing");
    json_t *imp = build_imp(in);
    if (!imp)
        return med_err_set(err, MED_ERR_INVALID, MED_R_D_ADAPTER_REQUEST_ADAPT_CONTRACT_INVALID,
                           "imp", "no format allowed for placement type %s", in->placement_type);
    json_t *req = build_request(in, imp);
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    if (req) json_decref(req);
    if (!text)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_D_ADAPTER_REQUEST_ADAPT_CONTRACT_INVALID,
                           NULL, "ENOMEM");
    *payload = text;
    *len = strlen(text);
    return MED_OK;
}

/* seatbid[].bid[] flattened into out->bids; -1 when the shape is wrong. */
static int collect_bids(const json_t *seatbid, d_parsed *out)
{
    if (!json_is_array(seatbid)) return -1;
    out->bids = json_array();
    if (!out->bids) return -1;
    size_t i, j;
    json_t *seat, *bid;
    json_array_foreach(seatbid, i, seat) {
        const json_t *bids = json_object_get(seat, "bid");
        if (!json_is_object(seat) || !json_is_array(bids)) return -1;
        json_array_foreach(bids, j, bid) {
            if (!json_is_object(bid)) return -1;
            json_array_append(out->bids, bid);
        }
    }
    return 0;
}

static void parse_body(const d_adapt_in *in, const d_response *resp, d_parsed *out)
{
    json_error_t jerr;
    json_t *root = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, &jerr);
    const char *id = json_string_value(json_object_get(root, "id"));
    if (!json_is_object(root) || !id) {
        out->kind = D_PARSE_MALFORMED;
    } else if (strcmp(id, in->source_request_id) != 0) {
        out->kind = D_PARSE_ID_MISMATCH;
    } else {
        const json_t *nbr = json_object_get(root, "nbr");
        out->has_nbr = json_is_integer(nbr);
        out->nbr = out->has_nbr ? (int)json_integer_value(nbr) : 0;
        const char *cur = json_string_value(json_object_get(root, "cur"));
        if (cur) snprintf(out->cur, sizeof out->cur, "%s", cur);
        const json_t *seatbid = json_object_get(root, "seatbid");
        if (seatbid && collect_bids(seatbid, out) != 0) out->kind = D_PARSE_MALFORMED;
        else out->kind = json_array_size(out->bids) ? D_PARSE_BIDS : D_PARSE_NO_BID;
        if (out->kind != D_PARSE_BIDS) d_parsed_clear(out);
    }
    if (root) json_decref(root);
}

static void openrtb_parse(const d_adapt_in *in, const d_response *resp, d_parsed *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->cur, sizeof out->cur, "USD");
    if (resp->http_status == 204) out->kind = D_PARSE_NO_BID;
    else if (resp->http_status != 200) out->kind = D_PARSE_HTTP_ERROR;
    else parse_body(in, resp, out);
}

const d_adapter d_adapter_openrtb26 = {
    .name = "openrtb26_http",
    .needs_network = 1,
    .capabilities = openrtb_caps,
    .n_capabilities = sizeof openrtb_caps / sizeof openrtb_caps[0],
    .adapt_request = openrtb_adapt,
    .parse_response = openrtb_parse,
    .respond_local = NULL,
};
