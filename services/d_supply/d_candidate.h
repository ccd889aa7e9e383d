/* D.5 candidate normalize and ranking. One bid object (OpenRTB bid, or a
 * house creative shaped as one) becomes a normalizedCandidateLite or is
 * dropped with a code; a bad bid never affects the others. Every decision
 * leaves a mapping record. */
#ifndef D_CANDIDATE_H
#define D_CANDIDATE_H

#include <jansson.h>
#include "d_outcome.h"
#include "d_types.h"

typedef struct d_candidate {
    int source;                       /* registry index */
    char source_id[D_ID_MAX];
    char candidate_id[128];
    double bid_value;
    int64_t bid_micros;
    char currency[8];
    char creative_id[128];
    char landing_type[16];
    int has_quality;
    double quality_score;
    int has_latency;
    int64_t latency_ms;
    d_tier tier;
    int step_index;
    json_t *bid;                      /* owned ref: markup and tracking */
} d_candidate;

typedef struct d_cand_list {
    d_candidate *items;
    size_t n;
} d_cand_list;

typedef struct d_mapping {
    char source_id[D_ID_MAX];
    char candidate_id[128];           /* "" for an outcome record */
    char field_path[48];
    char raw_value[128];
    char normalized_value[128];
    const char *mapping_action;       /* exact_match|alias_map|unknown_fallback|drop */
    char reason_code[D_CODE_MAX];
} d_mapping;

typedef struct d_mapping_log {
    d_mapping *items;
    size_t n;
} d_mapping_log;

typedef struct d_norm_ctx {
    int source;
    const char *source_id;
    const char *settlement_currency;
    const char *response_currency;    /* seatbid-level cur, NULL = USD */
    const d_constraints *constraints;
    d_tier tier;
    int step_index;
    int64_t latency_ms;               /* < 0: unknown */
} d_norm_ctx;

/* Normalizes every bid of one dispatch into out (appending), skipping
 * (sourceId, candidateId) pairs already in seen. tally counts what
 * happened. 0, or -1 on ENOMEM. */
int d_candidate_normalize_all(const d_norm_ctx *nc, const json_t *bids, const d_cand_list *seen,
                              d_cand_list *out, d_bid_tally *tally, d_mapping_log *log);

/* D.5 ranking, in place. */
void d_candidate_rank(d_cand_list *l);
int d_candidate_compare(const d_candidate *a, const d_candidate *b);

/* Moves every candidate of from to the end of to (from becomes empty). */
int d_cand_list_append(d_cand_list *to, d_cand_list *from);
void d_cand_list_free(d_cand_list *l);
int d_mapping_add(d_mapping_log *log, const d_mapping *m);
void d_mapping_log_free(d_mapping_log *log);

/* Render mode a markup needs (video_vast_container, webview) or NULL. */
const char *d_markup_render_mode(const char *adm);

#endif
