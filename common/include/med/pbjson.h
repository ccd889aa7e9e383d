/* Any protobuf-c message as the JSON an HTTP caller reads, following the
 * proto conventions of proto/README.md backwards:
 *   - names: snake_case -> camelCase, with "_or_na" -> "OrNA";
 *   - `<name>_unix_ms` int64 -> `<name>` as "YYYY-MM-DDTHH:MM:SS.sssZ"
 *     (0 -> null);
 *   - `<name>_json` string/bytes -> `<name>` holding the parsed document;
 *   - map<string,string> values are JSON text -> parsed values;
 *   - a one-member oneof `x_or_na_opt` left unset -> "NA"; other unset
 *     oneof members and unset sub-messages are omitted;
 *   - other proto3 scalars are always present (defaults included), so the
 *     answer has a stable shape; repeated fields are arrays; bytes base64.
 * Where a JSON text does not parse, the raw string is kept. */
#ifndef MED_PBJSON_H
#define MED_PBJSON_H

#include <stddef.h>
#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* JSON member name for a proto field name (applies the rules above that
 * rename: camelCase, OrNA, _unix_ms and _json suffixes). */
void med_pb_json_name(const ProtobufCFieldDescriptor *f, char *out, size_t cap);
/* skip_field (may be NULL) names a top-level field left out. NULL on
 * allocation failure. */
json_t *med_pb_to_json(const ProtobufCMessage *msg, const char *skip_field);

#endif
