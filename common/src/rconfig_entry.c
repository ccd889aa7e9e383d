/* Resolved-config entries: one parsed GET /v1/config answer, immutable
 * after construction and shared by reference count. */
#include "rconfig_int.h"

#include <stdlib.h>
#include <string.h>

#include "med/reason.h"
#include "mediation/v1/config.pb-c.h"

static char *dup_str(const json_t *v)
{
    return strdup(json_is_string(v) ? json_string_value(v) : "");
}

static med_rc index_documents(med_rconfig_entry *e, const json_t *docs, med_err *err)
{
    size_t i;
    const json_t *d;
    json_array_foreach(docs, i, d)
    {
        if (e->n_docs == MED_RCFG_MAX_DOCS) break;
        const char *kind = json_string_value(json_object_get(d, "kind"));
        const char *ver = json_string_value(json_object_get(d, "version"));
        const json_t *body = json_object_get(d, "body");
        if (!kind || !ver || !json_is_object(body)) continue;
        rconfig_doc *slot = &e->docs[e->n_docs];
        if (asprintf(&slot->ref, "%s:%s", kind, ver) < 0) {
            slot->ref = NULL;
            return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "document ref");
        }
        slot->kind = kind;
        slot->body = body;
        e->n_docs++;
    }
    return MED_OK;
}

/* Takes a reference to body (the whole GET answer object). */
med_rc rconfig_entry_build(json_t *body, med_rconfig_entry **out, med_err *err)
{
    *out = NULL;
    const json_t *snap = json_object_get(body, "resolvedConfigSnapshot");
    if (!json_is_object(snap)) {
        json_decref(body);
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED,
                           "resolvedConfigSnapshot", "config answer has no resolved snapshot");
    }
    med_rconfig_entry *e = calloc(1, sizeof *e);
    if (!e) {
        json_decref(body);
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "rconfig entry");
    }
    atomic_init(&e->refs, 1);
    e->body = body;
    e->fields = json_object_get(json_object_get(snap, "effectiveConfig"), "fields");
    if (!e->fields) e->fields = json_object_get(snap, "effectiveConfig");
    e->applied = json_object_get(snap, "appliedVersions");
    e->gate = json_object_get(body, "versionGateDecision");
    e->canary = json_object_get(body, "rolloutDecision");
    e->config_hash = dup_str(json_object_get(snap, "configHash"));
    e->resolve_id = dup_str(json_object_get(snap, "resolveId"));
    e->etag = dup_str(json_object_get(snap, "etag"));
    e->status = dup_str(json_object_get(snap, "resolutionStatus"));
    const json_t *ttl = json_object_get(body, "ttlSec");
    e->ttl_sec = json_is_integer(ttl) ? (int32_t)json_integer_value(ttl) : 0;
    /* When this replica got the answer (H's resolvedAt text stays in the
     * snapshot for audits). */
    e->resolved_at_ms = med_now_unix_ms();
    med_rc rc = MED_OK;
    if (!e->config_hash || !e->resolve_id || !e->etag || !e->status)
        rc = med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "rconfig entry");
    /* The config_snapshots id is content-derived: equal config, equal id,
     * whichever replica resolved it. */
    if (rc == MED_OK && med_hash_key(e->snapshot_id, sizeof e->snapshot_id, "cfgsnap_",
                                     e->config_hash, 16) != 0)
        rc = med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_NOMEM, NULL, "snapshot id");
    if (rc == MED_OK) rc = index_documents(e, json_object_get(snap, "documents"), err);
    if (rc != MED_OK) {
        med_rconfig_release(e);
        return rc;
    }
    *out = e;
    return MED_OK;
}

med_rc med_rconfig_entry_from_json(const char *body_json, const med_rconfig_entry **out,
                                   med_err *err)
{
    *out = NULL;
    json_error_t je;
    json_t *body = body_json ? json_loads(body_json, 0, &je) : NULL;
    if (!json_is_object(body)) {
        json_decref(body);
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "config answer is not a JSON object");
    }
    med_rconfig_entry *e = NULL;
    med_rc rc = rconfig_entry_build(body, &e, err);
    *out = e;
    return rc;
}

med_rc med_rconfig_entry_from_reply(const uint8_t *reply_pb, size_t len,
                                    const med_rconfig_entry **out, med_err *err)
{
    *out = NULL;
    Mediation__V1__ConfigGetReply *r = mediation__v1__config_get_reply__unpack(NULL, len, reply_pb);
    if (!r)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "payload is not a ConfigGetReply");
    med_rc rc = r->http_status == 200
        ? med_rconfig_entry_from_json(r->body_json, out, err)
        : med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                      "config answer status %d", (int)r->http_status);
    mediation__v1__config_get_reply__free_unpacked(r, NULL);
    return rc;
}

const med_rconfig_entry *rconfig_entry_retain(const med_rconfig_entry *e)
{
    if (e) atomic_fetch_add(&((med_rconfig_entry *)e)->refs, 1);
    return e;
}

void med_rconfig_release(const med_rconfig_entry *ce)
{
    med_rconfig_entry *e = (med_rconfig_entry *)ce;
    if (!e || atomic_fetch_sub(&e->refs, 1) != 1) return;
    for (int i = 0; i < e->n_docs; i++) free(e->docs[i].ref);
    free(e->config_hash);
    free(e->resolve_id);
    free(e->etag);
    free(e->status);
    json_decref(e->body);
    free(e);
}

const char *med_rconfig_config_hash(const med_rconfig_entry *e) { return e->config_hash; }
const char *med_rconfig_snapshot_id(const med_rconfig_entry *e) { return e->snapshot_id; }
const char *med_rconfig_resolve_id(const med_rconfig_entry *e) { return e->resolve_id; }
const char *med_rconfig_etag(const med_rconfig_entry *e) { return e->etag; }
const char *med_rconfig_resolution_status(const med_rconfig_entry *e) { return e->status; }
int64_t med_rconfig_resolved_at_ms(const med_rconfig_entry *e) { return e->resolved_at_ms; }
int32_t med_rconfig_ttl_sec(const med_rconfig_entry *e) { return e->ttl_sec; }
const json_t *med_rconfig_applied_versions(const med_rconfig_entry *e) { return e->applied; }
const json_t *med_rconfig_fields(const med_rconfig_entry *e) { return e->fields; }
const json_t *med_rconfig_version_gate(const med_rconfig_entry *e) { return e->gate; }
const json_t *med_rconfig_canary(const med_rconfig_entry *e) { return e->canary; }

static const rconfig_doc *find_doc(const med_rconfig_entry *e, const char *kind)
{
    for (int i = 0; kind && i < e->n_docs; i++)
        if (strcmp(e->docs[i].kind, kind) == 0) return &e->docs[i];
    return NULL;
}

const json_t *med_rconfig_doc(const med_rconfig_entry *e, const char *kind)
{
    const rconfig_doc *d = find_doc(e, kind);
    return d ? d->body : NULL;
}

const char *med_rconfig_doc_ref(const med_rconfig_entry *e, const char *kind)
{
    const rconfig_doc *d = find_doc(e, kind);
    return d ? d->ref : NULL;
}
