#include "jst.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "med/ids.h"
#include "med/metrics.h"

med_js *jst_connect(void)
{
    const char *url = getenv("NATS_URL");
    if (!url || !*url)
        fail_msg("NATS_URL is not set: start servers with tests/harness/infra.sh start DIR "
                 "and source DIR/env");
    med_js_opts o = { .url = url, .name = "jetstream-integration-test" };
    med_js *js = NULL;
    med_err err;
    med_err_clear(&err);
    if (med_js_connect(&o, &js, &err) != MED_OK)
        fail_msg("connect %s: %s %s", url, err.code, err.message);
    if (med_js_ensure_streams(js, NULL, &err) != MED_OK)
        fail_msg("ensure streams: %s %s", err.code, err.message);
    return js;
}

void jst_unique(char *out, size_t cap)
{
    if (med_random_hex(out, cap, 4) != 0) fail_msg("random");
}

void jst_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

int64_t jst_now_ms(void) { return med_mono_ms(); }

int jst_wait_until(int (*pred)(void *), void *arg, int timeout_ms)
{
    int64_t end = jst_now_ms() + timeout_ms;
    for (;;) {
        if (pred(arg)) return 1;
        if (jst_now_ms() >= end) return 0;
        jst_sleep_ms(10);
    }
}

uint64_t jst_subject_count(jsCtx *js, const char *stream, const char *subject)
{
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Info.SubjectsFilter = subject;
    jsStreamInfo *si = NULL;
    natsStatus s = js_GetStreamInfo(&si, js, stream, &o, NULL);
    if (s != NATS_OK) fail_msg("stream info %s: %s", stream, natsStatus_GetText(s));
    uint64_t n = 0;
    if (si->State.Subjects)
        for (int i = 0; i < si->State.Subjects->Count; i++)
            if (strcmp(si->State.Subjects->List[i].Subject, subject) == 0)
                n = si->State.Subjects->List[i].Msgs;
    jsStreamInfo_Destroy(si);
    return n;
}

uint64_t jst_metric(const char *series)
{
    char *text = NULL;
    size_t len = 0;
    if (med_metrics_render(&text, &len) != 0) fail_msg("metrics render");
    uint64_t v = 0;
    size_t sl = strlen(series);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, series, sl) == 0 && line[sl] == ' ') {
            v = strtoull(line + sl + 1, NULL, 10);
            break;
        }
        line = strchr(line, '\n');
        if (line) line++;
    }
    free(text);
    return v;
}
