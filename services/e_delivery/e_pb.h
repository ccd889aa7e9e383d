/* e_outcome -> the Delivery (med.delivery.v1) and E's StageAudit
 * (med.audit.e.v1), packed. Pure apart from malloc. */
#ifndef E_PB_H
#define E_PB_H

#include <stddef.h>
#include <stdint.h>

#include "e_compose.h"
#include "med/err.h"
#include "med/pbtrace.h"

typedef struct e_pb_ctx {
    const Mediation__V1__TraceContext *trace;                  /* input trace; may be NULL */
    const Mediation__V1__VersionAnchorSnapshot *anchor_snapshot;/* forwarded; may be NULL */
    const med_hop *hop;
    const char *tenant_id;                                     /* fills an empty trace tenant */
} e_pb_ctx;

typedef struct e_pb_out {
    uint8_t *delivery;   /* malloc'd */
    size_t delivery_len;
    uint8_t *audit;      /* malloc'd */
    size_t audit_len;
} e_pb_out;

med_rc e_pb_build(const e_outcome *o, const e_pb_ctx *ctx, e_pb_out *out, med_err *err);
void e_pb_out_free(e_pb_out *out);

#endif
