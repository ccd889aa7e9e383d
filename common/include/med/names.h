/* The one definition of every subject, stream, header and table name.
 * Nothing else in the tree spells these strings. */
#ifndef MED_NAMES_H
#define MED_NAMES_H

/* ---- subjects (00-architecture.md) ---- */
#define MED_SUBJ_A_REQUEST      "med.a.request.v1"
#define MED_SUBJ_B_SEED         "med.b.seed.v1"
#define MED_SUBJ_C_NORMALIZED   "med.c.normalized.v1"
#define MED_SUBJ_D_ROUTABLE     "med.d.routable.v1"
#define MED_SUBJ_E_COMPOSE      "med.e.compose.v1"
#define MED_SUBJ_DELIVERY       "med.delivery.v1"
#define MED_SUBJ_F_EVENTS       "med.f.events.v1"
#define MED_SUBJ_G_ARCHIVE      "med.g.archive.v1"
#define MED_SUBJ_AUDIT_PREFIX   "med.audit."      /* + stage + ".v1" */
#define MED_SUBJ_AUDIT_ALL      "med.audit.*.v1"
#define MED_SUBJ_H_CONFIG       "med.h.config.v1"
#define MED_SUBJ_DLQ_PREFIX     "med.dlq."        /* + stage + ".v1" */
#define MED_SUBJ_DLQ_ALL        "med.dlq.*.v1"
#define MED_SUBJ_G_REPLAY       "med.g.replay.v1"
#define MED_SUBJ_G_RECONCILE    "med.g.reconcile.v1"
#define MED_SUBJ_H_GET          "med.h.get.v1"
#define MED_SUBJ_H_PUBLISH      "med.h.publish.v1"
#define MED_SUBJ_VERSION_SUFFIX ".v1"
/* Core NATS, no stream: G's ArchiveWriteAck for F's compensation, on
 * "<this>.<b64url(tenant)>.<b64url(outbox key)>", one queue group over F's
 * replicas (services/f_events/f_archive_ack.h). */
#define MED_SUBJ_F_ARCHIVE_ACK  "med.f.archive_ack.v1"
#define MED_QUEUE_F_ARCHIVE_ACK "f_archive_ack"

/* ---- streams ---- */
#define MED_STREAM_CHAIN    "MED_CHAIN"
#define MED_STREAM_DELIVERY "MED_DELIVERY"
#define MED_STREAM_EVENTS   "MED_EVENTS"
#define MED_STREAM_ARCHIVE  "MED_ARCHIVE"
#define MED_STREAM_AUDIT    "MED_AUDIT"
#define MED_STREAM_CONFIG   "MED_CONFIG"
#define MED_STREAM_DLQ      "MED_DLQ"
/* KV bucket holding each failing message's retry history until it is acked
 * or dead-lettered, so the history survives restarts and replica changes. */
#define MED_KV_RETRY_HISTORY "MED_RETRY_HISTORY"
/* MED_CHAIN captures everything under the chain stages' prefixes. No other
 * stream may use a wildcard over med.g.> or med.h.>: the request/reply
 * subjects there (MED_SUBJ_G_REPLAY ...) must stay core NATS, or JetStream
 * would answer those requests with a PubAck. */
#define MED_SUBJ_CHAIN_A_ALL "med.a.>"
#define MED_SUBJ_CHAIN_B_ALL "med.b.>"
#define MED_SUBJ_CHAIN_C_ALL "med.c.>"
#define MED_SUBJ_CHAIN_D_ALL "med.d.>"
#define MED_SUBJ_CHAIN_E_ALL "med.e.>"
/* Dedup id of a dead letter: <prefix><stage>.<stream>.<stream_seq>, so a
 * dead letter republished after a lost Term is dropped by MED_DLQ. */
#define MED_DLQ_MSG_ID_PREFIX "dlq."

