/* JSON Canonicalization Scheme (RFC 8785) over jansson values: object keys
 * sorted by UTF-16 code units, no insignificant whitespace, numbers in the
 * shortest ECMAScript form, strings with the minimal escapes. Hashes of
 * config (configHash, anchorHash, payloadHash) are sha256 over this form,
 * so two replicas always produce byte-identical output. */
#ifndef MED_JCS_H
#define MED_JCS_H

#include <jansson.h>
#include <stddef.h>
#include "med/err.h"

/* *out is malloc'd, NUL-terminated; caller frees. Non-finite numbers are
 * MED_ERR_INVALID. */
med_rc med_jcs_serialize(const json_t *v, char **out, size_t *len, med_err *err);
/* sha256 hex (64 chars + NUL) of the canonical form. */
med_rc med_jcs_sha256(const json_t *v, char out[65], med_err *err);

#endif
