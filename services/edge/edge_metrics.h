/* The edge's metrics (observability/metrics.md, "Edge"). Called from the
 * loop thread only. */
#ifndef EDGE_METRICS_H
#define EDGE_METRICS_H

/* Registers the unlabelled series so they read 0 before anything happens. */
void edge_metrics_init(void);
void edge_metrics_request(const char *route, int status, double seconds);
void edge_metrics_pending(int delta);
/* A reply that arrived after its request was answered (deadline) or its
 * client left: dropped. */
void edge_metrics_late_reply(void);
/* A client that went away while its request was pending. */
void edge_metrics_client_gone(void);
/* A request answered with the error Delivery at its deadline. */
void edge_metrics_deadline(void);

#endif
