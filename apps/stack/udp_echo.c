/*
 * The UDP echo service of sluice-stack, and the example of the channel
 * API (sl_chnl.h): every datagram a channel receives goes back to its
 * sender from the graph thread's readiness callback, in the same mbuf (the
 * stack prepends the headers in the room the received ones left), with no
 * copy and no system call.
 */
#include <sluice/sl_chnl.h>

#include "udp_echo.h"

#define ECHO_BURST 32

static void
echo_ready(struct sl_chnl *ch, unsigned events, void *arg)
{
	struct sl_mbuf *pkts[ECHO_BURST];
	struct sl_chnl_addr from[ECHO_BURST];
	unsigned n, i;
	int sent;

	(void)arg;
	if (!(events & SL_CHNL_EV_READ))
		return;
	while ((n = sl_chnl_recvfrom(ch, pkts, from, ECHO_BURST)) != 0) {
		for (i = 0; i < n; i++) {
			sent = sl_chnl_sendto(ch, &pkts[i], 1, &from[i]);
			if (sent != 1) /* the send queue is full */
				sl_mbuf_free(pkts[i]);
		}
	}
}

struct sl_chnl *
udp_echo_open(struct sl_cnet *c, const char *spec)
{
	return sl_chnl_open(c, spec, echo_ready, NULL);
}
