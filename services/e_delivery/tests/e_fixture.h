/* The E.11 fixture as a ComposeInput: candidate source_primary_a/cand_001
 * (creative_001, assets, no renderAssets), served, route served_candidate,
 * placement and device [native_card, webview], all anchors,
 * composeRequestAt 2026-02-22T06:00:00.000Z, renderTtlMs 7000. Every
 * sub-message lives inside e_fx, so tests mutate fields in place. */
#ifndef E_FIXTURE_H
#define E_FIXTURE_H

#include "e_compose.h"

#define FX_T0 1771740000000LL /* 2026-02-22T06:00:00.000Z */

typedef struct e_fx {
    Mediation__V1__ComposeInput ci;
    Mediation__V1__TraceContext tc;
    Mediation__V1__EComposeInputLite lite;
    Mediation__V1__DToEOutputLite d;
    Mediation__V1__NormalizedCandidateLite cand[2], *cand_p[2];
    Mediation__V1__PricingLite pricing[2];
    Mediation__V1__CreativeRefLite cref[2];
    char *assets[1];
    char *flags[2][1];
    Mediation__V1__RenderAssetsLite ra;
    Mediation__V1__VideoSlotSpecLite vss;
    Mediation__V1__AuctionDecisionLite ad;
    Mediation__V1__AuctionWinnerLite win;
    Mediation__V1__AuctionPriceLite price;
    Mediation__V1__CreativeRefLite handle;
    Mediation__V1__AuctionDebugRefLite dbg;
    Mediation__V1__ConstraintsLite cons;
    Mediation__V1__RenderConstraints rcons;
    char *disallow[4];
    Mediation__V1__RouteConclusionLite route;
    Mediation__V1__PlacementSpecLite pl;
    char *pl_modes[4];
    Mediation__V1__UiConstraintProfileLite prof;
    Mediation__V1__DisclosurePolicyLite disc;
    Mediation__V1__DeviceCapabilitiesLite dev;
    char *dev_modes[4];
    Mediation__V1__ComposeContextLite ctx;
    Mediation__V1__PolicySignalsLite sig;
    Mediation__V1__EInputVersionAnchorsLite va;
} e_fx;

e_fx *e_fx_new(void); /* free() it */
void e_fx_placement_modes(e_fx *f, const char *const *modes, size_t n);
void e_fx_device_modes(e_fx *f, const char *const *modes, size_t n);
/* every device flag true */
void e_fx_device_all(e_fx *f);
/* renderAssets with https webviewUrl (and mraid / video assets) */
void e_fx_render_assets(e_fx *f);
/* served=false, route no_fill|error, no candidates */
void e_fx_route_failed(e_fx *f, const char *route_outcome, const char *code);
/* a clean runner-up source_b/cand_002 after the winner */
void e_fx_runner_up(e_fx *f);
void e_fx_flag(e_fx *f, int cand, const char *flag);
/* e_compose at composeRequestAt (fixed clock) into a heap outcome */
e_outcome *e_fx_compose(e_fx *f);

#endif
