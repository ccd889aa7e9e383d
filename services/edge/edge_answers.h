/* Stage answers that arrive on the edge's inbox -> the HTTP answer, for
 * POST /v1/events (F's EventBatchAck), /v1/replay (G's ReplayPage) and
 * GET /v1/reconciliation (G's ReconciliationReport). Pure: no HTTP.
 *
 * Each reply carries http_status: 200 -> the spec's JSON body (camelCase
 * names from the descriptors, med/pbjson.h; times RFC 3339 UTC ms);
 * 400..599 with an error -> {"error":{code,message,field}} with that
 * status, plus Retry-After on a 503 (the reply's retry_after_sec, else
 * EDGE_RETRY_AFTER_SEC). Anything else (undecodable, no status, an error
 * status without an error body) is a broken upstream: MED_ERR_INTERNAL
 * edge_internal_error (500). */
#ifndef EDGE_ANSWERS_H
#define EDGE_ANSWERS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "edge_delivery.h"
#include "med/err.h"
#include "mediation/v1/events.pb-c.h"
#include "mediation/v1/replay.pb-c.h"

/* Retry-After of the edge's own 503s and of a stage 503 without one. */
#define EDGE_RETRY_AFTER_SEC 1

/* F.5 eventBatchAckLite {batchId, receivedAt, overallStatus, ackItems[]}. */
json_t *edge_ack_json(const Mediation__V1__EventBatchAck *ack);
/* G.6 gReplayResultLite: queryEcho (the parsed query_echo_json),
 * resultMeta, items[] (a summary item's fields, or a full item's
 * gAuditRecordLite / fToGArchiveRecordLite[] / factDecisionAuditLite[] and
 * rawPayload when G sent one: the parsed JSON, or base64 when it is not
 * JSON; "diff" when the item has one), emptyResult, generatedAt,
 * replayDiffSummaryLite when set. */
json_t *edge_replay_page_json(const Mediation__V1__ReplayPage *page);
/* G.8 report: every member of ReconciliationReport but the transport
 * ones (trace, httpStatus, error). */
json_t *edge_recon_report_json(const Mediation__V1__ReconciliationReport *r);

/* Packed reply -> answer (see above). */
med_rc edge_ack_answer(const uint8_t *data, size_t n, edge_answer *out, med_err *err);
med_rc edge_replay_answer(const uint8_t *data, size_t n, edge_answer *out, med_err *err);
med_rc edge_recon_answer(const uint8_t *data, size_t n, edge_answer *out, med_err *err);

#endif
