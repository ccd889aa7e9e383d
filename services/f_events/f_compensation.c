/* F.8: a record G could not take is resent under the same recordKey on a
 * fixed ladder; after the compensation window it is conflicted, so a
 * record is never silently lost nor written twice. */
#include "f_compensation.h"

#include <string.h>

#include "f_archive.h"
#include "med/reason.h"

static const int64_t ladder_ms[] = {1000, 5000, 30000, 120000};

int64_t f_compensation_next_delay_ms(int attempt, int64_t first_failure_ms, int64_t now_ms,
                                     const f_windows *w)
{
    int64_t deadline = first_failure_ms + w->compensation_ms;
    if (attempt < 1 || now_ms >= deadline) return -1;
    size_t n = sizeof ladder_ms / sizeof ladder_ms[0];
    int64_t delay = (size_t)attempt <= n ? ladder_ms[attempt - 1] : ladder_ms[n - 1];
    if (now_ms + delay > deadline) delay = deadline - now_ms;
    return delay;
}

int f_compensation_code_retryable(const char *g_code)
{
    if (!g_code || !g_code[0]) return 1;
    return strcmp(g_code, MED_R_G_ARCHIVE_WRITE_TIMEOUT) == 0 ||
           strcmp(g_code, MED_R_G_ARCHIVE_TEMPORARILY_UNAVAILABLE) == 0 ||
           strcmp(g_code, MED_R_G_ARCHIVE_RATE_LIMITED) == 0;
}

int f_compensation_on_failure(f_compensation *c, const char *g_code, int64_t now_ms,
                              const f_windows *w)
{
    if (c->final_status) return 1;
    if (!c->first_failure_ms) c->first_failure_ms = now_ms;
    c->failures++;
    if (!f_compensation_code_retryable(g_code)) {
        c->final_status = "conflicted";
        c->final_code = g_code;
        return 1;
    }
    int64_t delay = f_compensation_next_delay_ms(c->failures, c->first_failure_ms, now_ms, w);
    if (delay < 0) {
        c->final_status = "conflicted";
        c->final_code = MED_R_F_OUTPUT_ARCHIVE_COMPENSATION_EXHAUSTED;
        return 1;
    }
    c->next_attempt_ms = now_ms + delay;
    return 0;
}

const char *f_group_consistency_state(const f_record_progress *r, size_t n)
{
    int pending = 0, audit = 0, committed_billable = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].write == F_WRITE_FAILED) return "partial_timeout";
        if (r[i].write != F_WRITE_WRITTEN) pending = 1;
    }
    if (pending) return "partial_pending";
    for (size_t i = 0; i < n; i++) {
        if (strcmp(r[i].record_type, F_REC_DECISION_AUDIT) == 0) audit = 1;
        if (strcmp(r[i].record_type, F_REC_BILLABLE_FACT) == 0 && r[i].record_status &&
            strcmp(r[i].record_status, "committed") == 0)
            committed_billable = 1;
    }
    return audit && committed_billable ? "consistent_committed" : "consistent_non_billable";
}
