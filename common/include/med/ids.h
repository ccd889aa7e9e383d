/* Identifier generation and hashing helpers (spec 01 section 0: sha256,
 * h16/h12, key format). */
#ifndef MED_IDS_H
#define MED_IDS_H

#include <stddef.h>
#include <stdint.h>

/* Cryptographically random bytes (getrandom); 0 on success. */
int med_random_bytes(void *buf, size_t n);
/* 2*nbytes lowercase hex chars + NUL into out (cap >= 2*nbytes+1). */
int med_random_hex(char *out, size_t cap, size_t nbytes);
/* prefix + 16 random hex chars, e.g. "tr_3fa2...". 0 on success. */
int med_id_new(char *out, size_t cap, const char *prefix);
/* sha256 of data as 64 lowercase hex + NUL. */
void med_sha256_hex(const void *data, size_t len, char out[65]);
/* prefix + first n hex chars of sha256(data) (h16: n=16, h12: n=12). */
int med_hash_key(char *out, size_t cap, const char *prefix, const char *data, size_t n);
/* Matches ^[A-Za-z][A-Za-z0-9_:-]{7,}$ (platform key format). */
int med_key_format_valid(const char *s);
/* UTC wall clock and monotonic clock in ms. */
int64_t med_now_unix_ms(void);
int64_t med_mono_ms(void);
/* Canonical text YYYY-MM-DDTHH:MM:SS.sssZ; out cap >= 25. */
void med_format_utc_ms(int64_t unix_ms, char *out, size_t cap);

#endif
