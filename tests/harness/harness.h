/* Integration-test harness: spawn the platform's service binaries against
 * the servers tests/harness/infra.sh started (their addresses come from the
 * environment), wait for readiness, kill and restart them, talk HTTP. */
#ifndef MED_TEST_HARNESS_H
#define MED_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <nats/nats.h>

#include "mediation/v1/config.pb-c.h"

typedef struct th_proc {
    char name[64];
    char path[512];
    char *env[32];   /* extra "KEY=VALUE" entries, owned */
    int n_env;
    char *argv[16];  /* extra command-line arguments, owned */
    int n_argv;
    pid_t pid;
    int admin_port;  /* where /readyz answers */
} th_proc;

/* Aborts the test (cmocka fail) when a required variable is unset. */
const char *th_env(const char *name);
/* A connection to the test Redis (REDIS_HOST/PORT); fails the test if
 * there is none. The caller closes it (med_redis_close). */
struct med_redis;
struct med_redis *th_redis_connect(void);
/* A TCP port nobody listens on right now. */
int th_free_port(void);
/* Path of a built service binary: $MED_BUILD_ROOT/services/<dir>/<exe>. */
void th_binary_path(const char *dir, const char *exe, char *out, size_t cap);

void th_proc_init(th_proc *p, const char *name, const char *dir, const char *exe);
void th_proc_setenv(th_proc *p, const char *key, const char *value);
/* Appends one command-line argument. */
void th_proc_arg(th_proc *p, const char *arg);
/* A fake OpenRTB network (tools/fake-network) on a free port with the given
 * --seat and --behavior; started and reachable (GET /stats) on return. */
void th_fake_network_start(th_proc *p, const char *seat, const char *behavior);
/* Sets a running fake network's behavior (POST /control). */
void th_fake_network_behave(const th_proc *p, const char *behavior);
/* Requests the fake network has answered so far (GET /stats "requests"). */
long th_fake_network_requests(const th_proc *p);
/* Starts it (stdout/stderr appended to $MED_INFRA_DIR/logs/<name>.log). */
int th_proc_start(th_proc *p);
/* Waits for GET /readyz == 200; 0 on success. */
int th_proc_wait_ready(th_proc *p, int timeout_ms);
/* Sends sig and waits for exit (SIGKILL after timeout); returns exit status
 * as from waitpid, or -1. */
int th_proc_stop(th_proc *p, int sig, int timeout_ms);
void th_proc_free(th_proc *p);
/* th_proc_init plus what every service test sets: a free admin port under
 * port_key (p->admin_port), APP_ENV=ci, LOG_LEVEL=info,
 * READINESS_PROBE_INTERVAL_MS=probe_ms, SERVICE_INSTANCE=name. */
void th_proc_init_ci(th_proc *p, const char *name, const char *dir, const char *exe,
                     const char *port_key, const char *probe_ms);
/* th_proc_start, then waits up to 20 s for /readyz 200; fails the test otherwise. */
void th_proc_start_ready(th_proc *p);

/* The stream's last sequence (fails the test when the stream is unreadable). */
uint64_t th_stream_last_seq(jsCtx *js, const char *stream);
/* Sends a ConfigPublishRequest for body_json to med.h.publish.v1 with the
 * AuthContextLite the edge would build (all-scope bindings, a token valid
 * from before the bodies' fixed publishAt until 2100). Returns the reply
 * (free with mediation__v1__config_publish_reply__free_unpacked). */
Mediation__V1__ConfigPublishReply *th_config_publish(natsConnection *nc, const char *tenant,
                                                     const char *actor, const char *role,
                                                     const char *principal_role,
                                                     const char *body_json);

/* Publishes the demo config set (the .json files of deploy/config/demo, in name order)
 * through med.h.publish.v1 for tenant, with ${FAKE_NET_A_PORT} /
 * ${FAKE_NET_B_PORT} / ${PUBLISH_AT} filled in; fails the test unless each
 * publish succeeds or was already there. */
void th_demo_config_publish(natsConnection *nc, const char *tenant, int net_a_port,
                            int net_b_port);

typedef struct th_http_resp {
    long status;
    char *body;       /* NUL-terminated, owned */
    size_t body_len;
    char *headers;    /* raw header block, owned */
} th_http_resp;

/* headers: NULL-terminated "Name: value" list. body NULL -> GET. */
int th_http(const char *method, const char *url, const char *const *headers,
            const char *body, size_t body_len, long timeout_ms, th_http_resp *out);
void th_http_free(th_http_resp *r);
/* Value of a response header (case-insensitive), copied into out; 0 if found. */
int th_http_header(const th_http_resp *r, const char *name, char *out, size_t cap);

/* GET http://127.0.0.1:<port>/readyz: status (or -1), body copied. */
long th_readyz(int port, char *body, size_t cap);
/* Polls /readyz until it answers want or timeout; returns the last status. */
long th_await_readyz(int port, long want, char *body, size_t cap, int timeout_ms);
/* tests/harness/infra.sh <verb> $MED_INFRA_DIR <what>; returns its status. */
int th_infra(const char *verb, const char *what);

/* Milliseconds since an arbitrary start (monotonic). */
long long th_now_ms(void);
void th_sleep_ms(int ms);

#endif
