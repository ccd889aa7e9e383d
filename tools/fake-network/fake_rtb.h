/* The fake ad network's behaviour, as pure functions: parse how to answer
 * (from a header or the server's default), and build the OpenRTB 2.6 answer
 * for a bid request. It is a test peer outside the platform, so its answers
 * are deliberately simple and fully controllable. */
#ifndef FAKE_RTB_H
#define FAKE_RTB_H

#include <stddef.h>

typedef enum fake_kind {
    FAKE_FILL = 0,   /* 200 + one bid */
    FAKE_NOBID,      /* 204 */
    FAKE_DELAY,      /* a fill after delay_ms (past the caller's deadline) */
    FAKE_ERROR,      /* 500 */
    FAKE_GARBAGE,    /* 200 with a body that is not JSON */
    FAKE_OVERSIZED,  /* 200 with a body of oversized_bytes */
} fake_kind;

typedef struct fake_behavior {
    fake_kind kind;
    double price;           /* CPM in the bid's currency */
    int delay_ms;
    size_t oversized_bytes; /* FAKE_OVERSIZED body size */
} fake_behavior;

/* "fill", "nobid", "delay", "error", "garbage", "oversized"; -1 if unknown. */
int fake_kind_parse(const char *s, fake_kind *out);
const char *fake_kind_name(fake_kind k);

/* Spec like "fill", "fill;price=2.5", "delay;ms=800;price=1", "oversized;bytes=2097152".
 * Fields not named keep base's values. 0 on success, -1 on a bad spec. */
int fake_behavior_parse(const char *spec, const fake_behavior *base, fake_behavior *out);

typedef struct fake_answer {
    int status;
    char *body;      /* malloc'd (may be NULL for 204) */
    size_t len;
    int delay_ms;
} fake_answer;

/* Builds the answer for a bid request body. A request that is not an
 * OpenRTB object with "id" and a non-empty "imp" array gets 400 whatever
 * the behaviour (a real exchange rejects it too). seat names the network. */
int fake_answer_build(const char *req, size_t req_len, const fake_behavior *b,
                      const char *seat, fake_answer *out);
void fake_answer_free(fake_answer *a);

#endif
