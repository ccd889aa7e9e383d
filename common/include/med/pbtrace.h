/* Generic access to the TraceContext every stage message carries as field
 * 1, through protobuf-c descriptors, so the stage hop stamp and the
 * pass-through re-wrap are written once for all message types. */
#ifndef MED_PBTRACE_H
#define MED_PBTRACE_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>
#include "mediation/v1/common.pb-c.h"
#include "med/err.h"

typedef struct med_hop {
    const char *stage;
    const char *instance;
    int64_t at_unix_ms;
} med_hop;

/* The message's field-1 TraceContext (borrowed), or NULL when the message
 * type has none or it is unset. */
Mediation__V1__TraceContext *med_pb_trace_of(const ProtobufCMessage *msg);

/* A TraceContext equal to src with one more hop. dst is a shallow copy:
 * strings and earlier hops stay owned by src; *hops_owned (free it after
 * packing) is the new hop pointer array and *hop_storage the new hop. src
 * may be NULL (an empty context). */
med_rc med_pb_trace_with_hop(const Mediation__V1__TraceContext *src, const med_hop *hop,
                             Mediation__V1__TraceContext *dst,
                             Mediation__V1__StageHop *hop_storage,
                             Mediation__V1__StageHop ***hops_owned, med_err *err);

/* Decodes data as in_desc, then encodes an out_desc message holding only
 * the trace (plus one hop). Undecodable input -> MED_ERR_INVALID
 * INFRA_DECODE_FAILED (dead-letter, never retry). *out malloc'd. */
med_rc med_pb_rewrap(const ProtobufCMessageDescriptor *in_desc,
                     const ProtobufCMessageDescriptor *out_desc, const uint8_t *data,
                     size_t len, const med_hop *hop, uint8_t **out, size_t *out_len,
                     med_err *err);

/* Packs any message into a malloc'd buffer. */
med_rc med_pb_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *out_len, med_err *err);

#endif
