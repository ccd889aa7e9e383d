/* B.5 app_context sub-contract: per field the first present of appExplicit
 * -> placementConfig -> defaultPolicy, then its canonical value. */
#ifndef B_APPCTX_H
#define B_APPCTX_H

#include "b_verdict.h"
#include "mediation/v1/opportunity.pb-c.h"

typedef struct b_appctx_field {
    const char *raw;       /* borrowed from the seed, NULL when absent */
    const char *source;    /* B_SRC_* of the slot it came from */
} b_appctx_field;

typedef struct b_appctx {
    b_appctx_field language, session_state, perf, privacy, depth;
    char language_value[64];       /* canonical or lang_unknown */
    char session_state_value[64];  /* canonical or unknown_session_state */
    char consent_scope_value[64];  /* canonical or unknown_consent_scope */
    const char *language_action;   /* exact_match | value_corrected | unknown_fallback */
} b_appctx;

/* Fills ctx and raises the B.5 codes on v (rejects for the required pair). */
void b_appctx_resolve(const Mediation__V1__SourceInputBundleLite *bundle, b_appctx *ctx,
                      b_verdict *v);
/* Lowercase BCP-47 with '_' -> '-'; 0 (and "lang_unknown") when invalid. */
int b_appctx_language(const char *raw, char *out, size_t cap);

#endif
