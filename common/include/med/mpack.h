/* Small msgpack values for Redis: a flat map of string keys to string,
 * int64, double, bool or nil. Enough for dedup records, locks and cache
 * entries; nested documents go to PostgreSQL. */
#ifndef MED_MPACK_H
#define MED_MPACK_H

#include <stddef.h>
#include <stdint.h>
#include "med/err.h"

typedef enum med_mval_type {
    MED_MVAL_NIL = 0, MED_MVAL_STR, MED_MVAL_INT, MED_MVAL_DOUBLE, MED_MVAL_BOOL, MED_MVAL_BIN
} med_mval_type;

typedef struct med_mval {
    med_mval_type type;
    union { struct { const char *ptr; size_t len; } s; int64_t i; double d; int b; } u;
} med_mval;

typedef struct med_mmap med_mmap; /* opaque map; owns copies of its strings */

/* Encode and decode refuse maps with more keys than this: values are small,
 * and a bound keeps decoding untrusted bytes cheap. */
#define MED_MMAP_MAX_ENTRIES 1024

med_mmap *med_mmap_new(void);
void med_mmap_free(med_mmap *m);
/* Setting an existing key replaces its value (in place: the key keeps its
 * position in the encoding order). 0 on success, -1 on ENOMEM or a NULL
 * map, key or string. STR values are NUL-terminated copies; BIN values too,
 * with the terminator not counted in len. */
int med_mmap_set_str(med_mmap *m, const char *key, const char *val);
int med_mmap_set_bin(med_mmap *m, const char *key, const void *val, size_t len);
int med_mmap_set_int(med_mmap *m, const char *key, int64_t val);
int med_mmap_set_double(med_mmap *m, const char *key, double val);
int med_mmap_set_bool(med_mmap *m, const char *key, int val);
int med_mmap_set_nil(med_mmap *m, const char *key);
/* Borrowed view valid while m lives (string bytes only until that key is
 * set again); NULL when absent. */
const med_mval *med_mmap_get(const med_mmap *m, const char *key);
size_t med_mmap_size(const med_mmap *m);

/* Encodes as a msgpack map, keys in insertion order, so equal maps built in
 * the same order give identical bytes; *out malloc'd, caller frees. */
med_rc med_mmap_encode(const med_mmap *m, uint8_t **out, size_t *len, med_err *err);
/* Decodes a msgpack map (anything else -> INFRA_DECODE_FAILED: non-map root,
 * non-string or NUL-containing keys, duplicate keys, nested containers,
 * extensions, integers above INT64_MAX, truncated or trailing bytes). Safe on
 * arbitrary input. Caller frees *out with med_mmap_free. */
med_rc med_mmap_decode(const uint8_t *buf, size_t len, med_mmap **out, med_err *err);

#endif
