#include "d_registry.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "d_adapter.h"
#include "d_names.h"
#include "d_strlist.h"
#include "med/reason.h"

static int source_id_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 64) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* "network" is the demo config's spelling of an alliance source. */
static int source_type_parse(const char *s, d_source_type *out)
{
    if (!s) return -1;
    if (!strcmp(s, "alliance") || !strcmp(s, "network")) *out = D_SRC_ALLIANCE;
    else if (!strcmp(s, "house")) *out = D_SRC_HOUSE;
    else if (!strcmp(s, "simulated_inventory")) *out = D_SRC_SIMULATED;
    else return -1;
    return 0;
}

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int reason_given(const char *s)
{
    return s && s[0] && strcmp(s, "NA") != 0;
}

/* routingAttributes; `priority` (a rank, 1 first) stands in for
 * sourcePriorityScore when the score is absent. */
static int parse_routing(const json_t *ra, d_source *s)
{
    s->route_tier = D_TIER_PRIMARY;
    if (!ra) return 0;
    if (!json_is_object(ra)) return -1;
    const json_t *tier = json_object_get(ra, "routeTier");
    if (tier && d_tier_parse(json_string_value(tier), &s->route_tier) != 0) return -1;
    const json_t *score = json_object_get(ra, "sourcePriorityScore");
    const json_t *rank = json_object_get(ra, "priority");
    if (score && !json_is_number(score)) return -1;
    if (score) s->priority_score = json_number_value(score);
    else if (json_is_number(rank)) s->priority_score = -json_number_value(rank);
    const json_t *rate = json_object_get(ra, "historicalSuccessRate");
    if (rate && !json_is_number(rate)) return -1;
    if (rate) s->success_rate = json_number_value(rate);
    const json_t *p95 = json_object_get(ra, "p95LatencyMs");
    if (p95 && !json_is_integer(p95)) return -1;
    if (p95) { s->has_p95 = 1; s->p95_latency_ms = json_integer_value(p95); }
    const json_t *cost = json_object_get(ra, "costWeight");
    if (cost && !json_is_number(cost)) return -1;
    if (cost) { s->has_cost = 1; s->cost_weight = json_number_value(cost); }
    return isfinite(s->priority_score) && isfinite(s->success_rate) ? 0 : -1;
}

/* Check 1: every field has its type and enum value. */
static const char *check_fields(const json_t *e, d_source *s)
{
    const char *id = str_of(e, "sourceId");
    if (!json_is_object(e) || !source_id_valid(id)) return MED_R_D_ADAPTER_REGISTRY_ENTRY_INVALID;
    d_copy_str(s->source_id, sizeof s->source_id, id);
    const char *adapter_id = str_of(e, "adapterId");
    if (!adapter_id || !adapter_id[0]) return MED_R_D_ADAPTER_REGISTRY_ENTRY_INVALID;
    d_copy_str(s->adapter_id, sizeof s->adapter_id, adapter_id);
    if (source_type_parse(str_of(e, "sourceType"), &s->type) != 0 ||
        d_status_parse(str_of(e, "status"), &s->status) != 0)
        return MED_R_D_ADAPTER_REGISTRY_ENTRY_INVALID;
    const char *reason = str_of(e, "statusReasonCode");
    d_copy_str(s->status_reason_code, sizeof s->status_reason_code, reason ? reason : "NA");
    const json_t *tmo = json_object_get(e, "timeoutPolicyMs");
    if (!json_is_integer(tmo) || json_integer_value(tmo) < 1)
        return MED_R_D_ADAPTER_REGISTRY_ENTRY_INVALID;
    s->timeout_policy_ms = json_integer_value(tmo);
    const char *ep = str_of(e, "endpoint");
    if (s->type == D_SRC_ALLIANCE &&
        (!ep || (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)) ||
         strlen(ep) >= sizeof s->endpoint))
        return MED_R_D_ADAPTER_REGISTRY_ENTRY_INVALID;
    d_copy_str(s->endpoint, sizeof s->endpoint, ep);
    const json_t *ra = json_object_get(e, "routingAttributes");
    if (parse_routing(ra, s) != 0) return MED_R_D_ADAPTER_REGISTRY_ENTRY_INVALID;
    if (s->type == D_SRC_SIMULATED && d_simulated_parse(ra, s) != 0)
        return MED_R_D_ADAPTER_REGISTRY_ENTRY_INVALID;
    if (s->status != D_ST_ACTIVE && !reason_given(reason))
        return MED_R_D_ADAPTER_STATUS_REASON_REQUIRED;
    return NULL;
}

