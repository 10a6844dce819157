/*
 * udp_output: a source node sending what channels gave to
 * sl_chnl_sendto(). Each payload gets its UDP header (checksum over the
 * pseudo-header) and IPv4 header (TTL 64, DF clear, the channel's address
 * or the first address of the output interface as source) and a room for
 * the Ethernet header, then a FIB lookup: routed datagrams go to
 * ip4_output like forwarded packets, the others (no route, a local or
 * rejecting route) to drop as no_route.
 */
#include <arpa/inet.h>
#include <string.h>

#include <sluice/sl_fib.h>

#include "../cnet_private.h"

enum {
	UDP_OUTPUT_NEXT_IP4_OUTPUT,
	UDP_OUTPUT_NEXT_DROP,
	UDP_OUTPUT_NEXT_MAX,
};

#define UDP_OUTPUT_BURST 64

static inline uint16_t
udp_output_one(struct sl_cnet_thread *t, struct sl_mbuf *m)
{
	const struct sl_cnet *c = t->cnet;
	struct cnet_meta *meta = cnet_meta(m);
	uint16_t plen = m->data_len, ulen = (uint16_t)(plen + CNET_UDP_HLEN);
	const struct cnet_link *lk;
	const struct cnet_nh *nh;
	struct cnet_udp_hdr *udp;
	cnet_ip4_hdr *ip;
	uint32_t id, src;
	uint8_t *p;

	id = sl_fib4_lookup(c->fib, meta->raddr);
	nh = cnet_nh_get(c, id);
	src = meta->laddr;
	cnet_meta_route(meta, nh, id, src, meta->raddr);
	lk = cnet_link_get(c, meta->out_ifindex);
	if (src == 0 && lk != NULL)
		src = __atomic_load_n(&lk->addr, __ATOMIC_RELAXED);
	if (unlikely((nh->type != CNET_NH_GATEWAY &&
		      nh->type != CNET_NH_CONNECTED) ||
		     src == 0)) {
		meta->reason = SL_CNET_DROP_NO_ROUTE;
		return UDP_OUTPUT_NEXT_DROP;
	}
	p = sl_mbuf_prepend(m, CNET_UDP_HDRS); /* sendto checked the room */
	ip = (cnet_ip4_hdr *)(void *)(p + CNET_ETH_HLEN);
	udp = (struct cnet_udp_hdr *)(void *)(p + CNET_ETH_HLEN +
					      CNET_IP4_HLEN);
	memset(p, 0, CNET_ETH_HLEN);
	p[12] = CNET_ETHERTYPE_IP4 >> 8;
	p[13] = CNET_ETHERTYPE_IP4 & 0xff;
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = htons((uint16_t)(ulen + CNET_IP4_HLEN));
	ip->id = htons(t->ip_id++);
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->check = 0;
	ip->saddr = htonl(src);
	ip->daddr = htonl(meta->raddr);
	ip->check = sl_cnet_cksum(ip, CNET_IP4_HLEN);
	udp->sport = htons(meta->lport);
	udp->dport = htons(meta->rport);
	udp->len = htons(ulen);
	udp->check = 0;
	udp->check = cnet_udp4_cksum(ip, udp, ulen);
	if (udp->check == 0)
		udp->check = 0xffff;
	return UDP_OUTPUT_NEXT_IP4_OUTPUT;
}

static uint16_t
udp_output_process(struct sl_graph *g, struct sl_node *node, void **objs,
		   uint16_t nb_objs)
{
	struct sl_cnet_thread *t = cnet_node_thread(node);
	void *pkts[UDP_OUTPUT_BURST];
	unsigned i, n;

	(void)objs;
	(void)nb_objs;
	if (likely(sl_ring_empty(t->cnet->chnl_txq)))
		return 0;
	n = sl_ring_dequeue_burst(t->cnet->chnl_txq, pkts, UDP_OUTPUT_BURST,
				  NULL);
	for (i = 0; i < n; i++)
		sl_node_enqueue_x1(g, node, udp_output_one(t, pkts[i]),
				   pkts[i]);
	return (uint16_t)n;
}

static struct sl_node_register udp_output_node = {
	.name = "udp_output",
	.flags = SL_NODE_F_SOURCE,
	.process = udp_output_process,
	.init = cnet_node_init,
	.next_nodes =
		{
			[UDP_OUTPUT_NEXT_IP4_OUTPUT] = "ip4_output",
			[UDP_OUTPUT_NEXT_DROP] = "drop",
		},
};
SL_NODE_REGISTER(udp_output_node)
