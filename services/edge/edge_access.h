/* Who may call the query routes (06 section 4), as pure checks on the
 * verified caller; ctx NULL means AUTH_ENABLED=false (dev/ci), where the
 * edge lets everything through as the dev tenant. The SDK routes' checks
 * are edge_events_app (events) and edge_server.c (opportunities, config). */
#ifndef EDGE_ACCESS_H
#define EDGE_ACCESS_H

#include "med/auth.h"
#include "med/err.h"

/* Replay and reconciliation: role reviewer or admin, else 403
 * auth_forbidden. */
med_rc edge_access_query(const med_auth_context *ctx, med_err *err);
/* 1 when the caller may read raw payloads (G.6 includeRawPayload): an
 * admin, or anyone while auth is off. */
int edge_access_raw_read(const med_auth_context *ctx);

#endif
