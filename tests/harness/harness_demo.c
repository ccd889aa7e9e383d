/* Harness pieces for the request path: fake OpenRTB networks and the demo
 * config set, loaded the way an operator loads it (through H's publish). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "harness.h"
#include "med/ids.h"

void th_fake_network_start(th_proc *p, const char *seat, const char *behavior)
{
    char name[64], port[16];
    snprintf(name, sizeof name, "fake_%s", seat);
    th_proc_init(p, name, "../tools/fake-network", "fake-network");
    p->admin_port = th_free_port();
    snprintf(port, sizeof port, "%d", p->admin_port);
    th_proc_arg(p, "--port");
    th_proc_arg(p, port);
    th_proc_arg(p, "--seat");
    th_proc_arg(p, seat);
    th_proc_arg(p, "--behavior");
    th_proc_arg(p, behavior);
    assert_int_equal(th_proc_start(p), 0);
    for (int i = 0; i < 100; i++) {
        if (th_fake_network_requests(p) >= 0) return;
        th_sleep_ms(50);
    }
    fail_msg("fake network %s did not come up on port %d", seat, p->admin_port);
}

void th_fake_network_behave(const th_proc *p, const char *behavior)
{
    char url[128], body[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/control", p->admin_port);
    snprintf(body, sizeof body, "{\"behavior\":\"%s\"}", behavior);
    const char *hdrs[] = { "Content-Type: application/json", NULL };
    th_http_resp r;
    assert_int_equal(th_http("POST", url, hdrs, body, strlen(body), 2000, &r), 0);
    long st = r.status;
    th_http_free(&r);
    if (st != 200) fail_msg("fake network control answered %ld", st);
}

long th_fake_network_requests(const th_proc *p)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/stats", p->admin_port);
    th_http_resp r;
    if (th_http("GET", url, NULL, NULL, 0, 1000, &r) != 0) return -1;
    long n = -1;
    json_error_t je;
    json_t *j = r.status == 200 ? json_loadb(r.body, r.body_len, 0, &je) : NULL;
    if (json_is_integer(json_object_get(j, "requests")))
        n = (long)json_integer_value(json_object_get(j, "requests"));
    json_decref(j);
    th_http_free(&r);
    return n;
}

/* text with every ${NAME} of the table replaced; malloc'd. */
static char *substitute(const char *text, const char *const names[], const char *const values[],
                        int n)
{
    size_t cap = strlen(text) * 2 + 256, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    for (const char *p = text; *p;) {
        int hit = -1;
        for (int i = 0; i < n && hit < 0; i++) {
            size_t nl = strlen(names[i]);
            if (p[0] == '$' && p[1] == '{' && strncmp(p + 2, names[i], nl) == 0 && p[2 + nl] == '}')
                hit = i;
        }
        const char *add = hit >= 0 ? values[hit] : p;
        size_t al = hit >= 0 ? strlen(values[hit]) : 1;
        if (len + al + 1 > cap) {
            cap = (len + al + 1) * 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        memcpy(out + len, add, al);
        len += al;
        p += hit >= 0 ? strlen(names[hit]) + 3 : 1;
    }
    out[len] = '\0';
    return out;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_demo_files(const char *dir, char *names[], int cap)
{
    DIR *d = opendir(dir);
    if (!d) fail_msg("cannot open %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < cap) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], name_cmp);
    return n;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    return b;
}

void th_demo_config_publish(natsConnection *nc, const char *tenant, int net_a_port,
                            int net_b_port)
{
    char dir[512], a[16], b[16], at[32];
    snprintf(dir, sizeof dir, "%s/deploy/config/demo", th_env("MED_SOURCE_ROOT"));
    snprintf(a, sizeof a, "%d", net_a_port);
    snprintf(b, sizeof b, "%d", net_b_port);
    char *files[16];
    int n = list_demo_files(dir, files, 16);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        char path[768];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        char *raw = read_file(path);
        /* H checks publishAt against the token's window: now, per file. */
        med_format_utc_ms(med_now_unix_ms(), at, sizeof at);
        const char *names[] = { "FAKE_NET_A_PORT", "FAKE_NET_B_PORT", "PUBLISH_AT" };
        const char *values[] = { a, b, at };
        char *body = substitute(raw, names, values, 3);
        Mediation__V1__ConfigPublishReply *r =
            th_config_publish(nc, tenant, "demo-operator", "config_admin", "admin", body);
        int ok = r->http_status == 200 || r->http_status == 0;
        if (!ok)
            fail_msg("demo config %s: publish answered %d %s", files[i], (int)r->http_status,
                     r->body_json ? r->body_json : "");
        mediation__v1__config_publish_reply__free_unpacked(r, NULL);
        free(body);
        free(raw);
        free(files[i]);
    }
}
