/*
 * eth_rx: the source node of a stack thread. Polls the thread's lports,
 * records the input interface, and passes IPv4 frames sent to the
 * interface's MAC address to ip4_input; broadcast and multicast frames,
 * ARP and every other ethertype go to punt; unicast frames for another
 * MAC address (a promiscuous device) to drop.
 */
#include <arpa/inet.h>
#include <string.h>

#include <sluice/sl_pktdev.h>

#include "../cnet_private.h"

enum {
	ETH_RX_NEXT_IP4_INPUT,
	ETH_RX_NEXT_PUNT,
	ETH_RX_NEXT_DROP,
	ETH_RX_NEXT_MAX,
};

#define ETH_RX_BURST 64

static inline uint16_t
eth_rx_classify(const struct cnet_link *lk, struct sl_mbuf *m, unsigned p,
		int ifindex)
{
	const uint8_t *eth = sl_mbuf_mtod(m, const uint8_t *);

	m->port = (uint16_t)p;
	cnet_meta(m)->in_ifindex = ifindex;
	if (unlikely(m->data_len < CNET_ETH_HLEN))
		return ETH_RX_NEXT_PUNT;
	if (unlikely(eth[0] & 1)) /* group address */
		return ETH_RX_NEXT_PUNT;
	if (unlikely(lk == NULL || memcmp(eth, lk->mac, 6) != 0)) {
		cnet_meta(m)->reason = SL_CNET_DROP_OTHER_HOST;
		return ETH_RX_NEXT_DROP;
	}
	if ((uint16_t)(eth[12] << 8 | eth[13]) != CNET_ETHERTYPE_IP4)
		return ETH_RX_NEXT_PUNT;
	return ETH_RX_NEXT_IP4_INPUT;
}

static uint16_t
eth_rx_process(struct sl_graph *g, struct sl_node *node, void **objs,
	       uint16_t nb_objs)
{
	struct sl_cnet_thread *t = cnet_node_thread(node);
	struct sl_mbuf *pkts[ETH_RX_BURST];
	const struct cnet_link *lk;
	unsigned p, total = 0;
	uint16_t i, n;

	(void)objs;
	(void)nb_objs;
	for (p = 0; p < t->nports; p++) {
		n = sl_pktdev_rx_burst(t->ports[p], pkts, ETH_RX_BURST);
		lk = cnet_link_get(t->cnet, t->ifindex[p]);
		for (i = 0; i < n; i++)
			sl_node_enqueue_x1(
				g, node,
				eth_rx_classify(lk, pkts[i], p, t->ifindex[p]),
				pkts[i]);
		total += n;
	}
	t->rx_last += total;
	return (uint16_t)total;
}

static struct sl_node_register eth_rx_node = {
	.name = "eth_rx",
	.flags = SL_NODE_F_SOURCE,
	.process = eth_rx_process,
	.init = cnet_node_init,
	.next_nodes =
		{
			[ETH_RX_NEXT_IP4_INPUT] = "ip4_input",
			[ETH_RX_NEXT_PUNT] = "punt",
			[ETH_RX_NEXT_DROP] = "drop",
		},
};
SL_NODE_REGISTER(eth_rx_node)
