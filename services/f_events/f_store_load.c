/* Phase 3 of f_work.h: claim dedup keys, read the lost claims, lock and
 * load seq and closure rows, read Deliveries. Keys go to PostgreSQL as
 * binary arrays (one per column), locked in sorted key order, so every
 * batch locks in the same order. */
#include "f_store.h"
#include "f_store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/names.h"
#include "med/reason.h"

med_rc f_store_prepare_load(med_pg *pg, med_err *err)
{
    /* A row is taken over only once its window ended (F.5 "none or
     * expired -> lock, process"); a live row is left untouched and read
     * back by F_SQL_DEDUP_READ. An uncommitted claim of another batch makes
     * the insert wait for that batch's outcome: the claim is the lock. */
    med_rc rc = med_pg_prepare(pg, F_SQL_DEDUP_CLAIM,
        "INSERT INTO idempotency_keys AS k (tenant_id, scope, key, state, fingerprint, owner_ref, "
        "trace_key, expires_at, created_at, updated_at) "
        "SELECT $1, '" MED_SCOPE_F_DEDUP "', r.key, 'accepted_committed', r.fingerprint, $2, "
        "r.trace_key, to_timestamp(r.expires_ms / 1000.0), now(), now() "
        "FROM unnest($3::text[], $4::text[], $5::text[], $6::int8[]) "
        "AS r(key, fingerprint, trace_key, expires_ms) ORDER BY r.key "
        "ON CONFLICT (tenant_id, scope, key) DO UPDATE SET state = EXCLUDED.state, "
        "fingerprint = EXCLUDED.fingerprint, owner_ref = EXCLUDED.owner_ref, "
        "trace_key = EXCLUDED.trace_key, expires_at = EXCLUDED.expires_at, "
        "created_at = EXCLUDED.created_at, updated_at = now(), result = NULL "
        "WHERE k.expires_at IS NOT NULL AND k.expires_at <= now() "
        "RETURNING k.key", 6, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_DEDUP_READ,
            "SELECT key, fingerprint FROM idempotency_keys WHERE tenant_id = $1 "
            "AND scope = '" MED_SCOPE_F_DEDUP "' "
            "AND key = ANY($2::text[]) "
            "AND (expires_at IS NULL OR expires_at > now())", 2, err);
    /* Missing rows are inserted as placeholders (expired seq 0, closure
     * 'none'); the no-op update locks existing ones: one statement locks
     * and returns every row of the batch. */
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_SEQ_LOCK,
            "INSERT INTO f_event_seq AS s (tenant_id, scope, last_seq, expires_at) "
            "SELECT $1, x.scope, 0, now() - interval '1 second' "
            "FROM unnest($2::text[]) AS x(scope) ORDER BY x.scope "
            "ON CONFLICT (tenant_id, scope) DO UPDATE SET updated_at = s.updated_at "
            "RETURNING s.scope, CASE WHEN s.expires_at > now() THEN s.last_seq ELSE 0 END", 2, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_CLOSURE_LOCK,
            "INSERT INTO f_closures AS c (tenant_id, app_id, closure_key, response_reference, "
            "render_attempt_id, state) "
            "SELECT $1, $2, r.closure_key, r.response_reference, r.render_attempt_id, 'none' "
            "FROM unnest($3::text[], $4::text[], $5::text[]) "
            "AS r(closure_key, response_reference, render_attempt_id) ORDER BY r.closure_key "
            "ON CONFLICT (tenant_id, closure_key) DO UPDATE SET updated_at = c.updated_at "
            "RETURNING c.closure_key, c.state, c.terminal_source, "
            "(extract(epoch FROM c.opened_at) * 1000)::bigint, c.superseded_once, "
            "c.billed_impression, c.billed_click, c.pending_click_event_id, "
            "(extract(epoch FROM c.pending_click_received_at) * 1000)::bigint, "
            "c.pending_click_dedup_key, c.pending_click_trace_key, c.open_trace_key, "
            "c.open_request_key, c.open_attempt_key, c.open_opportunity_key, "
            "c.open_event_version, c.timeout_record_key", 5, err);
    /* F's own copy first; delivery_records (E writes it before it
     * publishes) for a Delivery F's consumer has not seen yet. */
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_DELIVERY_READ,
            "SELECT d.response_reference, d.delivery_status, d.opportunity_key, d.anchor_hash, "
            "d.version_anchor_snapshot_ref, d.amount_micros, d.currency, "
            "(extract(epoch FROM d.delivered_at) * 1000)::bigint "
            "FROM f_deliveries d WHERE d.tenant_id = $1 "
            "AND d.response_reference = ANY($2::text[]) "
            "UNION ALL "
            "SELECT r.response_reference, r.delivery_status, r.opportunity_key, r.anchor_hash, "
            "r.version_anchor_snapshot_ref, COALESCE((r.payload->>'winnerPriceMicros')::bigint, 0), "
            "NULLIF(r.payload->>'winnerCurrency', ''), (extract(epoch FROM r.created_at) * 1000)::bigint "
            "FROM delivery_records r WHERE r.tenant_id = $1 "
            "AND r.response_reference = ANY($2::text[]) "
            "AND NOT EXISTS (SELECT 1 FROM f_deliveries d WHERE d.tenant_id = $1 "
            "AND d.response_reference = r.response_reference)", 2, err);
    return rc;
}

