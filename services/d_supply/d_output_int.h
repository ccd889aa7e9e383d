/* Helpers shared by d_output.c (dToEOutputLite) and d_output_audit.c
 * (route audit and DSupplyAuditLite). Not part of D's rule API. */
#ifndef D_OUTPUT_INT_H
#define D_OUTPUT_INT_H

#include "d_output.h"

/* A zeroed, protobuf-initialized node from the arena (NULL on ENOMEM). */
#define NEW(a, T, init) ({ T *x_ = med_arena_alloc((a), sizeof(T)); if (x_) init(x_); x_; })
#define S(a, s) med_arena_strdup((a), (s) ? (s) : "")

/* D.7 end-of-route table, one row per d_end. */
typedef struct d_end_view {
    const char *outcome, *action, *state, *sc_code;
} d_end_view;

d_end_view d_out_end(const d_run *r);
const char *d_out_plan_id(const d_output_in *in);
Mediation__V1__TraceKeys *d_out_keys(med_arena *a, const d_ctx *c);
const char *d_out_source_name(const d_ctx *c, int idx);
char **d_out_strs(med_arena *a, const d_str_list *l, size_t *n);
Mediation__V1__ConfigSnapshotLite *d_out_config(med_arena *a, const d_ctx *c);

Mediation__V1__RouteAuditSnapshotLite *d_out_route_audit(med_arena *a, const d_output_in *in);
Mediation__V1__WarningLite **d_out_warnings(med_arena *a, const d_output_in *in, size_t *n);
med_rc d_out_fill_audit(med_arena *a, const d_output_in *in, const Mediation__V1__DToEOutputLite *dto,
                        Mediation__V1__DSupplyAuditLite *au);

#endif
