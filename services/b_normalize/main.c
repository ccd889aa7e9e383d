/* Stage B: schema normalization (spec 01 Part B). I/O only: decode the
 * seed, fetch the pinned `schema` document through H's config client, run
 * the pure pipeline (b_normalize.h), hand the outputs to the relay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b_emit.h"
#include "b_normalize.h"
#include "b_schema.h"
#include "b_service.h"
#include "med/js.h"
#include "med/log.h"
#include "med/names.h"
#include "med/rconfig.h"
#include "med/reason.h"
#include "med/relay.h"

typedef struct b_ctx {
    med_rconfig *rconfig;
    const char *salt;
    const char *environment;   /* CONFIG_ENVIRONMENT */
    b_emitter *emitter;        /* signal_normalized (B.10), its own thread */
} b_ctx;

static const char *nonempty(const char *a, const char *b)
{
    return a && a[0] ? a : (b ? b : "");
}

/* The seed names everything of the config key except the tenant, which
 * only the Med-Tenant header carries. */
static void config_key(const b_ctx *c, const med_relay_in *in,
                       const Mediation__V1__OpportunitySeed *s, med_rconfig_key *k)
{
    const Mediation__V1__TraceContext *t = s->trace;
    const Mediation__V1__BIngressPacketLite *p = s->b_ingress_packet_lite;
    const char *plc = p && p->opportunity_seed ? p->opportunity_seed->placement_id : NULL;
    memset(k, 0, sizeof *k);
    k->tenant_id = in->headers->tenant;
    k->app_id = nonempty(t ? t->app_id : NULL, in->headers->app);
    k->placement_id = nonempty(plc, in->headers->placement);
    k->environment = c->environment;
    k->schema_version = s->schema_version;
    k->sdk_version = s->sdk_version;
    k->trace_key = in->headers->trace_key;
    k->request_key = in->headers->request_key;
}

/* Maps the client's failure classes to B's fail-closed codes (A.6/H.9). */
static const char *config_reject_code(med_rconfig_status st)
{
    if (st == MED_RCFG_VERSION_INVALID) return MED_R_H_CFG_FAIL_CLOSED_VERSION_INVALID;
    if (st == MED_RCFG_NONE_TIMEOUT || st == MED_RCFG_NONE_UNAVAILABLE)
        return MED_R_H_CFG_FAIL_CLOSED_NO_STABLE_SNAPSHOT;
    return NULL;
}

static med_rc load_schema(b_ctx *c, const med_relay_in *in, const Mediation__V1__OpportunitySeed *s,
                          const med_rconfig_entry **entry, b_normalize_in *bin, med_err *err)
{
    med_rconfig_key key;
    config_key(c, in, s, &key);
    const char *pin = s->config_snapshot_lite ? s->config_snapshot_lite->config_hash : NULL;
    med_rconfig_status st;
    med_rc rc = med_rconfig_get(c->rconfig, &key, pin, entry, &st, err);
    if (rc != MED_OK) return rc;
    bin->config_reject_code = config_reject_code(st);
    bin->schema_doc = *entry ? med_rconfig_doc(*entry, "schema") : NULL;
    if (st == MED_RCFG_PIN_MISSED) {
        med_log_ctx lc = { .trace_id = in->headers->trace_key, .request_id = in->headers->request_key,
                           .tenant_id = in->headers->tenant };
        MED_LOGW(&lc, "pinned config %s not cached; normalized on the current one", pin ? pin : "");
    }
    return MED_OK;
}

/* B.2: publish to C, StageAudit, then signal_normalized. The relay
 * publishes the first two after this transform returns; the event goes to
 * the emitter's queue, so its attempts never hold up the output to C. */
static void submit_signal(b_ctx *c, const med_relay_in *in, const b_normalize_out *res,
                          const b_signal_msg *sig)
{
    natsMsg *m = NULL;
    med_err e;
    med_err_clear(&e);
    if (med_js_msg_new(MED_SUBJ_AUDIT_PREFIX MED_STAGE_B MED_SUBJ_VERSION_SUFFIX, sig->data,
                       (int)sig->len, in->msg, &m, &e) != MED_OK) {
        med_log_ctx lc = { .trace_id = in->headers->trace_key, .error_code = e.code };
        MED_LOGW(&lc, "signal_normalized %s not queued: %s", res->signal_idempotency_key,
                 e.message);
        return;
    }
    b_emitter_submit(c->emitter, m, res->signal_idempotency_key, sig->digest, in->headers);
}

