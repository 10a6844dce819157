// SPDX-License-Identifier: BSD-3-Clause
/*
 * xdpsink: counts and drops every frame a device receives, the receiving
 * end of sluice's XDP traffic generator in tests and benchmarks (loader:
 * lib/xdpgen/sl_xdpgen.c, sl_xdpsink_*). Per CPU: frames, bytes, and the
 * IPv4/UDP frames to one destination port ("matched", when a port is
 * configured), so that stray frames do not count as the generator's.
 * The layout of the maps is in lib/xdpgen/xdpgen_bpf.h.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xdpgen_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpsink_cfg);
} xdpsink_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpsink_pcpu);
} xdpsink_pcpu SEC(".maps");

/* 1 when the frame is IPv4/UDP to port dport (network order). */
static __always_inline int
xdpsink_match(void *data, void *data_end, __u16 dport)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp;

	if ((void *)(ip + 1) > data_end ||
	    eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP)
		return 0;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return 0;
	return udp->dest == dport;
}

SEC("xdp")
int
sl_xdpsink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const struct xdpsink_cfg *c;
	struct xdpsink_pcpu *s;
	__u32 k = 0;

	c = bpf_map_lookup_elem(&xdpsink_cfg, &k);
	s = bpf_map_lookup_elem(&xdpsink_pcpu, &k);
	if (!c || !s)
		return XDP_DROP;
	s->packets++;
	s->bytes += (__u64)(data_end - data);
	if (c->udp_dport && xdpsink_match(data, data_end, c->udp_dport))
		s->matched++;
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