/* ---- sorted key lists ------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* c = one text[] column of the n strings at base + i*stride (a const
 * char * field of each row), sorted, NULLs left out. */
static med_rc keys_cols(med_arena *a, const void *base, size_t n, size_t stride, size_t offset,
                        med_pg_cols *c, med_err *err)
{
    med_pg_cols_init(c, (const uint32_t[]){ MED_PG_OID_TEXT }, 1);
    const char **keys = MED_NEWN(a, const char *, n);
    if (!keys) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "key list");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = *(const char *const *)((const char *)base + i * stride + offset);
        if (s) keys[k++] = s;
    }
    qsort(keys, k, sizeof *keys, cmp_str);
    for (size_t i = 0; i < k; i++) med_pg_array_add_str(&c->col[0], keys[i]);
    return med_pg_cols_finish(c, err);
}

/* Runs stmt with (b's tenant, the keys as keys_cols takes them); *out as
 * f_store_exec_params. */
static med_rc exec_keys(med_pg *pg, const char *stmt, f_batch_work *b, const void *base, size_t n,
                        size_t stride, size_t offset, PGresult **out, med_err *err)
{
    med_pg_cols keys;
    med_rc rc = keys_cols(&b->arena, base, n, stride, offset, &keys, err);
    if (rc == MED_OK) {
        f_params p = { .n = 0 };
        f_params_text(&p, b->tenant_id);
        f_params_cols(&p, &keys);
        rc = f_store_exec_params(pg, stmt, &p, out, err);
    }
    med_pg_cols_free(&keys);
    return rc;
}

/* ---- dedup ------------------------------------------------------------------- */

static const char *first_trace_key(const f_batch_work *b, const f_dedup_row *d)
{
    if (d->first_event < 0 || (size_t)d->first_event >= b->n_events) return NULL;
    const Mediation__V1__SdkEvent *ev = b->events[d->first_event].ev;
    return ev && ev->trace_key && ev->trace_key[0] ? ev->trace_key : NULL;
}

enum { DC_KEY, DC_FINGERPRINT, DC_TRACE, DC_EXPIRES, DC_N };

static med_rc dedup_claim_cols(const f_batch_work *b, med_pg_cols *c, med_err *err)
{
    med_pg_cols_init(c, (const uint32_t[]){ MED_PG_OID_TEXT, MED_PG_OID_TEXT, MED_PG_OID_TEXT,
                                            MED_PG_OID_INT8 }, DC_N);
    for (size_t i = 0; i < b->n_dedup; i++) {
        const f_dedup_row *d = &b->dedup[i];
        med_pg_array_add_str(&c->col[DC_KEY], d->key);
        med_pg_array_add_str(&c->col[DC_FINGERPRINT], d->fingerprint);
        med_pg_array_add_str(&c->col[DC_TRACE], first_trace_key(b, d));
        med_pg_array_add_int8(&c->col[DC_EXPIRES], d->expires_at_ms);
    }
    return med_pg_cols_finish(c, err);
}

static f_dedup_row *dedup_find(f_batch_work *b, const char *key)
{
    for (size_t i = 0; i < b->n_dedup; i++)
        if (b->dedup[i].key && strcmp(b->dedup[i].key, key) == 0) return &b->dedup[i];
    return NULL;
}

/* A lost claim whose row vanished (it expired between the two statements)
 * cannot be judged: the whole transaction runs again. */
