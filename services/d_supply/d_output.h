/* D.8 output: dToEOutputLite (for E) and DSupplyAuditLite (for G) from a
 * finished run, as protobuf trees allocated in one arena. */
#ifndef D_OUTPUT_H
#define D_OUTPUT_H

#include "med/arena.h"
#include "d_route.h"
#include "med/err.h"
#include "mediation/v1/compose.pb-c.h"

typedef struct d_output {
    med_arena arena;
    Mediation__V1__DToEOutputLite *dto;
    Mediation__V1__DSupplyAuditLite *audit;
} d_output;

typedef struct d_output_in {
    const d_ctx *ctx;
    const d_plan *plan;                               /* NULL for an input reject */
    const d_run *run;
    const Mediation__V1__ConstraintsLite *constraints; /* C's, copied unchanged */
    const Mediation__V1__ExecutionStrategyLite *strategy; /* input's, may be NULL */
    const char *check_code;                           /* D.1 result ("" when none) */
    int budget_corrected;
    int64_t now_unix_ms;
} d_output_in;

med_rc d_output_build(const d_output_in *in, d_output *out, med_err *err);
/* D.8 invariants; NULL when they hold, else the failing code. */
const char *d_output_check_invariants(const Mediation__V1__DToEOutputLite *o);
void d_output_free(d_output *out);

#endif
