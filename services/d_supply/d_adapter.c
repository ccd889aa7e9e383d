#include "d_adapter.h"

const char *const d_required_capabilities[4] = { "request_adapt", "candidate_normalize",
                                                 "error_normalize", "source_trace" };

const d_adapter *d_adapter_get(d_adapter_kind kind)
{
    switch (kind) {
    case D_ADAPTER_OPENRTB26_HTTP: return &d_adapter_openrtb26;
    case D_ADAPTER_HOUSE: return &d_adapter_house;
    case D_ADAPTER_SIMULATED: return &d_adapter_simulated;
    default: return NULL;
    }
}

d_adapter_kind d_adapter_kind_for(d_source_type type)
{
    switch (type) {
    case D_SRC_ALLIANCE: return D_ADAPTER_OPENRTB26_HTTP;
    case D_SRC_HOUSE: return D_ADAPTER_HOUSE;
    case D_SRC_SIMULATED: return D_ADAPTER_SIMULATED;
    default: return D_ADAPTER_NONE;
    }
}

void d_parsed_clear(d_parsed *p)
{
    if (p->bids) json_decref(p->bids);
    p->bids = NULL;
}
