/* The service level metrics of observability/metrics.md (spec 05 section
 * 5): names, help texts and label values, spelled once. A service builds
 * its label strings from these constants and never retypes them.
 * Registration and increments live in each service's *_metrics.c (the I/O
 * edge), never in the pure rule functions. */
#ifndef MED_METRIC_NAMES_H
#define MED_METRIC_NAMES_H

/* ---- F: per-event ACKs of POST /v1/events ---- */
#define MED_M_EVENT_ACKS          "med_event_acks_total"
#define MED_M_EVENT_ACKS_HELP     "per-event ACKs of POST /v1/events by result"
#define MED_MV_ACK_ACCEPTED       "accepted"
#define MED_MV_ACK_DUPLICATE      "duplicate"
#define MED_MV_ACK_REJECTED       "rejected"
#define MED_MV_ACK_FAILED         "failed"

/* ---- A, F: duplicates dropped by dedup ---- */
#define MED_M_DEDUP_HITS          "med_dedup_hits_total"
#define MED_M_DEDUP_HITS_HELP     "requests/events answered as duplicates, by stage and dedup window"
#define MED_MV_WINDOW_REQUEST     "request"
#define MED_MV_WINDOW_BILLING     "billing"
#define MED_MV_WINDOW_DIAGNOSTICS "diagnostics"

/* ---- F: billing ---- */
#define MED_M_BILLING_FACTS       "med_billing_facts_total"
#define MED_M_BILLING_FACTS_HELP  "billable and attribution facts F committed"
#define MED_MV_KIND_BILLABLE      "billable"
#define MED_MV_KIND_ATTRIBUTION   "attribution"
#define MED_M_BILLING_DUP_BLOCKED "med_billing_duplicates_blocked_total"
#define MED_M_BILLING_DUP_BLOCKED_HELP "billing claims refused by the billing_ledger unique key"

/* ---- F: closures ---- */
#define MED_M_CLOSURE_OPEN        "med_closure_open"
#define MED_M_CLOSURE_OPEN_HELP   "closures open, waiting for a terminal event (all tenants, sampled by the scanner)"

/* ---- E: Deliveries ---- */
#define MED_M_DELIVERIES          "med_deliveries_total"
#define MED_M_DELIVERIES_HELP     "Deliveries written by E by outcome and reason class"
#define MED_MV_OUTCOME_SERVED     "served"
#define MED_MV_OUTCOME_NO_FILL    "no_fill"
#define MED_MV_OUTCOME_ERROR      "error"
#define MED_MV_CLASS_BUSINESS     "business"
#define MED_MV_CLASS_SYSTEM       "system"

/* ---- G: replay, reconciliation, closed loop ---- */
#define MED_M_REPLAY_RUNS         "med_replay_runs_total"
#define MED_M_REPLAY_RUNS_HELP    "replay runs by mode and result"
#define MED_MV_MODE_SNAPSHOT      "snapshot"
#define MED_MV_MODE_RECOMPUTE     "recompute"
#define MED_MV_RESULT_OK          "ok"
#define MED_MV_RESULT_ERROR       "error"
#define MED_M_REPLAY_DETERMINISM  "med_replay_determinism_total"
#define MED_M_REPLAY_DETERMINISM_HELP "recompute replay items compared with the archived decision"
#define MED_MV_MATCH              "match"
#define MED_MV_MISMATCH           "mismatch"
#define MED_M_RECON_DIFFS         "med_reconciliation_diffs_total"
#define MED_M_RECON_DIFFS_HELP    "differences found by reconciliation, by reason code"
#define MED_M_CLOSED_LOOP         "med_closed_loop_total"
#define MED_M_CLOSED_LOOP_HELP    "closure groups settled by G's archive ingest"
#define MED_MV_LOOP_COMPLETE      "complete"
#define MED_MV_LOOP_INCOMPLETE    "incomplete"

#endif
