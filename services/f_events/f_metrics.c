/* F's metrics (see f_metrics.h). Handles are looked up once: the registry
 * lookup takes a mutex, the increments are atomics. */
#include "f_metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "med/metric_names.h"
#include "med/metrics.h"
#include "med/names.h"
#include "med/reason.h"

#define LBL(k, v) k "=\"" v "\""

typedef struct f_handles {
    med_counter *accepted, *duplicate, *rejected, *failed;
    med_counter *dedup_billing, *dedup_diagnostics;
    med_counter *facts_billable, *facts_attribution;
    med_counter *billing_blocked;
    med_gauge *closure_open;
} f_handles;

static f_handles g_h;
static atomic_int g_ready;

static med_counter *acks(const char *labels)
{
    return med_counter_get(MED_M_EVENT_ACKS, MED_M_EVENT_ACKS_HELP, labels);
}

static med_counter *dedup(const char *labels)
{
    return med_counter_get(MED_M_DEDUP_HITS, MED_M_DEDUP_HITS_HELP, labels);
}

static med_counter *facts(const char *labels)
{
    return med_counter_get(MED_M_BILLING_FACTS, MED_M_BILLING_FACTS_HELP, labels);
}

/* Registration is idempotent (same name + labels = same handle), so two
 * threads racing here store the same pointers. */
void f_metrics_init(void)
{
    if (atomic_load(&g_ready)) return;
    g_h.accepted = acks(LBL("result", MED_MV_ACK_ACCEPTED));
    g_h.duplicate = acks(LBL("result", MED_MV_ACK_DUPLICATE));
    g_h.rejected = acks(LBL("result", MED_MV_ACK_REJECTED));
    g_h.failed = acks(LBL("result", MED_MV_ACK_FAILED));
    g_h.dedup_billing = dedup(LBL("stage", MED_STAGE_F) "," LBL("window", MED_MV_WINDOW_BILLING));
    g_h.dedup_diagnostics = dedup(LBL("stage", MED_STAGE_F) "," LBL("window", MED_MV_WINDOW_DIAGNOSTICS));
    g_h.facts_billable = facts(LBL("kind", MED_MV_KIND_BILLABLE));
    g_h.facts_attribution = facts(LBL("kind", MED_MV_KIND_ATTRIBUTION));
    g_h.billing_blocked = med_counter_get(MED_M_BILLING_DUP_BLOCKED, MED_M_BILLING_DUP_BLOCKED_HELP, "");
    g_h.closure_open = med_gauge_get(MED_M_CLOSURE_OPEN, MED_M_CLOSURE_OPEN_HELP, "");
    atomic_store(&g_ready, 1);
}

static void add(med_counter *c, uint64_t n)
{
    if (c && n) med_counter_add(c, n);
}

/* F.4 step 13: a lost claim without a live record is the store's fault,
 * answered rejected + retryable with f_event_store_unavailable. */
static int store_failed(const f_event_work *ew)
{
    return ew->status == F_ACK_REJECTED && ew->reason &&
           strcmp(ew->reason, MED_R_F_EVENT_STORE_UNAVAILABLE) == 0;
}

void f_metrics_acks(const f_batch_work *b)
{
    f_metrics_init();
    uint64_t acc = 0, dup = 0, rej = 0, fail = 0, dup_bill = 0, dup_diag = 0;
    for (size_t i = 0; i < b->n_events; i++) {
        const f_event_work *ew = &b->events[i];
        if (ew->status == F_ACK_ACCEPTED) acc++;
        else if (ew->status == F_ACK_DUPLICATE) {
            dup++;
            if (ew->layer == F_LAYER_BILLING) dup_bill++;
            else dup_diag++;
        } else if (store_failed(ew)) fail++;
        else if (ew->status == F_ACK_REJECTED) rej++;
    }
    add(g_h.accepted, acc);
    add(g_h.duplicate, dup);
    add(g_h.rejected, rej);
    add(g_h.failed, fail);
    add(g_h.dedup_billing, dup_bill);
    add(g_h.dedup_diagnostics, dup_diag);
}

void f_metrics_acks_failed(size_t n)
{
    f_metrics_init();
    add(g_h.failed, n);
}

static int committed(const Mediation__V1__FToGArchiveRecordLite *r)
{
    return r->record_status && strcmp(r->record_status, "committed") == 0;
}

void f_metrics_committed(const f_batch_work *b)
{
    f_metrics_init();
    uint64_t bill = 0, attr = 0, blocked = 0;
    for (size_t i = 0; i < b->n_records; i++) {
        const Mediation__V1__FToGArchiveRecordLite *r = b->records[i];
        if (!r || !committed(r)) continue;
        if (r->payload_case == MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_BILLABLE_FACT) bill++;
        if (r->payload_case == MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_ATTRIBUTION_FACT) attr++;
    }
    for (size_t i = 0; i < b->n_events; i++)
        for (size_t k = 0; k < b->events[i].n_claims; k++)
            blocked += !b->events[i].claims[k].won;
    add(g_h.facts_billable, bill);
    add(g_h.facts_attribution, attr);
    add(g_h.billing_blocked, blocked);
}

void f_metrics_closures_open(int64_t n)
{
    f_metrics_init();
    if (g_h.closure_open && n >= 0) med_gauge_set(g_h.closure_open, (double)n);
}

/* Defined here, not in med/metric_names.h: only F counts it
 * (observability/metrics.md). */
#define F_M_ARCHIVE_COMPENSATION "med_f_archive_compensation_total"
#define F_M_ARCHIVE_COMPENSATION_HELP \
    "F.8 archive compensation steps by outcome (retry, resent, conflicted) and reason code"

void f_metrics_compensation(const char *outcome, const char *reason)
{
    char labels[200];
    snprintf(labels, sizeof labels, "outcome=\"%s\",reason=\"%s\"", outcome,
             reason && reason[0] ? reason : "none");
    med_counter *c = med_counter_get(F_M_ARCHIVE_COMPENSATION, F_M_ARCHIVE_COMPENSATION_HELP, labels);
    if (c) med_counter_inc(c);
}
