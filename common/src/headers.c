/* Trace header propagation (00-architecture.md "One trace through
 * everything"). */
#include "med/headers.h"

#include <stddef.h>
#include <string.h>

#include "mediation/v1/common.pb-c.h"
#include "med/names.h"
#include "med/reason.h"

/* The one mapping between header names and struct fields, so read, write
 * and copy can never disagree about which headers travel. */
typedef struct header_field {
    const char *name;
    size_t offset;
} header_field;

static const header_field trace_header_fields[] = {
    { MED_HDR_TRACEPARENT, offsetof(med_trace_headers, traceparent) },
    { MED_HDR_TRACE_KEY, offsetof(med_trace_headers, trace_key) },
    { MED_HDR_REQUEST_KEY, offsetof(med_trace_headers, request_key) },
    { MED_HDR_OPPORTUNITY_KEY, offsetof(med_trace_headers, opportunity_key) },
    { MED_HDR_TENANT, offsetof(med_trace_headers, tenant) },
    { MED_HDR_APP, offsetof(med_trace_headers, app) },
    { MED_HDR_PLACEMENT, offsetof(med_trace_headers, placement) },
    { MED_HDR_ANCHOR_HASH, offsetof(med_trace_headers, anchor_hash) },
};

#define TRACE_HEADER_COUNT (sizeof trace_header_fields / sizeof trace_header_fields[0])

static char *field_ptr(med_trace_headers *h, size_t i)
{
    return (char *)h + trace_header_fields[i].offset;
}

static const char *field_cptr(const med_trace_headers *h, size_t i)
{
    return (const char *)h + trace_header_fields[i].offset;
}

/* A value that does not fit is dropped, not truncated: a cut key would be a
 * different, wrong key downstream. */
static void copy_value(char dst[MED_HDR_VALUE_MAX], const char *src)
{
    size_t n = src ? strnlen(src, MED_HDR_VALUE_MAX) : 0;
    if (n >= MED_HDR_VALUE_MAX) n = 0;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

const char *med_header_get(natsMsg *msg, const char *name)
{
    const char *value = NULL;
    if (!msg || !name) return NULL;
    if (natsMsgHeader_Get(msg, name, &value) != NATS_OK) return NULL;
    return value;
}

void med_headers_read(natsMsg *in, med_trace_headers *out)
{
    for (size_t i = 0; i < TRACE_HEADER_COUNT; i++)
        copy_value(field_ptr(out, i), med_header_get(in, trace_header_fields[i].name));
}

/* CR or LF inside a value would end the header block on the wire and let a
 * value smuggle in extra headers. */
static int header_value_safe(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 && *v != '\t') return 0;
    return 1;
}

static med_rc set_header(natsMsg *out, const char *name, const char *value, med_err *err)
{
    if (!header_value_safe(value))
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_ENCODE_FAILED, name,
                           "header %s holds a control character", name);
    natsStatus s = natsMsgHeader_Set(out, name, value);
    if (s == NATS_NO_MEMORY)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, name,
                           "no memory to set header %s", name);
    if (s != NATS_OK)
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_ENCODE_FAILED, name,
                           "cannot set header %s: %s", name, natsStatus_GetText(s));
    return MED_OK;
}

med_rc med_headers_write(natsMsg *out, const med_trace_headers *h, med_err *err)
{
    if (!out || !h)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_ENCODE_FAILED, "",
                           "no message or headers to write");
    for (size_t i = 0; i < TRACE_HEADER_COUNT; i++) {
        const char *v = field_cptr(h, i);
        if (!v[0]) continue;
        med_rc rc = set_header(out, trace_header_fields[i].name, v, err);
        if (rc != MED_OK) return rc;
    }
    return MED_OK;
}

/* Copies raw values header to header (not through med_trace_headers) so a
 * value is passed on unchanged whatever its length. */
med_rc med_headers_copy(natsMsg *in, natsMsg *out, med_err *err)
{
    if (!in || !out)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_ENCODE_FAILED, "",
                           "no message to copy headers from or to");
    for (size_t i = 0; i < TRACE_HEADER_COUNT; i++) {
        const char *v = med_header_get(in, trace_header_fields[i].name);
        if (!v || !v[0]) continue;
        med_rc rc = set_header(out, trace_header_fields[i].name, v, err);
        if (rc != MED_OK) return rc;
    }
    return MED_OK;
}

void med_headers_to_trace_ctx(const med_trace_headers *h, Mediation__V1__TraceContext *tc)
{
    /* protobuf-c fields are non-const but packing only reads them. */
    tc->traceparent = (char *)h->traceparent;
    tc->trace_key = (char *)h->trace_key;
    tc->request_key = (char *)h->request_key;
    tc->opportunity_key = (char *)h->opportunity_key;
    tc->tenant_id = (char *)h->tenant;
    tc->app_id = (char *)h->app;
    tc->placement_id = (char *)h->placement;
    tc->anchor_hash = (char *)h->anchor_hash;
}

void med_headers_from_trace_ctx(const Mediation__V1__TraceContext *tc, med_trace_headers *h)
{
    copy_value(h->traceparent, tc->traceparent);
    copy_value(h->trace_key, tc->trace_key);
    copy_value(h->request_key, tc->request_key);
    copy_value(h->opportunity_key, tc->opportunity_key);
    copy_value(h->tenant, tc->tenant_id);
    copy_value(h->app, tc->app_id);
    copy_value(h->placement, tc->placement_id);
    copy_value(h->anchor_hash, tc->anchor_hash);
}
