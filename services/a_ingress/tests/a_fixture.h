/* Fixture F of spec 01 A.11, shared by A's unit tests. */
#ifndef A_FIXTURE_H
#define A_FIXTURE_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "a_decide.h"

#define F_PLACEMENT "chat_from_answer_v1"
#define F_APP "app_chat_main"
/* 2026-02-21T18:00:01.000Z + 10 ms */
#define F_RECEIVED_MS 1771696801010LL

static inline json_t *fixture_body(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s}}",
                     "placementId", F_PLACEMENT, "sdkVersion", "2.1.0",
                     "ingressEnvelopeVersion", "ingress_v1", "triggerContractVersion", "a_trigger_v1",
                     "appContext", "appId", F_APP, "sessionId", "sess_001", "channelType", "chat",
                     "requestAt", "2026-02-21T18:00:00.000Z",
                     "triggerContext", "triggerType", "answer_end", "triggerAt",
                     "2026-02-21T18:00:01.000Z");
}

static inline json_t *fixture_placement(int enabled)
{
    return json_pack("{s:s, s:b, s:s, s:s}", "placementId", F_PLACEMENT, "enabled", enabled,
                     "placementType", "native_feed", "placementSurface", "chat_inline");
}

static inline a_decide_in fixture_in(const json_t *placement)
{
    a_decide_in in = {.med_app = F_APP, .received_at_ms = F_RECEIVED_MS,
                      .now_ms = F_RECEIVED_MS + 5, .config_status = MED_RCFG_FRESH,
                      .placement_doc = placement, .dedup_window_sec = 120,
                      .soft_budget_ms = 50, .hard_budget_ms = 150, .stream_seq = 7};
    return in;
}

/* Runs front (and back with rec when front continues). Returns front's
 * result. body is consumed. */
static inline int fixture_decide(const a_decide_in *in, json_t *body, const a_dedup_record *rec,
                                 int redis_down, a_request *req, a_decision *d)
{
    char *txt = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    int go = a_decide_front(in, txt, strlen(txt), req, d);
    free(txt);
    if (go) a_decide_back(in, req, rec, redis_down, d);
    return go;
}

static inline void set_ac(json_t *body, const char *k, const char *v)
{
    json_object_set_new(json_object_get(body, "appContext"), k, json_string(v));
}

static inline void set_tc(json_t *body, const char *k, const char *v)
{
    json_object_set_new(json_object_get(body, "triggerContext"), k, json_string(v));
}

#endif
