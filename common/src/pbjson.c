/* protobuf-c -> JSON by descriptor walk (see med/pbjson.h). */
#include "med/pbjson.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/ids.h"

#define PBJSON_NAME_MAX 128
#define PBJSON_MAP_KEY_MAX 256
#define PBJSON_TIME_MAX 32

static const char k_unix_ms[] = "_unix_ms";
static const char k_json_suffix[] = "_json";

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static int is_unix_ms(const ProtobufCFieldDescriptor *f)
{
    return (f->type == PROTOBUF_C_TYPE_INT64 || f->type == PROTOBUF_C_TYPE_UINT64) &&
           ends_with(f->name, k_unix_ms);
}

static int is_json_text(const ProtobufCFieldDescriptor *f)
{
    return (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_BYTES) &&
           ends_with(f->name, k_json_suffix);
}

/* snake -> camel over name[0..len); a "na" segment becomes "NA". */
static void camel(const char *name, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap;) {
        if (name[i] == '_') {
            i++;
            continue;
        }
        size_t seg = i;
        while (seg < len && name[seg] != '_') seg++;
        int first = o == 0;
        if (!first && seg - i == 2 && name[i] == 'n' && name[i + 1] == 'a') {
            if (o + 3 > cap) break;
            out[o++] = 'N';
            out[o++] = 'A';
            i = seg;
            continue;
        }
        for (size_t k = i; k < seg && o + 1 < cap; k++) {
            char c = name[k];
            out[o++] = (k == i && !first && c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
        }
        i = seg;
    }
    out[o] = '\0';
}

void med_pb_json_name(const ProtobufCFieldDescriptor *f, char *out, size_t cap)
{
    size_t len = strlen(f->name);
    if (is_unix_ms(f))
        len -= sizeof k_unix_ms - 1;
    else if (is_json_text(f))
        len -= sizeof k_json_suffix - 1;
    camel(f->name, len, out, cap);
}

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return sizeof(int32_t);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return sizeof(int64_t);
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* protobuf-c does not enforce UTF-8; a bad string must not sink the
 * whole answer. */
static json_t *string_json(const char *s)
{
    json_t *j = json_string(s ? s : "");
    return j ? j : json_string("");
}

/* A member holding JSON text: the parsed value, or the text itself when
 * it does not parse. */
static json_t *json_text(const char *s, size_t len)
{
    json_error_t jerr;
    json_t *v = (s && len) ? json_loadb(s, len, JSON_DECODE_ANY, &jerr) : NULL;
    if (v) return v;
    json_t *raw = s ? json_stringn(s, len) : NULL;
    return raw ? raw : json_string("");
}

static json_t *bytes_json(const ProtobufCBinaryData *b)
{
    if (b->len > (size_t)INT32_MAX / 2) return NULL;
    unsigned char *buf = malloc(4 * ((b->len + 2) / 3) + 1);
    if (!buf) return NULL;
    int n = b->len ? EVP_EncodeBlock(buf, b->data, (int)b->len) : 0;
    buf[n] = '\0';
    json_t *j = json_string((const char *)buf);
    free(buf);
    return j;
}

static json_t *real_json(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *u64_json(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX) return json_integer((json_int_t)v);
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return json_string(buf);
}

static json_t *time_json(int64_t ms)
{
    if (ms == 0) return json_null();
    char buf[PBJSON_TIME_MAX];
    med_format_utc_ms(ms, buf, sizeof buf);
    return json_string(buf);
}

static json_t *enum_json(const ProtobufCFieldDescriptor *f, int v)
{
    const ProtobufCEnumValue *ev =
        f->descriptor ? protobuf_c_enum_descriptor_get_value(f->descriptor, v) : NULL;
    return ev ? json_string(ev->name) : json_integer(v);
}

