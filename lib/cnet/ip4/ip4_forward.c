/*
 * ip4_forward: the routing decision. A bulk FIB lookup of the burst's
 * destinations gives each packet its next hop: local addresses and
 * broadcast or multicast destinations go to punt, blackholes to drop,
 * unreachable and prohibit routes (and no route) to icmp4; UDP for the
 * host (not a fragment) to udp_input; a packet whose
 * TTL would expire gets ICMP time exceeded; the others have their TTL
 * decremented (incremental checksum) and go to ip4_output.
 */
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>

#include "../cnet_private.h"

enum {
	IP4_FORWARD_NEXT_IP4_OUTPUT,
	IP4_FORWARD_NEXT_ICMP4,
	IP4_FORWARD_NEXT_PUNT,
	IP4_FORWARD_NEXT_DROP,
	IP4_FORWARD_NEXT_UDP_INPUT,
	IP4_FORWARD_NEXT_MAX,
};

#define IP4_FORWARD_CHUNK 64

static inline uint16_t
to_icmp(struct cnet_meta *meta, uint8_t type, uint8_t code)
{
	meta->icmp_type = type;
	meta->icmp_code = code;
	return IP4_FORWARD_NEXT_ICMP4;
}

static uint16_t
forward_one(const struct sl_cnet *c, struct sl_mbuf *m, uint32_t dst,
	    uint32_t id)
{
	cnet_ip4_hdr *ip =
		sl_mbuf_mtod_offset(m, cnet_ip4_hdr *, CNET_ETH_HLEN);
	struct cnet_meta *meta = cnet_meta(m);
	const struct cnet_nh *nh;

	if (unlikely((dst >> 28) >= 0xe)) /* multicast, class E, broadcast */
		return IP4_FORWARD_NEXT_PUNT;
	nh = cnet_nh_get(c, id);
	switch (nh->type) {
	case CNET_NH_GATEWAY:
	case CNET_NH_CONNECTED:
		break;
	case CNET_NH_LOCAL:
		if (ip->protocol == IPPROTO_UDP &&
		    (ip->frag_off & htons(0x3fff)) == 0)
			return IP4_FORWARD_NEXT_UDP_INPUT;
		return IP4_FORWARD_NEXT_PUNT;
	case CNET_NH_BLACKHOLE:
		meta->reason = SL_CNET_DROP_BLACKHOLE;
		return IP4_FORWARD_NEXT_DROP;
	case CNET_NH_UNREACHABLE:
		return to_icmp(meta, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH);
	case CNET_NH_PROHIBIT:
		return to_icmp(meta, ICMP_DEST_UNREACH, ICMP_PKT_FILTERED);
	default:
		return to_icmp(meta, ICMP_DEST_UNREACH, ICMP_NET_UNREACH);
	}
	if (unlikely(ip->ttl <= 1))
		return to_icmp(meta, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL);
	sl_cnet_ip4_ttl_dec(ip);
	cnet_meta_route(meta, nh, id, ip->saddr, dst);
	return IP4_FORWARD_NEXT_IP4_OUTPUT;
}

static uint16_t
ip4_forward_process(struct sl_graph *g, struct sl_node *node, void **objs,
		    uint16_t nb_objs)
{
	const struct sl_cnet *c = cnet_node_thread(node)->cnet;
	uint32_t ips[IP4_FORWARD_CHUNK], nhs[IP4_FORWARD_CHUNK];
	unsigned base, n, i;

	for (base = 0; base < nb_objs; base += n) {
		n = nb_objs - base;
		if (n > IP4_FORWARD_CHUNK)
			n = IP4_FORWARD_CHUNK;
		for (i = 0; i < n; i++) {
			const struct sl_mbuf *m = objs[base + i];

			ips[i] = ntohl(sl_mbuf_mtod_offset(m,
							   const cnet_ip4_hdr *,
							   CNET_ETH_HLEN)
					       ->daddr);
		}
		sl_fib4_lookup_bulk(c->fib, ips, nhs, n);
		for (i = 0; i < n; i++)
			sl_node_enqueue_x1(
				g, node,
				forward_one(c, objs[base + i], ips[i], nhs[i]),
				objs[base + i]);
	}
	return nb_objs;
}

static struct sl_node_register ip4_forward_node = {
	.name = "ip4_forward",
	.process = ip4_forward_process,
	.init = cnet_node_init,
	.next_nodes =
		{
			[IP4_FORWARD_NEXT_IP4_OUTPUT] = "ip4_output",
			[IP4_FORWARD_NEXT_ICMP4] = "icmp4",
			[IP4_FORWARD_NEXT_PUNT] = "punt",
			[IP4_FORWARD_NEXT_DROP] = "drop",
			[IP4_FORWARD_NEXT_UDP_INPUT] = "udp_input",
		},
};
SL_NODE_REGISTER(ip4_forward_node)
