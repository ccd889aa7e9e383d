/* Query route access (see edge_access.h). */
#include "edge_access.h"

med_rc edge_access_query(const med_auth_context *ctx, med_err *err)
{
    if (!ctx) return MED_OK;
    return med_auth_require_role(ctx, MED_ROLE_REVIEWER | MED_ROLE_ADMIN, err);
}

int edge_access_raw_read(const med_auth_context *ctx)
{
    return !ctx || med_auth_require_role(ctx, MED_ROLE_ADMIN, NULL) == MED_OK;
}
