/* F.3 event dictionary: wire types, layers, type-specific fields, sub-enums. */
#ifndef F_DICT_H
#define F_DICT_H

#include "f_work.h"

typedef enum f_event_type {
    F_T_UNKNOWN = 0,
    F_T_OPPORTUNITY_CREATED,
    F_T_AUCTION_STARTED,
    F_T_AD_FILLED,
    F_T_IMPRESSION,
    F_T_CLICK,
    F_T_INTERACTION,
    F_T_POSTBACK,
    F_T_ERROR,
    F_T_FAILURE, /* internal: synthesized timeout failure (never from the wire) */
} f_event_type;

#define F_KIND_TIMEOUT_FAILURE "timeout_failure"
#define F_KIND_CLICK_EXPIRY "click_expiry"
#define F_TERMINAL_SOURCE_REAL "real_failure"
#define F_TERMINAL_SOURCE_SYNTH "system_timeout_synthesized"

f_event_type f_event_type_of(const char *name);
const char *f_event_type_name(f_event_type t);
/* Every type but opportunity_created and auction_started needs a
 * responseReference. */
int f_type_needs_response_reference(f_event_type t);
/* click, interaction, postback carry eventSeq. */
int f_type_has_seq(f_event_type t);
/* Billing: impression, click, postback, synthesized failure. */
f_layer f_type_layer(f_event_type t);
/* An error with errorClass=terminal (raw value) is a failure (F.6). */
int f_event_is_terminal_error(const Mediation__V1__SdkEvent *ev);

/* Sub-enum fields of F.3. */
typedef enum f_subenum {
    F_SE_AUCTION_CHANNEL = 0,
    F_SE_INTERACTION_TYPE,
    F_SE_POSTBACK_TYPE,
    F_SE_POSTBACK_STATUS,
    F_SE_ERROR_STAGE,
    F_SE_ERROR_CLASS,
    F_SE_COUNT
} f_subenum;

const char *f_subenum_json_name(f_subenum f);
/* 1 when value is one of the listed values of f. */
int f_subenum_known(f_subenum f, const char *value);

#endif
