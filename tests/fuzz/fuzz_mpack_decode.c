/* libFuzzer: med_mmap_decode on arbitrary bytes (it parses what comes back
 * from Redis). Anything that decodes must re-encode and decode to the same
 * bytes, so decode and encode agree on the format. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "med/mpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reencode(const med_mmap *m)
{
    med_err err;
    uint8_t *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    if (med_mmap_encode(m, &a, &al, &err) != MED_OK) abort();
    med_mmap *again = NULL;
    if (med_mmap_decode(a, al, &again, &err) != MED_OK) abort();
    if (med_mmap_size(again) != med_mmap_size(m)) abort();
    if (med_mmap_encode(again, &b, &bl, &err) != MED_OK) abort();
    if (al != bl || memcmp(a, b, al) != 0) abort();
    med_mmap_free(again);
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    med_err err;
    med_mmap *m = NULL;
    med_rc rc = med_mmap_decode(data, size, &m, &err);
    if (rc == MED_OK) {
        if (!m) abort();
        check_reencode(m);
        med_mmap_free(m);
    } else if (m || (rc != MED_ERR_INVALID && rc != MED_ERR_NOMEM)) {
        abort();
    }
    return 0;
}
