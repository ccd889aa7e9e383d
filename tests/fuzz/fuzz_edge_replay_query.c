/* libFuzzer: the replay query the edge builds from untrusted input, both
 * ways (06 section 5): the bytes as a GET /v1/replay query string and as
 * a POST /v1/replay body, plus the GET /v1/reconciliation parameters.
 * Whatever the bytes, the edge must either refuse them with a 4xx-type
 * failure carrying a known reason code, or produce a ReplayQuery that
 * packs, unpacks again, and holds a page size G can judge (absent, the
 * invalid marker, or 1..2^31-1). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge_json.h"
#include "edge_replay_query.h"
#include "med/reason.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_failure(med_rc rc, const med_err *err)
{
    if (rc != MED_ERR_INVALID) abort();
    if (!med_reason_lookup(err->code)) abort();
    if (strlen(err->message) == 0) abort();
}

static void check_query(edge_replay_query *rq)
{
    const Mediation__V1__ReplayPagination *p = rq->msg.pagination;
    if (p && p->page_size != 0 && p->page_size != EDGE_RQ_PAGE_SIZE_INVALID && p->page_size < 1)
        abort();
    static const med_trace_headers trace = { .tenant = "t1" };
    edge_query_caller who = { .tenant = "t1", .http_method = "GET", .trace = &trace };
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err err;
    if (edge_replay_request_pack(rq, &who, 1, &buf, &len, &err) != MED_OK) abort();
    Mediation__V1__ReplayQuery *q = mediation__v1__replay_query__unpack(NULL, len, buf);
    if (!q) abort();
    if (strcmp(q->tenant_id, "t1") != 0) abort();
    mediation__v1__replay_query__free_unpacked(q, NULL);
    free(buf);
}

static void as_params(const char *text, size_t size)
{
    edge_replay_query rq;
    edge_replay_query_init(&rq);
    med_err err;
    med_err_clear(&err);
    med_rc rc = edge_replay_query_from_params(text, size, &rq, &err);
    if (rc == MED_OK)
        check_query(&rq);
    else
        check_failure(rc, &err);
    edge_replay_query_free(&rq);
}

static void as_body(const char *text, size_t size)
{
    json_t *doc = NULL;
    med_err err;
    med_err_clear(&err);
    if (edge_json_parse_object(text, size, NULL, &doc, &err) != MED_OK) return;
    edge_replay_query rq;
    edge_replay_query_init(&rq);
    med_rc rc = edge_replay_query_from_json(doc, &rq, &err);
    if (rc == MED_OK)
        check_query(&rq);
    else
        check_failure(rc, &err);
    edge_replay_query_free(&rq);
    json_decref(doc);
}

static void as_recon(const char *text, size_t size)
{
    edge_query_caller who = { .tenant = "t1", .http_method = "GET" };
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err err;
    med_err_clear(&err);
    med_rc rc = edge_recon_request_pack(text, size, &who, 1, &buf, &len, &err);
    if (rc != MED_OK) {
        check_failure(rc, &err);
        return;
    }
    Mediation__V1__ReconciliationQuery *q =
        mediation__v1__reconciliation_query__unpack(NULL, len, buf);
    if (!q) abort();
    mediation__v1__reconciliation_query__free_unpacked(q, NULL);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    as_params(text, size);
    as_body(text, size);
    as_recon(text, size);
    return 0;
}