static json_t *scalar_json(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: return json_integer((json_int_t) * (const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return u64_json(*(const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT: return real_json(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE: return real_json(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL: return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM: return enum_json(f, *(const int *)p);
    case PROTOBUF_C_TYPE_STRING: return string_json(*(char *const *)p);
    case PROTOBUF_C_TYPE_BYTES: return bytes_json((const ProtobufCBinaryData *)p);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        return m ? med_pb_to_json(m, NULL) : json_null();
    }
    }
    return json_null();
}

/* One value of field f stored at p, with the suffix conventions. */
static json_t *value_json(const ProtobufCFieldDescriptor *f, const void *p)
{
    if (is_unix_ms(f)) return time_json(*(const int64_t *)p);
    if (is_json_text(f) && f->type == PROTOBUF_C_TYPE_STRING) {
        const char *s = *(char *const *)p;
        return json_text(s, s ? strlen(s) : 0);
    }
    if (is_json_text(f)) {
        const ProtobufCBinaryData *b = p;
        return json_text((const char *)b->data, b->len);
    }
    return scalar_json(f, p);
}

static int is_map_entry(const ProtobufCFieldDescriptor *f)
{
    if (f->type != PROTOBUF_C_TYPE_MESSAGE || !f->descriptor) return 0;
    const ProtobufCMessageDescriptor *d = f->descriptor;
    return d->n_fields == 2 && strcmp(d->fields[0].name, "key") == 0 &&
           strcmp(d->fields[1].name, "value") == 0 && ends_with(d->name, "Entry");
}

/* JSON object keys are strings: render a map key of any scalar type. */
static int map_key_text(const ProtobufCFieldDescriptor *kf, const void *p, char *out, size_t cap)
{
    if (kf->type == PROTOBUF_C_TYPE_STRING) {
        const char *s = *(char *const *)p;
        return snprintf(out, cap, "%s", s ? s : "") < (int)cap ? 0 : -1;
    }
    json_t *v = scalar_json(kf, p);
    char *text = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    int rc = text && snprintf(out, cap, "%s", text) < (int)cap ? 0 : -1;
    free(text);
    return rc;
}

static json_t *map_value(const ProtobufCFieldDescriptor *vf, const void *p)
{
    if (vf->type != PROTOBUF_C_TYPE_STRING) return value_json(vf, p);
    const char *s = *(char *const *)p;
    return json_text(s, s ? strlen(s) : 0);
}

static json_t *map_json(const ProtobufCFieldDescriptor *f, ProtobufCMessage *const *entries,
                        size_t n)
{
    const ProtobufCMessageDescriptor *d = f->descriptor;
    json_t *obj = json_object();
    for (size_t i = 0; obj && i < n; i++) {
        const char *base = (const char *)entries[i];
        char key[PBJSON_MAP_KEY_MAX];
        if (map_key_text(&d->fields[0], base + d->fields[0].offset, key, sizeof key) != 0) continue;
        json_t *v = map_value(&d->fields[1], base + d->fields[1].offset);
        if (!v || json_object_set_new(obj, key, v) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

static json_t *repeated_json(const ProtobufCFieldDescriptor *f, const char *base)
{
    size_t n = *(const size_t *)(base + f->quantifier_offset);
    const char *arr = *(char *const *)(base + f->offset);
    if (is_map_entry(f)) return map_json(f, (ProtobufCMessage *const *)arr, n);
    json_t *out = json_array();
    size_t sz = elem_size(f->type);
    for (size_t i = 0; out && i < n; i++) {
        json_t *v = value_json(f, arr + i * sz);
        if (!v || json_array_append_new(out, v) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

typedef enum presence { ABSENT, PRESENT, ABSENT_NA } presence;

static presence field_presence(const ProtobufCFieldDescriptor *f, const char *base)
{
    const void *p = base + f->offset;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*(const uint32_t *)(base + f->quantifier_offset) == f->id) return PRESENT;
        return strstr(f->name, "_or_na") ? ABSENT_NA : ABSENT;
    }
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) return *(ProtobufCMessage *const *)p ? PRESENT : ABSENT;
    if (f->label != PROTOBUF_C_LABEL_OPTIONAL) return PRESENT;
    if (f->type == PROTOBUF_C_TYPE_STRING) return *(char *const *)p ? PRESENT : ABSENT;
    return *(const protobuf_c_boolean *)(base + f->quantifier_offset) ? PRESENT : ABSENT;
}

static json_t *field_json(const ProtobufCFieldDescriptor *f, const char *base, int *skip)
{
    *skip = 0;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) return repeated_json(f, base);
    switch (field_presence(f, base)) {
    case PRESENT: return value_json(f, base + f->offset);
    case ABSENT_NA: return json_string("NA");
    case ABSENT: break;
    }
    *skip = 1;
    return NULL;
}

json_t *med_pb_to_json(const ProtobufCMessage *msg, const char *skip_field)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    const char *base = (const char *)msg;
    json_t *obj = json_object();
    for (unsigned i = 0; obj && i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (skip_field && strcmp(f->name, skip_field) == 0) continue;
        int skip = 0;
        json_t *v = field_json(f, base, &skip);
        if (skip) continue;
        char name[PBJSON_NAME_MAX];
        med_pb_json_name(f, name, sizeof name);
        if (!v || json_object_set_new(obj, name, v) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}
