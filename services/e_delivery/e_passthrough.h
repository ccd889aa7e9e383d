/* Stage E, foundation skeleton: turns any ComposeInput into a no_fill
 * Delivery carrying the trace. Module E's rules (spec 03 Part E) replace
 * e_delivery_build_passthrough; the I/O around it stays. */
#ifndef E_PASSTHROUGH_H
#define E_PASSTHROUGH_H

#include <stddef.h>
#include <stdint.h>
#include "med/err.h"
#include "med/pbtrace.h"

/* responseReference = "rsp_" + h16(requestKey): the same request always
 * gets the same reference, so a redelivered ComposeInput re-emits an
 * identical Delivery (and the stream's Nats-Msg-Id window drops it). */
int e_response_reference(const char *request_key, char *out, size_t cap);

/* Decodes compose (ComposeInput) and encodes the Delivery into *out
 * (malloc'd; caller frees). Undecodable input -> MED_ERR_INVALID. */
med_rc e_delivery_build_passthrough(const uint8_t *compose, size_t len, const med_hop *hop,
                                    uint8_t **out, size_t *out_len, med_err *err);

#endif
