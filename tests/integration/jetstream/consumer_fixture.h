/* A med_consumer_run loop on its own thread with a scripted handler, for
 * the consumer integration tests. The handler only records (cmocka asserts
 * must stay on the test thread). */
#ifndef MED_TEST_CONSUMER_FIXTURE_H
#define MED_TEST_CONSUMER_FIXTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "med/consumer.h"
#include "med/dlq.h"

#define CF_MAX_CALLS 32

typedef enum cf_mode {
    CF_ACK,             /* always ACK */
    CF_RETRY_THEN_ACK,  /* RETRY while num_delivered <= retry_until, then ACK */
    CF_ALWAYS_RETRY,
    CF_FAIL,
    CF_ACK_AND_STOP,    /* ACK and raise the stop flag on the first call */
    CF_RETRY_AND_STOP,  /* RETRY and raise the stop flag on the first call */
} cf_mode;

typedef struct cf_script {
    pthread_mutex_t mu;
    cf_mode mode;
    int retry_until;
    int calls;
    uint64_t delivered[CF_MAX_CALLS];
    int64_t at_ms[CF_MAX_CALLS];
    /* Retry history found in the KV bucket at each call, when kv is set. */
    kvStore *kv;
    const char *stage;
    char history_key[192];
    med_retry_history seen[CF_MAX_CALLS];
    int seen_ok[CF_MAX_CALLS];
    atomic_int *stop;
} cf_script;

typedef struct cf_names {
    char unique[16];
    char stage[32];
    char subject[96];
    char durable[64];
    char dlq_subject[96];
} cf_names;

typedef struct cf_runner {
    pthread_t thread;
    med_js *js;
    med_consumer_opts opts;
    cf_script *script;
    atomic_int stop;
    atomic_int done;
    med_rc rc;
    med_err err;
} cf_runner;

void cf_names_init(cf_names *n);
/* Heap-allocated (it holds a history per call). */
cf_script *cf_script_new(cf_mode mode);
void cf_script_free(cf_script *s);
int cf_calls(cf_script *s);
/* Short test settings: ladder 100,200,400 ms, fetch 100 ms. */
void cf_opts(const cf_names *n, int max_deliver, int64_t ack_wait_ms, med_consumer_opts *o);
void cf_start(cf_runner *r, med_js *js, const med_consumer_opts *o, cf_script *s);
/* Raises stop and joins; fails the test if the loop does not end in time. */
void cf_stop(cf_runner *r, int timeout_ms);
/* Publishes one message with the Med-* trace headers onto n->subject. */
void cf_publish(med_js *js, const cf_names *n, const char *payload);
void cf_delete_consumer(med_js *js, const cf_names *n);

#endif
