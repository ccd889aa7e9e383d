/* G's metrics (see g_metrics.h). */
#include "g_metrics.h"

#include <stdio.h>
#include <string.h>

#include "g_diff.h"
#include "med/metric_names.h"
#include "med/metrics.h"

static int is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static void inc(const char *name, const char *help, const char *labels, uint64_t n)
{
    if (n == 0) return;
    med_counter *c = med_counter_get(name, help, labels);
    if (c) med_counter_add(c, n);
}

void g_metrics_replay(const g_query *q, const Mediation__V1__ReplayPage *page, int ok)
{
    int recompute = q->exec == G_EXEC_RECOMPUTE;
    char labels[96];
    snprintf(labels, sizeof labels, "mode=\"%s\",result=\"%s\"",
             recompute ? MED_MV_MODE_RECOMPUTE : MED_MV_MODE_SNAPSHOT,
             ok ? MED_MV_RESULT_OK : MED_MV_RESULT_ERROR);
    inc(MED_M_REPLAY_RUNS, MED_M_REPLAY_RUNS_HELP, labels, 1);
    if (!ok || !recompute || !page) return;
    uint64_t match = 0, mismatch = 0;
    for (size_t i = 0; i < page->n_items; i++) {
        const Mediation__V1__ReplayItemDiffLite *d = page->items[i] ? page->items[i]->diff : NULL;
        if (!d) continue;
        if (is(d->diff_status, G_DIFF_DIVERGED)) mismatch++;
        else if (is(d->diff_status, G_DIFF_EXACT_MATCH) || is(d->diff_status, G_DIFF_EQUIVALENT)) match++;
    }
    inc(MED_M_REPLAY_DETERMINISM, MED_M_REPLAY_DETERMINISM_HELP, "result=\"" MED_MV_MATCH "\"", match);
    inc(MED_M_REPLAY_DETERMINISM, MED_M_REPLAY_DETERMINISM_HELP, "result=\"" MED_MV_MISMATCH "\"",
        mismatch);
}