static med_rc transform(void *ud, const med_relay_in *in, med_relay_out *out, med_err *err)
{
    b_ctx *c = ud;
    Mediation__V1__OpportunitySeed *seed =
        mediation__v1__opportunity_seed__unpack(NULL, in->len, in->data);
    if (!seed)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "payload is not an OpportunitySeed");
    char event_key[64];
    b_normalize_in bin = { .seed = seed, .salt = c->salt, .now_unix_ms = in->now_unix_ms,
                           .signal_event_key = event_key };
    const med_rconfig_entry *entry = NULL;
    b_normalize_out res;
    memset(&res, 0, sizeof res);
    med_rc rc = b_service_event_key(in->now_unix_ms, event_key, sizeof event_key) == 0
                    ? MED_OK
                    : med_err_set(err, MED_ERR_IO, MED_R_INFRA_TRANSIENT_FAILURE, NULL, "no randomness");
    if (rc == MED_OK) rc = load_schema(c, in, seed, &entry, &bin, err);
    if (rc == MED_OK) rc = b_normalize_run(&bin, &res, err);
    b_signal_msg sig = { 0 };
    if (rc == MED_OK) rc = b_service_emit(in, seed, &res, out, &sig, err);
    if (rc == MED_OK && sig.data) submit_signal(c, in, &res, &sig);
    free(sig.data);
    b_normalize_out_free(&res);
    if (entry) med_rconfig_release(entry);
    mediation__v1__opportunity_seed__free_unpacked(seed, NULL);
    return rc;
}

/* The salt is a secret: required in prod, a fixed dev value elsewhere so
 * the dev stack and tests hash deterministically. */
static const char *redaction_salt(med_service *svc)
{
    const char *s = getenv(B_DEFAULT_SALT_KEY_REF);
    if (s && s[0]) return s;
    if (med_config_env(med_service_config(svc)) == MED_ENV_PROD) return NULL;
    MED_LOGW(NULL, "%s not set: using the development salt", B_DEFAULT_SALT_KEY_REF);
    return "dev_only_b_salt";
}

/* med_stage_main's life cycle, plus the config client, which needs the
 * service's NATS connection before consuming starts. */
int main(void)
{
    const med_service_opts opts = {
        .name = "b_normalize", .stage = MED_STAGE_B, .send_asap = 1,
        .need_config = 1, /* decide on the current config snapshot */
    };
    med_err err;
    med_err_clear(&err);
    med_service *svc = NULL;
    if (med_service_start(&opts, &svc, &err) != MED_OK) {
        fprintf(stderr, "b_normalize: start-up failed: %s %s\n", err.code, err.message);
        return 1;
    }
    /* The service's config client (RCONFIG_TIMEOUT_MS, follows its config
     * generation); the salt is a secret read here, refused empty in prod. */
    b_ctx ctx = { .salt = redaction_salt(svc), .rconfig = med_service_rconfig(svc),
                  .environment = med_service_config_environment(svc) };
    if (!ctx.salt || !ctx.rconfig) {
        MED_LOGE(NULL, "start-up failed: %s", ctx.salt ? "no config client"
                                                       : B_DEFAULT_SALT_KEY_REF " missing in prod");
        med_service_free(svc);
        return 1;
    }
    if (b_emitter_start(svc, &ctx.emitter, &err) != MED_OK) {
        MED_LOGE(NULL, "start-up failed: signal_normalized emitter: %s", err.message);
        med_service_free(svc);
        return 1;
    }
    med_service_set_started(svc);
    med_rc rc = med_relay_run(svc, MED_STREAM_CHAIN, MED_SUBJ_B_SEED, transform, &ctx, &err);
    if (rc != MED_OK) {
        med_log_ctx lc = { .error_code = err.code };
        MED_LOGE(&lc, "consumer stopped: %s", err.message);
    }
    b_emitter_stop(ctx.emitter);
    med_service_free(svc);
    return rc == MED_OK ? 0 : 1;
}
