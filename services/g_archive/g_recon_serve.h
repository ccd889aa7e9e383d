/* med.g.reconcile.v1 responder: a core NATS queue subscription (group
 * "g_recon", so G replicas share the load) answering each packed
 * ReconciliationQuery with a packed ReconciliationReport (http_status 200,
 * or 4xx/5xx with an error body). It owns a PostgreSQL connection of its
 * own: requests are handled one at a time on the subscription's thread,
 * apart from G's consumers. */
#ifndef G_RECON_SERVE_H
#define G_RECON_SERVE_H

#include "med/err.h"
#include "med/service.h"

typedef struct g_recon_server g_recon_server;

/* Connects to PostgreSQL (PG_DSN of the service config), prepares the
 * statements and subscribes. *out owned by the caller: g_recon_serve_stop. */
med_rc g_recon_serve_start(med_service *svc, g_recon_server **out, med_err *err);
/* Drains the subscription (requests already received are answered), closes
 * the connection, frees. Call before med_service_free (it uses the
 * service's NATS connection). NULL is a no-op. */
void g_recon_serve_stop(g_recon_server *s);

#endif
