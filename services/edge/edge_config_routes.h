/* GET /v1/config and POST /v1/config/publish: the edge asks stage H over
 * core NATS request/reply (med.h.get.v1, med.h.publish.v1) without
 * blocking its loop thread. Requests go out with a reply subject on the
 * server's reply inbox ("_INBOX.edge.<hex>.cfg<n>"); H's answer comes back
 * through h2o's cross-thread queue (edge_reply.c), or the server's deadline
 * (EDGE_REQUEST_TIMEOUT_MS) answers 504. Loop thread only. */
#ifndef EDGE_CONFIG_ROUTES_H
#define EDGE_CONFIG_ROUTES_H

#include <h2o.h>
#include <jansson.h>

#include "edge_reply.h"
#include "edge_server.h"
#include "med/auth.h"

/* After the shared checks passed (auth, access, query). auth: the verified
 * caller, NULL when AUTH_ENABLED=false (then the tenant is
 * EDGE_DEV_TENANT); copied before return. */
void edge_config_get(edge_server *s, h2o_req_t *req, const med_auth_context *auth, double t0);
/* Same for the publish body (a JSON object); takes doc. */
void edge_config_publish(edge_server *s, h2o_req_t *req, const med_auth_context *auth,
                         json_t *doc, double t0);
/* 1 when r answers a config request (answered here, or dropped as late),
 * 0 when its key is not a config key. */
int edge_config_on_reply(const edge_reply *r);
/* Answers what is still waiting (504). Call after the reply inbox stopped
 * and before the HTTP server is freed; safe when never started. */
void edge_config_routes_stop(void);

#endif
