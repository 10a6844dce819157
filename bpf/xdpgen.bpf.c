// SPDX-License-Identifier: BSD-3-Clause
/*
 * xdpgen: the per-frame part of sluice's XDP traffic generator
 * (lib/xdpgen/sl_xdpgen.c). User space runs this program with BPF_PROG_RUN
 * and BPF_F_TEST_XDP_LIVE_FRAMES: the kernel builds frames from a template
 * in pages of a page pool, runs the program on each, and sends the frames
 * it returns XDP_TX for out of the run's device (XDP_REDIRECT: out of
 * another one). Pages are recycled without being written again, and a
 * receiver may have changed a frame in place (a MAC swap), so the program
 * writes the whole Ethernet/IPv4/UDP header on every frame:
 *
 *   1. pacing: a token bucket shared by the CPUs (in its GCRA form, one
 *      compare-and-swap per frame); a frame over the rate is dropped and
 *      counted "paced";
 *   2. count: with a limit, a shared counter hands out exactly `limit`
 *      frames; the others are dropped and counted "limited";
 *   3. header: the template, then per flow the UDP source port and/or the
 *      IPv4 source address (its checksum updated), then the sequence
 *      number (this CPU's frames sent so far) after the UDP header.
 *
 * The layout of the maps is in lib/xdpgen/xdpgen_bpf.h.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xdpgen_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpgen_cfg);
} xdpgen_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpgen_pcpu);
} xdpgen_pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpgen_shared);
} xdpgen_shared SEC(".maps");

/* 1 when a frame may leave now. A frame that loses the race for tat_ps
 * with another CPU counts as over the rate. */
static __always_inline int
xdpgen_pace(const struct xdpgen_cfg *c, struct xdpgen_shared *sh)
{
	__u64 ns = bpf_ktime_get_ns();
	__u64 now = (ns > c->t0_ns ? ns - c->t0_ns : 0) * 1000;
	__u64 tat = *(volatile __u64 *)&sh->tat_ps;

	if (tat > now + c->tau_ps)
		return 0;
	return __sync_val_compare_and_swap(&sh->tat_ps, tat,
					   (tat > now ? tat : now) +
						   c->interval_ps) == tat;
}

/* The IPv4 header checksum for source address saddr (network order). */
static __always_inline __u16
xdpgen_ip_csum(__u32 sum, __u32 saddr)
{
	sum += (saddr & 0xffff) + (saddr >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int
sl_xdpgen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const struct xdpgen_cfg *c;
	struct xdpgen_shared *sh;
	struct xdpgen_pcpu *s;
	__u32 k = 0, f;
	__u64 seq;

	c = bpf_map_lookup_elem(&xdpgen_cfg, &k);
	s = bpf_map_lookup_elem(&xdpgen_pcpu, &k);
	sh = bpf_map_lookup_elem(&xdpgen_shared, &k);
	if (!c || !s || !sh)
		return XDP_ABORTED;
	if (data + XDPGEN_MIN_LEN > data_end) {
		s->errors++;
		return XDP_DROP;
	}
	if (c->action == XDPGEN_ACT_DROP)
		return XDP_DROP;
	if (c->interval_ps && !xdpgen_pace(c, sh)) {
		s->paced++;
		return XDP_DROP;
	}
	if (c->limit) {
		if (__sync_fetch_and_add(&sh->issued, 1) >= c->limit) {
			s->limited++;
			return XDP_DROP;
		}
	}

	/* the template, 8 bytes at a time (42 = 5 * 8 + 2) */
	*(__u64 *)(data + 0) = *(const __u64 *)(c->hdr + 0);
	*(__u64 *)(data + 8) = *(const __u64 *)(c->hdr + 8);
	*(__u64 *)(data + 16) = *(const __u64 *)(c->hdr + 16);
	*(__u64 *)(data + 24) = *(const __u64 *)(c->hdr + 24);
	*(__u64 *)(data + 32) = *(const __u64 *)(c->hdr + 32);
	*(__u16 *)(data + 40) = *(const __u16 *)(c->hdr + 40);

	if (c->flows > 1) {
		f = s->flow;
		s->flow = f + 1 >= c->flows ? 0 : f + 1;
		if (c->flow_fields & XDPGEN_FLOW_SPORT)
			*(__u16 *)(data + XDPGEN_OFF_UDP) =
				bpf_htons((__u16)(c->sport + f));
		if (c->flow_fields & XDPGEN_FLOW_SRC_IP) {
			__u32 saddr = bpf_htonl(c->src_ip + f);

			*(__u32 *)(data + XDPGEN_OFF_IP_SRC) = saddr;
			*(__u16 *)(data + XDPGEN_OFF_IP_CSUM) =
				xdpgen_ip_csum(c->ip_sum, saddr);
		}
	}
	seq = s->sent;
	*(__u64 *)(data + XDPGEN_SEQ_OFF) = seq;
	s->sent = seq + 1;
	s->bytes += (__u64)(data_end - data);

	if (c->action == XDPGEN_ACT_REDIRECT)
		return (int)bpf_redirect(c->redirect_ifindex, 0);
	return XDP_TX;
}

char _license[] SEC("license") = "Dual BSD/GPL";
