/* Shared by f_scan*.c only. */
#ifndef F_SCAN_INT_H
#define F_SCAN_INT_H

#include "f_scan.h"

/* Statements of the scanner's connection. */
med_rc f_scan_timers_prepare(med_pg *pg, med_err *err);
med_rc f_scan_outbox_prepare(med_pg *pg, med_err *err);

/* Autofill timeouts (and default-closure releases) of one tenant, batch
 * after batch until none is due. */
void f_scan_timeouts(f_scanner *s, const char *tenant_id);
/* Pending clicks past the terminal wait, of one tenant. */
void f_scan_click_expiries(f_scanner *s, const char *tenant_id);
/* Outbox rows of one tenant due for a (re)publish. */
void f_scan_outbox(f_scanner *s, const char *tenant_id);

#endif
