/* Appends audit rows to audit_records: one statement per tenant per
 * fetched batch (the stage audits of 3,000 opportunities/s are ~20,000
 * rows/s; a statement per row would cap far below that). A key already
 * appended within the 7 d window is skipped, so redelivery and replay are
 * no-ops. */
#ifndef G_AUDIT_STORE_H
#define G_AUDIT_STORE_H

#include <stddef.h>
#include "g_audit_row.h"
#include "med/pg.h"

/* Registers the statement; once per connection handle, at start-up. */
med_rc g_audit_store_prepare(med_pg *pg, med_err *err);
/* rows[i] for i in idx[0..n) all have the same tenant_id. */
med_rc g_audit_store_append(med_pg *pg, const g_audit_row *rows, const size_t *idx, size_t n,
                            med_err *err);

#endif
