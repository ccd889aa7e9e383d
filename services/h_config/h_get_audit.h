/* The GET /v1/config decision audit (H.8) as a StageAudit on
 * med.audit.h.v1, so G can archive it. Fire and forget: published with
 * med_js_publish_async, never waited for, so the answer is never held up
 * by JetStream; a lost audit is logged, the answer still goes out. */
#ifndef H_GET_AUDIT_H
#define H_GET_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include "h_get_decide.h"
#include "med/err.h"
#include "med/js.h"
#include "mediation/v1/audit.pb-c.h"

#define H_GET_AUDIT_SNAPSHOT_TYPE "mediation.v1.HConfigDecisionAuditSnapshotLite"

/* Packs the StageAudit of d (trace may be NULL). *out malloc'd. */
med_rc h_get_audit_pack(const h_get_decisions *d, const Mediation__V1__TraceContext *trace,
                        const char *instance, const char *audit_id, int64_t now_ms,
                        uint8_t **out, size_t *len, med_err *err);

/* Packs and hands the message to the async publisher (js NULL: no-op). */
med_rc h_get_audit_publish(med_js *js, const h_get_decisions *d,
                           const Mediation__V1__TraceContext *trace, const char *instance,
                           int http_status, int64_t now_ms, med_err *err);

#endif
