/*
 * ip4_output: from a next hop to a frame. Checks the output link (up,
 * MTU: DF set gives ICMP fragmentation needed, else the packet is dropped
 * and counted; there is no fragmentation), looks the neighbour (gateway
 * or destination) up and rewrites the Ethernet header for eth_tx. An
 * unresolved neighbour makes the kernel resolve it (a request to cnet's
 * resolver thread at most every CNET_RESOLVE_NS per neighbour and thread)
 * while up to SL_CNET_HOLD_PKTS
 * packets wait for it in the thread's hold slots; cnet_hold_flush(),
 * called between walks when the neighbour table changed, gives them back
 * to this node. Packets held longer than CNET_HOLD_NS are dropped as
 * no_neigh.
 */
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <string.h>

#include <sluice/sl_time.h>

#include "../cnet_private.h"

enum {
	IP4_OUTPUT_NEXT_ETH_TX,
	IP4_OUTPUT_NEXT_ICMP4,
	IP4_OUTPUT_NEXT_DROP,
	IP4_OUTPUT_NEXT_MAX,
};

#define CNET_RESOLVE_NS 100000000ull
#define CNET_HOLD_NS 1000000000ull
#define CNET_HOLD_CHECK_NS 10000000ull
/* output_one(): the packet was held, not passed on */
#define IP4_OUTPUT_HELD IP4_OUTPUT_NEXT_MAX

/* Hold a packet for an unresolved neighbour. @return its drop reason, or
 * SL_CNET_DROP_MAX when held. */
static unsigned
hold(struct sl_cnet_thread *t, struct sl_mbuf *m, int ifindex, uint32_t ip)
{
	unsigned i, free_slot = SL_CNET_HOLD_SLOTS;

	if (t->output == NULL)
		return SL_CNET_DROP_NO_NEIGH;
	for (i = 0; i < SL_CNET_HOLD_SLOTS; i++) {
		if (t->hold[i].n == 0) {
			if (free_slot == SL_CNET_HOLD_SLOTS)
				free_slot = i;
			continue;
		}
		if (t->hold[i].ip != ip || t->hold[i].ifindex != ifindex)
			continue;
		if (t->hold[i].n == SL_CNET_HOLD_PKTS)
			return SL_CNET_DROP_NEIGH_HOLD_FULL;
		t->hold[i].pkts[t->hold[i].n++] = m;
		return SL_CNET_DROP_MAX;
	}
	if (free_slot == SL_CNET_HOLD_SLOTS)
		return SL_CNET_DROP_NO_NEIGH;
	i = free_slot;
	t->hold[i].ip = ip;
	t->hold[i].ifindex = ifindex;
	t->hold[i].tsc = sl_tsc();
	t->hold[i].pkts[0] = m;
	t->hold[i].n = 1;
	t->hold_n++;
	return SL_CNET_DROP_MAX;
}

void
cnet_hold_flush(struct sl_cnet_thread *t)
{
	uint64_t gen = __atomic_load_n(&t->cnet->neigh_gen, __ATOMIC_ACQUIRE);
	uint64_t now = sl_tsc(), max = sl_ns_to_tsc(CNET_HOLD_NS), v;
	struct cnet_neigh_key k;
	uint16_t done;
	unsigned i, n;

	/* nothing new and nothing to expire yet: the common case */
	if (gen == t->hold_gen &&
	    now - t->hold_check < sl_ns_to_tsc(CNET_HOLD_CHECK_NS))
		return;
	t->hold_gen = gen;
	t->hold_check = now;
	for (i = 0; i < SL_CNET_HOLD_SLOTS; i++) {
		n = t->hold[i].n;
		if (n == 0)
			continue;
		k.ifindex = t->hold[i].ifindex;
		k.ip = t->hold[i].ip;
		if (sl_hash_lookup(t->cnet->neigh, &k, &v) == 0 &&
		    (v & CNET_NEIGH_VALID)) {
			done = sl_graph_node_enqueue(
				t->graph, t->output,
				(void *const *)t->hold[i].pkts, (uint16_t)n);
			sl_mbuf_free_bulk(t->hold[i].pkts + done, n - done);
		} else if (now - t->hold[i].tsc >= max) {
			t->drops[SL_CNET_DROP_NO_NEIGH] += n;
			sl_mbuf_free_bulk(t->hold[i].pkts, n);
		} else {
			continue;
		}
		t->hold[i].n = 0;
		t->hold_n--;
	}
}

