#include "med/backoff.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "med/reason.h"

static const int64_t default_ladder_ms[] = { 1000, 5000, 30000, 120000, 600000 };
#define DEFAULT_LADDER_LEN ((int)(sizeof default_ladder_ms / sizeof default_ladder_ms[0]))

void med_backoff_default(med_backoff *out)
{
    for (int i = 0; i < DEFAULT_LADDER_LEN; i++) out->step_ms[i] = default_ladder_ms[i];
    out->n = DEFAULT_LADDER_LEN;
}

static const char *skip_spaces(const char *p)
{
    while (*p && isspace((unsigned char)*p)) p++;
    return p;
}

static med_rc invalid_ladder(med_err *err, const char *csv, const char *why)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, NULL,
                       "backoff ladder \"%s\": %s", csv ? csv : "(null)", why);
}

/* Parses one positive step at *pp and leaves *pp after it (and its
 * trailing blanks); returns 0 when the text there is not such a number. */
static int parse_step(const char **pp, int64_t *out)
{
    const char *p = skip_spaces(*pp);
    if (!isdigit((unsigned char)*p)) return 0; /* also rejects signs */
    char *end = NULL;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (errno == ERANGE || v <= 0) return 0;
    *out = (int64_t)v;
    *pp = skip_spaces(end);
    return 1;
}

med_rc med_backoff_parse(const char *csv, med_backoff *out, med_err *err)
{
    if (!csv || !*skip_spaces(csv)) return invalid_ladder(err, csv, "empty");
    med_backoff tmp = { .n = 0 };
    const char *p = csv;
    for (;;) {
        if (tmp.n >= MED_BACKOFF_MAX_STEPS)
            return invalid_ladder(err, csv, "too many steps");
        if (!parse_step(&p, &tmp.step_ms[tmp.n]))
            return invalid_ladder(err, csv, "each step must be a positive integer of ms");
        tmp.n++;
        if (*p == '\0') break;
        if (*p != ',') return invalid_ladder(err, csv, "steps must be separated by ','");
        p++;
    }
    *out = tmp;
    return MED_OK;
}

int64_t med_backoff_delay_ms(const med_backoff *b, uint64_t num_delivered)
{
    med_backoff fallback;
    if (!b || b->n <= 0) {
        med_backoff_default(&fallback);
        b = &fallback;
    }
    uint64_t idx = num_delivered > 0 ? num_delivered - 1 : 0;
    if (idx >= (uint64_t)b->n) idx = (uint64_t)b->n - 1;
    return b->step_ms[idx];
}

med_next_action med_retry_decide(med_disposition d, uint64_t num_delivered, int max_deliver)
{
    if (max_deliver <= 0) max_deliver = MED_BACKOFF_DEFAULT_MAX_DELIVER;
    switch (d) {
    case MED_DISPOSE_ACK:
        return MED_NEXT_ACK;
    case MED_DISPOSE_RETRY:
        return num_delivered >= (uint64_t)max_deliver ? MED_NEXT_DEAD_LETTER : MED_NEXT_NAK;
    case MED_DISPOSE_FAIL:
        return MED_NEXT_DEAD_LETTER;
    }
    /* An out-of-range disposition is a handler bug: park the message where
     * an operator sees it rather than acking or looping on it. */
    return MED_NEXT_DEAD_LETTER;
}
