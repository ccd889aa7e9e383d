#include "c_types.h"

#include <stdlib.h>
#include <string.h>

const char *c_action_name(c_action a)
{
    switch (a) {
    case C_ACT_ALLOW: return "allow";
    case C_ACT_DEGRADE: return "degrade";
    case C_ACT_BLOCK: return "block";
    case C_ACT_REJECT: return "reject";
    }
    return "reject";
}

const char *c_risk_name(c_risk r)
{
    switch (r) {
    case C_RISK_HIGH: return "high";
    case C_RISK_MEDIUM: return "medium";
    case C_RISK_LOW: return "low";
    }
    return "high";
}

c_risk c_risk_parse(const char *s)
{
    if (!s) return 0;
    if (strcmp(s, "high") == 0) return C_RISK_HIGH;
    if (strcmp(s, "medium") == 0) return C_RISK_MEDIUM;
    if (strcmp(s, "low") == 0) return C_RISK_LOW;
    return 0;
}

void c_copy(char *dst, size_t cap, const char *src)
{
    if (cap == 0) return;
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

void c_warnings_add(c_warnings *w, const char *code, const char *path, const char *action,
                    const char *original)
{
    if (w->n >= C_MAX_WARNINGS) return;
    c_warning *x = &w->v[w->n++];
    x->reason_code = code;
    x->field_path = path ? path : "";
    x->action = action ? action : "";
    c_copy(x->original_value, sizeof x->original_value, original);
}

static void strlist_free(c_strlist *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void c_constraints_free(c_constraints *c)
{
    strlist_free(&c->bcat);
    strlist_free(&c->badv);
    strlist_free(&c->disallow_render_modes);
    strlist_free(&c->allowed_source_ids);
    strlist_free(&c->blocked_source_ids);
    strlist_free(&c->reason_codes);
}

void c_eval_init(c_eval *e)
{
    memset(e, 0, sizeof *e);
}

void c_eval_free(c_eval *e)
{
    c_constraints_free(&e->constraints);
}
