/* An application built from the installed headers and sluice.pc alone. */
#include <stdio.h>
#include <sluice/sl_common.h>
#include <sluice/sl_log.h>
#include <sluice/sl_thread.h>
#include <sluice/sl_time.h>

int
main(void)
{
	int id = sl_thread_register("pkgconfig-app");

	if (id < 0 || sl_tsc_hz() == 0) {
		fprintf(stderr, "FAIL: register %d\n", id);
		return 1;
	}
	printf("built against installed sluice: thread id %d, counter %.0f "
	       "MHz\n",
	       id, (double)sl_tsc_hz() / 1e6);
	sl_thread_unregister();
	return 0;
}