/* ---- message headers, copied unchanged by every stage ---- */
#define MED_HDR_TRACEPARENT     "traceparent"
#define MED_HDR_TRACE_KEY       "Med-Trace-Key"
#define MED_HDR_REQUEST_KEY     "Med-Request-Key"
#define MED_HDR_OPPORTUNITY_KEY "Med-Opportunity-Key"
#define MED_HDR_TENANT          "Med-Tenant"
#define MED_HDR_APP             "Med-App"
#define MED_HDR_PLACEMENT       "Med-Placement"
#define MED_HDR_ANCHOR_HASH     "Med-Anchor-Hash"
/* Not propagated: set per hop. */
#define MED_HDR_REPLY_TO        "Med-Reply-To"
/* What a reply-inbox message is: an A contract reject or E's Delivery. */
#define MED_HDR_REPLY_KIND      "Med-Reply-Kind"
#define MED_REPLY_KIND_REJECT   "reject"
#define MED_REPLY_KIND_DELIVERY "delivery"
#define MED_HDR_MSG_ID          "Nats-Msg-Id"
/* Set by operator tools on what they republish: "<stream>/<seq>" of the
 * source message (tools/replay-stream) or of the dead letter (tools/dlq). */
#define MED_HDR_REPLAY_OF       "Med-Replay-Of"
#define MED_HDR_REDRIVE_OF      "Med-Redrive-Of"
/* Fault injection for chaos tests; honoured only when
 * FAULT_INJECTION_ENABLED=true, which prod refuses at start-up. */
#define MED_HDR_FAULT           "Med-Fault"

/* ---- stage names (used in subjects, durables, logs, DLQ) ---- */
#define MED_STAGE_EDGE "edge"
#define MED_STAGE_A    "a"
#define MED_STAGE_B    "b"
#define MED_STAGE_C    "c"
#define MED_STAGE_D    "d"
#define MED_STAGE_E    "e"
#define MED_STAGE_F    "f"
#define MED_STAGE_G    "g"
#define MED_STAGE_H    "h"

/* ---- tables (migrations/) ---- */
#define MED_TBL_CONFIG_SNAPSHOTS          "config_snapshots"
#define MED_TBL_CONFIG_PUBLISH_OPERATIONS "config_publish_operations"
#define MED_TBL_CONFIG_DOCUMENTS          "config_documents"
#define MED_TBL_OPPORTUNITY_RECORDS       "opportunity_records"
#define MED_TBL_DELIVERY_RECORDS          "delivery_records"
#define MED_TBL_EVENT_RECORDS             "event_records"
#define MED_TBL_ARCHIVE_RECORDS           "archive_records"
#define MED_TBL_AUDIT_RECORDS             "audit_records"
#define MED_TBL_REPLAY_JOBS               "replay_jobs"
#define MED_TBL_IDEMPOTENCY_KEYS          "idempotency_keys"
#define MED_TBL_DEAD_LETTER_RECORDS       "dead_letter_records"
#define MED_TBL_SCHEMA_MIGRATIONS         "schema_migrations"
#define MED_TBL_BILLING_LEDGER            "billing_ledger"
#define MED_TBL_F_CLOSURES                "f_closures"
#define MED_TBL_F_EVENT_SEQ               "f_event_seq"
#define MED_TBL_F_DELIVERIES              "f_deliveries"
#define MED_TBL_F_OUTBOX                  "f_outbox"

/* idempotency_keys scopes (migrations/0005). */
#define MED_SCOPE_F_DEDUP   "f_dedup"    /* F.5 canonicalDedupKey, billing 14 d / diagnostics 3 d */

/* F's durable consumers (stage F consumes two streams). */
#define MED_DURABLE_F_EVENTS   "stage_f"     /* MED_STREAM_EVENTS, MED_SUBJ_F_EVENTS */
#define MED_DURABLE_F_DELIVERY "f_delivery"  /* MED_STREAM_DELIVERY, MED_SUBJ_DELIVERY */

/* Postgres setting that row-level security policies read. */
#define MED_PG_TENANT_SETTING "app.tenant_id"

#endif
