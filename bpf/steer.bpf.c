// SPDX-License-Identifier: BSD-3-Clause
/*
 * steer: the XDP program of net_af_xdp. It runs on every packet a device
 * receives and decides, per packet, between an AF_XDP socket of sluice,
 * the kernel's own stack and a drop:
 *
 *   1. classify: the first published rule (in priority order) that
 *      matches gives the action, else the device's default action;
 *   2. XSK: when the receive queue has an enabled socket, redirect to it
 *      through xsks_map (key: rx queue), else give it to the kernel;
 *      PASS: to the kernel (XDP_PASS); DROP: XDP_DROP.
 *   Frames shorter than an Ethernet header always go to the kernel.
 *
 * A rule matches on any of: the ethertype (after one 802.1Q or 802.1ad
 * tag), the IP protocol (IPv6: after up to STEER_IP6_EXT_MAX extension
 * headers), the IP destination prefix, the UDP/TCP/SCTP destination port
 * range (first fragments only), and "transit": unicast IP whose
 * destination is not one of the host's addresses (steer_local4/6), i.e.
 * what a router forwards. steer.h has the layouts and the algorithm.
 * Parsing is bounded; the rules are tried by a bpf_loop() callback
 * (Linux 5.17+), which the verifier checks once whatever their number.
 *
 * Built twice from this file: steer.bpf.o (SEC "xdp") and, with
 * -DSTEER_FRAGS, steer_frags.bpf.o (SEC "xdp.frags", for multi-buffer
 * sockets); the headers are read from the first buffer only, the byte
 * counters count the whole frame.
 *
 * Maps (names are the interface with the loader, drivers/net/af_xdp/):
 *   xsks_map      XSKMAP, key rx queue index, value the XSK fd
 *   qmask         ARRAY, key rx queue index, value 1 when that queue's
 *                 socket may receive (set after the socket is in xsks_map,
 *                 cleared before it leaves)
 *   steer_stats   PERCPU_ARRAY of __u64, key enum steer_stat
 *   steer_cfg     ARRAY[1] struct steer_cfg: published rules, default action
 *   steer_rules   ARRAY[STEER_MAX_RULES] struct steer_rule, key = priority
 *   steer_rstats  PERCPU_ARRAY[STEER_RSTAT_MAX] struct steer_rstat
 *   steer_lpm4/6  LPM_TRIE prefix -> __u64 mask of the rules it satisfies
 *   steer_local4/6 HASH of the host's addresses (for transit rules)
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "steer.h"

#ifdef STEER_FRAGS
#define STEER_SEC "xdp.frags"
#else
#define STEER_SEC "xdp"
#endif

#define STEER_IP6_EXT_MAX 4 /* IPv6 extension headers walked at most */
#define STEER_ETH_HLEN 14
#define STEER_VLAN_HLEN 4
#define STEER_IP4_HLEN 20
#define STEER_IP6_HLEN 40
#ifndef IPPROTO_HOPOPTS
#define IPPROTO_HOPOPTS 0
#endif
#define STEER_IPPROTO_ROUTING 43
#define STEER_IPPROTO_FRAGMENT 44
#define STEER_IPPROTO_DSTOPTS 60

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, STEER_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STEER_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} qmask SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STEER_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} steer_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct steer_cfg);
} steer_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STEER_MAX_RULES);
	__type(key, __u32);
	__type(value, struct steer_rule);
} steer_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STEER_RSTAT_MAX);
	__type(key, __u32);
	__type(value, struct steer_rstat);
} steer_rstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, STEER_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct steer_lpm4_key);
	__type(value, __u64);
} steer_lpm4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, STEER_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct steer_lpm6_key);
	__type(value, __u64);
} steer_lpm6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STEER_MAX_LOCAL);
	__type(key, __u32);
	__type(value, __u8);
} steer_local4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STEER_MAX_LOCAL);
	__type(key, struct steer_addr6);
	__type(value, __u8);
} steer_local6 SEC(".maps");

