/* Times of the replay contract (spec 04 G.5): RFC 3339 text in, Unix ms
 * out, and the canonical text (YYYY-MM-DDTHH:MM:SS.sssZ) back, so a cut or
 * a range bound compares as an instant whatever offset the caller wrote. */
#ifndef G_REPLAY_TIME_H
#define G_REPLAY_TIME_H

#include <stdint.h>

#define G_TIME_TEXT_CAP 32

/* 0 and *ms on success; -1 when s is not RFC 3339 (date 'T' time, optional
 * fraction truncated to ms, 'Z' or +-HH:MM). Parsed without the host's
 * zone or locale. */
int g_time_parse(const char *s, int64_t *ms);
/* Canonical text of ms into out (cap >= G_TIME_TEXT_CAP). */
void g_time_format(int64_t ms, char out[G_TIME_TEXT_CAP]);

#endif
