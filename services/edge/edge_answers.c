/* Stage replies -> HTTP answers (see edge_answers.h). */
#include "edge_answers.h"

#include <stdlib.h>
#include <string.h>

#include "edge_fields.h"
#include "med/http_util.h"
#include "med/pbjson.h"
#include "med/reason.h"

/* ---- JSON bodies -------------------------------------------------------- */

/* A new object holding only names[] of from (in that order, those present). */
static json_t *pick(json_t *from, const char *const *names, size_t n)
{
    json_t *out = from ? json_object() : NULL;
    for (size_t i = 0; out && i < n; i++) {
        json_t *v = json_object_get(from, names[i]);
        if (v && json_object_set(out, names[i], v) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    json_decref(from);
    return out;
}

#define NAME_ITEM(n) n,
static const char *const k_ack_members[] = { EDGE_ACK_MEMBERS(NAME_ITEM) };
static const char *const k_replay_members[] = { EDGE_REPLAY_RESULT_MEMBERS(NAME_ITEM) };
static const char *const k_recon_transport[] = { EDGE_RECON_TRANSPORT_MEMBERS(NAME_ITEM) };
#undef NAME_ITEM
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

json_t *edge_ack_json(const Mediation__V1__EventBatchAck *ack)
{
    return pick(med_pb_to_json(&ack->base, "trace"), k_ack_members, COUNT(k_ack_members));
}

/* rawPayload: absent when G sent none; the document itself when it is
 * JSON (it is the redacted request body), else pbjson's base64. */
static int fix_raw_payload(json_t *item, const ProtobufCBinaryData *raw)
{
    if (raw->len == 0) {
        json_object_del(item, EDGE_REPLAY_RAW_PAYLOAD);
        return 0;
    }
    json_t *doc = json_loadb((const char *)raw->data, raw->len, JSON_DECODE_ANY, NULL);
    return doc ? json_object_set_new(item, EDGE_REPLAY_RAW_PAYLOAD, doc) : 0;
}

static json_t *item_json(const Mediation__V1__ReplayItem *it)
{
    json_t *o = NULL;
    if (it->item_case == MEDIATION__V1__REPLAY_ITEM__ITEM_SUMMARY && it->summary) {
        o = med_pb_to_json(&it->summary->base, NULL);
    } else if (it->item_case == MEDIATION__V1__REPLAY_ITEM__ITEM_FULL && it->full) {
        o = med_pb_to_json(&it->full->base, NULL);
        if (o && fix_raw_payload(o, &it->full->raw_payload) != 0) {
            json_decref(o);
            return NULL;
        }
    } else {
        o = json_object();
    }
    if (o && it->diff) {
        json_t *d = med_pb_to_json(&it->diff->base, NULL);
        if (!d || json_object_set_new(o, EDGE_REPLAY_ITEM_DIFF, d) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static json_t *items_json(const Mediation__V1__ReplayPage *page)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < page->n_items; i++) {
        json_t *it = item_json(page->items[i]);
        if (!it || json_array_append_new(arr, it) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *edge_replay_page_json(const Mediation__V1__ReplayPage *page)
{
    json_t *all = med_pb_to_json(&page->base, "trace");
    json_t *items = all ? items_json(page) : NULL;
    if (!items || json_object_set_new(all, EDGE_REPLAY_ITEMS, items) != 0) {
        json_decref(all);
        return NULL;
    }
    return pick(all, k_replay_members, COUNT(k_replay_members));
}

json_t *edge_recon_report_json(const Mediation__V1__ReconciliationReport *r)
{
    json_t *o = med_pb_to_json(&r->base, "trace");
    for (size_t i = 0; o && i < COUNT(k_recon_transport); i++)
        json_object_del(o, k_recon_transport[i]);
    return o;
}

/* ---- answers ------------------------------------------------------------ */

static med_rc unusable(const char *what, med_err *err)
{
    return med_err_set(err, MED_ERR_INTERNAL, MED_R_EDGE_INTERNAL, NULL,
                       "the %s reply is unusable", what);
}

static med_rc json_answer(json_t *body, edge_answer *out, const char *what, med_err *err)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "%s JSON", what);
    out->status = 200;
    out->body = text;
    out->len = strlen(text);
    return MED_OK;
}

static med_rc error_answer(int status, const Mediation__V1__ErrorBodyLite *e, int retry_after,
                           edge_answer *out, const char *what, med_err *err)
{
    if (status < 400 || status > 599 || !e || !e->code || !e->code[0]) return unusable(what, err);
    const char *field =
        e->field_opt_case == MEDIATION__V1__ERROR_BODY_LITE__FIELD_OPT_FIELD ? e->field : NULL;
    med_rc rc = med_http_error_body(e->code, e->message ? e->message : "", field, &out->body,
                                    &out->len, err);
    if (rc != MED_OK) return rc;
    out->status = status;
    if (retry_after > 0)
        out->retry_after_sec = retry_after;
    else if (status == 503)
        out->retry_after_sec = EDGE_RETRY_AFTER_SEC;
    return MED_OK;
}

med_rc edge_ack_answer(const uint8_t *data, size_t n, edge_answer *out, med_err *err)
{
    static const char what[] = "events ACK";
    memset(out, 0, sizeof *out);
    Mediation__V1__EventBatchAck *ack = mediation__v1__event_batch_ack__unpack(NULL, n, data);
    if (!ack) return unusable(what, err);
    med_rc rc = ack->http_status == 200
                    ? json_answer(edge_ack_json(ack), out, what, err)
                    : error_answer(ack->http_status, ack->error, ack->retry_after_sec, out, what,
                                   err);
    mediation__v1__event_batch_ack__free_unpacked(ack, NULL);
    return rc;
}

med_rc edge_replay_answer(const uint8_t *data, size_t n, edge_answer *out, med_err *err)
{
    static const char what[] = "replay";
    memset(out, 0, sizeof *out);
    Mediation__V1__ReplayPage *p = mediation__v1__replay_page__unpack(NULL, n, data);
    if (!p) return unusable(what, err);
    med_rc rc = p->http_status == 200 ? json_answer(edge_replay_page_json(p), out, what, err)
                                      : error_answer(p->http_status, p->error, 0, out, what, err);
    mediation__v1__replay_page__free_unpacked(p, NULL);
    return rc;
}

med_rc edge_recon_answer(const uint8_t *data, size_t n, edge_answer *out, med_err *err)
{
    static const char what[] = "reconciliation";
    memset(out, 0, sizeof *out);
    Mediation__V1__ReconciliationReport *r =
        mediation__v1__reconciliation_report__unpack(NULL, n, data);
    if (!r) return unusable(what, err);
    med_rc rc = r->http_status == 200
                    ? json_answer(edge_recon_report_json(r), out, what, err)
                    : error_answer(r->http_status, r->error, 0, out, what, err);
    mediation__v1__reconciliation_report__free_unpacked(r, NULL);
    return rc;
}
