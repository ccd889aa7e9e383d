/* What F takes from a Delivery (pure): the f_deliveries row, the default
 * closure of a served Delivery (00 decision 3), and the archive record
 * that closes the loop of a no_fill / error Delivery, which is terminal by
 * itself (consistent_non_billable). */
#ifndef F_DELIVERY_RECORD_H
#define F_DELIVERY_RECORD_H

#include <stdint.h>

#include "med/arena.h"
#include "med/err.h"
#include "mediation/v1/archive.pb-c.h"
#include "mediation/v1/delivery.pb-c.h"

typedef struct f_delivery_facts {
    const char *response_reference;
    const char *status;               /* served | no_fill | error */
    const char *final_reason_code;
    const char *trace_key, *request_key, *attempt_key, *opportunity_key;
    const char *anchor_hash;          /* may be NULL */
    const char *default_render_attempt_id; /* arena; served only, else NULL */
    int64_t amount_micros;
    const char *currency;             /* may be NULL */
    int64_t delivered_at_ms;          /* Delivery time, else now */
    int terminal;                     /* no_fill / error */
} f_delivery_facts;

/* MED_ERR_INVALID when the Delivery has no responseReference or an
 * unknown status (it cannot be stored). header_anchor: Med-Anchor-Hash. */
med_rc f_delivery_facts_of(med_arena *a, const Mediation__V1__Delivery *d, const char *header_anchor,
                           int64_t now_ms, f_delivery_facts *out, med_err *err);

/* The decision_audit record of a terminal Delivery: sourceEventId
 * "delivery_" + responseReference, decisionReasonCode = the Delivery's
 * finalReasonCode, decisionAction drop, group consistent_non_billable,
 * canonicalDedupKey f_dedup_v1:none:appId|responseReference|delivery. */
Mediation__V1__FToGArchiveRecordLite *f_delivery_terminal_record(med_arena *a,
                                                                  const f_delivery_facts *f,
                                                                  const char *app_id,
                                                                  const char *event_version,
                                                                  int64_t now_ms);

#endif
