/* F.2 envelope: POST /v1/events body -> EventBatchRequestLite, and the
 * whole-batch checks. The phase functions are declared in f_work.h. */
#ifndef F_ENVELOPE_H
#define F_ENVELOPE_H

#include "f_work.h"

/* Parses one JSON value of the events[] array into ev (arena). Wrongly
 * typed fields land in ev->malformed_fields (camelCase name -> JSON text);
 * a non-object item sets invalid_event_json. */
med_rc f_envelope_parse_event(med_arena *a, const void *json_item, Mediation__V1__SdkEvent *ev);

/* Reject answer for an envelope verdict already in b (http_status, error
 * body, batch audit). */
med_rc f_envelope_reject(f_batch_work *b, const char *reason, int http_status, const char *field);

#endif
