/* The F.3 tables, as data. */
#include "f_dict.h"

#include <string.h>

static const char *const type_names[] = {
    [F_T_UNKNOWN] = "",
    [F_T_OPPORTUNITY_CREATED] = "opportunity_created",
    [F_T_AUCTION_STARTED] = "auction_started",
    [F_T_AD_FILLED] = "ad_filled",
    [F_T_IMPRESSION] = "impression",
    [F_T_CLICK] = "click",
    [F_T_INTERACTION] = "interaction",
    [F_T_POSTBACK] = "postback",
    [F_T_ERROR] = "error",
    [F_T_FAILURE] = "failure",
};

f_event_type f_event_type_of(const char *name)
{
    if (!name || !name[0]) return F_T_UNKNOWN;
    for (int t = F_T_OPPORTUNITY_CREATED; t <= F_T_FAILURE; t++)
        if (strcmp(name, type_names[t]) == 0) return (f_event_type)t;
    return F_T_UNKNOWN;
}

const char *f_event_type_name(f_event_type t)
{
    return t <= F_T_FAILURE ? type_names[t] : "";
}

int f_type_needs_response_reference(f_event_type t)
{
    return t != F_T_OPPORTUNITY_CREATED && t != F_T_AUCTION_STARTED;
}

int f_type_has_seq(f_event_type t)
{
    return t == F_T_CLICK || t == F_T_INTERACTION || t == F_T_POSTBACK;
}

f_layer f_type_layer(f_event_type t)
{
    switch (t) {
    case F_T_IMPRESSION:
    case F_T_CLICK:
    case F_T_POSTBACK:
    case F_T_FAILURE:
        return F_LAYER_BILLING;
    default:
        return F_LAYER_DIAGNOSTICS;
    }
}

int f_event_is_terminal_error(const Mediation__V1__SdkEvent *ev)
{
    return ev->event_type && strcmp(ev->event_type, "error") == 0 && ev->error_class_opt_case &&
           ev->error_class && strcmp(ev->error_class, "terminal") == 0;
}

static const char *const se_json[F_SE_COUNT] = {
    "auctionChannel", "interactionType", "postbackType",
    "postbackStatus", "errorStage",      "errorClass",
};

static const char *const *const se_values[F_SE_COUNT] = {
    (const char *const[]){"waterfall", "bidding", "hybrid", NULL},
    (const char *const[]){"expand", "collapse", "dismiss", "close", "engage", NULL},
    (const char *const[]){"conversion", "install", "purchase", "signup", NULL},
    (const char *const[]){"pending", "success", "failed", NULL},
    (const char *const[]){"compose", "render", "event_pipeline", "network", NULL},
    (const char *const[]){"terminal", "non_terminal", NULL},
};

const char *f_subenum_json_name(f_subenum f)
{
    return f < F_SE_COUNT ? se_json[f] : "";
}

int f_subenum_known(f_subenum f, const char *value)
{
    if (f >= F_SE_COUNT || !value) return 0;
    for (const char *const *v = se_values[f]; *v; v++)
        if (strcmp(*v, value) == 0) return 1;
    return 0;
}
