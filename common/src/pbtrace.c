#include "med/pbtrace.h"

#include <stdlib.h>
#include <string.h>

#include "med/reason.h"

static const ProtobufCFieldDescriptor *trace_field(const ProtobufCMessageDescriptor *d)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, 1);
    if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE ||
        f->descriptor != &mediation__v1__trace_context__descriptor)
        return NULL;
    return f;
}

Mediation__V1__TraceContext *med_pb_trace_of(const ProtobufCMessage *msg)
{
    if (!msg) return NULL;
    const ProtobufCFieldDescriptor *f = trace_field(msg->descriptor);
    if (!f) return NULL;
    return *(Mediation__V1__TraceContext *const *)((const char *)msg + f->offset);
}

med_rc med_pb_trace_with_hop(const Mediation__V1__TraceContext *src, const med_hop *hop,
                             Mediation__V1__TraceContext *dst,
                             Mediation__V1__StageHop *hop_storage,
                             Mediation__V1__StageHop ***hops_owned, med_err *err)
{
    if (src)
        *dst = *src;
    else
        mediation__v1__trace_context__init(dst);
    size_t n = src ? src->n_hops : 0;
    Mediation__V1__StageHop **hops = malloc((n + 1) * sizeof *hops);
    if (!hops) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "hops");
    if (n) memcpy(hops, src->hops, n * sizeof *hops);
    mediation__v1__stage_hop__init(hop_storage);
    /* protobuf-c never writes through these: the casts only drop const. */
    hop_storage->stage = (char *)(hop->stage ? hop->stage : "");
    hop_storage->instance = (char *)(hop->instance ? hop->instance : "");
    hop_storage->at_unix_ms = hop->at_unix_ms;
    hops[n] = hop_storage;
    dst->hops = hops;
    dst->n_hops = n + 1;
    *hops_owned = hops;
    return MED_OK;
}

med_rc med_pb_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *out_len, med_err *err)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    /* malloc(0) may return NULL; an empty message is legal. */
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "pack");
    protobuf_c_message_pack(msg, buf);
    *out = buf;
    *out_len = n;
    return MED_OK;
}

med_rc med_pb_rewrap(const ProtobufCMessageDescriptor *in_desc,
                     const ProtobufCMessageDescriptor *out_desc, const uint8_t *data,
                     size_t len, const med_hop *hop, uint8_t **out, size_t *out_len,
                     med_err *err)
{
    const ProtobufCFieldDescriptor *of = trace_field(out_desc);
    if (!of || !trace_field(in_desc))
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_ENCODE_FAILED, NULL,
                           "%s or %s has no TraceContext field 1", in_desc->name, out_desc->name);
    ProtobufCMessage *in = protobuf_c_message_unpack(in_desc, NULL, len, data);
    if (!in)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "payload is not a valid %s", in_desc->name);
    med_rc rc = MED_ERR_NOMEM;
    ProtobufCMessage *o = calloc(1, out_desc->sizeof_message);
    Mediation__V1__TraceContext tc;
    Mediation__V1__StageHop hs;
    Mediation__V1__StageHop **hops = NULL;
    if (!o) {
        med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "rewrap");
        goto done;
    }
    out_desc->message_init(o);
    rc = med_pb_trace_with_hop(med_pb_trace_of(in), hop, &tc, &hs, &hops, err);
    if (rc != MED_OK) goto done;
    *(Mediation__V1__TraceContext **)((char *)o + of->offset) = &tc;
    rc = med_pb_pack(o, out, out_len, err);
done:
    free(hops);
    free(o);
    protobuf_c_message_free_unpacked(in, NULL);
    return rc;
}
