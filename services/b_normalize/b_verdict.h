/* B.2 disposition: the codes one normalization raised, in rule order. The
 * first reject is the primary code, else the first degrade; any reject makes
 * the whole output a reject. */
#ifndef B_VERDICT_H
#define B_VERDICT_H

#define B_VERDICT_MAX 48

typedef struct b_verdict {
    const char *codes[B_VERDICT_MAX];  /* static strings (reason.h) */
    int rejects[B_VERDICT_MAX];
    int n;
    int rejected;
    int degraded;
} b_verdict;

void b_verdict_reject(b_verdict *v, const char *code);
void b_verdict_degrade(b_verdict *v, const char *code);
/* Primary code: first reject, else first degrade, else NULL. */
const char *b_verdict_primary(const b_verdict *v);
/* continue | degrade | reject */
const char *b_verdict_action(const b_verdict *v);
int b_verdict_has(const b_verdict *v, const char *code);

#endif
