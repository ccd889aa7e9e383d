/* F's Delivery consumer: med.delivery.v1 (stream MED_DELIVERY, durable
 * f_delivery), on its own thread with its own NATS and PostgreSQL
 * connections. Per fetch, one transaction per tenant:
 *   - f_deliveries rows (what batches read to judge events, F.4 step 12);
 *   - a served Delivery opens its default closure
 *     (responseReference|f_default_render_attempt_id, openedAt = delivery
 *     time), so a silent SDK still gets its timeout failure (00 decision 3);
 *   - a no_fill / error Delivery is terminal by itself: its decision_audit
 *     record (consistent_non_billable) goes out through the outbox.
 * A redelivered Delivery is a no-op (ON CONFLICT DO NOTHING everywhere). */
#ifndef F_DELIVERY_H
#define F_DELIVERY_H

#include <pthread.h>

#include "med/service.h"

typedef struct f_delivery_consumer {
    med_service *svc;  /* borrowed */
    med_js *js;        /* owned */
    med_pg *pg;        /* owned */
    pthread_t thread;
    int running;
} f_delivery_consumer;

/* Connects and starts the thread; it runs until the service's stop flag. */
med_rc f_delivery_start(f_delivery_consumer *c, med_service *svc, med_err *err);
/* Joins the thread (after the stop flag is set) and closes connections. */
void f_delivery_stop(f_delivery_consumer *c);

/* One fetch's worth of Deliveries, exposed for tests: stores them (one
 * transaction per tenant) and publishes the terminal ones' records.
 * dispositions[i] is what to do with msgs[i]. */
void f_delivery_handle_fetch(f_delivery_consumer *c, natsMsg **msgs, int n,
                             med_disposition *dispositions, med_err *errs);

#endif
