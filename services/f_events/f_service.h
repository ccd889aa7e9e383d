/* F's EventBatch loop: med.f.events.v1 (stream MED_EVENTS, durable
 * stage_f) through med_relay_run_batch. Per EventBatch: phases 1..7 in one
 * transaction (f_store_run), the ACK to the Med-Reply-To inbox, then the
 * archive records and the audit published asynchronously (one ack wait
 * per fetch), the outbox rows marked published, then the relay acks the
 * inputs. */
#ifndef F_SERVICE_H
#define F_SERVICE_H

#include "f_redis.h"
#include "f_work.h"
#include "med/relay.h"
#include "med/service.h"

/* Seconds an SDK is told to wait after a 503 (stores unreachable). */
#define F_RETRY_AFTER_SEC 2

typedef struct f_service {
    med_service *svc;           /* borrowed */
    med_pg *pg;                 /* borrowed: this worker thread's connection */
    med_js *js;                 /* borrowed: this worker thread's JetStream context */
    f_redis *redis;             /* owned; NULL = no fast path */
    f_windows windows;
    int event_id_global_verified; /* eventIdGlobalUniqueVerified (see README) */
    int prepared;
} f_service;

/* The spec windows from config (F_*_SEC keys). */
void f_service_windows(const med_config *cfg, f_windows *w);

/* Binds one worker's connections (borrowed; used by that worker's thread
 * only) and prepares statements. */
med_rc f_service_init(f_service *fs, med_service *svc, med_pg *pg, med_js *js, med_err *err);
void f_service_fini(f_service *fs);

/* A med_relay_batch_fn; ud is the f_service. */
void f_service_batch(void *ud, const med_relay_in *ins, size_t n, med_relay_out *outs, med_rc *rcs,
                     med_err *errs);

#endif
