/*
 * ip4_input: the checks a router makes on an IPv4 header before it
 * forwards (version, header length, checksum, total length against the
 * frame). Frames longer than the datagram (Ethernet padding) are trimmed.
 * Bad packets go to drop with their reason; packets with IP options go to
 * punt (the kernel processes options; the data path does not).
 */
#include <netinet/ip.h>

#include "../cnet_private.h"

enum {
	IP4_INPUT_NEXT_IP4_FORWARD,
	IP4_INPUT_NEXT_DROP,
	IP4_INPUT_NEXT_PUNT,
	IP4_INPUT_NEXT_MAX,
};

static uint16_t
ip4_input_process(struct sl_graph *g, struct sl_node *node, void **objs,
		  uint16_t nb_objs)
{
	unsigned i, bad;
	uint32_t len, tot;

	for (i = 0; i < nb_objs; i++) {
		struct sl_mbuf *m = objs[i];
		const cnet_ip4_hdr *ip;

		len = m->data_len > CNET_ETH_HLEN ? m->data_len - CNET_ETH_HLEN
						  : 0;
		ip = sl_mbuf_mtod_offset(m, const cnet_ip4_hdr *,
					 CNET_ETH_HLEN);
		bad = sl_cnet_ip4_check(ip, len);
		if (unlikely(bad != 0)) {
			cnet_meta(m)->reason = (uint8_t)(bad - 1);
			sl_node_enqueue_x1(g, node, IP4_INPUT_NEXT_DROP, m);
			continue;
		}
		if (unlikely(ip->ihl > 5)) {
			sl_node_enqueue_x1(g, node, IP4_INPUT_NEXT_PUNT, m);
			continue;
		}
		tot = ntohs(ip->tot_len);
		if (tot < len && m->nb_segs == 1) {
			m->data_len = (uint16_t)(tot + CNET_ETH_HLEN);
			m->pkt_len = m->data_len;
		}
		sl_node_enqueue_x1(g, node, IP4_INPUT_NEXT_IP4_FORWARD, m);
	}
	return nb_objs;
}

static struct sl_node_register ip4_input_node = {
	.name = "ip4_input",
	.process = ip4_input_process,
	.init = cnet_node_init,
	.next_nodes =
		{
			[IP4_INPUT_NEXT_IP4_FORWARD] = "ip4_forward",
			[IP4_INPUT_NEXT_DROP] = "drop",
			[IP4_INPUT_NEXT_PUNT] = "punt",
		},
};
SL_NODE_REGISTER(ip4_input_node)
