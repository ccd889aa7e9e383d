/* G's reconciliation metric (see g_metrics.h); apart from g_metrics.c so
 * the reconciliation responder links without the replay code. */
#include "g_metrics.h"

#include <stdio.h>
#include <string.h>

#include "med/metric_names.h"
#include "med/metrics.h"

void g_metrics_recon(const Mediation__V1__ReconciliationReport *r)
{
    for (size_t i = 0; i < r->n_diffs; i++) {
        const char *code = r->diffs[i] ? r->diffs[i]->diff_code : NULL;
        if (!code || !*code || strlen(code) > 64 || strchr(code, '"') || strchr(code, '\\')) continue;
        char labels[96];
        snprintf(labels, sizeof labels, "reason=\"%s\"", code);
        med_counter *c = med_counter_get(MED_M_RECON_DIFFS, MED_M_RECON_DIFFS_HELP, labels);
        if (c) med_counter_inc(c);
    }
}
