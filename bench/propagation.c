/* Publish-to-visible propagation (spec 04 H.4 -> H.3): publishes N
 * successive placement-layer versions through the edge's
 * POST /v1/config/publish and, for each, measures from the moment the
 * publish reply arrived (and from the moment it was sent) until
 *   (i)   the ConfigChanged message with Nats-Msg-Id = publishOperationId
 *         is seen on med.h.config.v1 (plain core subscription);
 *   (ii)  GET /v1/config (If-None-Match: old etag) answers 200 with a new
 *         ETag (polled every POLL_US);
 *   (iii) optionally, every given /metrics URL shows a changed
 *         med_config_generation value (one URL per stage A..E).
 * Prints median / max per measure. Not a test: it prints figures.
 *
 *   propagation EDGE_URL NATS_URL N [metrics_url ...]
 * Env: BENCH_BASE_VERSIONS "schema,routing,placement" of the live
 *      placement unit (default 1.0.0,rs-1,pc-1 = after tools/seed-demo). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <curl/curl.h>
#include <jansson.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_US 1000
#define WAIT_MS 15000
#define MAX_N 1000
#define MAX_STAGES 8

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* the last RING arrivals on med.h.config.v1: Nats-Msg-Id and time */
#define RING 64
static char ring_id[RING][128];
static int64_t ring_at[RING];
static long msgs_seen;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc, (void)sub, (void)closure;
    int64_t t = now_ns();
    const char *id = NULL;
    natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
    pthread_mutex_lock(&mu);
    long k = msgs_seen++ % RING;
    snprintf(ring_id[k], sizeof ring_id[k], "%s", id ? id : "");
    ring_at[k] = t;
    pthread_mutex_unlock(&mu);
    natsMsg_Destroy(msg);
}

/* ---- HTTP --------------------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t n;
} buf;

static size_t on_body(char *d, size_t sz, size_t nm, void *u)
{
    buf *b = u;
    size_t k = sz * nm;
    char *p = realloc(b->p, b->n + k + 1);
    if (!p)
        return 0;
    memcpy(p + b->n, d, k);
    b->n += k;
    p[b->n] = 0;
    b->p = p;
    return k;
}

static char etag_hdr[160];

static size_t on_header(char *d, size_t sz, size_t nm, void *u)
{
    (void)u;
    size_t k = sz * nm;
    if (k > 5 && strncasecmp(d, "etag:", 5) == 0) {
        size_t i = 5;
        while (i < k && (d[i] == ' ' || d[i] == '\t'))
            i++;
        size_t j = k;
        while (j > i && (d[j - 1] == '\r' || d[j - 1] == '\n' || d[j - 1] == ' '))
            j--;
        size_t len = j - i < sizeof etag_hdr - 1 ? j - i : sizeof etag_hdr - 1;
        memcpy(etag_hdr, d + i, len);
        etag_hdr[len] = 0;
    }
    return k;
}

static CURL *curl;

/* GET /v1/config; returns the status, sets etag_hdr. */
static long get_config(const char *edge, const char *inm)
{
    char url[1024], ts[40], hdr[256];
    time_t now = time(NULL);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S.000Z", gmtime(&now));
    snprintf(url, sizeof url,
             "%s/v1/config?appId=app_demo&placementId=plc_feed&environment=prod&schemaVersion=1.0.0"
             "&sdkVersion=1.5.0&requestAt=%s", edge, ts);
    buf b = { 0 };
    struct curl_slist *h = NULL;
    if (inm) {
        snprintf(hdr, sizeof hdr, "If-None-Match: %s", inm);
        h = curl_slist_append(h, hdr);
    }
    etag_hdr[0] = 0;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    free(b.p);
    return status;
}

static long post_json(const char *url, const char *body, buf *out)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    return status;
}

/* The med_config_generation sample(s) of a /metrics page as one string
 * ("" when the metric is absent, NULL when the page is unreachable). */
