/* A.8 createOpportunity(opportunity_v1) contract checks. Pure. */
#ifndef A_CREATE_H
#define A_CREATE_H

#include "mediation/v1/opportunity.pb-c.h"

/* First failing check's reason code (a_cop_*), or MED_R_A_COP_CREATED when
 * the input may be stored. *field names the offending field ("" when
 * none). */
const char *a_create_check(const Mediation__V1__CreateOpportunityInputLite *in,
                           const char **field);

/* Fills res for an outcome: created / rejected / duplicate_noop (from the
 * reason code). Strings are borrowed from the arguments. */
void a_create_result(const char *reason_code, const char *opportunity_ref,
                     Mediation__V1__TraceInitLite *trace_init, int64_t now_ms,
                     Mediation__V1__CreateOpportunityResultLite *res);

#endif
