/* GET /v1/config input checks (H.3): the required parameters, the
 * environment and requestAt. */
#ifndef H_GET_REQUEST_H
#define H_GET_REQUEST_H

#include <stdint.h>
#include "med/err.h"

typedef struct h_get_params {
    const char *app_id, *placement_id, *environment, *schema_version, *sdk_version, *request_at;
} h_get_params;

/* 400 reasons: h_cfg_missing_required_after_merge naming the first empty
 * parameter; h_cfg_invalid_range for an environment other than prod /
 * staging; h_cfg_invalid_type for a requestAt that is not RFC 3339. */
med_rc h_get_params_check(const h_get_params *p, int64_t *request_at_ms, med_err *err);

#endif
