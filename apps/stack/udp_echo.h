/* The UDP echo service of sluice-stack (udp_echo.c). */
#ifndef STACK_UDP_ECHO_H
#define STACK_UDP_ECHO_H

#include <sluice/sl_chnl.h>

/* Open a channel (e.g. "udp4-listen:198.18.1.1:7") that echoes every
 * datagram to its sender. @return The channel, or NULL with errno. */
struct sl_chnl *udp_echo_open(struct sl_cnet *c, const char *spec);

#endif
