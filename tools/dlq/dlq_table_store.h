/* tools/dlq's PostgreSQL side for table-only dead letters (dead_letter_records
 * rows F's outbox sweeper and G's quarantine write; no MED_DLQ message).
 * As the application role: which tenants hold them, and which tenant holds
 * t<id>, come from migration 0016's SECURITY DEFINER functions; the rows
 * are read and changed in a transaction of their tenant (RLS). */
#ifndef DLQ_TABLE_STORE_H
#define DLQ_TABLE_STORE_H

#include <libpq-fe.h>
#include <stddef.h>

#include "dlq_table.h"

typedef struct dlq_tenants {
    char **names;   /* owned (dlq_tenants_free) */
    size_t n;
} dlq_tenants;

/* Tenants with table-only dead letters of stage (NULL = any). 0 on success. */
int dlq_table_tenants(PGconn *pg, const char *stage, dlq_tenants *out, char *why, size_t cap);
void dlq_tenants_free(dlq_tenants *t);

/* The tenant of table-only dead letter id: 0 found, 1 none, -1 failure. */
int dlq_table_tenant_of(PGconn *pg, long long id, char *tenant, size_t tcap, char *why,
                        size_t cap);

/* tenant's table-only dead letters of stage (NULL = any), oldest first,
 * without payloads; appended to *items (realloc'd; each freed with
 * dlq_table_item_free, the array with free). One read-only transaction. */
int dlq_table_read(PGconn *pg, const char *tenant, const char *stage, dlq_table_item **items,
                   size_t *n, char *why, size_t cap);

/* BEGIN (tenant set) and read row id with its payload FOR UPDATE (two
 * operators re-driving one dead letter run one after the other). 0 locked
 * (the transaction stays open: commit or roll back), 1 no such row, -1
 * failure (both rolled back). */
int dlq_table_begin_locked(PGconn *pg, const char *tenant, long long id, dlq_table_item *it,
                           char *why, size_t cap);

/* In the open transaction: re-arms F's dead outbox row outbox_key (dead_at
 * cleared, next attempt now, compensation window restarted from now) so
 * F's sweeper republishes it. *rearmed = 0 when the row is not dead
 * (published, re-armed already or purged). 0 on success. */
int dlq_table_rearm_outbox(PGconn *pg, const char *outbox_key, int *rearmed, char *why,
                           size_t cap);

/* In the open transaction: marks the MED_DLQ copies F published of the same
 * outbox dead letter (imported rows of stage f with msg_id outbox_key, still
 * open) re-driven too, so the once-only rule holds in both views. */
int dlq_table_mark_outbox_copies(PGconn *pg, const char *outbox_key, const char *by,
                                 const char *note, char *why, size_t cap);

/* In the open transaction of its tenant: the newest table-only F outbox
 * dead letter of outbox_key; *id = 0 when there is none. */
int dlq_table_find_outbox(PGconn *pg, const char *outbox_key, long long *id, char *why,
                          size_t cap);

#endif
