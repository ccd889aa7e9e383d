#include "g_archive_state.h"

#include <string.h>

#include "med/reason.h"

static const char *const k_ws[G_WS__COUNT] = {
    "pending", "writing", "written", "write_failed_retryable", "write_failed_terminal",
};
static const char *const k_rt[G_RT__COUNT] = { "decision_audit", "billable_fact", "attribution_fact" };
static const char *const k_rs[G_RS__COUNT] = {
    "new", "committed", "duplicate", "conflicted", "rejected", "superseded",
};
static const char *const k_gs[] = {
    "partial_timeout", "partial_pending", "consistent_committed", "consistent_non_billable",
};

const char *g_write_status_name(g_write_status s) { return s < G_WS__COUNT ? k_ws[s] : "?"; }
const char *g_record_type_name(g_record_type t) { return t < G_RT__COUNT ? k_rt[t] : "?"; }
const char *g_record_status_name(g_record_status s) { return s < G_RS__COUNT ? k_rs[s] : "?"; }
const char *g_group_state_name(g_group_state s)
{
    return (size_t)s < sizeof k_gs / sizeof k_gs[0] ? k_gs[s] : "?";
}

static int parse_name(const char *s, const char *const *names, int n)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

int g_write_status_parse(const char *s, g_write_status *out)
{
    int i = parse_name(s, k_ws, G_WS__COUNT);
    if (i < 0) return -1;
    *out = (g_write_status)i;
    return 0;
}

int g_record_type_parse(const char *s, g_record_type *out)
{
    int i = parse_name(s, k_rt, G_RT__COUNT);
    if (i < 0) return -1;
    *out = (g_record_type)i;
    return 0;
}

int g_record_status_parse(const char *s, g_record_status *out)
{
    int i = parse_name(s, k_rs, G_RS__COUNT);
    if (i < 0) return -1;
    *out = (g_record_status)i;
    return 0;
}

int g_write_status_terminal(g_write_status s)
{
    return s == G_WS_WRITTEN || s == G_WS_FAILED_TERMINAL;
}

static int waiting_state(g_write_status s)
{
    return s == G_WS_PENDING || s == G_WS_FAILED_RETRYABLE;
}

int g_write_next(g_write_status cur, g_record_status rs, g_write_event ev, g_write_status *next)
{
    /* Pairing (G.4): only committed and audit-track records end written or
     * terminal; `new` stays in pending / writing / retryable. */
    int is_new = rs == G_RS_NEW;
    g_write_status to;
    switch (ev) {
    case G_EV_GATE_OPEN:
        if (!waiting_state(cur) || is_new) return 0;
        to = G_WS_WRITING;
        break;
    case G_EV_WRITE_OK:
        if (cur != G_WS_WRITING || is_new) return 0;
        to = G_WS_WRITTEN;
        break;
    case G_EV_WRITE_RETRYABLE:
        if (cur != G_WS_WRITING) return 0;
        to = G_WS_FAILED_RETRYABLE;
        break;
    case G_EV_WRITE_FATAL:
        if (g_write_status_terminal(cur) || is_new) return 0;
        to = G_WS_FAILED_TERMINAL;
        break;
    case G_EV_DEADLINE:
        if (!waiting_state(cur) || is_new) return 0;
        to = G_WS_FAILED_TERMINAL;
        break;
    default:
        return 0;
    }
    *next = to;
    return 1;
}

g_write_failure g_write_failure_classify(med_rc rc, const char *err_code)
{
    if (err_code && strcmp(err_code, MED_R_G_ARCHIVE_RATE_LIMITED) == 0)
        return (g_write_failure){ MED_R_G_ARCHIVE_RATE_LIMITED, 1 };
    switch (rc) {
    case MED_ERR_TIMEOUT:
        return (g_write_failure){ MED_R_G_ARCHIVE_WRITE_TIMEOUT, 1 };
    case MED_ERR_UNAVAILABLE:
    case MED_ERR_IO:
    case MED_ERR_NOMEM:
        return (g_write_failure){ MED_R_G_ARCHIVE_TEMPORARILY_UNAVAILABLE, 1 };
    default:
        return (g_write_failure){ err_code && *err_code ? err_code : MED_R_INFRA_PERMANENT_FAILURE, 0 };
    }
}

int64_t g_write_retry_delay_ms(int failures)
{
    static const int64_t ladder[] = { 1000, 5000, 30000, 120000 };
    if (failures <= 1) return ladder[0];
    if (failures >= 4) return ladder[3];
    return ladder[failures - 1];
}

int g_write_deadline_passed(int64_t ingest_ms, int64_t now_ms, int64_t window_ms)
{
    return now_ms - ingest_ms >= window_ms;
}

int g_group_row_cmp(const void *pa, const void *pb)
{
    const g_group_row *a = pa, *b = pb;
    if (a->type != b->type) return a->type < b->type ? -1 : 1;
    if (a->output_at_ms != b->output_at_ms) return a->output_at_ms < b->output_at_ms ? -1 : 1;
    /* strcmp compares as unsigned char: recordKey bytes. */
    return strcmp(a->record_key ? a->record_key : "", b->record_key ? b->record_key : "");
}

static int same_source(const g_group_row *fact, const g_group_row *audit)
{
    const char *a = fact->source_event_id, *b = audit->source_event_id;
    if (!a || !*a || !b || !*b) return 1;
    return strcmp(a, b) == 0;
}

