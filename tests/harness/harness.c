#include "harness.h"

#include "med/redis.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "med/names.h"

const char *th_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) fail_msg("environment variable %s is not set: run through tests/run", name);
    return v;
}

med_redis *th_redis_connect(void)
{
    med_redis *r = NULL;
    med_err err = { 0 };
    if (med_redis_connect(th_env("REDIS_HOST"), atoi(th_env("REDIS_PORT")), 2000, &r, &err) != MED_OK)
        fail_msg("redis connect: %s", err.message);
    return r;
}

int th_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    int port = ntohs(a.sin_port);
    close(fd);
    return port;
}

void th_binary_path(const char *dir, const char *exe, char *out, size_t cap)
{
    snprintf(out, cap, "%s/services/%s/%s", th_env("MED_BUILD_ROOT"), dir, exe);
}

void th_proc_init(th_proc *p, const char *name, const char *dir, const char *exe)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    th_binary_path(dir, exe, p->path, sizeof p->path);
    p->pid = -1;
}

void th_proc_setenv(th_proc *p, const char *key, const char *value)
{
    size_t klen = strlen(key);
    for (int i = 0; i < p->n_env; i++) {
        if (strncmp(p->env[i], key, klen) == 0 && p->env[i][klen] == '=') {
            free(p->env[i]);
            p->env[i] = NULL;
            if (asprintf(&p->env[i], "%s=%s", key, value) < 0) fail_msg("oom");
            return;
        }
    }
    if (p->n_env >= (int)(sizeof p->env / sizeof p->env[0])) fail_msg("too many env vars");
    if (asprintf(&p->env[p->n_env++], "%s=%s", key, value) < 0) fail_msg("oom");
}

int th_proc_start(th_proc *p)
{
    char logdir[512], logpath[640];
    snprintf(logdir, sizeof logdir, "%s/logs", th_env("MED_INFRA_DIR"));
    mkdir(logdir, 0755);
    snprintf(logpath, sizeof logpath, "%s/%s.log", logdir, p->name);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        for (int i = 0; i < p->n_env; i++) putenv(p->env[i]);
        char *argv[18] = { p->path };
        for (int i = 0; i < p->n_argv; i++) argv[i + 1] = p->argv[i];
        execv(p->path, argv);
        _exit(127);
    }
    p->pid = pid;
    return 0;
}

int th_proc_wait_ready(th_proc *p, int timeout_ms)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/readyz", p->admin_port);
    long long end = th_now_ms() + timeout_ms;
    while (th_now_ms() < end) {
        th_http_resp r;
        if (th_http("GET", url, NULL, NULL, 0, 1000, &r) == 0) {
            long st = r.status;
            th_http_free(&r);
            if (st == 200) return 0;
        }
        int status;
        if (p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = -1;
            return -1;
        }
        th_sleep_ms(100);
    }
    return -1;
}

int th_proc_stop(th_proc *p, int sig, int timeout_ms)
{
    if (p->pid <= 0) return -1;
    kill(p->pid, sig);
    long long end = th_now_ms() + timeout_ms;
    int status = 0;
    while (th_now_ms() < end) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid) {
            p->pid = -1;
            return status;
        }
        th_sleep_ms(20);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    p->pid = -1;
    return -1;
}

void th_proc_free(th_proc *p)
{
    if (p->pid > 0) th_proc_stop(p, SIGKILL, 2000);
    for (int i = 0; i < p->n_env; i++) free(p->env[i]);
    p->n_env = 0;
    for (int i = 0; i < p->n_argv; i++) free(p->argv[i]);
    p->n_argv = 0;
}

void th_proc_arg(th_proc *p, const char *arg)
{
    assert_true(p->n_argv < 16);
    p->argv[p->n_argv] = strdup(arg);
    assert_non_null(p->argv[p->n_argv]);
    p->n_argv++;
}

void th_proc_init_ci(th_proc *p, const char *name, const char *dir, const char *exe,
                     const char *port_key, const char *probe_ms)
{
    th_proc_init(p, name, dir, exe);
    char port[16];
    snprintf(port, sizeof port, "%d", p->admin_port = th_free_port());
    th_proc_setenv(p, port_key, port);
    th_proc_setenv(p, "APP_ENV", "ci");
    th_proc_setenv(p, "LOG_LEVEL", "info");
    th_proc_setenv(p, "READINESS_PROBE_INTERVAL_MS", probe_ms);
    th_proc_setenv(p, "SERVICE_INSTANCE", name);
}

/* The last lines of a service's log on stderr, so a CI failure says why
 * (the infra dir with the logs is gone once the run ends). */
static void print_log_tail(const th_proc *p, int lines)
{
    char path[700];
    snprintf(path, sizeof path, "%s/logs/%s.log", th_env("MED_INFRA_DIR"), p->name);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char ring[40][512];
    int n = 0;
    while (n < 1000000 && fgets(ring[n % 40], sizeof ring[0], f)) n++;
    fclose(f);
    if (lines > 40) lines = 40;
    int from = n > lines ? n - lines : 0;
    fprintf(stderr, "---- last lines of %s ----\n", path);
    for (int i = from; i < n; i++) fputs(ring[i % 40], stderr);
}

