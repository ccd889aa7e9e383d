/* The config-derived lites A pins in the seed so later stages never
 * re-read config for them (docs/chain-brief.md): policy (C), routing (D),
 * placement spec and device capabilities (E). Pure; arena-owned. */
#ifndef A_LITES_H
#define A_LITES_H

#include <jansson.h>
#include <stdint.h>
#include "med/arena.h"
#include "mediation/v1/common.pb-c.h"

typedef struct a_snapshot_ids {
    const char *snapshot_id;      /* config_snapshots id */
    const char *resolve_id;
    const char *config_hash;
    int64_t effective_at_ms;
} a_snapshot_ids;

Mediation__V1__ConfigSnapshotLite *a_lite_config_snapshot(med_arena *a, const a_snapshot_ids *ids);
/* policy doc + black_white_list doc (either may be NULL). policy_ref is
 * "policy:<version>" (policySnapshotVersion). */
Mediation__V1__PolicySnapshotLite *a_lite_policy(med_arena *a, const json_t *policy_doc,
                                                 const json_t *bwl_doc, const char *policy_ref,
                                                 const a_snapshot_ids *ids);
Mediation__V1__RoutingContextLite *a_lite_routing(med_arena *a, const json_t *route_doc);
/* placement doc + the template_whitelist entry of its placementType. */
Mediation__V1__PlacementSpecLite *a_lite_placement_spec(med_arena *a, const json_t *placement_doc,
                                                        const json_t *template_whitelist_doc,
                                                        const char *placement_id,
                                                        const char *placement_config_version);
/* From the SDK body's deviceCapabilities (NULL when absent). */
Mediation__V1__DeviceCapabilitiesLite *a_lite_device_caps(med_arena *a, const json_t *caps,
                                                          const char *sdk_version);

#endif
