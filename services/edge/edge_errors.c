/* Error status mapping and body (see edge_errors.h). */
#include "edge_errors.h"

#include <string.h>

#include "med/http_util.h"
#include "med/reason.h"

typedef struct code_status {
    const char *code;
    int status;
} code_status;

static const code_status k_by_code[] = {
    { MED_R_EDGE_BODY_TOO_LARGE, 413 },     { MED_R_EDGE_UNSUPPORTED_MEDIA, 415 },
    { MED_R_EDGE_NOT_FOUND, 404 },          { MED_R_EDGE_METHOD_NOT_ALLOWED, 405 },
    { MED_R_EDGE_NOT_IMPLEMENTED, 501 },    { MED_R_EDGE_UPSTREAM_UNAVAILABLE, 503 },
    { MED_R_EDGE_DEADLINE_EXCEEDED, 504 },  { MED_R_AUTH_TOKEN_INVALID, 401 },
    { MED_R_AUTH_SIGNATURE_MISMATCH, 401 }, { MED_R_AUTH_FORBIDDEN, 403 },
};

int edge_error_status(const med_err *e)
{
    if (!e) return 500;
    for (size_t i = 0; i < sizeof k_by_code / sizeof k_by_code[0]; i++)
        if (strcmp(e->code, k_by_code[i].code) == 0) return k_by_code[i].status;
    switch (e->rc) {
    case MED_ERR_INVALID: return 400;
    case MED_ERR_NOT_FOUND: return 404;
    case MED_ERR_CONFLICT: return 409;
    case MED_ERR_TIMEOUT:
    case MED_ERR_UNAVAILABLE: return 503;
    default: return 500;
    }
}

med_rc edge_error_body(const med_err *e, char **out, size_t *len, med_err *err)
{
    const char *code = (e && e->code[0]) ? e->code : MED_R_EDGE_INTERNAL;
    const char *msg = (e && e->message[0]) ? e->message : "internal error";
    return med_http_error_body(code, msg, e ? e->field : NULL, out, len, err);
}
