/* Parked requests (see edge_parking.h). Same lifetime rules as
 * edge_opportunity.c: a guard in the request's pool tells us when h2o
 * dropped the request under us (HTTP/2 reset, closed connection). */
#include "edge_parking.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_metrics.h"
#include "edge_pending.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/reason.h"

typedef struct park_guard park_guard;

typedef struct parked {
    edge_parking *owner;
    h2o_req_t *req;
    park_guard *guard;
    h2o_timeout_entry_t timer;
    double t0;
    const edge_park_ops *ops;
    void *ud;
    char key[EDGE_PARK_KEY_MAX];
} parked;

struct park_guard {
    parked *entry; /* NULL once answered */
};

struct edge_parking {
    edge_pending_table *table;
    h2o_loop_t *loop;
};

edge_parking *edge_parking_new(h2o_loop_t *loop)
{
    edge_parking *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->table = edge_pending_new();
    if (!p->table) {
        free(p);
        return NULL;
    }
    p->loop = loop;
    return p;
}

int edge_parking_key(const char *prefix, char *out, size_t cap)
{
    return med_id_new(out, cap, prefix);
}

/* Forgets the entry everywhere; neither the request nor ud is touched. */
static void entry_close(parked *e)
{
    edge_pending_take(e->owner->table, e->key);
    if (h2o_timeout_is_linked(&e->timer)) h2o_timeout_unlink(&e->timer);
    if (e->guard) e->guard->entry = NULL;
    edge_metrics_pending(-1);
    free(e);
}

static void on_request_disposed(void *p)
{
    park_guard *g = p;
    parked *e = g->entry;
    if (!e) return;
    const edge_park_ops *ops = e->ops;
    void *ud = e->ud;
    MED_LOGI(NULL, "client went away before the answer to %s; dropped", e->key);
    edge_metrics_client_gone();
    entry_close(e);
    ops->release(ud);
}

static void answer_deadline(parked *e)
{
    h2o_req_t *req = e->req;
    double t0 = e->t0;
    const edge_park_ops *ops = e->ops;
    void *ud = e->ud;
    entry_close(e);
    edge_metrics_deadline();
    ops->on_deadline(req, t0, ud);
    ops->release(ud);
}

static void on_timer(h2o_timeout_entry_t *entry)
{
    answer_deadline(H2O_STRUCT_FROM_MEMBER(parked, timer, entry));
}

med_rc edge_park(edge_parking *p, h2o_req_t *req, h2o_timeout_t *timeout, const char *key,
                 const edge_park_ops *ops, void *ud, double t0, med_err *err)
{
    parked *e = calloc(1, sizeof *e);
    if (!e) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "parked request");
    *e = (parked){ .owner = p, .req = req, .t0 = t0, .ops = ops, .ud = ud };
    snprintf(e->key, sizeof e->key, "%s", key);
    if (edge_pending_put(p->table, e->key, e) != 0) {
        free(e);
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_EDGE_INTERNAL, NULL,
                           "cannot register the pending request");
    }
    e->guard = h2o_mem_alloc_shared(&req->pool, sizeof *e->guard, on_request_disposed);
    e->guard->entry = e;
    e->timer.cb = on_timer;
    h2o_timeout_link(p->loop, timeout, &e->timer);
    edge_metrics_pending(1);
    return MED_OK;
}

void edge_unpark(edge_parking *p, const char *key)
{
    parked *e = edge_pending_get(p->table, key);
    if (e) entry_close(e);
}

static int has_parking_prefix(const char *key)
{
    return strncmp(key, EDGE_PARK_KEY_EVENTS, sizeof EDGE_PARK_KEY_EVENTS - 1) == 0 ||
           strncmp(key, EDGE_PARK_KEY_QUERY, sizeof EDGE_PARK_KEY_QUERY - 1) == 0;
}

int edge_parking_on_reply(edge_parking *p, const edge_reply *r)
{
    if (!p || !has_parking_prefix(r->key)) return 0;
    parked *e = edge_pending_get(p->table, r->key);
    if (!e) {
        /* Answered at the deadline or the client left. For events F has
         * committed anyway: the SDK's resend sees duplicates. */
        edge_metrics_late_reply();
        MED_LOGD(NULL, "late reply for %s dropped", r->key);
        return 1;
    }
    h2o_req_t *req = e->req;
    double t0 = e->t0;
    const edge_park_ops *ops = e->ops;
    void *ud = e->ud;
    entry_close(e);
    ops->on_reply(req, t0, ud, r);
    ops->release(ud);
    return 1;
}

size_t edge_parking_count(const edge_parking *p)
{
    return p ? edge_pending_count(p->table) : 0;
}

void edge_parking_expire_all(edge_parking *p)
{
    if (!p) return;
    parked *e;
    while ((e = edge_pending_take_any(p->table)) != NULL) answer_deadline(e);
}

void edge_parking_free(edge_parking *p)
{
    if (!p) return;
    edge_pending_free(p->table);
    free(p);
}
