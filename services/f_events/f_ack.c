/* F.5: one ACK item per event, in events[] order. */
#include "f_ack.h"

#include "f_keys.h"
#include "med/reason.h"

const char *f_ack_status_name(f_ack_status s)
{
    switch (s) {
    case F_ACK_ACCEPTED: return "accepted";
    case F_ACK_REJECTED: return "rejected";
    case F_ACK_DUPLICATE: return "duplicate";
    default: return "pending";
    }
}

const char *f_ack_reason(const f_event_work *ew)
{
    if (ew->status != F_ACK_ACCEPTED) return ew->reason ? ew->reason : "";
    if (ew->idem_fallback) return MED_R_F_IDEMPOTENCY_KEY_INVALID_FALLBACK;
    if (ew->subenum_unknown) return MED_R_F_EVENT_SUBENUM_UNKNOWN_NORMALIZED;
    return MED_R_F_EVENT_ACCEPTED;
}

const char *f_ack_overall_status(const f_batch_work *b)
{
    size_t accepted = 0, rejected = 0;
    for (size_t i = 0; i < b->n_events; i++) {
        if (b->events[i].status == F_ACK_ACCEPTED) accepted++;
        if (b->events[i].status == F_ACK_REJECTED) rejected++;
    }
    if (b->n_events && accepted == b->n_events) return "accepted_all";
    if (b->n_events && rejected == b->n_events) return "rejected_all";
    return "partial_success";
}

const char *f_ack_event_id(med_arena *a, const f_event_work *ew)
{
    const char *id = ew->ev ? F_REQ(ew->ev->event_id) : NULL;
    /* an id F cannot use as a key is not echoed either: eventIndex
     * identifies the item */
    if (f_token_valid(id, 1, 128)) return id;
    return med_arena_printf(a, "NA_%d", ew->index);
}

const char *f_ack_server_event_key(med_arena *a, const f_event_work *ew)
{
    if (ew->status == F_ACK_REJECTED || !ew->dedup_key)
        return med_arena_printf(a, "f_evt_rejected_%d", ew->index);
    return ew->dedup_key;
}

Mediation__V1__EventAck *f_ack_item(med_arena *a, const f_event_work *ew)
{
    Mediation__V1__EventAck *it = MED_NEW(a, Mediation__V1__EventAck);
    if (!it) return NULL;
    *it = (Mediation__V1__EventAck)MEDIATION__V1__EVENT_ACK__INIT;
    it->event_id = (char *)f_ack_event_id(a, ew);
    it->event_index = ew->index;
    it->ack_status = (char *)f_ack_status_name(ew->status);
    it->ack_reason_code = (char *)f_ack_reason(ew);
    it->retryable = ew->retryable;
    it->server_event_key = (char *)f_ack_server_event_key(a, ew);
    return it->event_id && it->server_event_key ? it : NULL;
}

med_rc f_ack_build(f_batch_work *b)
{
    med_arena *a = &b->arena;
    Mediation__V1__EventBatchAck *ack = MED_NEW(a, Mediation__V1__EventBatchAck);
    if (!ack) return MED_ERR_NOMEM;
    *ack = (Mediation__V1__EventBatchAck)MEDIATION__V1__EVENT_BATCH_ACK__INIT;
    ack->batch_id = b->req->batch_id;
    ack->received_at_unix_ms = b->received_at_ms;
    b->overall_status = f_ack_overall_status(b);
    ack->overall_status = (char *)b->overall_status;
    ack->http_status = 200;
    ack->ack_items = MED_NEWN(a, Mediation__V1__EventAck *, b->n_events);
    if (!ack->ack_items) return MED_ERR_NOMEM;
    for (size_t i = 0; i < b->n_events; i++) {
        ack->ack_items[i] = f_ack_item(a, &b->events[i]);
        if (!ack->ack_items[i]) return MED_ERR_NOMEM;
    }
    ack->n_ack_items = b->n_events;
    b->ack = ack;
    return MED_OK;
}
