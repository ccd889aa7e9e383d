#include "harness_world.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "med/ids.h"

static const struct { const char *name, *dir, *exe; } k_services[TH_P_COUNT] = {
    { "h_config", "h_config", "med-h-config" },
    { "edge", "edge", "med-edge" },
    { "a_ingress", "a_ingress", "med-a-ingress" },
    { "b_normalize", "b_normalize", "med-b-normalize" },
    { "c_policy", "c_policy", "med-c-policy" },
    { "d_supply", "d_supply", "med-d-supply" },
    { "e_delivery", "e_delivery", "med-e-delivery" },
    { "f_events", "f_events", "med-f-events" },
    { "g_archive", "g_archive", "med-g-archive" },
};

/* Loads DIR/env ("export K=V" / "export K='V'") into this process's
 * environment, so spawned services and th_env see the private infra. */
static void load_env_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cannot read %s", path);
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *p = strncmp(line, "export ", 7) == 0 ? line + 7 : line;
        char *eq = strchr(p, '=');
        if (!eq) continue;
        *eq = '\0';
        char *v = eq + 1;
        v[strcspn(v, "\n")] = '\0';
        size_t n = strlen(v);
        if (n >= 2 && v[0] == '\'' && v[n - 1] == '\'') {
            v[n - 1] = '\0';
            v++;
        }
        setenv(p, v, 1);
    }
    fclose(f);
}

static void private_infra_start(th_world *w)
{
    snprintf(w->infra_dir, sizeof w->infra_dir, "%s/world-%s", th_env("MED_INFRA_DIR"), w->name);
    char cmd[1400];
    /* A dir left by an earlier run on the same outer infra starts afresh. */
    snprintf(cmd, sizeof cmd, "'%s/tests/harness/infra.sh' stop '%s' >/dev/null 2>&1; rm -rf '%s'",
             th_env("MED_SOURCE_ROOT"), w->infra_dir, w->infra_dir);
    if (system(cmd) != 0) fprintf(stderr, "stale infra %s not removed\n", w->infra_dir);
    snprintf(cmd, sizeof cmd, "'%s/tests/harness/infra.sh' start '%s' >/dev/null",
             th_env("MED_SOURCE_ROOT"), w->infra_dir);
    if (system(cmd) != 0) fail_msg("private infra for %s did not start", w->name);
    w->infra_started = 1;
    char env[600];
    snprintf(env, sizeof env, "%s/env", w->infra_dir);
    load_env_file(env);
}

static void private_infra_stop(th_world *w)
{
    if (!w->infra_started) return;
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "'%s/tests/harness/infra.sh' stop '%s' >/dev/null 2>&1",
             th_env("MED_SOURCE_ROOT"), w->infra_dir);
    if (system(cmd) != 0) fprintf(stderr, "private infra %s did not stop cleanly\n", w->name);
    w->infra_started = 0;
}

static void proc_configure(th_world *w, int i, const char *const *extra_env)
{
    th_proc *p = &w->procs[i];
    th_proc_init_ci(p, k_services[i].name, k_services[i].dir, k_services[i].exe,
                    i == TH_P_EDGE ? "EDGE_HTTP_PORT" : "ADMIN_HTTP_PORT", "200");
    th_proc_setenv(p, "JS_MAX_DELIVER", "3");
    th_proc_setenv(p, "JS_BACKOFF_MS", "100,200,400");
    th_proc_setenv(p, "JS_ACK_WAIT_MS", "5000");
    th_proc_setenv(p, "EDGE_REQUEST_TIMEOUT_MS", "3000");
    th_proc_setenv(p, "EDGE_DEV_TENANT", w->tenant);
    th_proc_setenv(p, "FAULT_INJECTION_ENABLED", "true");
    /* CI shares two cores with the whole stack: budgets for the test
     * machine, not the production defaults. */
    th_proc_setenv(p, "A_SOFT_BUDGET_MS", "2000");
    th_proc_setenv(p, "A_HARD_BUDGET_MS", "5000");
    for (int k = 0; extra_env && extra_env[k]; k++) {
        char key[128];
        const char *eq = strchr(extra_env[k], '=');
        assert_non_null(eq);
        snprintf(key, sizeof key, "%.*s", (int)(eq - extra_env[k]), extra_env[k]);
        th_proc_setenv(p, key, eq + 1);
    }
}

void th_world_start(th_world *w, const char *name, const char *const *extra_env)
{
    snprintf(w->name, sizeof w->name, "%s", name);
    char hex[17];
    med_random_hex(hex, sizeof hex, 8);
    snprintf(w->tenant, sizeof w->tenant, "t_%s", hex);
    private_infra_start(w);
    th_fake_network_start(&w->net_a, "net_a", TH_FILL_A);
    th_fake_network_start(&w->net_b, "net_b", TH_FILL_B);
    for (int i = 0; i < TH_P_COUNT; i++) proc_configure(w, i, extra_env);
    w->edge_port = w->procs[TH_P_EDGE].admin_port;
    /* H first: the demo config is published before the stages consume, and
     * A asks H for it. */
    th_proc_start_ready(&w->procs[TH_P_H]);
    assert_int_equal(natsConnection_ConnectTo(&w->nc, th_env("NATS_URL")), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&w->js, w->nc, NULL), NATS_OK);
    th_demo_config_publish(w->nc, w->tenant, w->net_a.admin_port, w->net_b.admin_port);
    for (int i = TH_P_EDGE; i < TH_P_COUNT; i++) th_proc_start_ready(&w->procs[i]);
    w->pg = PQconnectdb(th_env("PG_ADMIN_DSN"));
    assert_int_equal(PQstatus(w->pg), CONNECTION_OK);
}

void th_world_stop(th_world *w)
{
    for (int i = 0; i < TH_P_COUNT; i++) th_proc_free(&w->procs[i]);
    th_proc_free(&w->net_a);
    th_proc_free(&w->net_b);
    if (w->js) jsCtx_Destroy(w->js);
    if (w->nc) natsConnection_Destroy(w->nc);
    if (w->pg) PQfinish(w->pg);
    w->js = NULL;
    w->nc = NULL;
    w->pg = NULL;
    private_infra_stop(w);
}

void th_world_restart(th_world *w, int proc)
{
    th_proc_stop(&w->procs[proc], SIGTERM, 10000);
    th_proc_start_ready(&w->procs[proc]);
}

int th_world_setup(void **state, const char *name, const char *const *extra_env)
{
    th_world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    *state = w;
    th_world_start(w, name, extra_env);
    return 0;
}

int th_world_teardown(void **state)
{
    th_world *w = *state;
    if (!w) return 0;   /* set-up failed before the world existed */
    th_world_stop(w);
    free(w);
    *state = NULL;
    return 0;
}