/* What the rules look at, parsed once per packet. */
struct steer_pkt {
	__u8 dst[16];	 /* IP destination (IPv4: the first 4 bytes) */
	__u16 ethertype; /* host order, after one VLAN tag */
	__u16 dport;	 /* host order, when has_port */
	__u8 l3;	 /* 4, 6, or 0: not IP */
	__u8 proto;	 /* IP protocol, when l3 */
	__u8 has_port;	 /* UDP/TCP/SCTP header of a first fragment */
	__u8 eth_group;	 /* Ethernet destination multicast or broadcast */
};

static __always_inline void
steer_count(__u32 stat)
{
	__u64 *c = bpf_map_lookup_elem(&steer_stats, &stat);

	if (c)
		*c += 1;
}

static __always_inline void
steer_rcount(__u32 slot, __u64 bytes)
{
	struct steer_rstat *c = bpf_map_lookup_elem(&steer_rstats, &slot);

	if (c) {
		c->pkts += 1;
		c->bytes += bytes;
	}
}

static __always_inline int
steer_l4_proto(__u8 proto)
{
	return proto == IPPROTO_UDP || proto == IPPROTO_TCP ||
	       proto == IPPROTO_SCTP;
}

/* The destination port at off, when the L4 header is there. */
static __always_inline void
steer_parse_port(struct steer_pkt *p, void *data, void *end, __u32 off)
{
	__u8 *l4 = (__u8 *)data + off;

	if (!steer_l4_proto(p->proto) || (void *)(l4 + 4) > end)
		return;
	p->dport = (__u16)(l4[2] << 8 | l4[3]);
	p->has_port = 1;
}

static __always_inline void
steer_parse_ip4(struct steer_pkt *p, void *data, void *end, __u32 off)
{
	__u8 *ip = (__u8 *)data + off;
	__u32 ihl;

	if ((void *)(ip + STEER_IP4_HLEN) > end || (ip[0] >> 4) != 4)
		return;
	ihl = (__u32)(ip[0] & 0xf) * 4;
	if (ihl < STEER_IP4_HLEN)
		return;
	p->l3 = 4;
	p->proto = ip[9];
	__builtin_memcpy(p->dst, ip + 16, 4);
	/* a fragment other than the first has no L4 header */
	if ((ip[6] & 0x1f) != 0 || ip[7] != 0)
		return;
	steer_parse_port(p, data, end, off + ihl);
}

static __always_inline void
steer_parse_ip6(struct steer_pkt *p, void *data, void *end, __u32 off)
{
	__u8 *ip = (__u8 *)data + off, *x;
	__u8 nh;
	__u32 i;

	if ((void *)(ip + STEER_IP6_HLEN) > end || (ip[0] >> 4) != 6)
		return;
	p->l3 = 6;
	__builtin_memcpy(p->dst, ip + 24, 16);
	nh = ip[6];
	off += STEER_IP6_HLEN;
#pragma unroll
	for (i = 0; i < STEER_IP6_EXT_MAX; i++) {
		if (nh != IPPROTO_HOPOPTS && nh != STEER_IPPROTO_ROUTING &&
		    nh != STEER_IPPROTO_FRAGMENT &&
		    nh != STEER_IPPROTO_DSTOPTS && nh != IPPROTO_AH)
			break;
		x = (__u8 *)data + off;
		if ((void *)(x + 8) > end)
			break;
		if (nh == STEER_IPPROTO_FRAGMENT) {
			if (x[2] != 0 || (x[3] & 0xf8) != 0) {
				/* not the first fragment: no L4 header */
				p->proto = x[0];
				return;
			}
			off += 8;
		} else if (nh == IPPROTO_AH) {
			off += ((__u32)x[1] + 2) * 4;
		} else {
			off += ((__u32)x[1] + 1) * 8;
		}
		nh = x[0];
	}
	p->proto = nh;
	steer_parse_port(p, data, end, off);
}

