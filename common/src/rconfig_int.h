/* Internals shared by rconfig.c (client + cache) and rconfig_entry.c. */
#ifndef MED_RCONFIG_INT_H
#define MED_RCONFIG_INT_H

#include <stdatomic.h>
#include <stdio.h>
#include "med/ids.h"
#include "med/rconfig.h"

#define MED_RCFG_MAX_DOCS 8

typedef struct rconfig_doc {
    const char *kind;        /* borrowed from body */
    const json_t *body;      /* borrowed from body */
    char *ref;               /* "<kind>:<version>", owned */
} rconfig_doc;

struct med_rconfig_entry {
    atomic_int refs;
    json_t *body;            /* the whole GET answer; everything borrows from it */
    const json_t *fields, *applied, *gate, *canary;
    char *config_hash, *resolve_id, *etag, *status;
    char snapshot_id[32];
    int64_t resolved_at_ms;
    int32_t ttl_sec;
    rconfig_doc docs[MED_RCFG_MAX_DOCS];
    int n_docs;
    /* cache bookkeeping, set once before the entry is shared */
    uint64_t generation;     /* cfgsnap generation when fetched */
    int64_t fetched_mono_ms;
};

/* Takes body. */
med_rc rconfig_entry_build(json_t *body, med_rconfig_entry **out, med_err *err);
const med_rconfig_entry *rconfig_entry_retain(const med_rconfig_entry *e);

#endif
