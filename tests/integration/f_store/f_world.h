/* Stage F against real servers: med-f-events processes (two replicas by
 * default) on the suite's nats-server, PostgreSQL and Redis; Deliveries and
 * EventBatches published by the test as E and the edge would; answers read
 * from a reply inbox, ArchiveRecords from MED_ARCHIVE, rows from
 * PostgreSQL (admin connection, RLS bypassed). */
#ifndef F_WORLD_H
#define F_WORLD_H

#include <libpq-fe.h>
#include <nats/nats.h>
#include <stdint.h>

#include "harness.h"
#include "mediation/v1/archive.pb-c.h"
#include "mediation/v1/events.pb-c.h"

#define FW_APP "app_chat_main"
#define FW_REPLICAS 2

typedef struct fw {
    char tenant[40];
    char run[20];          /* makes every key of this run unique */
    th_proc f[FW_REPLICAS];
    natsConnection *nc;
    jsCtx *js;
    PGconn *pg;
    int seq;               /* edge request ids */
} fw;

void fw_start(fw *w);
void fw_stop(fw *w);
/* SIGKILLs replica i (no graceful stop) and starts it again. */
void fw_kill(fw *w, int i);
void fw_restart(fw *w, int i);

/* A unique name for this run: "<prefix>_<run>". */
char *fw_name(fw *w, const char *prefix);

/* Publishes a Delivery on med.delivery.v1 (as E does) and waits until F
 * stored it (f_deliveries). status: served | no_fill | error. */
void fw_delivery(fw *w, const char *rr, const char *status);
/* Same, without waiting. */
void fw_delivery_publish(fw *w, const char *rr, const char *status);

/* One SDK event as JSON text (malloc'd). type: impression, click,
 * ad_filled, error_terminal, ...; seq used by click (0 = none). */
char *fw_event(fw *w, const char *type, const char *event_id, const char *rr, const char *ra,
               int seq, const char *idem);
/* The POST /v1/events body for events (NULL-terminated, consumed). */
char *fw_body(const char *batch_id, char **events);

/* Publishes an EventBatch on med.f.events.v1 with edge_request_id and the
 * reply inbox, and waits for F's answer (fails the test after 20 s).
 * edge_id NULL: a new one. */
Mediation__V1__EventBatchAck *fw_send(fw *w, const char *edge_id, const char *body);
/* Publishes without waiting; returns the inbox subscription's subject
 * (malloc'd) or NULL when reply is 0. */
void fw_send_nowait(fw *w, const char *edge_id, const char *body);

/* Admin SQL. */
long fw_count(fw *w, const char *sql, const char *p1, const char *p2);
char *fw_value(fw *w, const char *sql, const char *p1, const char *p2);
/* Polls until fw_count(...) == want or timeout_ms; returns the last count. */
long fw_await_count(fw *w, long want, int timeout_ms, const char *sql, const char *p1,
                    const char *p2);

/* The ArchiveRecords in MED_ARCHIVE after from_seq whose responseReference
 * is rr, in stream order. Free with fw_records_free. */
typedef struct fw_records {
    Mediation__V1__ArchiveRecord **r;
    size_t n;
} fw_records;
void fw_archive(fw *w, uint64_t from_seq, const char *rr, fw_records *out);
void fw_records_free(fw_records *r);
uint64_t fw_archive_seq(fw *w);

/* Redis FLUSHALL on the suite's server. */
void fw_redis_flushall(void);

#endif
