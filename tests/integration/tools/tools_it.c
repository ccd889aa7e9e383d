#include "tools_it.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static void read_all(int fd, char *out, size_t cap)
{
    size_t n = 0;
    char sink[4096];
    for (;;) {
        ssize_t r = n + 1 < cap ? read(fd, out + n, cap - 1 - n) : read(fd, sink, sizeof sink);
        if (r <= 0) break;
        if (n + 1 < cap) n += (size_t)r;
    }
    if (cap) out[n] = '\0';
}

int ti_run(const char *rel_path, const char *const *args, char *out, size_t cap)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", th_env("MED_BUILD_ROOT"), rel_path);
    char *argv[64];
    int argc = 0;
    argv[argc++] = path;
    for (int i = 0; args[i] && argc < 63; i++) argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    int fds[2];
    if (pipe(fds) != 0) fail_msg("pipe failed");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) fail_msg("fork failed");
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(path, argv);
        _exit(127);
    }
    close(fds[1]);
    read_all(fds[0], out, cap);
    close(fds[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    fprintf(stderr, "[%s exit %d]\n%s", rel_path, WEXITSTATUS(status), out);
    return WEXITSTATUS(status);
}

void ti_ensure_stream(jsCtx *js, const char *name, const char *subjects)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (js_GetStreamInfo(&si, js, name, NULL, &jerr) == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return;
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name;
    const char *subs[1] = {subjects};
    cfg.Subjects = subs;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Duplicates = 120LL * 1000 * 1000 * 1000;
    natsStatus s = js_AddStream(&si, js, &cfg, NULL, &jerr);
    if (s != NATS_OK && jerr != JSStreamNameExistErr)
        fail_msg("create stream %s: %s (%d)", name, natsStatus_GetText(s), (int)jerr);
    jsStreamInfo_Destroy(si);
}

int ti_read_subject(jsCtx *js, const char *stream, const char *subject, natsMsg **out, int max)
{
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverAll;
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    if (js_SubscribeSync(&sub, js, subject, NULL, &so, &jerr) != NATS_OK)
        fail_msg("read %s from %s (%d)", subject, stream, (int)jerr);
    int n = 0;
    while (n < max) {
        natsMsg *m = NULL;
        if (natsSubscription_NextMsg(&m, sub, 1500) != NATS_OK) break;
        jsMsgMetaData *meta = NULL;
        uint64_t pending = 1;
        if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
            pending = meta->NumPending;
            jsMsgMetaData_Destroy(meta);
        }
        out[n++] = m;
        if (pending == 0) break;
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    return n;
}

void ti_free_msgs(natsMsg **m, int n)
{
    for (int i = 0; i < n; i++) natsMsg_Destroy(m[i]);
}

void ti_rand_hex(char *out, int n)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < n; i++) out[i] = hex[rand() % 16];
    out[n] = '\0';
}

const char *ti_header(natsMsg *m, const char *name)
{
    const char *v = NULL;
    return natsMsgHeader_Get(m, name, &v) == NATS_OK && v ? v : "";
}
