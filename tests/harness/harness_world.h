/* The whole request path as processes, for end-to-end suites: a private
 * infra (its own nats-server -js, PostgreSQL, Redis, so the platform-wide
 * demo config can be published fresh whatever other suites published),
 * two fake OpenRTB networks, H with the demo config loaded through its
 * publish, then the edge, A..E, F and G. */
#ifndef MED_TEST_HARNESS_WORLD_H
#define MED_TEST_HARNESS_WORLD_H

#include <libpq-fe.h>
#include <nats/nats.h>
#include "harness.h"

enum { TH_P_H, TH_P_EDGE, TH_P_A, TH_P_B, TH_P_C, TH_P_D, TH_P_E, TH_P_F, TH_P_G, TH_P_COUNT };

#define TH_FILL_A "fill;price=2.0"
#define TH_FILL_B "fill;price=1.0"

typedef struct th_world {
    char name[32];
    char tenant[32];
    th_proc procs[TH_P_COUNT];
    th_proc net_a, net_b;
    natsConnection *nc;
    jsCtx *js;
    int edge_port;
    PGconn *pg;          /* admin connection (RLS bypassed), for assertions */
    char infra_dir[512];
    int infra_started;
} th_world;

/* extra_env: NULL-terminated "KEY=VALUE" list applied to every service. */
void th_world_start(th_world *w, const char *name, const char *const *extra_env);
void th_world_stop(th_world *w);
/* cmocka group set-up/teardown: a world allocated and started in *state;
 * th_world_teardown stops and frees it (NULL-safe), as a teardown hook. */
int th_world_setup(void **state, const char *name, const char *const *extra_env);
int th_world_teardown(void **state);
/* Restarts one service process and waits for readiness. */
void th_world_restart(th_world *w, int proc);

#endif
