/* G's archive consumer (G.4): a thread with its own NATS and PostgreSQL
 * connections, pulling ArchiveRecords from med.g.archive.v1 (stream
 * MED_ARCHIVE, durable stage_g_archive). Per fetched batch: check each
 * record (invalid -> quarantined in dead_letter_records and
 * dead-lettered to med.dlq.g.v1), then one ingest transaction per tenant
 * (g_archive_store_ingest), then per message an ArchiveWriteAck to
 * Med-Reply-To when set, and ack / nak on the 1 s, 5 s, 30 s, 120 s
 * ladder / dead-letter 15 min after ingest. */
#ifndef G_ARCHIVE_CONSUMER_H
#define G_ARCHIVE_CONSUMER_H

#include "g_archive_store.h"
#include "med/err.h"
#include "med/service.h"

#define G_ARCHIVE_DURABLE "stage_g_archive"

typedef struct g_archive_consumer g_archive_consumer;

/* Connects, then starts the consumer thread; it runs until the service's
 * stop flag is raised. svc must outlive the consumer. */
med_rc g_archive_consumer_start(med_service *svc, const g_store_policy *p,
                                g_archive_consumer **out, med_err *err);
/* 1 once the thread consumes (its durable exists and the thread has not
 * failed), -1 when it stopped with an error, 0 while starting. */
int g_archive_consumer_state(g_archive_consumer *c);
/* Joins the thread (call after the stop flag was raised), closes its
 * connections, frees. NULL is fine. */
void g_archive_consumer_stop(g_archive_consumer *c);

#endif
