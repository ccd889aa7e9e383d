/* Replay times: the platform's one RFC 3339 parser and UTC formatter, under
 * the names the replay code reads as (see g_replay_time.h). */
#include "g_replay_time.h"

#include "med/ids.h"
#include "med/rfc3339.h"

int g_time_parse(const char *s, int64_t *ms)
{
    return s ? med_rfc3339_parse(s, ms) : -1;
}

void g_time_format(int64_t ms, char out[G_TIME_TEXT_CAP])
{
    med_format_utc_ms(ms, out, G_TIME_TEXT_CAP);
}
