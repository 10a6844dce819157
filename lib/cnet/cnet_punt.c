/*
 * punt, kernel_recv and drop: where packets leave the data path.
 *
 * punt hands what belongs to the kernel (ARP and other ethertypes that
 * reached sluice, broadcast and multicast, IP options, fragments and
 * protocols for the host, datagrams for the host that no channel is bound
 * to) to the punt device of the packet's input interface: a TAP device
 * with the interface's MAC address, so the kernel receives the frame as
 * if on that device (its sockets see it; rp_filter is off on the TAP).
 * Without a punt device the packets are counted (drop reason punt) and
 * freed. kernel_recv, a source, polls the punt devices every
 * KERNEL_RECV_NS and sends what the kernel wrote to them (its answers to
 * punted ARP requests, for example) out of the lport of the interface.
 * drop counts by the reason the sending node wrote in the metadata.
 */
#include <sluice/sl_pktdev.h>
#include <sluice/sl_time.h>

#include "cnet_private.h"

#define KERNEL_RECV_NS 50000ull
#define KERNEL_RECV_BURST 32

static uint16_t
punt_process(struct sl_graph *g, struct sl_node *node, void **objs,
	     uint16_t nb_objs)
{
	struct sl_cnet_thread *t = cnet_node_thread(node);
	struct sl_mbuf *m;
	struct sl_port *tap;
	uint16_t i;

	(void)g;
	for (i = 0; i < nb_objs; i++) {
		m = objs[i];
		tap = m->port < t->nports ? t->punt[m->port] : NULL;
		if (tap == NULL) {
			t->drops[SL_CNET_DROP_PUNT]++;
			sl_mbuf_free(m);
		} else if (sl_pktdev_tx_burst(tap, &m, 1) != 1) {
			t->drops[SL_CNET_DROP_PUNT_FULL]++;
			sl_mbuf_free(m);
		}
	}
	return nb_objs;
}

static struct sl_node_register punt_node = {
	.name = "punt",
	.process = punt_process,
	.init = cnet_node_init,
};
SL_NODE_REGISTER(punt_node)

static uint16_t
kernel_recv_process(struct sl_graph *g, struct sl_node *node, void **objs,
		    uint16_t nb_objs)
{
	struct sl_cnet_thread *t = cnet_node_thread(node);
	struct sl_mbuf *pkts[KERNEL_RECV_BURST];
	unsigned p, total = 0;
	uint64_t now;
	uint16_t i, n;

	(void)objs;
	(void)nb_objs;
	if (t->punt_poll_tsc == UINT64_MAX) /* no punt device */
		return 0;
	now = sl_tsc();
	if (now < t->punt_poll_tsc)
		return 0;
	t->punt_poll_tsc = now + sl_ns_to_tsc(KERNEL_RECV_NS);
	for (p = 0; p < t->nports; p++) {
		if (t->punt[p] == NULL)
			continue;
		n = sl_pktdev_rx_burst(t->punt[p], pkts, KERNEL_RECV_BURST);
		for (i = 0; i < n; i++) {
			cnet_meta(pkts[i])->out_ifindex = t->ifindex[p];
			sl_node_enqueue_x1(g, node, 0, pkts[i]);
		}
		total += n;
	}
	return (uint16_t)total;
}

static struct sl_node_register kernel_recv_node = {
	.name = "kernel_recv",
	.flags = SL_NODE_F_SOURCE,
	.process = kernel_recv_process,
	.init = cnet_node_init,
	.next_nodes = {"eth_tx"},
};
SL_NODE_REGISTER(kernel_recv_node)

static uint16_t
drop_process(struct sl_graph *g, struct sl_node *node, void **objs,
	     uint16_t nb_objs)
{
	struct sl_cnet_thread *t = cnet_node_thread(node);
	unsigned i, r;

	(void)g;
	for (i = 0; i < nb_objs; i++) {
		r = cnet_meta(objs[i])->reason;
		t->drops[r < SL_CNET_DROP_MAX ? r : SL_CNET_DROP_NOT_IP4]++;
	}
	sl_mbuf_free_bulk((struct sl_mbuf *const *)objs, nb_objs);
	return nb_objs;
}

static struct sl_node_register drop_node = {
	.name = "drop",
	.process = drop_process,
	.init = cnet_node_init,
};
SL_NODE_REGISTER(drop_node)