static int can_open(const g_group_row *r)
{
    g_write_status next;
    return g_write_next(r->ws, r->status, G_EV_GATE_OPEN, &next);
}

size_t g_gate_open(const g_group_row *rows, size_t n, unsigned char *open)
{
    size_t opened = 0;
    for (size_t i = 0; i < n; i++) {
        open[i] = rows[i].type == G_RT_DECISION_AUDIT && can_open(&rows[i]);
        opened += open[i];
    }
    for (size_t i = 0; i < n; i++) {
        if (rows[i].type == G_RT_DECISION_AUDIT || !can_open(&rows[i])) continue;
        for (size_t j = 0; j < n && !open[i]; j++) {
            const g_group_row *d = &rows[j];
            int audit_written = d->type == G_RT_DECISION_AUDIT && (d->ws == G_WS_WRITTEN || open[j]);
            if (audit_written && same_source(&rows[i], d)) open[i] = 1;
        }
        opened += open[i];
    }
    return opened;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static void plan_waiting(const g_group_row *r, int64_t now_ms, const g_plan_policy *p,
                         g_row_update *u)
{
    /* A closed gate is not a failed write: the row keeps its status and
     * is only looked at again (a decision_audit normally opens it at once
     * when it arrives; the recheck covers a race with another replica). */
    u->change = 1;
    u->ws = r->ws;
    u->reason = r->type == G_RT_DECISION_AUDIT ? NULL : MED_R_G_ARCHIVE_WAITING_DECISION_AUDIT;
    u->next_attempt_ms = min64(now_ms + p->recheck_ms, r->ingest_ms + p->window_ms);
    u->attempt = 0;
}

size_t g_group_plan(const g_group_row *rows, size_t n, int64_t now_ms, const g_plan_policy *p,
                    g_row_update *out)
{
    unsigned char open_buf[256];
    unsigned char *open = open_buf;
    size_t changed = 0;
    memset(out, 0, n * sizeof *out);
    if (n > sizeof open_buf) n = sizeof open_buf; /* a group never holds that many records */
    /* Rows past their deadline are failed before the gate is read, so a
     * decision_audit that timed out opens nothing. */
    g_group_row late[256] = { { 0 } };
    for (size_t i = 0; i < n; i++) {
        late[i] = rows[i];
        g_write_status next;
        if (g_write_deadline_passed(rows[i].ingest_ms, now_ms, p->window_ms) &&
            g_write_next(rows[i].ws, rows[i].status, G_EV_DEADLINE, &next)) {
            out[i] = (g_row_update){ 1, next, MED_R_G_ARCHIVE_COMPENSATION_EXHAUSTED, 0, 0 };
            late[i].ws = next;
            changed++;
        }
    }
    g_gate_open(late, n, open);
    for (size_t i = 0; i < n; i++) {
        if (out[i].change) continue;
        g_write_status writing, written;
        if (open[i] && g_write_next(late[i].ws, late[i].status, G_EV_GATE_OPEN, &writing) &&
            g_write_next(writing, late[i].status, G_EV_WRITE_OK, &written)) {
            out[i] = (g_row_update){ 1, written, NULL, 0, 0 };
            changed++;
        } else if (can_open(&late[i])) {
            plan_waiting(&late[i], now_ms, p, &out[i]);
            changed++;
        }
    }
    return changed;
}

void g_failure_plan(const g_group_row *row, const g_write_failure *f, int64_t now_ms,
                    const g_plan_policy *p, g_row_update *out)
{
    memset(out, 0, sizeof *out);
    g_write_status writing, next;
    if (!g_write_next(row->ws, row->status, G_EV_GATE_OPEN, &writing)) return;
    int late = g_write_deadline_passed(row->ingest_ms, now_ms, p->window_ms);
    if (late || !f->retryable) {
        if (!g_write_next(writing, row->status, G_EV_WRITE_FATAL, &next)) return;
        *out = (g_row_update){ 1, next,
                               late ? MED_R_G_ARCHIVE_COMPENSATION_EXHAUSTED : f->reason, 0, 1 };
        return;
    }
    if (!g_write_next(writing, row->status, G_EV_WRITE_RETRYABLE, &next)) return;
    int64_t at = now_ms + g_write_retry_delay_ms(row->write_attempts + 1);
    *out = (g_row_update){ 1, next, f->reason, min64(at, row->ingest_ms + p->window_ms), 1 };
}

g_group_state g_group_state_of(const g_group_row *rows, size_t n)
{
    int any_terminal_fail = 0, any_open = 0, has_audit = 0, has_committed_bill = 0;
    for (size_t i = 0; i < n; i++) {
        any_terminal_fail |= rows[i].ws == G_WS_FAILED_TERMINAL;
        any_open |= !g_write_status_terminal(rows[i].ws);
        has_audit |= rows[i].type == G_RT_DECISION_AUDIT;
        has_committed_bill |= rows[i].type == G_RT_BILLABLE_FACT && rows[i].status == G_RS_COMMITTED;
    }
    if (any_terminal_fail) return G_GS_PARTIAL_TIMEOUT;
    if (any_open) return G_GS_PARTIAL_PENDING;
    return has_audit && has_committed_bill ? G_GS_CONSISTENT_COMMITTED : G_GS_CONSISTENT_NON_BILLABLE;
}
