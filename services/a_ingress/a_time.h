/* RFC 3339 timestamps as the SDK sends them (A.2): raw text in, Unix ms
 * out. */
#ifndef A_TIME_H
#define A_TIME_H

#include <stdint.h>

/* 0 and *ms on success; -1 when s is not RFC 3339 (date, 'T' or 't',
 * time, optional fraction, 'Z' or +-HH:MM). Fractions beyond ms are
 * truncated. */
int a_time_parse_rfc3339(const char *s, int64_t *ms);

#endif
