// SPDX-License-Identifier: BSD-3-Clause
/*
 * fwd_redirect: the in-kernel XDP row of bench-fwd. Every frame that
 * arrives on the device is redirected, unchanged, to the device in slot 0
 * of fwd_ports (a DEVMAP the loader, fwd_redirect_load.c, fills). A frame
 * that cannot be redirected (empty slot) is aborted, which the
 * xdp:xdp_exception tracepoint shows. Native or SKB mode, as attached.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fwd_ports SEC(".maps");

SEC("xdp")
int
fwd_redirect(struct xdp_md *ctx)
{
	(void)ctx;
	return bpf_redirect_map(&fwd_ports, 0, XDP_ABORTED);
}

char _license[] SEC("license") = "Dual BSD/GPL";
