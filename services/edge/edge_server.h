/* The public HTTP edge: one h2o loop thread serving the routes of
 * edge_routes.h, publishing opportunities to stage A and answering each
 * with the Delivery that comes back on the reply inbox (or the error
 * Delivery at the deadline). */
#ifndef EDGE_SERVER_H
#define EDGE_SERVER_H

#include <stdatomic.h>

#include "edge_config.h"
#include "med/err.h"
#include "med/js.h"
#include "med/readiness.h"

typedef struct edge_server edge_server;

/* js and ready are borrowed and must outlive the server. */
med_rc edge_server_new(const edge_config *cfg, med_js *js, med_readiness *ready, edge_server **out,
                       med_err *err);
int edge_server_port(const edge_server *s);
/* Serves on the calling thread until *stop is set, then shuts down
 * gracefully: stops accepting, answers every pending request (with its
 * Delivery or at its deadline), lets connections finish. */
void edge_server_run(edge_server *s, const atomic_int *stop);
/* Same thread as run. */
void edge_server_free(edge_server *s);

#endif
