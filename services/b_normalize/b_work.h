/* Internal state of one normalization, shared by the pipeline steps
 * (b_normalize.c, b_slots.c) and the output assembly (b_assemble.c). Raw
 * values stay in here; only redacted text leaves for the audits. */
#ifndef B_WORK_H
#define B_WORK_H

#include "b_appctx.h"
#include "b_bucket.h"
#include "b_conflict.h"
#include "b_normalize.h"
#include "b_project.h"
#include "b_redact.h"
#include "b_schema.h"

#define B_MAX_RECS 32
#define B_MAX_CONFLICTS 12
#define B_MAX_RAWS 4

/* One mapping-audit record in the making (raw values not yet redacted). */
typedef struct b_rec {
    const char *slot;          /* qualified, e.g. UserContext.actorType */
    const char *raw_path;      /* redaction path of its raw values */
    const char *raws[B_MAX_RAWS];
    int n_raw;
    const char *normalized;    /* canonical (may itself need redaction: see norm_path) */
    const char *norm_path;     /* NULL: normalized is canonical and public */
    const char *conflict_action;
    const char *reason;
    const char *mapping_action;
    const char *bucket;        /* numeric slots only */
    const char *source;
    const char *rule_version;
    int degraded;
    const char *red_raws[B_MAX_RAWS];  /* set by the redaction step */
    const char *red_normalized;
} b_rec;

typedef struct b_slot_conflict {
    const char *slot;
    const char *raw_path;
    b_cand c[B_MAX_RAWS];
    size_t n;
    b_conflict_result r;
    const char *red_raws[B_MAX_RAWS];
    const char *red_selected;          /* NULL: the selection is public */
} b_slot_conflict;

typedef struct b_work {
    const b_normalize_in *in;
    b_normalize_out *out;
    med_arena *a;
    const Mediation__V1__BIngressPacketLite *p;
    b_schema_cfg cfg;
    b_verdict *v;
    int fatal;                 /* stopped before mapping (required/trace/config) */

    b_rec recs[B_MAX_RECS];
    int n_recs;
    b_slot_conflict conflicts[B_MAX_CONFLICTS];
    int n_conflicts;

    /* canonical values */
    const char *trigger_decision, *decision_outcome, *hit_type;
    const char *placement_type, *channel_type, *actor_type;
    const char *placement_surface, *policy_gate_hint;
    const char *session_id_raw, *device_id_raw, *app_id;
    char **flags;
    size_t n_flags;
    int flags_invalid;
    double band;
    b_appctx actx;
    b_bucket_dict *dict;
    b_bucket_decision buckets[B_BUCKET_MAX_SLOTS];
    int n_buckets;
    const char *intent_bucket, *perf_bucket, *depth_bucket;
    int perf_degraded;
    const char *bucket_red_raws[B_BUCKET_MAX_SLOTS];
    int redaction_failed;

    /* redaction and after */
    b_redact_policy *policy;
    b_redactor redactor;
    const char *session_key_hashed, *device_id_hashed;
    Mediation__V1__RedactionSnapshotLite *redaction_snapshot;
    b_projection proj;
} b_work;

/* b_slots.c: the slot steps of B.2 (enums, conflicts, identifiers). */
med_rc b_slots_map(b_work *w, med_err *err);
/* b_slots.c: adds a record; NULL when full. */
b_rec *b_work_rec(b_work *w, const char *slot, const char *raw_path, const char *source);
/* Records a reject/degrade whose code came back in a med_err. */
void b_work_reject_err(b_work *w, const med_err *e);

/* b_assemble.c: the protobuf outputs from the work state. */
med_rc b_assemble(b_work *w, med_err *err);

#endif