static int declares(const json_t *caps, const char *cap)
{
    size_t i;
    json_t *v;
    json_array_foreach(caps, i, v)
        if (json_is_string(v) && !strcmp(json_string_value(v), cap)) return 1;
    return 0;
}

/* Check 2. An entry without supportedCapabilities takes what its adapter
 * declares (describe); an explicit list must name all four. */
static const char *check_capabilities(const json_t *e)
{
    const json_t *caps = json_object_get(e, "supportedCapabilities");
    if (!caps) return NULL;
    if (!json_is_array(caps)) return MED_R_D_ADAPTER_REGISTRY_ENTRY_INVALID;
    for (size_t i = 0; i < 4; i++)
        if (!declares(caps, d_required_capabilities[i]))
            return MED_R_D_ADAPTER_MIN_CAPABILITY_MISSING;
    return NULL;
}

/* Check 3. */
static const char *check_placements(const json_t *e, d_source *s)
{
    const json_t *pts = json_object_get(e, "supportedPlacementTypes");
    size_t i;
    json_t *v;
    json_array_foreach(pts, i, v) {
        if (!json_is_string(v) || s->n_placement_types >= D_MAX_PLACEMENT_TYPES) continue;
        d_copy_str(s->placement_types[s->n_placement_types++], D_ID_MAX, json_string_value(v));
    }
    return s->n_placement_types > 0 ? NULL : MED_R_D_ADAPTER_SUPPORTED_PLACEMENT_EMPTY;
}

/* Check 5: an implementation for the source type, and the one contract
 * version it implements. */
static const char *check_contract(const json_t *e, d_source *s)
{
    d_adapter_kind kind = d_adapter_kind_for(s->type);
    if (kind == D_ADAPTER_NONE) return MED_R_D_ADAPTER_CONTRACT_METHOD_MISSING;
    const char *acv = str_of(e, "adapterContractVersion");
    if (acv && strcmp(acv, D_ADAPTER_CONTRACT_VERSION) != 0)
        return MED_R_D_ADAPTER_CONTRACT_METHOD_MISSING;
    d_copy_str(s->adapter_contract_version, sizeof s->adapter_contract_version,
             D_ADAPTER_CONTRACT_VERSION);
    const char *cpv = str_of(e, "capabilityProfileVersion");
    d_copy_str(s->capability_profile_version, sizeof s->capability_profile_version,
             cpv ? cpv : "NA");
    s->adapter_kind = (int)kind;
    return NULL;
}

static void add_issue(d_registry *reg, int index, const char *id, const char *code)
{
    if (reg->n_issues >= (int)(sizeof reg->issues / sizeof reg->issues[0])) return;
    d_registry_issue *is = &reg->issues[reg->n_issues++];
    is->index = index;
    d_copy_str(is->source_id, sizeof is->source_id, id);
    d_copy_str(is->code, sizeof is->code, code);
}

/* The simulated adapter reads its creative from here when it answers. */
static int keep_simulated(d_registry *reg, const d_source *s, const json_t *e)
{
    if (!reg->simulated && !(reg->simulated = json_object())) return -1;
    return json_object_set(reg->simulated, s->source_id, json_object_get(e, "routingAttributes"));
}

static int register_entry(d_registry *reg, const json_t *e, int index)
{
    d_source s;
    memset(&s, 0, sizeof s);
    const char *code = check_fields(e, &s);
    if (!code) code = check_capabilities(e);
    if (!code) code = check_placements(e, &s);
    if (!code && d_registry_find(reg, s.source_id) >= 0) code = MED_R_D_ADAPTER_SOURCE_ID_DUPLICATE;
    if (!code) code = check_contract(e, &s);
    if (!code && reg->n_sources >= D_MAX_SOURCES) code = MED_R_D_ADAPTER_REGISTRY_ENTRY_INVALID;
    if (code) {
        add_issue(reg, index, s.source_id, code);
        /* A duplicate's ID stays registered (the first entry wins). */
        int keep = s.source_id[0] && strcmp(code, MED_R_D_ADAPTER_SOURCE_ID_DUPLICATE) != 0;
        return keep ? d_strlist_add(&reg->rejected_ids, s.source_id) : 0;
    }
    if (s.type == D_SRC_SIMULATED && keep_simulated(reg, &s, e) != 0) return -1;
    reg->sources[reg->n_sources++] = s;
    add_issue(reg, index, s.source_id, MED_R_D_ADAPTER_REGISTERED);
    return 0;
}

