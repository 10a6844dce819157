/*
 * icmp4: ICMP errors of the forwarding path (time exceeded, destination
 * unreachable, fragmentation needed), built in place of the offending
 * packet: from the router's address on the input interface to the
 * packet's source, quoting its header and the first bytes of its data,
 * then routed like any packet to ip4_output. A token bucket per thread
 * limits the rate; no error is sent about an ICMP error, a non-first
 * fragment or a source that is not a unicast address.
 */
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <string.h>

#include <sluice/sl_time.h>

#include "../cnet_private.h"

enum {
	ICMP4_NEXT_IP4_OUTPUT,
	ICMP4_NEXT_DROP,
	ICMP4_NEXT_MAX,
};

/* An error is at most 576 bytes of IP (RFC 1812, 4.3.2.3). */
#define ICMP4_QUOTE_MAX (576 - 20 - 8)

static bool
icmp4_token(struct sl_cnet_thread *t)
{
	uint64_t now = sl_tsc(), add;

	add = (now - t->icmp_last_tsc) / t->icmp_tsc_per_token;
	if (add != 0) {
		t->icmp_tokens += add;
		if (t->icmp_tokens > t->cnet->cfg.icmp_rate)
			t->icmp_tokens = t->cnet->cfg.icmp_rate;
		t->icmp_last_tsc += add * t->icmp_tsc_per_token;
	}
	if (t->icmp_tokens == 0)
		return false;
	t->icmp_tokens--;
	return true;
}

static bool
icmp4_may_answer(const cnet_ip4_hdr *ip, uint32_t len)
{
	uint32_t src = ntohl(ip->saddr);
	uint32_t hlen = ip->ihl * 4u;
	const cnet_icmp4_hdr *ic;

	if (src == 0 || (src >> 28) >= 0xe || (src >> 24) == 127)
		return false;
	if (ip->frag_off & htons(IP_OFFMASK))
		return false;
	if (ip->protocol == IPPROTO_ICMP && len >= hlen + 1) {
		ic = (const cnet_icmp4_hdr *)(const void *)((const uint8_t *)
								    ip +
							    hlen);
		/* only queries get errors */
		if (ic->type != ICMP_ECHO && ic->type != ICMP_ECHOREPLY &&
		    ic->type != ICMP_TIMESTAMP &&
		    ic->type != ICMP_TIMESTAMPREPLY)
			return false;
	}
	return true;
}

static uint16_t
icmp4_one(struct sl_cnet_thread *t, struct sl_mbuf *m)
{
	struct cnet_meta *meta = cnet_meta(m);
	const struct cnet_link *in = cnet_link_get(t->cnet, meta->in_ifindex);
	uint8_t quote[ICMP4_QUOTE_MAX];
	const struct cnet_nh *nh;
	cnet_icmp4_hdr *ic;
	cnet_ip4_hdr *ip;
	uint32_t len, qlen, src, dst, id;

	ip = sl_mbuf_mtod_offset(m, cnet_ip4_hdr *, CNET_ETH_HLEN);
	len = m->data_len - CNET_ETH_HLEN;
	src = in != NULL ? __atomic_load_n(&in->addr, __ATOMIC_RELAXED) : 0;
	if (src == 0 || !icmp4_may_answer(ip, len)) {
		meta->reason = SL_CNET_DROP_ICMP_NOT_SENT;
		return ICMP4_NEXT_DROP;
	}
	if (!icmp4_token(t)) {
		meta->reason = SL_CNET_DROP_ICMP_RATELIMIT;
		return ICMP4_NEXT_DROP;
	}
	dst = ntohl(ip->saddr);
	qlen = ntohs(ip->tot_len);
	if (qlen > len)
		qlen = len;
	if (qlen > ICMP4_QUOTE_MAX)
		qlen = ICMP4_QUOTE_MAX;
	if (sl_mbuf_tailroom(m) + m->data_len <
	    CNET_ETH_HLEN + sizeof(*ip) + sizeof(*ic) + qlen) {
		meta->reason = SL_CNET_DROP_ICMP_NOT_SENT;
		return ICMP4_NEXT_DROP;
	}
	memcpy(quote, ip, qlen);

	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0xc0; /* internetwork control */
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + sizeof(*ic) + qlen));
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = htonl(src);
	ip->daddr = htonl(dst);
	ip->check = sl_cnet_cksum(ip, sizeof(*ip));
	ic = (cnet_icmp4_hdr *)(void *)(ip + 1);
	memset(ic, 0, sizeof(*ic));
	ic->type = meta->icmp_type;
	ic->code = meta->icmp_code;
	if (ic->type == ICMP_DEST_UNREACH && ic->code == ICMP_FRAG_NEEDED)
		ic->un.frag.mtu = htons(meta->icmp_mtu);
	memcpy(ic + 1, quote, qlen);
	ic->checksum = sl_cnet_cksum(ic, (uint32_t)sizeof(*ic) + qlen);
	m->data_len =
		(uint16_t)(CNET_ETH_HLEN + sizeof(*ip) + sizeof(*ic) + qlen);
	m->pkt_len = m->data_len;

	id = sl_fib4_lookup(t->cnet->fib, dst);
	nh = cnet_nh_get(t->cnet, id);
	if (nh->type != CNET_NH_GATEWAY && nh->type != CNET_NH_CONNECTED) {
		meta->reason = SL_CNET_DROP_ICMP_NOT_SENT;
		return ICMP4_NEXT_DROP;
	}
	cnet_meta_route(meta, nh, id, ip->saddr, dst);
	return ICMP4_NEXT_IP4_OUTPUT;
}

static uint16_t
icmp4_process(struct sl_graph *g, struct sl_node *node, void **objs,
	      uint16_t nb_objs)
{
	struct sl_cnet_thread *t = cnet_node_thread(node);
	unsigned i;

	for (i = 0; i < nb_objs; i++)
		sl_node_enqueue_x1(g, node, icmp4_one(t, objs[i]), objs[i]);
	return nb_objs;
}

static struct sl_node_register icmp4_node = {
	.name = "icmp4",
	.process = icmp4_process,
	.init = cnet_node_init,
	.next_nodes =
		{
			[ICMP4_NEXT_IP4_OUTPUT] = "ip4_output",
			[ICMP4_NEXT_DROP] = "drop",
		},
};
SL_NODE_REGISTER(icmp4_node)
