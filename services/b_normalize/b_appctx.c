#include "b_appctx.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "b_conflict.h"
#include "b_enum.h"
#include "med/reason.h"

typedef const char *(*field_get)(const Mediation__V1__AppContextRawLite *);

static const char *get_language(const Mediation__V1__AppContextRawLite *c)
{
    return c->language_opt_case ? c->language : NULL;
}
static const char *get_state(const Mediation__V1__AppContextRawLite *c)
{
    return c->session_state_opt_case ? c->session_state : NULL;
}
static const char *get_perf(const Mediation__V1__AppContextRawLite *c)
{
    return c->device_performance_score_opt_case ? c->device_performance_score : NULL;
}
static const char *get_privacy(const Mediation__V1__AppContextRawLite *c)
{
    return c->privacy_status_opt_case ? c->privacy_status : NULL;
}
static const char *get_depth(const Mediation__V1__AppContextRawLite *c)
{
    return c->session_depth_opt_case ? c->session_depth : NULL;
}

static b_appctx_field first_present(const Mediation__V1__SourceInputBundleLite *b, field_get get)
{
    const Mediation__V1__SourceSlotLite *slots[] = { b->app_explicit, b->placement_config,
                                                     b->default_policy };
    const char *names[] = { B_SRC_APP, B_SRC_PLACEMENT, B_SRC_DEFAULT };
    for (int i = 0; i < 3; i++) {
        const char *v = slots[i] && slots[i]->app_context ? get(slots[i]->app_context) : NULL;
        if (v) return (b_appctx_field){ .raw = v, .source = names[i] };
    }
    return (b_appctx_field){ NULL, NULL };
}

int b_appctx_language(const char *raw, char *out, size_t cap)
{
    size_t n = 0;
    snprintf(out, cap, "lang_unknown");
    char buf[64];
    for (; raw && raw[n] && n + 1 < sizeof buf; n++)
        buf[n] = raw[n] == '_' ? '-' : (char)tolower((unsigned char)raw[n]);
    if (!raw || raw[n]) return 0;
    buf[n] = '\0';
    /* ^[a-z]{2,3}(-[a-z0-9]{2,8})*$ */
    size_t i = 0;
    while (buf[i] >= 'a' && buf[i] <= 'z') i++;
    if (i < 2 || i > 3) return 0;
    while (buf[i] == '-') {
        size_t s = ++i;
        while (isdigit((unsigned char)buf[i]) || (buf[i] >= 'a' && buf[i] <= 'z')) i++;
        if (i - s < 2 || i - s > 8) return 0;
    }
    if (buf[i]) return 0;
    snprintf(out, cap, "%s", buf);
    return 1;
}

static void resolve_language(b_appctx *ctx, b_verdict *v)
{
    ctx->language_action = B_MAP_UNKNOWN;
    if (!ctx->language.raw) {
        b_appctx_language(NULL, ctx->language_value, sizeof ctx->language_value);
        b_verdict_degrade(v, MED_R_B_APPCTX_LANGUAGE_MISSING);
    } else if (!b_appctx_language(ctx->language.raw, ctx->language_value,
                                  sizeof ctx->language_value)) {
        b_verdict_degrade(v, MED_R_B_APPCTX_LANGUAGE_INVALID);
    } else {
        ctx->language_action =
            strcmp(ctx->language.raw, ctx->language_value) ? "value_corrected" : B_MAP_EXACT;
    }
}

/* A required enum of B.5: missing and invalid both reject, with own codes. */
static void resolve_required(const char *slot, const b_appctx_field *f, char *out, size_t cap,
                             const char *invalid_code, b_verdict *v)
{
    b_enum_result r;
    b_enum_normalize(slot, f->raw, NULL, &r, NULL);
    snprintf(out, cap, "%s", r.value);
    if (!f->raw) b_verdict_reject(v, MED_R_B_APPCTX_REQUIRED_SLOT_MISSING);
    else if (b_enum_is_unknown(r.value)) b_verdict_reject(v, invalid_code);
}

void b_appctx_resolve(const Mediation__V1__SourceInputBundleLite *bundle, b_appctx *ctx,
                      b_verdict *v)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->language = first_present(bundle, get_language);
    ctx->session_state = first_present(bundle, get_state);
    ctx->perf = first_present(bundle, get_perf);
    ctx->privacy = first_present(bundle, get_privacy);
    ctx->depth = first_present(bundle, get_depth);
    resolve_language(ctx, v);
    resolve_required("sessionState", &ctx->session_state, ctx->session_state_value,
                     sizeof ctx->session_state_value, MED_R_B_APPCTX_SESSION_STATE_INVALID, v);
    if (!ctx->perf.raw) b_verdict_degrade(v, MED_R_B_APPCTX_PERF_MISSING);
    resolve_required("consentScope", &ctx->privacy, ctx->consent_scope_value,
                     sizeof ctx->consent_scope_value, MED_R_B_APPCTX_PRIVACY_STATUS_INVALID, v);
}
