/* D.3 house: the creatives of route_policy.houseAds, answered without I/O,
 * shaped as OpenRTB bids so D.5 normalizes them like any other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "d_adapter.h"
#include "d_registry.h"

static const char *const house_caps[] = { "request_adapt", "candidate_normalize",
                                          "error_normalize", "source_trace" };

static med_rc house_adapt(const d_adapt_in *in, char **payload, size_t *len, med_err *err)
{
    (void)in;
    (void)err;
    *payload = NULL;
    *len = 0;
    return MED_OK;
}

static int matches_placement(const json_t *ad, const char *placement_type)
{
    const json_t *pts = json_object_get(ad, "placementTypes");
    if (!pts) return 1;
    size_t i;
    json_t *v;
    json_array_foreach(pts, i, v)
        if (json_is_string(v) && placement_type && !strcmp(json_string_value(v), placement_type))
            return 1;
    return 0;
}

/* Native markup (JSON text): the creative's display fields. */
static json_t *house_markup(const json_t *ad)
{
    json_t *m = json_object();
    const char *keys[] = { "title", "clickUrl", "imageUrl" };
    for (size_t i = 0; m && i < 3; i++) {
        json_t *v = json_object_get(ad, keys[i]);
        if (json_is_string(v)) json_object_set(m, keys[i], v);
    }
    char *text = m ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (m) json_decref(m);
    json_t *s = text ? json_string(text) : NULL;
    free(text);
    return s;
}

json_t *d_adapter_creative_bid(const json_t *ad, double price, const char *currency)
{
    const char *id = json_string_value(json_object_get(ad, "creativeId"));
    const char *landing = json_string_value(json_object_get(ad, "landingType"));
    json_t *bid = json_pack("{s:s?, s:f, s:s?, s:s, s:{s:s}}", "id", id, "price",
                            price, "crid", id,
                            "cur", currency, "ext", "landing_type",
                            landing ? landing : "external");
    if (!bid) return NULL;
    json_t *adm = house_markup(ad);
    if (adm) json_object_set_new(bid, "adm", adm);
    const char *keys[] = { "adomain", "cat" };
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(ad, keys[i]);
        if (json_is_array(v)) json_object_set(bid, keys[i], v);
    }
    return bid;
}

static double bid_value(const json_t *ad)
{
    const json_t *val = json_object_get(ad, "bidValue");
    return json_is_number(val) ? json_number_value(val) : 0.0;
}

static void house_respond(const d_adapt_in *in, d_response *resp, d_parsed *out)
{
    (void)resp;   /* a local answer as preset */
    memset(out, 0, sizeof *out);
    snprintf(out->cur, sizeof out->cur, "%s", in->reg->settlement_currency);
    out->bids = json_array();
    size_t i;
    json_t *ad;
    json_array_foreach(in->reg->house_ads, i, ad) {
        if (!json_is_object(ad) || !matches_placement(ad, in->placement_type)) continue;
        json_t *bid = d_adapter_creative_bid(ad, bid_value(ad), in->reg->settlement_currency);
        if (bid && out->bids) json_array_append_new(out->bids, bid);
        else if (bid) json_decref(bid);
    }
    out->kind = json_array_size(out->bids) ? D_PARSE_BIDS : D_PARSE_NO_BID;
    if (out->kind == D_PARSE_NO_BID) d_parsed_clear(out);
}

const d_adapter d_adapter_house = {
    .name = "house",
    .needs_network = 0,
    .capabilities = house_caps,
    .n_capabilities = sizeof house_caps / sizeof house_caps[0],
    .adapt_request = house_adapt,
    .parse_response = NULL,
    .respond_local = house_respond,
};