static char *generation_of(const char *url)
{
    buf b = { 0 };
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        free(b.p);
        return NULL;
    }
    size_t cap = 1, n = 0;
    char *acc = calloc(1, 1);
    for (char *line = strtok(b.p ? b.p : (char[]){ 0 }, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "med_config_generation", 21) != 0)
            continue;
        size_t k = strlen(line);
        char *p = realloc(acc, cap + k + 1);
        if (!p)
            break;
        acc = p;
        memcpy(acc + n, line, k);
        acc[n + k] = '\n';
        n += k + 1;
        acc[n] = 0;
        cap += k + 1;
    }
    free(b.p);
    return acc;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *name, double *v, int n)
{
    if (n == 0) {
        printf("%-46s no samples\n", name);
        return;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    printf("%-46s median %8.2f ms  max %8.2f ms  min %8.2f ms  (n=%d)\n", name, med, v[n - 1], v[0], n);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: propagation EDGE_URL NATS_URL N [metrics_url ...]\n");
        return 2;
    }
    const char *edge = argv[1], *nats_url = argv[2];
    int n = atoi(argv[3]);
    if (n < 1 || n > MAX_N)
        n = 30;
    int n_stages = argc - 4 > MAX_STAGES ? MAX_STAGES : argc - 4;
    char **stage_url = argv + 4;

    char base_s[128] = "1.0.0", base_r[128] = "rs-1", base_p[128] = "pc-1";
    const char *bv = getenv("BENCH_BASE_VERSIONS");
    if (bv && sscanf(bv, "%127[^,],%127[^,],%127s", base_s, base_r, base_p) != 3) {
        fprintf(stderr, "BENCH_BASE_VERSIONS must be schema,routing,placement\n");
        return 2;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    if (natsConnection_ConnectTo(&nc, nats_url) != NATS_OK ||
        natsConnection_Subscribe(&sub, nc, "med.h.config.v1", on_msg, NULL) != NATS_OK ||
        natsConnection_Flush(nc) != NATS_OK) {
        fprintf(stderr, "propagation: cannot subscribe on %s\n", nats_url);
        return 1;
    }

    char old_etag[160];
    if (get_config(edge, NULL) != 200 || !etag_hdr[0]) {
        fprintf(stderr, "propagation: GET /v1/config gives no 200 with ETag (seeded?)\n");
        return 1;
    }
    snprintf(old_etag, sizeof old_etag, "%s", etag_hdr);

    static double reply_ms[MAX_N], msg_reply[MAX_N], msg_send[MAX_N], get_reply[MAX_N],
        get_send[MAX_N], stg_reply[MAX_N], stg_send[MAX_N];
    int n_msg = 0, n_get = 0, n_stg = 0, n_pub = 0, stages_absent = 0;
    int max_polls = 0, first_poll_hits = 0;
    char url[1024];
    snprintf(url, sizeof url, "%s/v1/config/publish", edge);
    long run_tag = (long)time(NULL);

    for (int i = 0; i < n; i++) {
        char ver[64], cs[96], rq[96], ts[40];
        snprintf(ver, sizeof ver, "pc-b%ld-%d", run_tag, i);
        snprintf(cs, sizeof cs, "cs-bench-%ld-%d", run_tag, i);
        snprintf(rq, sizeof rq, "bench-prop-%ld-%d", run_tag, i);
        time_t now = time(NULL);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S.000Z", gmtime(&now));
        json_t *body = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
            " s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s},"
            " s:{s:[], s:{s:s, s:i, s:{s:s}}}, s:s, s:s, s:s}",
            "requestId", rq, "operatorId", "demo-operator", "environment", "prod",
            "actionType", "publish", "targetScope", "placement", "targetKey",
            "app_demo|plc_feed|prod", "changeSetId", cs,
            "baseVersionSnapshot", "schemaVersion", base_s, "routingStrategyVersion", base_r,
            "placementConfigVersion", base_p,
            "targetVersionSnapshot", "schemaVersion", base_s, "routingStrategyVersion", base_r,
            "placementConfigVersion", ver,
            "changeSet", "documents", "layer", "placementRef", "placement:plc_feed-1", "ttlSec",
            60 + i, "adapterMinVersionMap", "openrtb_net_b", "1.0.1",
            "publishAt", ts, "publishContractVersion", "h_publish_v1", "reason", "bench propagation");
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);

        /* stage generations before */
        char *before[MAX_STAGES] = { 0 };
        for (int s = 0; s < n_stages; s++)
            before[s] = generation_of(stage_url[s]);

        buf out = { 0 };
        int64_t t_send = now_ns();
        long st = post_json(url, text, &out);
        int64_t t_reply = now_ns();
        free(text);
        json_t *rep = out.p ? json_loads(out.p, 0, NULL) : NULL;
        const char *code = json_string_value(json_object_get(rep, "ackReasonCode"));
        const char *op = json_string_value(json_object_get(rep, "publishOperationId"));
        if (st != 200 || !code || strcmp(code, "h_publish_published") != 0 || !op) {
            fprintf(stderr, "propagation: publish %d: HTTP %ld %s\n", i, st, out.p ? out.p : "");
            json_decref(rep);
            free(out.p);
            break;
        }
        n_pub++;
        reply_ms[i] = (double)(t_reply - t_send) / 1e6;
        /* the message may arrive before the reply: it is published right after
         * the commit, while the reply travels back through NATS and the edge */
        char want_id[128];
        snprintf(want_id, sizeof want_id, "%s", op);
        json_decref(rep);
        free(out.p);

        int got_msg = 0, got_get = 0;
        int stage_done[MAX_STAGES] = { 0 };
        int stages_left = n_stages;
        int64_t t_msg = 0, t_get = 0, t_stg = 0;
        int polls = 0;
        int64_t deadline = t_reply + (int64_t)WAIT_MS * 1000000;
        while (now_ns() < deadline && (!got_msg || !got_get || stages_left > 0)) {
            if (!got_msg) {
                pthread_mutex_lock(&mu);
                for (int k = 0; k < RING; k++)
                    if (ring_at[k] && strcmp(ring_id[k], want_id) == 0) {
                        t_msg = ring_at[k];
                        got_msg = 1;
                    }
                pthread_mutex_unlock(&mu);
            }
            if (!got_get) {
                long gs = get_config(edge, old_etag);
                polls++;
                if (gs == 200 && etag_hdr[0] && strcmp(etag_hdr, old_etag) != 0) {
                    t_get = now_ns();
                    got_get = 1;
                    snprintf(old_etag, sizeof old_etag, "%s", etag_hdr);
                }
            }
            for (int s = 0; s < n_stages; s++) {
                if (stage_done[s])
                    continue;
                char *g = generation_of(stage_url[s]);
                if (!g || !g[0] || !before[s] || !before[s][0]) {
                    if (!stages_absent)
                        fprintf(stderr, "propagation: no med_config_generation on %s\n", stage_url[s]);
                    stages_absent = 1; /* metric missing: give up on stages */
                    stage_done[s] = 1;
                    stages_left--;
                } else if (strcmp(g, before[s]) != 0) {
                    stage_done[s] = 1;
                    stages_left--;
                    t_stg = now_ns();
                }
                free(g);
            }
            usleep(POLL_US);
        }
        for (int s = 0; s < n_stages; s++)
            free(before[s]);
        if (got_msg) {
            msg_reply[n_msg] = (double)(t_msg - t_reply) / 1e6;
            msg_send[n_msg++] = (double)(t_msg - t_send) / 1e6;
        } else {
            fprintf(stderr, "propagation: publish %d: no ConfigChanged %s within %d ms\n", i, op, WAIT_MS);
        }
        if (got_get) {
            if (polls > max_polls)
                max_polls = polls;
            first_poll_hits += polls == 1;
            get_reply[n_get] = (double)(t_get - t_reply) / 1e6;
            get_send[n_get++] = (double)(t_get - t_send) / 1e6;
        } else {
            fprintf(stderr, "propagation: publish %d: GET kept the old etag for %d ms\n", i, WAIT_MS);
        }
        if (n_stages && !stages_absent && stages_left == 0) {
            stg_reply[n_stg] = (double)(t_stg - t_reply) / 1e6;
            stg_send[n_stg++] = (double)(t_stg - t_send) / 1e6;
        }
        snprintf(base_p, sizeof base_p, "%s", ver);
        usleep(50000); /* let the system settle between publishes */
    }

    printf("publishes: %d ok of %d (placement layer app_demo|plc_feed|prod, via %s)\n", n_pub, n, edge);
    printf("(negative 'after reply' = the event arrived before the HTTP reply)\n");
    report("publish HTTP round trip", reply_ms, n_pub);
    report("ConfigChanged on med.h.config.v1, after reply", msg_reply, n_msg);
    report("ConfigChanged on med.h.config.v1, after send", msg_send, n_msg);
    report("GET /v1/config new ETag, after reply", get_reply, n_get);
    report("GET /v1/config new ETag, after send", get_send, n_get);
    printf("GET polls until the new ETag: first poll already new in %d of %d, at most %d polls\n",
           first_poll_hits, n_get, max_polls);
    if (n_stages == 0)
        printf("stages A..E: not measured (no /metrics URLs given)\n");
    else if (stages_absent)
        printf("stages A..E: med_config_generation absent on at least one /metrics: not measured\n");
    else {
        report("all stages new med_config_generation, after reply", stg_reply, n_stg);
        report("all stages new med_config_generation, after send", stg_send, n_stg);
    }
    printf("BENCH_BASE_VERSIONS for a rerun: %s,%s,%s\n", base_s, base_r, base_p);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return 0;
}