/* Fill p from the first buffer (p zeroed); 0, or -1 for a frame shorter
 * than an Ethernet header. */
static __always_inline int
steer_parse(struct xdp_md *ctx, struct steer_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *eth = data;
	__u32 off = STEER_ETH_HLEN;
	__u16 et;

	if ((void *)(eth + STEER_ETH_HLEN) > end)
		return -1;
	p->eth_group = eth[0] & 1;
	et = (__u16)(eth[12] << 8 | eth[13]);
	if (et == ETH_P_8021Q || et == ETH_P_8021AD) {
		if ((void *)(eth + STEER_ETH_HLEN + STEER_VLAN_HLEN) > end)
			return 0; /* ethertype stays 0: only wildcards match */
		et = (__u16)(eth[16] << 8 | eth[17]);
		off += STEER_VLAN_HLEN;
	}
	p->ethertype = et;
	if (et == ETH_P_IP)
		steer_parse_ip4(p, data, end, off);
	else if (et == ETH_P_IPV6)
		steer_parse_ip6(p, data, end, off);
	return 0;
}

/* Unicast IP to an address that is not the host's: what a router
 * forwards. Multicast, broadcast, link-local, loopback and unspecified
 * destinations are never transit. */
static __always_inline int
steer_transit(const struct steer_pkt *p)
{
	const __u8 *d = p->dst;
	struct steer_addr6 a6;
	__u32 a4;

	if (p->eth_group)
		return 0;
	if (p->l3 == 4) {
		/* 0/8, 127/8, 169.254/16, 224/4 multicast, 240/4 and
		 * 255.255.255.255 */
		if (d[0] == 0 || d[0] == 127 || d[0] >= 224 ||
		    (d[0] == 169 && d[1] == 254))
			return 0;
		__builtin_memcpy(&a4, d, 4);
		return bpf_map_lookup_elem(&steer_local4, &a4) == NULL;
	}
	if (p->l3 == 6) {
		/* ff00::/8 multicast, fe80::/10 link-local */
		if (d[0] == 0xff || (d[0] == 0xfe && (d[1] & 0xc0) == 0x80))
			return 0;
		/* :: and ::1 */
		if (d[0] == 0 && d[15] <= 1) {
			__u64 hi, lo;

			__builtin_memcpy(&hi, d, 8);
			__builtin_memcpy(&lo, d + 8, 8);
			if (hi == 0 && (lo & ~bpf_cpu_to_be64(0xff)) == 0)
				return 0;
		}
		__builtin_memcpy(a6.addr, d, 16);
		return bpf_map_lookup_elem(&steer_local6, &a6) == NULL;
	}
	return 0;
}

/* The mask of the rules whose destination prefix contains the packet's
 * destination: one lookup in the trie of its family. */
static __always_inline __u64
steer_prefix_mask(const struct steer_pkt *p)
{
	struct steer_lpm4_key k4;
	struct steer_lpm6_key k6;
	__u64 *m = NULL;

	if (p->l3 == 4) {
		k4.prefixlen = 32;
		__builtin_memcpy(k4.addr, p->dst, 4);
		m = bpf_map_lookup_elem(&steer_lpm4, &k4);
	} else if (p->l3 == 6) {
		k6.prefixlen = 128;
		__builtin_memcpy(k6.addr, p->dst, 16);
		m = bpf_map_lookup_elem(&steer_lpm6, &k6);
	}
	return m ? *m : 0;
}

/* Does the rule match, apart from its prefix (checked by the mask)?
 * *transit caches the transit test: -1 until computed. */
