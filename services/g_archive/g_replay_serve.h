/* The replay request/reply server (spec 04 G.5-G.7 over med.g.replay.v1,
 * 06 section 5): a core NATS queue subscription (queue group "g_replay",
 * replicas share the load) that answers each ReplayQuery with a packed
 * ReplayPage on the message's reply subject: 200 with the result, or the
 * 4xx/5xx status and error body. It has its own NATS connection (SendAsap:
 * a reply leaves at once, not with the stage consumer's batching) and its
 * own PostgreSQL connection (libpq connections are not shared across
 * threads); requests are answered one at a time on the subscription's
 * thread. */
#ifndef G_REPLAY_SERVE_H
#define G_REPLAY_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "med/err.h"
#include "med/pg.h"
#include "med/service.h"

typedef struct g_replay_server g_replay_server;

/* Connects, prepares and subscribes; on failure nothing is left running. */
med_rc g_replay_serve_start(med_service *svc, g_replay_server **out, med_err *err);
/* Drains the subscription (requests received are still answered), closes. */
void g_replay_serve_stop(g_replay_server *s);

/* One request, without NATS: the packed ReplayPage for the packed
 * ReplayQuery (malloc'd, caller frees). now_ms is the receipt time when the
 * query carries none. pg must have g_replay_store_prepare'd statements. */
med_rc g_replay_handle(med_pg *pg, const uint8_t *req, size_t len, int64_t now_ms, uint8_t **reply,
                       size_t *reply_len, med_err *err);

#endif
