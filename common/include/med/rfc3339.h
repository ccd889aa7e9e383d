/* RFC 3339 timestamps as SDKs and operators send them (A.2, F.3, G.5): raw text in, Unix ms
 * out. */
#ifndef MED_RFC3339_H
#define MED_RFC3339_H

#include <stdint.h>

/* 0 and *ms on success; -1 when s is not RFC 3339 (date, 'T' or 't',
 * time, optional fraction, 'Z' or +-HH:MM). Fractions beyond ms are
 * truncated. */
int med_rfc3339_parse(const char *s, int64_t *ms);

#endif
