/* PostgreSQL edge of the H.4 publish pipeline: idempotency rows, operation
 * rows and their states, documents, the live snapshot per release unit,
 * the commit transaction with its outbox row, compensation and audit.
 * Every function runs its own med_pg_tx with the tenant that owns the rows
 * (the unit tenant: _platform for the global layer). */
#ifndef H_STORE_H
#define H_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "h_publish.h"
#include "med/pg.h"

typedef struct h_idem_row {
    int found;                /* an unexpired row holds the key */
    char fingerprint[65];     /* payloadHash */
    char op_id[64];
} h_idem_row;

typedef struct h_op_row {
    int found;
    char state[16];
    char code[64];
    int retryable;
    char *response;           /* stored reply JSON (malloc'd) or NULL */
} h_op_row;

typedef struct h_op_new {
    const h_pub_req *r;
    const char *op_id, *idem_key, *payload_hash;
    const char *actor_id, *actor_role, *trace_key;
} h_op_new;

typedef struct h_live {
    int found;
    h_versions v;
    char op_id[64];
} h_live;

typedef struct h_audit {
    const char *kind;         /* publish | rollback | permission_denied */
    const char *actor_id, *actor_role, *action, *resource_id;
    const char *outcome, *reason_code, *app_id, *placement_id, *request_id;
    const char *payload_json; /* NULL -> {} */
} h_audit;

/* Builds the ConfigChanged outbox payload once the commit knows the
 * versions it replaces and the operation it reverts (rollback). */
typedef med_rc (*h_outbox_build_fn)(void *ud, const h_versions *prev, const char *reverted_op,
                                    int64_t committed_ms, uint8_t **buf, size_t *len);

typedef struct h_commit {
    const h_pub_req *r;
    const char *op_id;
    const char *layer_json;       /* the unit's new layer */
    const char *response_json;    /* the stored success reply */
    const char *final_code;       /* h_publish_published | h_publish_rolled_back */
    h_outbox_build_fn build;
    void *build_ud;
    const h_audit *audit;
} h_commit;

void h_op_row_free(h_op_row *o);

med_rc h_store_idem_find(med_pg *pg, const char *tenant, const char *key, h_idem_row *out,
                         med_err *err);
med_rc h_store_op_load(med_pg *pg, const char *tenant, const char *op_id, h_op_row *out,
                       med_err *err);
/* draft: claims the idempotency key (taking over an expired one) and
 * inserts the operation; MED_ERR_CONFLICT when a live claim exists. */
med_rc h_store_op_begin(med_pg *pg, const char *tenant, const h_op_new *n, med_err *err);
/* from -> to (checked against the state machine and the row); response
 * (optional) is stored on the operation and its idempotency row. */
med_rc h_store_op_state(med_pg *pg, const char *tenant, const char *op_id, const char *from,
                        const char *to, const char *code, int retryable,
                        const char *response_json, med_err *err);
/* Step 7: stores changeSet documents idempotently, checks the layer's refs
 * resolve and the changeSet was never published, then draft -> validated. */
med_rc h_store_validate(med_pg *pg, const char *tenant, const h_pub_req *r, const char *op_id,
                        med_err *err);
med_rc h_store_live(med_pg *pg, const char *tenant, const char *unit, h_live *out,
                    med_err *err);
/* Step 9: the layer of the unit's row with exactly these versions;
 * MED_ERR_NOT_FOUND when the unit never had them. */
med_rc h_store_find_target(med_pg *pg, const char *tenant, const char *unit,
                           const h_versions *v, char **layer_json, med_err *err);
/* Step 11 in one transaction. MED_ERR_CONFLICT + base_version_conflict when
 * the live versions moved; MED_OK also when a retried COMMIT had already
 * committed. */
med_rc h_store_commit(med_pg *pg, const char *tenant, const h_commit *c, med_err *err);
/* Restores the base when the commit outcome is unknown: if this
 * operation's row is live, the previous row becomes live again; the
 * operation is failed with code (retryable). */
med_rc h_store_compensate(med_pg *pg, const char *tenant, const h_pub_req *r,
                          const char *op_id, const char *code, const char *response_json,
                          med_err *err);
med_rc h_store_audit(med_pg *pg, const char *tenant, const h_audit *a, med_err *err);

#endif
