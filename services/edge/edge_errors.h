/* How an edge failure reads on the wire: the HTTP status for a reason code
 * and the {"error":{"code","message","field"}} body of 06 section 6. */
#ifndef EDGE_ERRORS_H
#define EDGE_ERRORS_H

#include <stddef.h>

#include "med/err.h"

/* HTTP status for a failure: by reason code first (413, 415, 401, ...),
 * then by med_rc (INVALID 400, UNAVAILABLE/TIMEOUT 503, else 500). */
int edge_error_status(const med_err *e);
/* The JSON error body for e; *out malloc'd. */
med_rc edge_error_body(const med_err *e, char **out, size_t *len, med_err *err);

#endif
