/* Error descriptions (DESIGN.md D4: functions return -errno). */
#include <string.h>
#include <stdlib.h>

#include "sluice/sl_common.h"

const char *
sl_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err == 0)
		return "success";
	return strerror(err);
}
