/* B.1 source slots A fills (A.9): appExplicit from the SDK body,
 * placementConfig from the placement document, defaultPolicy from the
 * policy document. Values stay raw; B canonicalises. */
#ifndef A_SLOTS_H
#define A_SLOTS_H

#include <jansson.h>
#include "med/arena.h"
#include "a_request.h"
#include "mediation/v1/opportunity.pb-c.h"

/* Every returned pointer lives in the arena (strings may borrow from the
 * JSON, which must outlive the packing). NULL on ENOMEM. */
Mediation__V1__SourceSlotLite *a_slot_app_explicit(med_arena *a, const a_request *r);
/* placementType/-Surface and slot fields of the placement document;
 * updated_at_ms = its publish time (0 = unknown). NULL doc -> {}. */
Mediation__V1__SourceSlotLite *a_slot_placement_config(med_arena *a, const json_t *placement_doc,
                                                       int64_t updated_at_ms);
/* The policy document's "defaultPolicy" object if any, else {}. */
Mediation__V1__SourceSlotLite *a_slot_default_policy(med_arena *a, const json_t *policy_doc,
                                                     int64_t updated_at_ms);

#endif
