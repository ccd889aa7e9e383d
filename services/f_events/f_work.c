/* Batch lifecycle and the spec's default windows. */
#include "f_work.h"

#include <string.h>

void f_windows_default(f_windows *w)
{
    const int64_t day = 24LL * 3600 * 1000;
    w->billing_dedup_ms = 14 * day;
    w->diagnostics_dedup_ms = 3 * day;
    w->inflight_lock_ms = 120 * 1000;
    w->terminal_wait_ms = 120 * 1000;
    w->future_skew_ms = 300 * 1000;
    w->seq_keep_ms = 14 * day;
    w->compensation_ms = 15 * 60 * 1000;
}

void f_batch_init(f_batch_work *b, const char *tenant_id, const char *auth_app_id,
                  int64_t received_at_ms, const f_windows *w)
{
    memset(b, 0, sizeof *b);
    med_arena_init(&b->arena);
    b->tenant_id = tenant_id;
    b->auth_app_id = auth_app_id;
    b->received_at_ms = received_at_ms;
    b->now_ms = received_at_ms;
    if (w)
        b->windows = *w;
    else
        f_windows_default(&b->windows);
}

void f_batch_free(f_batch_work *b)
{
    med_arena_free(&b->arena);
    memset(b, 0, sizeof *b);
}
