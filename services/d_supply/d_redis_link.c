#include "d_redis_link.h"

#include <stdlib.h>
#include <string.h>
#include "med/ids.h"
#include "med/log.h"

int d_redis_link_init(d_redis_link *l, const char *host, int port, int timeout_ms, const char *what)
{
    memset(l, 0, sizeof *l);
    l->host = strdup(host && host[0] ? host : "127.0.0.1");
    l->port = port;
    l->timeout_ms = timeout_ms;
    l->what = what;
    return l->host ? 0 : -1;
}

void d_redis_link_clear(d_redis_link *l)
{
    med_redis_close(l->r);
    l->r = NULL;
    free(l->host);
    l->host = NULL;
}

static void log_failure(const d_redis_link *l, const char *op, const med_err *e)
{
    med_log_ctx lc = { .error_code = e->code };
    MED_LOGW(&lc, "%s: %s: %s", l->what, op, e->message);
}

med_redis *d_redis_link_get(d_redis_link *l)
{
    if (med_mono_ms() < l->next_try_mono_ms) return NULL;
    if (l->r) return l->r;
    med_err e;
    if (med_redis_connect(l->host, l->port, l->timeout_ms, &l->r, &e) == MED_OK) return l->r;
    l->next_try_mono_ms = med_mono_ms() + D_REDIS_RETRY_MS;
    log_failure(l, "connect", &e);
    return NULL;
}

void d_redis_link_failed(d_redis_link *l, const char *op, const med_err *e)
{
    if (e->rc == MED_ERR_UNAVAILABLE) l->next_try_mono_ms = med_mono_ms() + D_REDIS_RETRY_MS;
    log_failure(l, op, e);
}
