/* E's Delivery counter (see e_metrics.h). */
#include "e_metrics.h"

#include <stdio.h>
#include <string.h>

#include "med/metric_names.h"
#include "med/metrics.h"
#include "med/reason.h"

static int is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* Fragments of reason codes (reason.h) that name a system cause: timeouts
 * (a_trg_config_timeout_*, d_to_*_timeout), budgets and deadlines,
 * unavailable dependencies, runtime/internal/engine errors. */
static const char *const system_markers[] = {
    "timeout", "deadline", "budget_exceeded", "unavailable", "dependency",
    "internal", "runtime", "engine_error", "infra_",
};

static int names_system_cause(const char *raw)
{
    if (!raw || !raw[0]) return 1;
    for (size_t i = 0; i < sizeof system_markers / sizeof *system_markers; i++)
        if (strstr(raw, system_markers[i])) return 1;
    return 0;
}

const char *e_metrics_reason_class(const char *status, const char *final_code, const char *raw)
{
    if (!is(status, MED_MV_OUTCOME_ERROR)) return MED_MV_CLASS_BUSINESS;
    if (is(final_code, MED_R_E_ER_UPSTREAM_ERROR) && !names_system_cause(raw))
        return MED_MV_CLASS_BUSINESS;
    return MED_MV_CLASS_SYSTEM;
}

#define N_OUTCOMES 3
#define N_CLASSES 2
static const char *const outcomes[N_OUTCOMES] = { MED_MV_OUTCOME_SERVED, MED_MV_OUTCOME_NO_FILL,
                                                  MED_MV_OUTCOME_ERROR };
static const char *const classes[N_CLASSES] = { MED_MV_CLASS_BUSINESS, MED_MV_CLASS_SYSTEM };
static med_counter *g_counters[N_OUTCOMES][N_CLASSES]; /* one consumer thread writes */

static int index_of(const char *const *set, int n, const char *v)
{
    for (int i = 0; i < n; i++)
        if (is(set[i], v)) return i;
    return -1;
}

static med_counter *counter(int o, int c)
{
    if (!g_counters[o][c]) {
        char labels[96];
        snprintf(labels, sizeof labels, "outcome=\"%s\",reason_class=\"%s\"", outcomes[o], classes[c]);
        g_counters[o][c] = med_counter_get(MED_M_DELIVERIES, MED_M_DELIVERIES_HELP, labels);
    }
    return g_counters[o][c];
}

void e_metrics_init(void)
{
    for (int o = 0; o < N_OUTCOMES; o++)
        for (int c = 0; c < N_CLASSES; c++) (void)counter(o, c);
}

void e_metrics_delivery(const e_outcome *o)
{
    const char *raw = o->dec.raw ? o->dec.raw : o->upstream_code;
    int oi = index_of(outcomes, N_OUTCOMES, o->dec.status);
    int ci = index_of(classes, N_CLASSES,
                      e_metrics_reason_class(o->dec.status, o->dec.final_code, raw));
    if (oi < 0 || ci < 0) return;
    med_counter *c = counter(oi, ci);
    if (c) med_counter_inc(c);
}
