/* Stage H (config and version governance): answers med.h.publish.v1 and
 * med.h.get.v1 (core request/reply, queue group "h_config" so replicas
 * share the load), evicts its GET cache on every ConfigChanged, and relays
 * the ConfigChanged outbox rows the publish commits leave behind. Ready
 * only after the outbox was drained once, so a crash between a commit and
 * its publish is repaired before this replica takes traffic. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "h_get_layers.h"
#include "h_publish.h"
#include "h_service.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/names.h"
#include "med/service.h"

#define H_QUEUE "h_config"
#define OUTBOX_INTERVAL_MS 2000

typedef med_rc (*h_handler_fn)(h_ctx *ctx, const uint8_t *req, size_t len, uint8_t **reply,
                               size_t *reply_len);

typedef struct h_route {
    h_ctx *ctx;
    h_handler_fn fn;
    const char *what;
} h_route;

static void respond(natsConnection *nc, natsMsg *msg, const h_route *r)
{
    const char *reply_to = natsMsg_GetReply(msg);
    uint8_t *out = NULL;
    size_t out_len = 0;
    med_rc rc = r->fn(r->ctx, (const uint8_t *)natsMsg_GetData(msg),
                      (size_t)natsMsg_GetDataLength(msg), &out, &out_len);
    if (rc != MED_OK) {
        MED_LOGE(NULL, "%s handler failed: %s", r->what, med_rc_name(rc));
    } else if (reply_to) {
        natsStatus s = natsConnection_Publish(nc, reply_to, out, (int)out_len);
        if (s != NATS_OK) MED_LOGW(NULL, "%s reply lost: %s", r->what, natsStatus_GetText(s));
    }
    free(out);
}

static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    respond(nc, msg, closure);
    natsMsg_Destroy(msg);
}

static void on_config_changed(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
                              void *closure)
{
    (void)nc;
    (void)sub;
    h_get_on_config_changed(closure, (const uint8_t *)natsMsg_GetData(msg),
                            (size_t)natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
}

typedef struct h_subs {
    natsSubscription *publish, *get, *changed;
} h_subs;

static med_rc subscribe_all(natsConnection *nc, h_route *pub, h_route *get, h_ctx *ctx,
                            h_subs *subs, med_err *err)
{
    natsStatus s = natsConnection_QueueSubscribe(&subs->publish, nc, MED_SUBJ_H_PUBLISH, H_QUEUE,
                                                 on_request, pub);
    if (s == NATS_OK)
        s = natsConnection_QueueSubscribe(&subs->get, nc, MED_SUBJ_H_GET, H_QUEUE, on_request, get);
    /* every replica must see every change (its own cache), so no queue */
    if (s == NATS_OK)
        s = natsConnection_Subscribe(&subs->changed, nc, MED_SUBJ_H_CONFIG, on_config_changed, ctx);
    if (s == NATS_OK) s = natsConnection_Flush(nc);
    if (s != NATS_OK) return med_js_status_err(s, 0, NULL, "h_config subscribe", err);
    return MED_OK;
}

static void unsubscribe_all(h_subs *subs)
{
    natsSubscription *all[3] = {subs->publish, subs->get, subs->changed};
    for (int i = 0; i < 3; i++) {
        if (!all[i]) continue;
        /* drain: requests already received are still answered */
        natsSubscription_Drain(all[i]);
        natsSubscription_WaitForDrainCompletion(all[i], 5000);
        natsSubscription_Destroy(all[i]);
    }
}

static void relay_outbox(med_service *svc, int *drained_once)
{
    med_err err;
    med_err_clear(&err);
    int sent = 0;
    if (h_outbox_drain(med_service_pg(svc), med_service_js(svc), &sent, &err) != MED_OK) {
        MED_LOGW(NULL, "outbox relay: %s %s", err.code, err.message);
        return;
    }
    if (sent > 0) MED_LOGI(NULL, "outbox relay published %d ConfigChanged", sent);
    if (!*drained_once) {
        *drained_once = 1;
        med_service_set_started(svc);
    }
}

static void serve(med_service *svc)
{
    int drained_once = 0;
    int64_t next = 0;
    while (!med_service_stopping(svc)) {
        int64_t now = med_mono_ms();
        if (now >= next) {
            relay_outbox(svc, &drained_once);
            next = now + (drained_once ? OUTBOX_INTERVAL_MS : 500);
        }
        usleep(100 * 1000);
    }
}

static int run(med_service *svc)
{
    med_err err;
    med_err_clear(&err);
    h_ctx ctx = {.cfg = med_service_config(svc), .js = med_service_js(svc),
                 .redis_get = med_service_redis(svc), .instance = med_service_instance(svc)};
    h_route pub = {&ctx, h_publish_handle, "publish"}, get = {&ctx, h_get_handle, "get"};
    h_subs subs = {0};
    int code = 1;
    if (med_service_pg_open(svc, 0, &ctx.pg_publish, &err) != MED_OK ||
        med_service_pg_open(svc, 0, &ctx.pg_get, &err) != MED_OK ||
        h_get_layers_prepare(ctx.pg_get, &err) != MED_OK ||
        subscribe_all(med_js_conn(ctx.js), &pub, &get, &ctx, &subs, &err) != MED_OK) {
        MED_LOGE(NULL, "start-up failed: %s %s", err.code, err.message);
    } else {
        serve(svc);
        code = 0;
    }
    unsubscribe_all(&subs);
    med_pg_close(ctx.pg_publish);
    med_pg_close(ctx.pg_get);
    return code;
}

int main(void)
{
    const med_service_opts opts = {.name = "h_config", .stage = MED_STAGE_H, .need_pg = 1,
                                   .need_redis = 1, .send_asap = 1};
    med_err err;
    med_err_clear(&err);
    med_service *svc = NULL;
    if (med_service_start(&opts, &svc, &err) != MED_OK) {
        fprintf(stderr, "h_config: start-up failed: %s %s\n", err.code, err.message);
        return 1;
    }
    int code = run(svc);
    MED_LOGI(NULL, "stopped %s", code == 0 ? "cleanly" : "after a start-up failure");
    med_service_free(svc);
    return code;
}
