/* Stage G: one process, several loops, each with the connections it needs
 * (libpq connections are not shared between threads):
 *   - audit consumer (med.audit.*.v1, durable stage_g on MED_AUDIT): plain
 *     StageAudits to audit_records, G.2 appends (g_audit_batch.c); uses the
 *     service's worker connections;
 *   - archive consumers (med.g.archive.v1, durable stage_g_archive on
 *     MED_ARCHIVE, G_ARCHIVE_WORKERS threads): G.4 ingest
 *     (g_archive_consumer.c), each with its own NATS + PG;
 *   - archive sweeper: G.4 retries, waiting facts, 15 min deadline (own PG);
 *   - replay server (med.g.replay.v1, g_replay_serve.h);
 *   - reconciliation server (med.g.reconcile.v1, g_recon_serve.h).
 * /readyz says ready only once every loop is up; SIGTERM stops all of
 * them, each finishing (and acking) what it already took. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "g_archive_consumer.h"
#include "g_archive_sweeper.h"
#include "g_audit_batch.h"
#include "g_recon_serve.h"
#include "g_replay_serve.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"
#include "med/relay.h"

#define AUDIT_DURABLE "stage_g"   /* med_relay_run_batch names it stage_<stage> */
#define WAIT_STEP_US (50 * 1000)
#define G_ARCHIVE_WORKERS_MAX 16

enum { LOOP_STARTING = 0, LOOP_RUNNING, LOOP_STOPPED, LOOP_FAILED };

typedef struct g_audit_loop {
    med_service *svc;
    g_audit_ctx ctx;
    pthread_t thread;
    int started;
    atomic_int state;
} g_audit_loop;

typedef struct g_process {
    med_service *svc;
    g_audit_loop audit;
    /* G_ARCHIVE_WORKERS consumers on the one durable: an ingest is one
     * transaction of round trips, so one loop leaves the cores idle; they
     * are to each other what replicas are (group locks decide) */
    g_archive_consumer *archive[G_ARCHIVE_WORKERS_MAX];
    int n_archive;
    g_archive_sweeper *sweeper;
    g_recon_server *recon;
    g_replay_server *replay;
} g_process;

/* ---- audit consumer thread ---- */

static void *audit_run(void *ud)
{
    g_audit_loop *l = ud;
    med_err err;
    med_err_clear(&err);
    atomic_store(&l->state, LOOP_RUNNING);
    med_rc rc = med_relay_run_batch(l->svc, MED_STREAM_AUDIT, MED_SUBJ_AUDIT_ALL, g_audit_batch,
                                    &l->ctx, &err);
    if (rc != MED_OK) {
        med_log_ctx lc = { .error_code = err.code };
        MED_LOGE(&lc, "audit consumer stopped: %s", err.message);
    }
    atomic_store(&l->state, rc == MED_OK ? LOOP_STOPPED : LOOP_FAILED);
    return NULL;
}

static med_rc audit_start(g_process *p, med_err *err)
{
    const med_config *cfg = med_service_config(p->svc);
    p->audit.svc = p->svc;
    g_audit_ctx_init(&p->audit.ctx, med_config_int(cfg, "G_APPEND_WINDOW_SEC") * 1000,
                     med_config_int(cfg, "G_APPEND_RATE_PER_SEC"));
    atomic_init(&p->audit.state, LOOP_STARTING);
    if (pthread_create(&p->audit.thread, NULL, audit_run, &p->audit) != 0)
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                           "audit consumer thread");
    p->audit.started = 1;
    return MED_OK;
}

/* 1 running with its durable in place, -1 failed, 0 starting. */
static int audit_state(g_process *p)
{
    int st = atomic_load(&p->audit.state);
    if (st == LOOP_FAILED) return -1;
    if (st != LOOP_RUNNING) return 0;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, med_js_ctx(med_service_js(p->svc)), MED_STREAM_AUDIT,
                                      AUDIT_DURABLE, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    return s == NATS_OK ? 1 : 0;
}

/* ---- start, readiness, stop ---- */

