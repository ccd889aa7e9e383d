/* The relay transform of stage C: hands each message to c_process and its
 * packed outputs to the relay. */
#ifndef C_SERVICE_H
#define C_SERVICE_H

#include "med/relay.h"

med_rc c_service_transform(void *ud, const med_relay_in *in, med_relay_out *out, med_err *err);

#endif
