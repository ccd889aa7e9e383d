/* F.8 compensation from G's ArchiveWriteAck (see f_archive_ack.h). */
#include "f_archive_ack.h"

#include <stdio.h>
#include <string.h>

#include "med/b64url.h"
#include "med/names.h"
#include "med/reason.h"

static int is(const char *a, const char *b) { return a && strcmp(a, b) == 0; }

f_ack_action f_archive_ack_decide(const char *write_status, const char *code, int retryable,
                                  const char **code_out)
{
    *code_out = NULL;
    int has_code = code && code[0];
    /* refused whatever state the stored row is in */
    if (is(code, MED_R_G_ARCHIVE_RECORDKEY_PAYLOAD_CONFLICT) || is(code, MED_R_G_INGEST_INVALID_RECORD)) {
        *code_out = code;
        return F_ACK_CONFLICT;
    }
    if (retryable || is(write_status, "write_failed_retryable") ||
        (has_code && f_compensation_code_retryable(code))) {
        *code_out = has_code ? code : MED_R_G_ARCHIVE_TEMPORARILY_UNAVAILABLE;
        return F_ACK_RETRY;
    }
    if (is(write_status, "written")) return F_ACK_WRITTEN;
    if (is(write_status, "write_failed_terminal")) {
        *code_out = has_code ? code : MED_R_G_ARCHIVE_COMPENSATION_EXHAUSTED;
        return F_ACK_CONFLICT;
    }
    /* pending / writing (g_archive_waiting_decision_audit is progress, not
     * a failure: G writes the fact once its audit is written) */
    return F_ACK_NOTHING;
}

f_comp_step f_comp_due(int failures, int64_t first_failure_ms, int64_t now_ms, const f_windows *w,
                       int *failures_out, int64_t *next_ms)
{
    /* Due and not confirmed: the previous attempt counts as failed. */
    f_compensation c = { .failures = failures, .first_failure_ms = first_failure_ms };
    *failures_out = failures;
    *next_ms = 0;
    if (f_compensation_on_failure(&c, NULL, now_ms, w)) return F_COMP_EXHAUSTED;
    *failures_out = c.failures;
    *next_ms = c.next_attempt_ms;
    return F_COMP_RESEND;
}

int64_t f_comp_first_delay_ms(int64_t first_failure_ms, int64_t now_ms, const f_windows *w)
{
    return f_compensation_next_delay_ms(1, first_failure_ms, now_ms, w);
}

static int enc(const char *s, char *out, size_t cap)
{
    long n = med_b64url_encode((const uint8_t *)s, strlen(s), out, cap);
    return n > 0 ? 0 : -1;
}

int f_archive_ack_subject(const char *tenant, const char *outbox_key, char *out, size_t cap)
{
    if (!tenant || !tenant[0] || !outbox_key || !outbox_key[0]) return -1;
    char t[192], k[512];
    if (enc(tenant, t, sizeof t) != 0 || enc(outbox_key, k, sizeof k) != 0) return -1;
    int n = snprintf(out, cap, "%s.%s.%s", MED_SUBJ_F_ARCHIVE_ACK, t, k);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int dec(const char *in, size_t len, char *out, size_t cap)
{
    if (len == 0 || cap == 0) return -1;
    long n = med_b64url_decode(in, len, (uint8_t *)out, cap - 1);
    if (n <= 0 || memchr(out, 0, (size_t)n)) return -1;
    out[n] = 0;
    return 0;
}

int f_archive_ack_subject_parse(const char *subject, char *tenant, size_t tcap, char *outbox_key,
                                size_t kcap)
{
    size_t pl = strlen(MED_SUBJ_F_ARCHIVE_ACK);
    if (!subject || strncmp(subject, MED_SUBJ_F_ARCHIVE_ACK, pl) != 0 || subject[pl] != '.') return -1;
    const char *t = subject + pl + 1;
    const char *dot = strchr(t, '.');
    if (!dot || strchr(dot + 1, '.')) return -1;
    if (dec(t, (size_t)(dot - t), tenant, tcap) != 0) return -1;
    return dec(dot + 1, strlen(dot + 1), outbox_key, kcap);
}

int f_archive_resend_msg_id(const char *record_key, int attempt, char *out, size_t cap)
{
    int n = attempt <= 1 ? snprintf(out, cap, "%s", record_key)
                         : snprintf(out, cap, "%s:c%d", record_key, attempt);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}
