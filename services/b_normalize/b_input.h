/* B.1 checks on bIngressPacketLite, in B.2 order: required blocks/fields ->
 * trace -> config gate; and the value range checks (state, confidenceBand). */
#ifndef B_INPUT_H
#define B_INPUT_H

#include "b_verdict.h"
#include "med/err.h"
#include "mediation/v1/opportunity.pb-c.h"

/* Required blocks and fields, slots present and objects:
 * b_missing_required_field / b_invalid_structure. */
med_rc b_input_required(const Mediation__V1__OpportunitySeed *seed, med_err *err);
/* Key format of the trace keys and opportunityKey, requestKey equality:
 * b_invalid_trace_context. */
med_rc b_input_trace(const Mediation__V1__BIngressPacketLite *p, med_err *err);
/* A.6 failure carried by the seed: config_version_invalid ->
 * h_cfg_fail_closed_version_invalid; timeout/unavailable (or a fail_open
 * seed) without a loadable resolvedConfigSnapshotRef ->
 * h_cfg_fail_closed_no_stable_snapshot. */
med_rc b_input_config_gate(const Mediation__V1__BIngressPacketLite *p, med_err *err);
/* state must be received (reject b_invalid_value_range); confidenceBand
 * NaN/Inf rejects, outside [0,1] is clamped into *band with
 * b_value_corrected. */
void b_input_value_range(const Mediation__V1__BIngressPacketLite *p, double *band, int *corrected,
                         b_verdict *v);
/* A slot with nothing set: `{}` (degrade b_source_slot_empty). */
int b_input_slot_empty(const Mediation__V1__SourceSlotLite *s);

#endif
