#include "g_ack.h"

#include <stdlib.h>

#include "med/reason.h"

static char *str(const char *s) { return (char *)(s ? s : ""); }

static med_rc pack(const ProtobufCMessage *m, uint8_t **out, size_t *len, med_err *err)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    *out = malloc(n ? n : 1);
    if (!*out) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "ack");
    *len = protobuf_c_message_pack(m, *out);
    return MED_OK;
}

med_rc g_archive_ack_pack(const g_archive_result *r, const Mediation__V1__TraceContext *trace,
                          int64_t now_ms, uint8_t **out, size_t *len, med_err *err)
{
    Mediation__V1__ArchiveWriteAck a;
    mediation__v1__archive_write_ack__init(&a);
    a.trace = (Mediation__V1__TraceContext *)trace;
    a.record_key = str(r->record_key);
    a.archive_write_status = str(g_write_status_name(r->ws));
    a.ack_reason_code = str(r->reason);
    a.retryable = r->retryable;
    a.acked_at_unix_ms = now_ms;
    a.stored_record_status = str(r->stored_record_status);
    a.fg_archive_consistency_state = str(r->group_state);
    return pack(&a.base, out, len, err);
}

med_rc g_append_ack_pack(const char *request_id, const g_append_verdict *v, const char *token,
                         const Mediation__V1__TraceContext *trace, int64_t now_ms, uint8_t **out,
                         size_t *len, med_err *err)
{
    Mediation__V1__GAppendAckLite ack;
    mediation__v1__gappend_ack_lite__init(&ack);
    ack.request_id = str(request_id);
    ack.ack_status = str(v->ack_status);
    ack.ack_reason_code = str(v->reason);
    ack.retryable = v->retryable;
    ack.ack_at_unix_ms = now_ms;
    if (v->with_token && token) {
        ack.append_token_opt_case = MEDIATION__V1__GAPPEND_ACK_LITE__APPEND_TOKEN_OPT_APPEND_TOKEN;
        ack.append_token = (char *)token;
    }
    Mediation__V1__AppendAck a;
    mediation__v1__append_ack__init(&a);
    a.trace = (Mediation__V1__TraceContext *)trace;
    a.ack = &ack;
    return pack(&a.base, out, len, err);
}
