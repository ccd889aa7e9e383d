/* delivery_records (migrations/0004, 0019): E is its only writer. The
 * packed Delivery is kept as bytes (delivery_pb; older rows: base64url in
 * payload.deliveryPb) so a redelivered or duplicate request is answered
 * with the identical Delivery. */
#ifndef E_STORE_H
#define E_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "e_compose.h"
#include "med/err.h"
#include "med/pg.h"

typedef struct e_store_row {
    const char *tenant_id;
    const char *app_id;
    const char *placement_id;
    const char *anchor_hash;
    const e_outcome *outcome;
    const uint8_t *delivery;  /* packed Delivery */
    size_t delivery_len;
} e_store_row;

/* Registers the prepared statements (once per med_pg). */
med_rc e_store_prepare(med_pg *pg, med_err *err);

/* The rows of one tenant in one transaction: claims their
 * responseReferences (one statement) and inserts the rows whose claim it
 * won (one statement); for a reference claimed before (redelivery),
 * stored[i] gets the stored packed Delivery (malloc'd, caller frees)
 * instead. stored[i] NULL = this call wrote the row. */
med_rc e_store_save_many(med_pg *pg, const e_store_row *const *rows, size_t n, uint8_t **stored,
                         size_t *stored_len, med_err *err);
/* The stored Delivery of ref, or MED_ERR_NOT_FOUND. */
med_rc e_store_load(med_pg *pg, const char *tenant_id, const char *ref, uint8_t **stored,
                    size_t *stored_len, med_err *err);

#endif
