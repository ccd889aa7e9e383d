/* libFuzzer: the edge's validation of an untrusted request body
 * (edge_opportunity_validate: size, depth, JSON syntax, structure) and of a
 * query string. Whatever the bytes, validation must end in MED_OK or a
 * 4xx-type failure carrying a known reason code, and an accepted body
 * must yield identifiers that are safe as NATS header values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge_json.h"
#include "med/reason.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_failure(med_rc rc, const med_err *err)
{
    if (rc != MED_ERR_INVALID) abort();
    if (!med_reason_lookup(err->code)) abort();
    if (strlen(err->message) == 0) abort();
}

static void check_body(const char *body, size_t size)
{
    med_err err;
    med_err_clear(&err);
    json_t *root = NULL;
    edge_opportunity_view v;
    med_rc rc = edge_opportunity_validate(body, size, NULL, &root, &v, &err);
    if (rc != MED_OK) {
        check_failure(rc, &err);
        if (root) abort();
        return;
    }
    if (!json_is_object(root)) abort();
    if (!edge_id_valid(v.placement_id) || !edge_id_valid(v.app_id)) abort();
    if (strpbrk(v.placement_id, "\r\n") || strpbrk(v.app_id, "\r\n")) abort();
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    check_body(text, size);
    med_err err;
    med_rc rc = edge_query_check(text, size, &err);
    if (rc != MED_OK) check_failure(rc, &err);
    /* Content-Type values arrive NUL-terminated from the header parser. */
    char *ct = strndup(text, size < 256 ? size : 256);
    if (ct) {
        (void)edge_content_type_is_json(ct);
        free(ct);
    }
    return 0;
}
