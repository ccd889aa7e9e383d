/* F.5 eventBatchAckLite. */
#ifndef F_ACK_H
#define F_ACK_H

#include "f_work.h"

const char *f_ack_status_name(f_ack_status s);
/* The item's ackReasonCode; for an accepted event the F.5 precedence
 * f_idempotency_key_invalid_fallback > f_event_subenum_unknown_normalized >
 * f_event_accepted. */
const char *f_ack_reason(const f_event_work *ew);
/* accepted_all | rejected_all | partial_success. */
const char *f_ack_overall_status(const f_batch_work *b);
/* eventId, or NA_<index> when it has none usable. */
const char *f_ack_event_id(med_arena *a, const f_event_work *ew);
/* canonicalDedupKey, or f_evt_rejected_<index> for a rejected event. */
const char *f_ack_server_event_key(med_arena *a, const f_event_work *ew);
Mediation__V1__EventAck *f_ack_item(med_arena *a, const f_event_work *ew);
/* b->ack (http 200) and b->overall_status from the events' outcomes. */
med_rc f_ack_build(f_batch_work *b);

#endif