static g_store_policy archive_policy(const med_config *cfg)
{
    g_store_policy p = {
        .window_ms = med_config_int(cfg, "G_ARCHIVE_COMPENSATION_SEC") * 1000,
        .write_timeout_ms = med_config_int(cfg, "G_ARCHIVE_WRITE_TIMEOUT_MS"),
    };
    /* A waiting fact is normally released by its decision_audit's own
     * ingest; the recheck only covers a race with another replica. */
    p.recheck_ms = p.window_ms < 5000 ? p.window_ms : 5000;
    return p;
}

/* Both subscribe before returning: once they are back, requests are
 * served. */
static med_rc start_servers(g_process *p, med_err *err)
{
    med_rc rc = g_replay_serve_start(p->svc, &p->replay, err);
    if (rc == MED_OK) rc = g_recon_serve_start(p->svc, &p->recon, err);
    return rc;
}

static med_rc start_all(g_process *p, med_err *err)
{
    const med_config *cfg = med_service_config(p->svc);
    g_store_policy pol = archive_policy(cfg);
    med_rc rc = audit_start(p, err);
    int n = (int)med_config_int(cfg, "G_ARCHIVE_WORKERS");
    for (int i = 0; rc == MED_OK && i < n && i < G_ARCHIVE_WORKERS_MAX; i++) {
        rc = g_archive_consumer_start(p->svc, &pol, &p->archive[i], err);
        if (rc == MED_OK) p->n_archive = i + 1;
    }
    if (rc == MED_OK)
        rc = g_archive_sweeper_start(p->svc, &pol, med_config_int(cfg, "G_ARCHIVE_SWEEP_MS"),
                                     &p->sweeper, err);
    if (rc == MED_OK) rc = start_servers(p, err);
    return rc;
}

/* -1 when a loop failed, 1 when all are up, 0 while one is still starting. */
static int loops_state(g_process *p)
{
    int a = audit_state(p), b = p->n_archive > 0;
    for (int i = 0; i < p->n_archive; i++) {
        int st = g_archive_consumer_state(p->archive[i]);
        if (st < 0) return -1;
        b = b && st > 0;
    }
    if (a < 0) return -1;
    return a > 0 && b && g_archive_sweeper_ready(p->sweeper);
}

static void request_stop(void)
{
    /* the service's stop flag is raised by the signal handler only */
    kill(getpid(), SIGTERM);
}

/* Marks the service ready once every loop is up, then waits for SIGTERM.
 * Returns 0, or 1 when a loop failed. */
static int supervise(g_process *p)
{
    int ready = 0;
    while (!med_service_stopping(p->svc)) {
        int st = loops_state(p);
        if (st < 0) {
            MED_LOGE(NULL, "a G loop failed; stopping");
            request_stop();
            return 1;
        }
        if (st > 0 && !ready) {
            med_service_set_started(p->svc);
            ready = 1;
            MED_LOGI(NULL, "audit, archive, sweeper and servers up: ready");
        }
        usleep(WAIT_STEP_US);
    }
    return 0;
}

static void stop_all(g_process *p)
{
    /* request/reply first: they drain what they already received */
    g_replay_serve_stop(p->replay);
    g_recon_serve_stop(p->recon);
    if (p->audit.started) pthread_join(p->audit.thread, NULL);
    for (int i = 0; i < p->n_archive; i++) g_archive_consumer_stop(p->archive[i]);
    g_archive_sweeper_stop(p->sweeper);
}

int main(void)
{
    const med_service_opts opts = { .name = "g_archive", .stage = MED_STAGE_G, .need_pg = 1 };
    med_err err;
    med_err_clear(&err);
    g_process p;
    memset(&p, 0, sizeof p);
    if (med_service_start(&opts, &p.svc, &err) != MED_OK) {
        fprintf(stderr, "%s: start-up failed: %s %s%s%s\n", opts.name, err.code, err.message,
                err.field[0] ? " field=" : "", err.field);
        return 1;
    }
    int code = 0;
    if (start_all(&p, &err) != MED_OK) {
        med_log_ctx lc = { .error_code = err.code };
        MED_LOGE(&lc, "start-up failed: %s", err.message);
        request_stop();
        code = 1;
    } else {
        code = supervise(&p);
    }
    stop_all(&p);
    if (code == 0) MED_LOGI(NULL, "stopped cleanly");
    med_service_free(p.svc);
    return code;
}
