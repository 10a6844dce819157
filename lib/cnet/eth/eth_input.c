/*
 * eth_rx and ptype: the entry of a stack thread. eth_rx, a source, polls
 * the thread's lports and records each packet's input lport and
 * interface; ptype classifies the frames (packet_type L2 | L3 | L4) and
 * passes IPv4 frames sent to the interface's MAC address to ip4_input;
 * broadcast and multicast frames, ARP and every other ethertype go to
 * punt; unicast frames for another MAC address (a promiscuous device) to
 * drop.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <sluice/sl_pktdev.h>

#include "../cnet_private.h"

#define ETH_RX_BURST 64

static uint16_t
eth_rx_process(struct sl_graph *g, struct sl_node *node, void **objs,
	       uint16_t nb_objs)
{
	struct sl_cnet_thread *t = cnet_node_thread(node);
	struct sl_mbuf *pkts[ETH_RX_BURST];
	unsigned p, total = 0;
	uint16_t i, n;

	(void)objs;
	(void)nb_objs;
	for (p = 0; p < t->nports; p++) {
		n = sl_pktdev_rx_burst(t->ports[p], pkts, ETH_RX_BURST);
		for (i = 0; i < n; i++) {
			pkts[i]->port = (uint16_t)p;
			cnet_meta(pkts[i])->in_ifindex = t->ifindex[p];
		}
		if (n != 0)
			sl_node_enqueue(g, node, 0, (void **)pkts, n);
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
	.next_nodes = {"ptype"},
};
SL_NODE_REGISTER(eth_rx_node)

enum {
	PTYPE_NEXT_IP4_INPUT,
	PTYPE_NEXT_PUNT,
	PTYPE_NEXT_DROP,
	PTYPE_NEXT_MAX,
};

static inline uint32_t
l4_type(uint8_t proto, uint16_t frag)
{
	if (frag & htons(0x3fff))
		return SL_PTYPE_L4_FRAG;
	switch (proto) {
	case IPPROTO_UDP:
		return SL_PTYPE_L4_UDP;
	case IPPROTO_TCP:
		return SL_PTYPE_L4_TCP;
	case IPPROTO_ICMP:
		return SL_PTYPE_L4_ICMP;
	default:
		return SL_PTYPE_L4_OTHER;
	}
}

static inline uint32_t
ptype_of(const struct sl_mbuf *m, uint16_t type)
{
	const cnet_ip4_hdr *ip;

	switch (type) {
	case 0x0806:
		return SL_PTYPE_L2_ETHER_ARP;
	case 0x8100:
	case 0x88a8:
		return SL_PTYPE_L2_ETHER_VLAN;
	case CNET_ETHERTYPE_IP4:
		if (m->data_len < CNET_ETH_HLEN + CNET_IP4_HLEN)
			return SL_PTYPE_L2_ETHER;
		ip = sl_mbuf_mtod_offset(m, const cnet_ip4_hdr *,
					 CNET_ETH_HLEN);
		return SL_PTYPE_L2_ETHER |
		       (ip->ihl > 5 ? SL_PTYPE_L3_IPV4_EXT : SL_PTYPE_L3_IPV4) |
		       l4_type(ip->protocol, ip->frag_off);
	case 0x86dd:
		return SL_PTYPE_L2_ETHER | SL_PTYPE_L3_IPV6;
	default:
		return SL_PTYPE_L2_ETHER;
	}
}

static inline uint16_t
ptype_classify(const struct cnet_link *lk, struct sl_mbuf *m)
{
	const uint8_t *eth = sl_mbuf_mtod(m, const uint8_t *);
	uint16_t type;

	if (unlikely(m->data_len < CNET_ETH_HLEN)) {
		m->packet_type = SL_PTYPE_UNKNOWN;
		return PTYPE_NEXT_PUNT;
	}
	type = (uint16_t)(eth[12] << 8 | eth[13]);
	m->packet_type = ptype_of(m, type);
	if (unlikely(eth[0] & 1)) /* group address */
		return PTYPE_NEXT_PUNT;
	if (unlikely(lk == NULL || memcmp(eth, lk->mac, 6) != 0)) {
		cnet_meta(m)->reason = SL_CNET_DROP_OTHER_HOST;
		return PTYPE_NEXT_DROP;
	}
	if (type != CNET_ETHERTYPE_IP4)
		return PTYPE_NEXT_PUNT;
	return PTYPE_NEXT_IP4_INPUT;
}

static uint16_t
ptype_process(struct sl_graph *g, struct sl_node *node, void **objs,
	      uint16_t nb_objs)
{
	struct sl_cnet_thread *t = cnet_node_thread(node);
	const struct cnet_link *lk = NULL;
	int ifx = -1;
	uint16_t i;

	for (i = 0; i < nb_objs; i++) {
		struct sl_mbuf *m = objs[i];

		if (cnet_meta(m)->in_ifindex != ifx) {
			ifx = cnet_meta(m)->in_ifindex;
			lk = cnet_link_get(t->cnet, ifx);
		}
		sl_node_enqueue_x1(g, node, ptype_classify(lk, m), m);
	}
	return nb_objs;
}

static struct sl_node_register ptype_node = {
	.name = "ptype",
	.process = ptype_process,
	.init = cnet_node_init,
	.next_nodes =
		{
			[PTYPE_NEXT_IP4_INPUT] = "ip4_input",
			[PTYPE_NEXT_PUNT] = "punt",
			[PTYPE_NEXT_DROP] = "drop",
		},
};
SL_NODE_REGISTER(ptype_node)
