/* archive_records rows stored before payload_pb (migration 0018) hold the
 * record only as the JSON med_pb_to_json made of it. One reader, driven by
 * the protobuf-c descriptor, undoes those conventions for the field kinds
 * an archive record uses (strings, integers, bool, sub-messages, one-member
 * oneofs, `_unix_ms` times); maps and repeated fields (only `extensions`,
 * which replay never reads) are left empty. Pure. */
#include <stdlib.h>
#include <string.h>

#include "g_assemble.h"
#include "g_replay_time.h"
#include "med/pbjson.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static int64_t int_of(const ProtobufCFieldDescriptor *f, const json_t *v)
{
    int64_t ms = 0;
    if (json_is_integer(v)) return json_integer_value(v);
    if (!json_is_string(v)) return 0;
    if (ends_with(f->name, "_unix_ms") && g_time_parse(json_string_value(v), &ms) == 0) return ms;
    return strtoll(json_string_value(v), NULL, 10);
}

/* Sets field f of the message at base from v; -1 on allocation failure. */
static int set_field(med_arena *a, const ProtobufCFieldDescriptor *f, char *base, const json_t *v)
{
    void *p = base + f->offset;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        if (!json_is_string(v)) return 0;
        return (*(char **)p = med_arena_strdup(a, json_string_value(v))) ? 0 : -1;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: *(int64_t *)p = int_of(f, v); return 0;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: *(int32_t *)p = (int32_t)int_of(f, v); return 0;
    case PROTOBUF_C_TYPE_BOOL: *(protobuf_c_boolean *)p = json_is_true(v); return 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        if (!json_is_object(v)) return 0;
        return (*(ProtobufCMessage **)p = g_pb_from_json(a, v, f->descriptor)) ? 0 : -1;
    default: return 0; /* no archive record field of another kind */
    }
}

static int is_set(const ProtobufCFieldDescriptor *f, const json_t *v)
{
    if (!v || json_is_null(v)) return 0;
    /* an unset `x_or_na` oneof is rendered "NA" */
    return !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || !strstr(f->name, "_or_na") ||
           strcmp(json_string_value(v) ? json_string_value(v) : "", "NA") != 0;
}

ProtobufCMessage *g_pb_from_json(med_arena *a, const json_t *j, const ProtobufCMessageDescriptor *d)
{
    char *base = med_arena_alloc(a, d->sizeof_message);
    if (!base) return NULL;
    protobuf_c_message_init(d, base);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char name[128];
        med_pb_json_name(f, name, sizeof name);
        const json_t *v = json_object_get(j, name);
        if (f->label == PROTOBUF_C_LABEL_REPEATED || !is_set(f, v)) continue;
        if (set_field(a, f, base, v) != 0) return NULL;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) *(uint32_t *)(base + f->quantifier_offset) = f->id;
        else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
                 f->type != PROTOBUF_C_TYPE_MESSAGE)
            *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
    }
    return (ProtobufCMessage *)base;
}