static __always_inline int
steer_rule_match(const struct steer_rule *r, const struct steer_pkt *p,
		 int *transit)
{
	__u16 m = r->match;

	if ((m & STEER_M_ETHERTYPE) && r->ethertype != p->ethertype)
		return 0;
	if ((m & STEER_M_PROTO) && (!p->l3 || r->ip_proto != p->proto))
		return 0;
	if ((m & STEER_M_PORT) &&
	    (!p->has_port || p->dport < r->port_lo || p->dport > r->port_hi))
		return 0;
	if (m & STEER_M_TRANSIT) {
		if (*transit < 0)
			*transit = steer_transit(p);
		if (!*transit)
			return 0;
	}
	return 1;
}

static __always_inline __u64
steer_frame_len(struct xdp_md *ctx)
{
#ifdef STEER_FRAGS
	return bpf_xdp_get_buff_len(ctx);
#else
	return (__u64)(ctx->data_end - ctx->data);
#endif
}

/* State of the rule loop (bpf_loop() callback: verified once, whatever
 * the number of rules). */
struct steer_loop {
	struct steer_pkt p;
	__u64 cand;  /* candidate slots not tried yet */
	__u64 bytes; /* for the counters */
	int transit; /* -1 until computed */
	int action;  /* of the matching rule; -1: none */
};

static long
steer_rule_cb(__u32 i, void *arg)
{
	struct steer_loop *l = arg;
	struct steer_rule *r;
	__u64 bit;

	if (l->cand == 0)
		return 1;
	if (i >= STEER_MAX_RULES)
		return 1;
	bit = 1ULL << i;
	if (!(l->cand & bit))
		return 0;
	l->cand &= ~bit;
	r = bpf_map_lookup_elem(&steer_rules, &i);
	if (!r || r->id == 0 || !steer_rule_match(r, &l->p, &l->transit))
		return 0;
	steer_rcount(i, l->bytes);
	l->action = r->action;
	return 1;
}

/* The action for this packet (enum steer_action), or -1 for a frame
 * shorter than an Ethernet header. Counts the rule (or default) hit.
 * Without rules (steer=all, a forwarder) nothing is parsed. */
static __always_inline int
steer_classify(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct steer_loop l;
	struct steer_cfg *cfg;
	__u64 nodst;
	__u32 k = 0;

	if (data + STEER_ETH_HLEN > end)
		return -1;
	cfg = bpf_map_lookup_elem(&steer_cfg, &k);
	if (!cfg)
		return STEER_ACT_PASS;
	__builtin_memset(&l, 0, sizeof(l));
	l.bytes = steer_frame_len(ctx);
	l.cand = cfg->active;
	if (l.cand != 0) {
		steer_parse(ctx, &l.p);
		nodst = cfg->nodst;
		if (l.cand & ~nodst)
			l.cand &= nodst | steer_prefix_mask(&l.p);
	}
	if (l.cand != 0) {
		l.transit = -1;
		l.action = -1;
		bpf_loop(STEER_MAX_RULES, steer_rule_cb, &l, 0);
		if (l.action >= 0)
			return l.action;
	}
	steer_rcount(STEER_RSTAT_DEFAULT, l.bytes);
	return (int)cfg->default_action;
}

SEC(STEER_SEC)
int
sl_steer(struct xdp_md *ctx)
{
	__u32 q = ctx->rx_queue_index;
	__u32 *on;
	long act;
	int a;

	a = steer_classify(ctx);
	if (a == STEER_ACT_DROP) {
		steer_count(STEER_STAT_DROP);
		return XDP_DROP;
	}
	on = bpf_map_lookup_elem(&qmask, &q);
	if (a != STEER_ACT_XSK || !on || !*on) {
		steer_count(STEER_STAT_PASS);
		return XDP_PASS;
	}
	act = bpf_redirect_map(&xsks_map, q, XDP_PASS);
	steer_count(act == XDP_REDIRECT ? STEER_STAT_REDIRECT
					: STEER_STAT_REDIRECT_FAIL);
	return (int)act;
}

char _license[] SEC("license") = "Dual BSD/GPL";