void th_proc_start_ready(th_proc *p)
{
    assert_int_equal(th_proc_start(p), 0);
    if (th_proc_wait_ready(p, 20000) != 0) {
        print_log_tail(p, 25);
        fail_msg("%s did not become ready", p->name);
    }
}

uint64_t th_stream_last_seq(jsCtx *js, const char *stream)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_GetStreamInfo(&si, js, stream, NULL, &jerr), NATS_OK);
    uint64_t seq = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return seq;
}

Mediation__V1__ConfigPublishReply *th_config_publish(natsConnection *nc, const char *tenant,
                                                     const char *actor, const char *role,
                                                     const char *principal_role,
                                                     const char *body_json)
{
    Mediation__V1__ConfigPublishRequest req = MEDIATION__V1__CONFIG_PUBLISH_REQUEST__INIT;
    Mediation__V1__AuthContextLite auth = MEDIATION__V1__AUTH_CONTEXT_LITE__INIT;
    Mediation__V1__ScopeBindings sb = MEDIATION__V1__SCOPE_BINDINGS__INIT;
    char *any[] = {"*"};
    sb.n_environments = sb.n_app_ids = sb.n_placement_ids = 1;
    sb.environments = sb.app_ids = sb.placement_ids = any;
    auth.actor_id = (char *)actor;
    auth.role = (char *)role;
    auth.principal_role = (char *)principal_role;
    auth.auth_method = "token";
    auth.issued_at_unix_ms = 1763800000000LL;
    auth.expires_at_unix_ms = 4102444800000LL;
    auth.scope_bindings = &sb;
    auth.tenant_id = (char *)tenant;
    req.auth_context_lite = &auth;
    req.tenant_id = (char *)tenant;
    req.body_json = (char *)body_json;
    size_t len = mediation__v1__config_publish_request__get_packed_size(&req);
    uint8_t *buf = malloc(len + 1);
    assert_non_null(buf);
    mediation__v1__config_publish_request__pack(&req, buf);
    natsMsg *rep = NULL;
    natsStatus s = natsConnection_Request(&rep, nc, MED_SUBJ_H_PUBLISH, buf, (int)len, 15000);
    free(buf);
    if (s != NATS_OK) fail_msg("publish request: %s", natsStatus_GetText(s));
    Mediation__V1__ConfigPublishReply *r = mediation__v1__config_publish_reply__unpack(
        NULL, (size_t)natsMsg_GetDataLength(rep), (const uint8_t *)natsMsg_GetData(rep));
    assert_non_null(r);
    natsMsg_Destroy(rep);
    return r;
}

typedef struct buf {
    char *data;
    size_t len;
} buf;

static size_t buf_append(char *ptr, size_t size, size_t n, void *ud)
{
    buf *b = ud;
    size_t add = size * n;
    char *nd = realloc(b->data, b->len + add + 1);
    if (!nd) return 0;
    memcpy(nd + b->len, ptr, add);
    b->data = nd;
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

int th_http(const char *method, const char *url, const char *const *headers,
            const char *body, size_t body_len, long timeout_ms, th_http_resp *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    if (!c) return -1;
    buf b = { 0 }, h = { 0 };
    struct curl_slist *hl = NULL;
    for (const char *const *p = headers; p && *p; p++) hl = curl_slist_append(hl, *p);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_append);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, buf_append);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    out->body = b.data ? b.data : strdup("");
    out->body_len = b.len;
    out->headers = h.data ? h.data : strdup("");
    return rc == CURLE_OK ? 0 : -1;
}

void th_http_free(th_http_resp *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

int th_http_header(const th_http_resp *r, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *eol = strstr(line, "\r\n");
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ') v++;
            size_t vl = len - (size_t)(v - line);
            if (vl >= cap) vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return 0;
        }
        if (!eol) break;
        line = eol + 2;
    }
    return -1;
}

long long th_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void th_sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

long th_readyz(int port, char *body, size_t cap)
{
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/readyz", port);
    th_http_resp r;
    if (th_http("GET", url, NULL, NULL, 0, 2000, &r) != 0) return -1;
    long st = r.status;
    snprintf(body, cap, "%s", r.body);
    th_http_free(&r);
    return st;
}

long th_await_readyz(int port, long want, char *body, size_t cap, int timeout_ms)
{
    long long end = th_now_ms() + timeout_ms;
    long st = -1;
    while (th_now_ms() < end && (st = th_readyz(port, body, cap)) != want) th_sleep_ms(100);
    return st;
}

int th_infra(const char *verb, const char *what)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/tests/harness/infra.sh %s %s %s >/dev/null",
             th_env("MED_SOURCE_ROOT"), verb, th_env("MED_INFRA_DIR"), what);
    return system(cmd);
}
