#include "med/reason.h"

#include <string.h>

#define MED_REASON_DEF_(id, str) const char MED_R_##id[] = str;
MED_REASON_LIST(MED_REASON_DEF_)
#undef MED_REASON_DEF_

#define MED_REASON_PTR_(id, str) MED_R_##id,
static const char *const all_reasons[] = { MED_REASON_LIST(MED_REASON_PTR_) };
#undef MED_REASON_PTR_

const char *med_reason_lookup(const char *wire)
{
    if (!wire) return NULL;
    for (size_t i = 0; i < sizeof all_reasons / sizeof all_reasons[0]; i++)
        if (strcmp(all_reasons[i], wire) == 0) return all_reasons[i];
    return NULL;
}
