#include "e_types.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "med/ids.h"

static const char *const MODE_NAMES[E_MODE_COUNT] = {
    [E_MODE_VIDEO] = "video_vast_container",
    [E_MODE_MRAID] = "mraid_container",
    [E_MODE_WEBVIEW] = "webview",
    [E_MODE_NATIVE] = "native_card",
};

const char *e_mode_name(e_mode m)
{
    if (m < 0 || m >= E_MODE_COUNT) return E_NONE;
    return MODE_NAMES[m];
}

e_mode e_mode_parse(const char *s)
{
    if (!s) return E_MODE_NONE;
    for (int m = 0; m < E_MODE_COUNT; m++)
        if (strcmp(s, MODE_NAMES[m]) == 0) return (e_mode)m;
    return E_MODE_NONE;
}

int e_blank(const char *s)
{
    if (!s) return 1;
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) return 0;
    return 1;
}

static int usable_key(const char *s)
{
    return !e_blank(s) && strcmp(s, E_NA) != 0;
}

static void pick_one(char out[E_KEY_MAX], const char *const vals[], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (usable_key(vals[i])) {
            snprintf(out, E_KEY_MAX, "%s", vals[i]);
            return;
        }
    }
    snprintf(out, E_KEY_MAX, "%s", E_NA);
}

void e_keys_pick(e_keys *out, const char *const trace_keys[], const char *const request_keys[],
                 const char *const attempt_keys[], const char *const opportunity_keys[],
                 size_t n_sources)
{
    pick_one(out->trace_key, trace_keys, n_sources);
    pick_one(out->request_key, request_keys, n_sources);
    pick_one(out->attempt_key, attempt_keys, n_sources);
    pick_one(out->opportunity_key, opportunity_keys, n_sources);
}

void e_response_reference(const e_keys *k, char out[E_REF_MAX])
{
    char joined[4 * E_KEY_MAX + 4];
    snprintf(joined, sizeof joined, "%s:%s:%s:%s", k->trace_key, k->request_key, k->attempt_key,
             k->opportunity_key);
    med_hash_key(out, E_REF_MAX, "resp_", joined, 20);
}

void e_warn(e_warnings *w, const char *code, const char *field_path, const char *action,
            const char *original, const char *corrected)
{
    if (w->n >= E_MAX_WARNINGS) return;
    e_warning *x = &w->items[w->n++];
    x->reason_code = code;
    x->action = action;
    snprintf(x->field_path, sizeof x->field_path, "%s", field_path ? field_path : "");
    snprintf(x->original_value, sizeof x->original_value, "%s", original ? original : "");
    snprintf(x->corrected_value, sizeof x->corrected_value, "%s", corrected ? corrected : "");
}

int e_warnings_has(const e_warnings *w, const char *code)
{
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->items[i].reason_code, code) == 0) return 1;
    return 0;
}
