/* What end-to-end suites do through the edge and against the stored rows:
 * build an SDK opportunity body, send JSON to an edge route, read one value
 * of a query on the admin connection. Shared so every suite speaks the same
 * request shape. */
#ifndef MED_TEST_HARNESS_HTTP_H
#define MED_TEST_HARNESS_HTTP_H

#include <jansson.h>
#include <libpq-fe.h>
#include <nats/nats.h>
#include <stddef.h>

/* A valid POST /v1/opportunities body for app_demo / plc_feed; session
 * makes A's computed dedup key unique per case. extra: more top-level
 * members; app_extra: more appContext members (a privacy_status there
 * replaces the default consent_granted). malloc'd. */
char *th_opportunity_body(const char *session, const char *trigger, const char *extra,
                          const char *app_extra);

/* Publishes body as a valid OpportunityRequest of app_demo straight onto
 * med.a.request.v1 (as the edge would, without an inbox), and writes into
 * request_key the key A mints for it (A.5: req_ +
 * h16("cli:app_demo:<client_request_id>|0"), body must carry that id). */
void th_publish_opportunity_request(jsCtx *js, const char *tenant, const char *body,
                                    const char *client_request_id, char *request_key,
                                    size_t cap);

/* An ephemeral consumer reading subject from stream sequence start_seq on:
 * what the stream holds, not what was published (duplicates dropped by the
 * Nats-Msg-Id window never show up). Fails the test if it cannot subscribe. */
natsSubscription *th_stream_reader(jsCtx *js, const char *subject, uint64_t start_seq);

/* Sends body (NULL for none) to the edge on port and parses the JSON answer
 * (fails the test when it is not JSON). *status gets the HTTP status. */
json_t *th_edge_json(int port, const char *method, const char *path, const char *body,
                     long *status);

/* First column of the first row, or NULL when no row (malloc'd); fails the
 * test on an SQL error. param may be NULL (no parameter). */
char *th_sql_value(PGconn *pg, const char *sql, const char *param);
long th_sql_count(PGconn *pg, const char *sql, const char *param);

/* Sum of the samples of metric `name` on a service's GET /metrics (admin
 * port) whose labels include every `k="v"` of labels (comma-separated,
 * "" = all); -1 when /metrics does not answer. */
double th_metric_sum(int admin_port, const char *name, const char *labels);

/* A string member, "" when absent or not a string. */
const char *th_json_str(const json_t *obj, const char *key);

#endif
