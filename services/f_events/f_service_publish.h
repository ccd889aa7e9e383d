/* Publishing what an outbox row holds, shared by the batch loop, the
 * delivery consumer and the sweeper, so a first publish and a republish
 * are byte for byte the same (Nats-Msg-Id = recordKey: JetStream drops a
 * republish within its window, G's recordKey row after it). Every archive
 * record asks G for an ArchiveWriteAck (Med-Reply-To, f_archive_ack.h). */
#ifndef F_SERVICE_PUBLISH_H
#define F_SERVICE_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "f_store.h"
#include "med/js.h"

/* Each record of ob as an ArchiveRecord on med.g.archive.v1 (in the
 * order stored: F.8 write order), then the StageAudit on med.audit.f.v1.
 * Asynchronous: the caller waits with med_js_publish_async_complete.
 * attempt is ArchiveRecord.attempt (1 = first publish). */
med_rc f_publish_outbox(med_js *js, const char *tenant_id, const f_outbox_row *ob, int attempt,
                        med_err *err);

/* One record of ob (by recordKey) as ArchiveRecord `attempt`, with the
 * compensation Nats-Msg-Id (f_archive_resend_msg_id) so the stream keeps
 * it although G consumed the first copy. Asynchronous like
 * f_publish_outbox. MED_ERR_NOT_FOUND when ob does not hold it. */
med_rc f_publish_outbox_record(med_js *js, const char *tenant_id, const f_outbox_row *ob,
                               const char *record_key, int attempt, med_err *err);

/* The packed EventBatchAck to the edge's reply inbox (core NATS). */
med_rc f_publish_reply(med_js *js, const char *inbox, const uint8_t *data, size_t len,
                       med_err *err);

#endif
