#include "d_names.h"

#include <string.h>

static const char *const tier_names[] = { "primary", "secondary", "fallback", "none" };
static const char *const status_names[] = { "active", "paused", "draining", "disabled" };
static const char *const strategy_names[] = { "waterfall", "bidding", "hybrid" };
static const char *const fallback_names[] = { "on_no_fill_only", "on_no_fill_or_error",
                                              "disabled" };
static const char *const selection_names[] = { "all_except_blocked", "allowlist_only" };
static const char *const outcome_names[] = { "candidate", "no_fill", "timeout", "error" };
static const char *const action_names[] = { "retry_same_source", "fallback_next_source",
                                            "terminal" };
static const char *const transport_names[] = { "ok", "connect_timeout", "read_timeout",
                                               "deadline", "transient", "oversized",
                                               "circuit_open", "local" };

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? names[v] : "unknown";
}

static int parse_in(const char *const *names, size_t n, const char *s, int *out)
{
    if (!s) return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0) {
            *out = (int)i;
            return 0;
        }
    return -1;
}

const char *d_tier_name(d_tier t) { return name_of(tier_names, N_OF(tier_names), (int)t); }
const char *d_status_name(d_status s) { return name_of(status_names, N_OF(status_names), (int)s); }
const char *d_strategy_name(d_strategy s)
{
    return name_of(strategy_names, N_OF(strategy_names), (int)s);
}
const char *d_fallback_policy_name(d_fallback_policy p)
{
    return name_of(fallback_names, N_OF(fallback_names), (int)p);
}
const char *d_selection_mode_name(d_selection_mode m)
{
    return name_of(selection_names, N_OF(selection_names), (int)m);
}
const char *d_outcome_type_name(d_outcome_type t)
{
    return name_of(outcome_names, N_OF(outcome_names), (int)t);
}
const char *d_route_action_name(d_route_action a)
{
    return name_of(action_names, N_OF(action_names), (int)a);
}
const char *d_transport_name(d_transport t)
{
    return name_of(transport_names, N_OF(transport_names), (int)t);
}

/* "none" is an output value, never a configured tier. */
int d_tier_parse(const char *s, d_tier *out)
{
    int v;
    if (parse_in(tier_names, 3, s, &v) != 0) return -1;
    *out = (d_tier)v;
    return 0;
}

int d_status_parse(const char *s, d_status *out)
{
    int v;
    if (parse_in(status_names, N_OF(status_names), s, &v) != 0) return -1;
    *out = (d_status)v;
    return 0;
}

int d_strategy_parse(const char *s, d_strategy *out)
{
    int v;
    if (parse_in(strategy_names, N_OF(strategy_names), s, &v) != 0) return -1;
    *out = (d_strategy)v;
    return 0;
}

int d_fallback_policy_parse(const char *s, d_fallback_policy *out)
{
    int v;
    if (parse_in(fallback_names, N_OF(fallback_names), s, &v) != 0) return -1;
    *out = (d_fallback_policy)v;
    return 0;
}

int d_selection_mode_parse(const char *s, d_selection_mode *out)
{
    int v;
    if (parse_in(selection_names, N_OF(selection_names), s, &v) != 0) return -1;
    *out = (d_selection_mode)v;
    return 0;
}
