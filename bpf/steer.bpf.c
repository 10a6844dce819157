// SPDX-License-Identifier: BSD-3-Clause
/*
 * steer: the XDP program of net_af_xdp. It runs on every packet a device
 * receives and decides, per packet, between an AF_XDP socket of sluice and
 * the kernel's own stack:
 *
 *   1. classify (later: the rule maps, by ethertype, IP protocol, prefix
 *      and port; today every packet matches "to sluice");
 *   2. when the verdict is "to sluice" and the receive queue has an
 *      enabled socket, redirect to it through xsks_map (key: rx queue);
 *   3. everything else goes to the kernel (XDP_PASS).
 *
 * Each verdict is counted in a per-CPU array indexed by enum steer_stat,
 * which user space sums over the CPUs.
 *
 * Maps (names are the interface with the loader, drivers/net/af_xdp/):
 *   xsks_map      XSKMAP, key rx queue index, value the XSK fd
 *   qmask         ARRAY, key rx queue index, value 1 when that queue's
 *                 socket may receive (set after the socket is in xsks_map,
 *                 cleared before it leaves)
 *   steer_stats   PERCPU_ARRAY of __u64, key enum steer_stat
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

#define STEER_MAX_QUEUES 256

/* Keep in sync with the loader (af_xdp_bpf.h). */
enum steer_stat {
	STEER_STAT_REDIRECT = 0,  /* handed to an XSK */
	STEER_STAT_PASS,	  /* no socket on the queue, or not ours */
	STEER_STAT_REDIRECT_FAIL, /* the redirect fell back to XDP_PASS */
	STEER_STAT_MAX,
};

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

static __always_inline void
steer_count(__u32 stat)
{
	__u64 *c = bpf_map_lookup_elem(&steer_stats, &stat);

	if (c)
		*c += 1;
}

/* Verdicts of the classifier. */
enum steer_verdict {
	STEER_TO_KERNEL = 0,
	STEER_TO_XSK = 1,
};

/*
 * Classify one packet. This is where the rule maps will be consulted; for
 * now every packet of a queue with a socket goes to that socket. The
 * bounds checks on the Ethernet header are already done here so that the
 * rules can read it.
 */
static __always_inline enum steer_verdict
steer_classify(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (data + sizeof(struct ethhdr) > data_end)
		return STEER_TO_KERNEL;
	return STEER_TO_XSK;
}

SEC("xdp")
int
sl_steer(struct xdp_md *ctx)
{
	__u32 q = ctx->rx_queue_index;
	__u32 *on;
	long act;

	on = bpf_map_lookup_elem(&qmask, &q);
	if (!on || !*on || steer_classify(ctx) != STEER_TO_XSK) {
		steer_count(STEER_STAT_PASS);
		return XDP_PASS;
	}
	act = bpf_redirect_map(&xsks_map, q, XDP_PASS);
	steer_count(act == XDP_REDIRECT ? STEER_STAT_REDIRECT
					: STEER_STAT_REDIRECT_FAIL);
	return (int)act;
}

char _license[] SEC("license") = "Dual BSD/GPL";
