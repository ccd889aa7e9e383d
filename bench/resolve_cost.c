/* Microbenchmark of config resolution (spec 04 H.2): h_resolve on the
 * three demo layers (deploy/config/demo/0{1,2,3}-*.json, changeSet.layer
 * of each), the snapshot JSON a 200 carries, and med_jcs_sha256 alone.
 * Prints iterations/s and ns per operation, median of several runs.
 * Not a test: it prints figures and exits 0.
 *
 *   resolve_cost [demo_dir] [runs] [target_ms_per_run]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "h_resolve.h"
#include "med/jcs.h"

static const char *const files[H_SCOPE_COUNT] = {
    "01-global-prod.json", "02-app-app_demo.json", "03-placement-plc_feed.json" };

static json_t *doc[H_SCOPE_COUNT];
static h_res_input input;
static volatile size_t sink;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what)
{
    fprintf(stderr, "resolve_cost: %s\n", what);
    exit(1);
}

static void load(const char *dir)
{
    memset(&input, 0, sizeof input);
    input.request_key = "app_demo|plc_feed|prod|1.0.0";
    input.trace_key = "tr_0123456789abcdef";
    input.app_id = "app_demo";
    input.placement_id = "plc_feed";
    input.environment = "prod";
    input.schema_version = "1.0.0";
    input.resolve_at_ms = 1795428000000;
    input.contract_version = "h_resolve_v1";
    for (int s = 0; s < H_SCOPE_COUNT; s++) {
        char path[4096];
        json_error_t jerr;
        snprintf(path, sizeof path, "%s/%s", dir, files[s]);
        doc[s] = json_load_file(path, 0, &jerr);
        if (!doc[s]) {
            fprintf(stderr, "resolve_cost: %s: %s\n", path, jerr.text);
            exit(1);
        }
        const json_t *layer = json_object_get(json_object_get(doc[s], "changeSet"), "layer");
        const char *ver = json_string_value(json_object_get(
            json_object_get(doc[s], "targetVersionSnapshot"), "placementConfigVersion"));
        if (!json_is_object(layer) || !ver)
            die("demo file without changeSet.layer / targetVersionSnapshot");
        input.layer[s] = (h_res_layer){ H_LAYER_OK, ver, "1.0.0", layer };
    }
}

/* ---- the operations ---------------------------------------------------- */

static void op_resolve(void)
{
    h_res_output out;
    med_err err;
    memset(&out, 0, sizeof out);
    if (h_resolve(&input, &out, &err) != MED_OK || out.status == H_RES_REJECTED)
        die("h_resolve failed");
    sink += out.n_provenance;
    h_res_output_free(&out);
}

static void op_resolve_snapshot(void)
{
    h_res_output out;
    med_err err;
    json_t *snap = NULL;
    memset(&out, 0, sizeof out);
    if (h_resolve(&input, &out, &err) != MED_OK || h_res_snapshot_json(&out, &snap, &err) != MED_OK)
        die("h_resolve / h_res_snapshot_json failed");
    char *text = json_dumps(snap, JSON_COMPACT);
    if (!text)
        die("json_dumps failed");
    sink += strlen(text);
    free(text);
    json_decref(snap);
    h_res_output_free(&out);
}

static json_t *jcs_target;

static void op_jcs(void)
{
    char hex[65];
    med_err err;
    if (med_jcs_sha256(jcs_target, hex, &err) != MED_OK)
        die("med_jcs_sha256 failed");
    sink += (size_t)hex[0];
}

/* ---- the harness -------------------------------------------------------- */

static void bench(const char *name, void (*op)(void), int runs, int target_ms)
{
    for (int i = 0; i < 200; i++) /* warm-up */
        op();
    /* calibrate: iterations that take about target_ms */
    long n = 64;
    for (;;) {
        int64_t t0 = now_ns();
        for (long i = 0; i < n; i++)
            op();
        int64_t dt = now_ns() - t0;
        if (dt >= (int64_t)target_ms * 1000000 / 4 || n > 1L << 28) {
            n = (long)((double)n * ((double)target_ms * 1e6 / (double)(dt > 0 ? dt : 1)));
            if (n < 1)
                n = 1;
            break;
        }
        n *= 2;
    }
    double ns[64];
    if (runs > 64)
        runs = 64;
    for (int r = 0; r < runs; r++) {
        int64_t t0 = now_ns();
        for (long i = 0; i < n; i++)
            op();
        ns[r] = (double)(now_ns() - t0) / (double)n;
    }
    qsort(ns, (size_t)runs, sizeof ns[0], cmp_d);
    double med = runs % 2 ? ns[runs / 2] : (ns[runs / 2 - 1] + ns[runs / 2]) / 2;
    printf("%-34s %10.0f ns/op  %10.0f ops/s  (median of %d runs x %ld iters; min %.0f, max %.0f ns)\n",
           name, med, 1e9 / med, runs, n, ns[0], ns[runs - 1]);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "deploy/config/demo";
    int runs = argc > 2 ? atoi(argv[2]) : 7;
    int target_ms = argc > 3 ? atoi(argv[3]) : 300;
    if (runs < 1)
        runs = 1;
    if (target_ms < 1)
        target_ms = 1;
    load(dir);

    h_res_output out;
    med_err err;
    memset(&out, 0, sizeof out);
    if (h_resolve(&input, &out, &err) != MED_OK)
        die("h_resolve failed");
    json_t *snap = NULL;
    if (h_res_snapshot_json(&out, &snap, &err) != MED_OK)
        die("h_res_snapshot_json failed");
    char *eff = json_dumps(out.effective_config, JSON_COMPACT);
    char *snaptext = json_dumps(snap, JSON_COMPACT);
    printf("input: 3 layers from %s (status %s, %zu provenance entries, %zu reason codes)\n", dir,
           h_res_status_name(out.status), out.n_provenance, out.n_reason_codes);
    printf("effectiveConfig %zu bytes, resolvedConfigSnapshot %zu bytes, etag %s\n",
           eff ? strlen(eff) : 0, snaptext ? strlen(snaptext) : 0, out.etag);
    free(eff);
    free(snaptext);

    bench("h_resolve (3 layers)", op_resolve, runs, target_ms);
    bench("h_resolve + snapshot_json + dumps", op_resolve_snapshot, runs, target_ms);
    jcs_target = out.effective_config;
    bench("med_jcs_sha256(effectiveConfig)", op_jcs, runs, target_ms);
    jcs_target = snap;
    bench("med_jcs_sha256(snapshot)", op_jcs, runs, target_ms);
    jcs_target = doc[H_SCOPE_GLOBAL]; /* the whole global publish body, ~5 KB */
    bench("med_jcs_sha256(global publish body)", op_jcs, runs, target_ms);

    json_decref(snap);
    h_res_output_free(&out);
    for (int s = 0; s < H_SCOPE_COUNT; s++)
        json_decref(doc[s]);
    return sink == 0xdeadbeef; /* keeps sink alive; always 0 in practice */
}