static med_rc dedup_read_lost(med_pg *pg, f_batch_work *b, med_err *err)
{
    size_t lost = 0;
    for (size_t i = 0; i < b->n_dedup; i++) lost += !b->dedup[i].won;
    if (lost == 0) return MED_OK;
    PGresult *res = NULL;
    med_rc rc = exec_keys(pg, F_SQL_DEDUP_READ, b, b->dedup, b->n_dedup, sizeof *b->dedup,
                          offsetof(f_dedup_row, key), &res, err);
    if (rc != MED_OK) return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        f_dedup_row *d = dedup_find(b, PQgetvalue(res, r, 0));
        if (!d || d->won) continue;
        d->stored_found = 1;
        d->stored_fingerprint = f_store_str_at(&b->arena, res, r, 1);
    }
    PQclear(res);
    for (size_t i = 0; i < b->n_dedup; i++)
        if (!b->dedup[i].won && !b->dedup[i].stored_found)
            return med_err_set(err, MED_ERR_IO, MED_R_INFRA_PG_RETRYABLE, NULL,
                               "dedup claim lost to a row that expired meanwhile");
    return MED_OK;
}

static med_rc dedup_claim(med_pg *pg, f_batch_work *b, const char *owner, med_err *err)
{
    if (b->n_dedup == 0) return MED_OK;
    med_pg_cols rows;
    PGresult *res = NULL;
    med_rc rc = dedup_claim_cols(b, &rows, err);
    if (rc == MED_OK) {
        f_params p = { .n = 0 };
        f_params_text(&p, b->tenant_id);
        f_params_text(&p, owner ? owner : "");
        f_params_cols(&p, &rows);
        rc = f_store_exec_params(pg, F_SQL_DEDUP_CLAIM, &p, &res, err);
    }
    med_pg_cols_free(&rows);
    if (rc != MED_OK) return rc;
    for (size_t i = 0; i < b->n_dedup; i++) {
        b->dedup[i].won = 0;
        b->dedup[i].stored_found = 0;
        b->dedup[i].stored_fingerprint = NULL;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        f_dedup_row *d = dedup_find(b, PQgetvalue(res, r, 0));
        if (d) d->won = 1;
    }
    PQclear(res);
    return dedup_read_lost(pg, b, err);
}

/* ---- seq rows ----------------------------------------------------------------- */

static med_rc seq_lock(med_pg *pg, f_batch_work *b, med_err *err)
{
    if (b->n_seqs == 0) return MED_OK;
    PGresult *res = NULL;
    med_rc rc = exec_keys(pg, F_SQL_SEQ_LOCK, b, b->seqs, b->n_seqs, sizeof *b->seqs,
                          offsetof(f_seq_row, scope), &res, err);
    if (rc != MED_OK) return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *scope = PQgetvalue(res, r, 0);
        for (size_t i = 0; i < b->n_seqs; i++)
            if (b->seqs[i].scope && strcmp(b->seqs[i].scope, scope) == 0) {
                b->seqs[i].stored_last = f_store_int_at(res, r, 1);
                b->seqs[i].new_last = b->seqs[i].stored_last;
            }
    }
    PQclear(res);
    return MED_OK;
}

/* ---- closures ------------------------------------------------------------------ */

enum { CK_KEY, CK_RESPONSE_REFERENCE, CK_RENDER_ATTEMPT, CK_N };

static med_rc closure_keys_cols(const f_batch_work *b, med_pg_cols *c, med_err *err)
{
    med_pg_cols_init(c, (const uint32_t[]){ MED_PG_OID_TEXT, MED_PG_OID_TEXT, MED_PG_OID_TEXT },
                     CK_N);
    for (size_t i = 0; i < b->n_closures; i++) {
        const f_closure_row *r = &b->closures[i];
        med_pg_array_add_str(&c->col[CK_KEY], r->closure_key);
        med_pg_array_add_str(&c->col[CK_RESPONSE_REFERENCE], r->response_reference);
        med_pg_array_add_str(&c->col[CK_RENDER_ATTEMPT], r->render_attempt_id);
    }
    return med_pg_cols_finish(c, err);
}

static f_closure_state closure_state_of(const char *s, int *exists)
{
    *exists = 1;
    if (strcmp(s, "open") == 0) return F_CLOSURE_OPEN;
    if (strcmp(s, "closed_success") == 0) return F_CLOSURE_CLOSED_SUCCESS;
    if (strcmp(s, "closed_failure") == 0) return F_CLOSURE_CLOSED_FAILURE;
    /* 'none' (placeholder) and 'released' (a silently closed default
     * closure of the Delivery) hold no closure the rules know. */
    *exists = 0;
    return F_CLOSURE_NONE;
}

static f_terminal_source terminal_source_of(const char *s)
{
    if (!s) return F_TERMINAL_NONE;
    if (strcmp(s, "real_failure") == 0) return F_TERMINAL_REAL_FAILURE;
    if (strcmp(s, "system_timeout_synthesized") == 0) return F_TERMINAL_SYSTEM_TIMEOUT;
    return F_TERMINAL_NONE;
}

