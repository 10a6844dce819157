/*
 * udp_input and chnl_recv: datagrams for the host. udp_input checks the
 * UDP length against the IP payload and the checksum (when the sender
 * set one) and looks the destination up in the channel table: a bound
 * channel gets the datagram through chnl_recv, anything else goes to punt
 * (the kernel's sockets). chnl_recv queues each datagram on its channel,
 * data at the payload and the source in the metadata, and calls the
 * readiness callback of every channel that received, once per burst.
 */
#include <arpa/inet.h>

#include "../cnet_private.h"

enum {
	UDP_INPUT_NEXT_CHNL_RECV,
	UDP_INPUT_NEXT_PUNT,
	UDP_INPUT_NEXT_DROP,
	UDP_INPUT_NEXT_MAX,
};

static inline uint16_t
udp_input_one(const struct sl_cnet *c, struct sl_mbuf *m)
{
	const cnet_ip4_hdr *ip =
		sl_mbuf_mtod_offset(m, const cnet_ip4_hdr *, CNET_ETH_HLEN);
	const struct cnet_udp_hdr *udp = sl_mbuf_mtod_offset(
		m, const struct cnet_udp_hdr *, CNET_ETH_HLEN + CNET_IP4_HLEN);
	struct cnet_meta *meta = cnet_meta(m);
	uint32_t room = ntohs(ip->tot_len) - CNET_IP4_HLEN; /* ip4_input */
	uint16_t ulen;

	/* ip4_input punted options and checked tot_len against the frame */
	if (unlikely(room < CNET_UDP_HLEN ||
		     (ulen = ntohs(udp->len)) < CNET_UDP_HLEN || ulen > room)) {
		meta->reason = SL_CNET_DROP_BAD_UDP_LEN;
		return UDP_INPUT_NEXT_DROP;
	}
	if (udp->check != 0 && unlikely(cnet_udp4_cksum(ip, udp, ulen) != 0)) {
		meta->reason = SL_CNET_DROP_BAD_UDP_CKSUM;
		return UDP_INPUT_NEXT_DROP;
	}
	meta->chnl = cnet_chnl_find(c, ntohl(ip->daddr), ntohs(udp->dport));
	if (meta->chnl == NULL)
		return UDP_INPUT_NEXT_PUNT;
	meta->laddr = ntohl(ip->daddr);
	meta->lport = ntohs(udp->dport);
	meta->raddr = ntohl(ip->saddr);
	meta->rport = ntohs(udp->sport);
	/* the payload: headers off the front, padding and excess off the
	 * end (one segment: ip4_input trimmed the frame to the datagram) */
	sl_mbuf_adj(m, CNET_UDP_HDRS);
	m->data_len = (uint16_t)(ulen - CNET_UDP_HLEN);
	m->pkt_len = m->data_len;
	return UDP_INPUT_NEXT_CHNL_RECV;
}

static uint16_t
udp_input_process(struct sl_graph *g, struct sl_node *node, void **objs,
		  uint16_t nb_objs)
{
	const struct sl_cnet *c = cnet_node_thread(node)->cnet;
	uint16_t i;

	for (i = 0; i < nb_objs; i++)
		sl_node_enqueue_x1(g, node, udp_input_one(c, objs[i]), objs[i]);
	return nb_objs;
}

static struct sl_node_register udp_input_node = {
	.name = "udp_input",
	.process = udp_input_process,
	.init = cnet_node_init,
	.next_nodes =
		{
			[UDP_INPUT_NEXT_CHNL_RECV] = "chnl_recv",
			[UDP_INPUT_NEXT_PUNT] = "punt",
			[UDP_INPUT_NEXT_DROP] = "drop",
		},
};
SL_NODE_REGISTER(udp_input_node)

/* Channels a burst made ready, for their callbacks; more than this many
 * distinct channels in one burst are called back next time (their data
 * stays queued). */
#define CHNL_READY_MAX 32

static uint16_t
chnl_recv_process(struct sl_graph *g, struct sl_node *node, void **objs,
		  uint16_t nb_objs)
{
	struct sl_cnet_thread *t = cnet_node_thread(node);
	struct sl_chnl *ready[CHNL_READY_MAX], *ch;
	unsigned nready = 0, r;
	uint16_t i;

	(void)g;
	for (i = 0; i < nb_objs; i++) {
		struct sl_mbuf *m = objs[i];

		ch = cnet_meta(m)->chnl;
		if (unlikely(sl_ring_enqueue(ch->rxq, m) != 0)) {
			__atomic_add_fetch(&ch->st.rx_full, 1,
					   __ATOMIC_RELAXED);
			t->drops[SL_CNET_DROP_CHNL_FULL]++;
			sl_mbuf_free(m);
			continue;
		}
		__atomic_add_fetch(&ch->st.rx_pkts, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&ch->st.rx_bytes, m->data_len,
				   __ATOMIC_RELAXED);
		if (ch->cb == NULL)
			continue;
		for (r = 0; r < nready && ready[r] != ch; r++)
			;
		if (r == nready && nready < CHNL_READY_MAX)
			ready[nready++] = ch;
	}
	for (r = 0; r < nready; r++)
		ready[r]->cb(ready[r], SL_CHNL_EV_READ, ready[r]->arg);
	return nb_objs;
}

static struct sl_node_register chnl_recv_node = {
	.name = "chnl_recv",
	.process = chnl_recv_process,
	.init = cnet_node_init,
};
SL_NODE_REGISTER(chnl_recv_node)
