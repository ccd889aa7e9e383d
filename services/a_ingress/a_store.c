#include "a_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/reason.h"

void a_store_dedup_key(const char *app_env, const char *tenant, const char *dedup_key, char *out,
                       size_t cap)
{
    snprintf(out, cap, "med:%s:a:dedup:%s:%s", app_env, tenant, dedup_key);
}

med_rc a_store_dedup_get(med_redis *r, const char *key, a_dedup_record *rec, int *found,
                         med_err *err)
{
    *found = 0;
    if (!r)
        return med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_INFRA_REDIS_UNAVAILABLE, NULL,
                           "no redis connection");
    uint8_t *v = NULL;
    size_t n = 0;
    med_rc rc = med_redis_get(r, key, &v, &n, err);
    if (rc == MED_ERR_NOT_FOUND) return MED_OK;
    if (rc != MED_OK) return rc;
    med_err derr;
    /* A record that does not decode is treated as absent and overwritten. */
    if (a_dedup_record_decode(v, n, rec, &derr) == MED_OK) *found = 1;
    free(v);
    return MED_OK;
}

med_rc a_store_dedup_put(med_redis *r, const char *key, const a_dedup_record *rec,
                         int64_t ttl_ms, int create_only, int *won, med_err *err)
{
    if (won) *won = 1;
    if (!r)
        return med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_INFRA_REDIS_UNAVAILABLE, NULL,
                           "no redis connection");
    uint8_t *buf = NULL;
    size_t len = 0;
    med_rc rc = a_dedup_record_encode(rec, &buf, &len, err);
    if (rc != MED_OK) return rc;
    if (create_only) {
        int acquired = 0;
        rc = med_redis_set_nx(r, key, buf, len, ttl_ms, &acquired, err);
        if (won) *won = acquired;
    } else {
        rc = med_redis_set(r, key, buf, len, ttl_ms, err);
    }
    free(buf);
    return rc;
}

med_rc a_store_dedup_delete(med_redis *r, const char *key, med_err *err)
{
    if (!r) return MED_OK;
    return med_redis_del(r, key, err);
}

#define STMT_OPP "a_opportunity_insert"
/* The claim trigger of opportunity_keys raises unique_violation for a key
 * stored before (another created_at): that is duplicate_noop. */
#define SQL_OPP                                                                             \
    "INSERT INTO opportunity_records (tenant_id, app_id, placement_id, opportunity_key, "   \
    "request_key, trace_key, attempt_key, create_opportunity_contract_version, dedup_key, " \
    "result_state, reason_code, resolved_config_snapshot_ref, anchor_hash, "                \
    "created_event_key, created_event_idempotency_key, created_event_status, "              \
    "created_event_attempts, created_event_first_attempt_at, payload) "                     \
    "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'received',$10,$11,$12,$13,$14,$15,1,now(),$16::jsonb) " \
    "ON CONFLICT DO NOTHING"

med_rc a_store_prepare(med_pg *pg, med_err *err)
{
    return med_pg_prepare(pg, STMT_OPP, SQL_OPP, 16, err);
}

typedef struct insert_q {
    const a_store_opportunity *o;
    int created;
} insert_q;

static med_rc insert_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    insert_q *q = ud;
    const a_store_opportunity *o = q->o;
    const char *p[16] = { o->tenant_id, o->app_id, o->placement_id, o->opportunity_key,
                          o->request_key, o->trace_key, o->attempt_key, o->contract_version,
                          o->dedup_key, o->reason_code, o->resolved_config_ref, o->anchor_hash,
                          o->event_key, o->event_idempotency_key, o->event_status,
                          o->payload_json ? o->payload_json : "{}" };
    med_err ierr;
    med_err_clear(&ierr);
    PGresult *res = med_pg_exec_prepared(pg, STMT_OPP, 16, p, &ierr);
    if (!res) {
        if (ierr.rc == MED_ERR_CONFLICT) {
            q->created = 0;
            return MED_ERR_CONFLICT;
        }
        *err = ierr;
        return ierr.rc;
    }
    med_rc rc = med_pg_result_err(res, conn, err);
    if (rc == MED_OK) q->created = atoi(PQcmdTuples(res)) > 0;
    PQclear(res);
    return rc;
}

med_rc a_store_opportunity_insert(med_pg *pg, const a_store_opportunity *o, int *created,
                                  med_err *err)
{
    insert_q q = { o, 0 };
    med_rc rc = med_pg_tx(pg, o->tenant_id, 0, insert_tx, &q, err);
    if (rc == MED_ERR_CONFLICT) {
        /* The claim refused the key: stored before, row untouched. */
        *created = 0;
        return MED_OK;
    }
    *created = q.created;
    return rc;
}
