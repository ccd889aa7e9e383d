/* Walking a URL query string (after '?') pair by pair, percent-decoded,
 * for the GET routes that turn their parameters into a protobuf query
 * (replay, reconciliation). Pure: no HTTP. */
#ifndef EDGE_QUERY_PARAMS_H
#define EDGE_QUERY_PARAMS_H

#include <stddef.h>

#include "med/err.h"

/* name and value are NUL-terminated and valid only during the call. A
 * pair without '=' has the value "". */
typedef med_rc (*edge_param_fn)(void *ud, const char *name, const char *value, med_err *err);

/* Calls fn for each non-empty pair in order ('+' is a space, %XX a byte);
 * stops at the first failure fn returns. A bad escape or a NUL byte ->
 * 400 edge_query_malformed. */
med_rc edge_query_each(const char *q, size_t len, edge_param_fn fn, void *ud, med_err *err);

#endif