static void
resolve(struct sl_cnet_thread *t, int ifindex, uint32_t ip)
{
	unsigned s = (ip ^ (uint32_t)ifindex) % CNET_RESOLVE_SLOTS;
	uint64_t now = sl_tsc();

	if (t->resolve[s].ip == ip && t->resolve[s].ifindex == ifindex &&
	    now - t->resolve[s].tsc < sl_ns_to_tsc(CNET_RESOLVE_NS))
		return;
	t->resolve[s].ip = ip;
	t->resolve[s].ifindex = ifindex;
	t->resolve[s].tsc = now;
	cnet_resolve_post(t->cnet, ifindex, ip);
}

static uint16_t
output_one(struct sl_cnet_thread *t, struct sl_mbuf *m)
{
	struct cnet_meta *meta = cnet_meta(m);
	const struct cnet_link *lk = cnet_link_get(t->cnet, meta->out_ifindex);
	struct cnet_neigh_key k;
	const cnet_ip4_hdr *ip;
	uint8_t *eth;
	uint64_t v;
	uint32_t mtu;
	unsigned i;

	if (unlikely(lk == NULL ||
		     !__atomic_load_n(&lk->up, __ATOMIC_ACQUIRE))) {
		meta->reason = SL_CNET_DROP_LINK_DOWN;
		return IP4_OUTPUT_NEXT_DROP;
	}
	ip = sl_mbuf_mtod_offset(m, const cnet_ip4_hdr *, CNET_ETH_HLEN);
	mtu = lk->mtu;
	if (unlikely(ntohs(ip->tot_len) > mtu)) {
		if (ip->frag_off & htons(IP_DF)) {
			meta->icmp_type = ICMP_DEST_UNREACH;
			meta->icmp_code = ICMP_FRAG_NEEDED;
			meta->icmp_mtu =
				(uint16_t)(mtu > 0xffff ? 0xffff : mtu);
			return IP4_OUTPUT_NEXT_ICMP4;
		}
		meta->reason = SL_CNET_DROP_MTU;
		return IP4_OUTPUT_NEXT_DROP;
	}
	k.ifindex = meta->out_ifindex;
	k.ip = meta->nh_ip;
	if (unlikely(sl_hash_lookup(t->cnet->neigh, &k, &v) != 0 ||
		     !(v & CNET_NEIGH_VALID))) {
		resolve(t, k.ifindex, k.ip);
		meta->reason = (uint8_t)hold(t, m, k.ifindex, k.ip);
		return meta->reason == SL_CNET_DROP_MAX ? IP4_OUTPUT_HELD
							: IP4_OUTPUT_NEXT_DROP;
	}
	eth = sl_mbuf_mtod(m, uint8_t *);
	for (i = 0; i < 6; i++)
		eth[i] = (uint8_t)(v >> (40 - 8 * i));
	memcpy(eth + 6, lk->mac, 6);
	eth[12] = CNET_ETHERTYPE_IP4 >> 8;
	eth[13] = CNET_ETHERTYPE_IP4 & 0xff;
	return IP4_OUTPUT_NEXT_ETH_TX;
}

static uint16_t
ip4_output_process(struct sl_graph *g, struct sl_node *node, void **objs,
		   uint16_t nb_objs)
{
	struct sl_cnet_thread *t = cnet_node_thread(node);
	uint16_t next;
	unsigned i;

	for (i = 0; i < nb_objs; i++) {
		next = output_one(t, objs[i]);
		if (next != IP4_OUTPUT_HELD)
			sl_node_enqueue_x1(g, node, next, objs[i]);
	}
	return nb_objs;
}

static struct sl_node_register ip4_output_node = {
	.name = "ip4_output",
	.process = ip4_output_process,
	.init = cnet_node_init,
	.next_nodes =
		{
			[IP4_OUTPUT_NEXT_ETH_TX] = "eth_tx",
			[IP4_OUTPUT_NEXT_ICMP4] = "icmp4",
			[IP4_OUTPUT_NEXT_DROP] = "drop",
		},
};
SL_NODE_REGISTER(ip4_output_node)
