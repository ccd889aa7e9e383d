/* The H process: what its two request/reply handlers share. main.c owns the
 * context and the NATS subscriptions (queue group "h_config", so replicas
 * share the load); h_publish.c answers med.h.publish.v1 and h_get.c answers
 * med.h.get.v1. Handlers run on nats.c callback threads, one at a time per
 * subscription, each with its own PostgreSQL/Redis connection from ctx. */
#ifndef H_SERVICE_H
#define H_SERVICE_H

#include <stddef.h>
#include <stdint.h>
#include "med/config.h"
#include "med/js.h"
#include "med/pg.h"
#include "med/redis.h"

typedef struct h_ctx {
    const med_config *cfg;
    med_js *js;
    med_pg *pg_publish;     /* used only by the publish handler's thread */
    med_pg *pg_get;         /* used only by the GET handler's thread */
    med_redis *redis_get;   /* GET cache; may be NULL (degraded: no cache) */
    const char *instance;
} h_ctx;

/* Each handler decodes the request payload, does its work and returns the
 * encoded reply protobuf in *reply (malloc'd, caller frees). They always
 * produce a reply (errors are replies with an http_status), so MED_OK unless
 * out of memory. */
med_rc h_publish_handle(h_ctx *ctx, const uint8_t *req, size_t len, uint8_t **reply,
                        size_t *reply_len);
med_rc h_get_handle(h_ctx *ctx, const uint8_t *req, size_t len, uint8_t **reply,
                    size_t *reply_len);

/* Called by main.c when a ConfigChanged arrives (any replica's publish):
 * drops cached GET answers for the affected release unit. */
void h_get_on_config_changed(h_ctx *ctx, const uint8_t *msg, size_t len);

#endif
