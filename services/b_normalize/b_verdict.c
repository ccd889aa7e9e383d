#include "b_verdict.h"

#include <string.h>

static void add(b_verdict *v, const char *code, int reject)
{
    /* One entry per code: a code raised by several slots is one finding. */
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->codes[i], code) == 0) {
            v->rejects[i] |= reject;
            return;
        }
    if (v->n >= B_VERDICT_MAX) return;
    v->codes[v->n] = code;
    v->rejects[v->n] = reject;
    v->n++;
}

void b_verdict_reject(b_verdict *v, const char *code)
{
    add(v, code, 1);
    v->rejected = 1;
}

void b_verdict_degrade(b_verdict *v, const char *code)
{
    add(v, code, 0);
    v->degraded = 1;
}

const char *b_verdict_primary(const b_verdict *v)
{
    for (int i = 0; i < v->n; i++)
        if (v->rejects[i]) return v->codes[i];
    return v->n ? v->codes[0] : NULL;
}

const char *b_verdict_action(const b_verdict *v)
{
    if (v->rejected) return "reject";
    return v->degraded ? "degrade" : "continue";
}

int b_verdict_has(const b_verdict *v, const char *code)
{
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->codes[i], code) == 0) return 1;
    return 0;
}