static int has_house_source(const d_registry *reg)
{
    for (int i = 0; i < reg->n_sources; i++)
        if (reg->sources[i].type == D_SRC_HOUSE) return 1;
    return 0;
}

/* The built-in house source: fallback tier, below every configured
 * priority, supporting the placement types its creatives name. */
static void add_builtin_house(d_registry *reg)
{
    if (!json_array_size(reg->house_ads) || has_house_source(reg) ||
        reg->n_sources >= D_MAX_SOURCES || d_registry_find(reg, D_HOUSE_SOURCE_ID) >= 0)
        return;
    d_source s;
    memset(&s, 0, sizeof s);
    d_copy_str(s.source_id, sizeof s.source_id, D_HOUSE_SOURCE_ID);
    d_copy_str(s.adapter_id, sizeof s.adapter_id, "house");
    s.type = D_SRC_HOUSE;
    s.status = D_ST_ACTIVE;
    d_copy_str(s.status_reason_code, sizeof s.status_reason_code, "NA");
    d_copy_str(s.adapter_contract_version, sizeof s.adapter_contract_version,
             D_ADAPTER_CONTRACT_VERSION);
    d_copy_str(s.capability_profile_version, sizeof s.capability_profile_version, "NA");
    s.timeout_policy_ms = D_HOUSE_TIMEOUT_MS;
    s.route_tier = D_TIER_FALLBACK;
    s.priority_score = -1e9;
    s.adapter_kind = D_ADAPTER_HOUSE;
    size_t i, j;
    json_t *ad, *pt;
    json_array_foreach(reg->house_ads, i, ad)
        json_array_foreach(json_object_get(ad, "placementTypes"), j, pt) {
            int seen = !json_is_string(pt) || d_source_supports(&s, json_string_value(pt));
            if (seen || s.n_placement_types >= D_MAX_PLACEMENT_TYPES) continue;
            d_copy_str(s.placement_types[s.n_placement_types++], D_ID_MAX, json_string_value(pt));
        }
    if (s.n_placement_types == 0) return;
    reg->sources[reg->n_sources++] = s;
    add_issue(reg, -1, s.source_id, MED_R_D_ADAPTER_REGISTERED);
}

med_rc d_registry_build(const json_t *rp, d_registry *reg, med_err *err)
{
    memset(reg, 0, sizeof *reg);
    const json_t *sources = json_object_get(rp, "sources");
    const json_t *house = json_object_get(rp, "houseAds");
    if (!json_is_object(rp) || (!json_array_size(sources) && !json_array_size(house)))
        return med_err_set(err, MED_ERR_INVALID, MED_R_D_INVALID_SUPPLY_CONTEXT, "sources",
                           "route_policy has no source configured");
    const char *ver = str_of(rp, "adapterRegistryVersion");
    d_copy_str(reg->registry_version, sizeof reg->registry_version, ver ? ver : "NA");
    const char *cur = str_of(rp, "settlementCurrency");
    d_copy_str(reg->settlement_currency, sizeof reg->settlement_currency,
             cur && strlen(cur) == 3 ? cur : "USD");
    if (json_is_array(house)) reg->house_ads = json_incref((json_t *)house);
    size_t i;
    json_t *e;
    json_array_foreach(sources, i, e)
        if (register_entry(reg, e, (int)i) != 0) {
            d_registry_clear(reg);
            return med_err_set(err, MED_ERR_NOMEM, MED_R_D_INVALID_SUPPLY_CONTEXT, NULL, "ENOMEM");
        }
    add_builtin_house(reg);
    return MED_OK;
}

void d_registry_clear(d_registry *reg)
{
    d_strlist_free(&reg->rejected_ids);
    if (reg->house_ads) json_decref(reg->house_ads);
    reg->house_ads = NULL;
    if (reg->simulated) json_decref(reg->simulated);
    reg->simulated = NULL;
}

int d_registry_find(const d_registry *reg, const char *source_id)
{
    for (int i = 0; i < reg->n_sources; i++)
        if (!strcmp(reg->sources[i].source_id, source_id)) return i;
    return -1;
}

int d_source_supports(const d_source *s, const char *placement_type)
{
    for (int i = 0; i < s->n_placement_types; i++)
        if (placement_type && !strcmp(s->placement_types[i], placement_type)) return 1;
    return 0;
}

const d_registry_issue *d_registry_issue_of(const d_registry *reg, const char *source_id)
{
    for (int i = 0; i < reg->n_issues; i++)
        if (!strcmp(reg->issues[i].source_id, source_id)) return &reg->issues[i];
    return NULL;
}