static int is_true(const PGresult *res, int r, int c)
{
    return !PQgetisnull(res, r, c) && strcmp(PQgetvalue(res, r, c), "t") == 0;
}

static void closure_fill(med_arena *a, f_closure_row *c, const PGresult *res, int r)
{
    c->state = closure_state_of(PQgetvalue(res, r, 1), &c->exists);
    c->source = terminal_source_of(PQgetisnull(res, r, 2) ? NULL : PQgetvalue(res, r, 2));
    c->opened_at_ms = f_store_int_at(res, r, 3);
    c->superseded_once = is_true(res, r, 4);
    c->billed_impression = is_true(res, r, 5);
    c->billed_click = is_true(res, r, 6);
    c->pending_click_event_id = f_store_str_at(a, res, r, 7);
    c->pending_click_received_ms = f_store_int_at(res, r, 8);
    c->pending_click_dedup_key = f_store_str_at(a, res, r, 9);
    c->pending_click_trace_key = f_store_str_at(a, res, r, 10);
    c->open_trace_key = f_store_str_at(a, res, r, 11);
    c->open_request_key = f_store_str_at(a, res, r, 12);
    c->open_attempt_key = f_store_str_at(a, res, r, 13);
    c->open_opportunity_key = f_store_str_at(a, res, r, 14);
    c->open_event_version = f_store_str_at(a, res, r, 15);
    c->timeout_record_key = f_store_str_at(a, res, r, 16);
    c->dirty = 0;
}

static med_rc closure_lock(med_pg *pg, f_batch_work *b, med_err *err)
{
    if (b->n_closures == 0) return MED_OK;
    med_pg_cols rows;
    PGresult *res = NULL;
    med_rc rc = closure_keys_cols(b, &rows, err);
    if (rc == MED_OK) {
        f_params p = { .n = 0 };
        f_params_text(&p, b->tenant_id);
        f_params_text(&p, b->auth_app_id);
        f_params_cols(&p, &rows);
        rc = f_store_exec_params(pg, F_SQL_CLOSURE_LOCK, &p, &res, err);
    }
    med_pg_cols_free(&rows);
    if (rc != MED_OK) return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *key = PQgetvalue(res, r, 0);
        for (size_t i = 0; i < b->n_closures; i++)
            if (b->closures[i].closure_key && strcmp(b->closures[i].closure_key, key) == 0)
                closure_fill(&b->arena, &b->closures[i], res, r);
    }
    PQclear(res);
    return b->arena.failed ? med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "closures")
                           : MED_OK;
}

/* ---- deliveries ------------------------------------------------------------------ */

static void delivery_fill(med_arena *a, f_delivery_row *d, const PGresult *res, int r)
{
    d->found = 1;
    d->status = f_store_str_at(a, res, r, 1);
    d->opportunity_key = f_store_str_at(a, res, r, 2);
    d->anchor_hash = f_store_str_at(a, res, r, 3);
    d->version_anchor_snapshot_ref = f_store_str_at(a, res, r, 4);
    d->amount_micros = f_store_int_at(res, r, 5);
    d->currency = f_store_str_at(a, res, r, 6);
    d->delivered_at_ms = f_store_int_at(res, r, 7);
}

static med_rc delivery_read(med_pg *pg, f_batch_work *b, med_err *err)
{
    if (b->n_deliveries == 0) return MED_OK;
    PGresult *res = NULL;
    med_rc rc = exec_keys(pg, F_SQL_DELIVERY_READ, b, b->deliveries, b->n_deliveries,
                          sizeof *b->deliveries, offsetof(f_delivery_row, response_reference),
                          &res, err);
    if (rc != MED_OK) return rc;
    for (size_t i = 0; i < b->n_deliveries; i++) b->deliveries[i].found = 0;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *ref = PQgetvalue(res, r, 0);
        for (size_t i = 0; i < b->n_deliveries; i++)
            if (!b->deliveries[i].found && b->deliveries[i].response_reference &&
                strcmp(b->deliveries[i].response_reference, ref) == 0)
                delivery_fill(&b->arena, &b->deliveries[i], res, r);
    }
    PQclear(res);
    return b->arena.failed ? med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "deliveries")
                           : MED_OK;
}

med_rc f_store_load(med_pg *pg, f_batch_work *b, const char *owner, med_err *err)
{
    med_rc rc = dedup_claim(pg, b, owner, err);
    if (rc == MED_OK) rc = seq_lock(pg, b, err);
    if (rc == MED_OK) rc = closure_lock(pg, b, err);
    if (rc == MED_OK) rc = delivery_read(pg, b, err);
    return rc;
}
