/* Rows a stage writes for a whole fetched batch: one `INSERT ... SELECT
 * FROM jsonb_to_recordset($1::jsonb)` per tenant (row-level security sets
 * the tenant per transaction), so the batch is grouped by tenant and each
 * row becomes a JSON object of its columns. */
#ifndef MED_ROWS_H
#define MED_ROWS_H

#include <jansson.h>
#include <stddef.h>

/* row[column] = value, or JSON null when value is NULL. 0 on success. */
int med_rows_put(json_t *row, const char *column, const char *value);

/* The next tenant group of a batch: every item not yet taken whose tenant
 * equals the first such item's (tenants[i] NULL = nothing to write). Marks
 * them taken and writes their indexes to idx (capacity n); returns how
 * many, 0 when no group is left. */
size_t med_rows_next_tenant_group(const char *const *tenants, size_t n, unsigned char *taken,
                                  size_t *idx);

#endif
