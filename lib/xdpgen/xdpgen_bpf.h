/*
 * The interface between the XDP programs bpf/xdpgen.bpf.c and
 * bpf/xdpsink.bpf.c and their loader (sl_xdpgen.c): map value layouts and
 * constants. Included by both sides (BPF and user space), so it uses the
 * kernel's __u types only. Not installed.
 *
 * Maps of xdpgen.bpf.o:
 *   xdpgen_cfg     ARRAY[1] of struct xdpgen_cfg, written by the loader
 *                  before each run (and by sl_xdpgen_rate_set())
 *   xdpgen_pcpu    PERCPU_ARRAY[1] of struct xdpgen_pcpu: counters and
 *                  flow of the CPU running the program
 *   xdpgen_shared  ARRAY[1] of struct xdpgen_shared: the pacer and the
 *                  count, shared by every CPU and updated atomically
 * Maps of xdpsink.bpf.o:
 *   xdpsink_cfg   ARRAY[1] of struct xdpsink_cfg
 *   xdpsink_pcpu  PERCPU_ARRAY[1] of struct xdpsink_pcpu
 */
#ifndef SL_XDPGEN_BPF_H
#define SL_XDPGEN_BPF_H

#include <linux/types.h>

/* Ethernet 14 + IPv4 20 + UDP 8, then a 64-bit sequence number (host
 * byte order, the layout of sl-pkt's payload). */
#define XDPGEN_HDR_LEN 42
#define XDPGEN_SEQ_OFF 42
#define XDPGEN_MIN_LEN (XDPGEN_HDR_LEN + 8)

/* Offsets in the frame. */
#define XDPGEN_OFF_IP 14
#define XDPGEN_OFF_IP_CSUM 24
#define XDPGEN_OFF_IP_SRC 26
#define XDPGEN_OFF_UDP 34

/* What the program does with a frame it lets through (cfg.action). */
enum xdpgen_action {
	XDPGEN_ACT_DROP = 0, /* disarmed: probes the kernel, sends nothing */
	XDPGEN_ACT_TX,	     /* XDP_TX: out of the run's device */
	XDPGEN_ACT_REDIRECT, /* XDP_REDIRECT to cfg.redirect_ifindex */
};

/* Header fields that change from flow to flow (cfg.flow_fields). */
#define XDPGEN_FLOW_SPORT 1u
#define XDPGEN_FLOW_SRC_IP 2u

struct xdpgen_cfg {
	__u8 hdr[48];		/* the frame's first XDPGEN_HDR_LEN bytes */
	__u32 action;		/* enum xdpgen_action */
	__u32 redirect_ifindex; /* with XDPGEN_ACT_REDIRECT */
	__u32 flows;		/* 1..: frame i belongs to flow i % flows */
	__u32 flow_fields;	/* XDPGEN_FLOW_* */
	__u32 src_ip;		/* host order: flow f has src_ip + f */
	__u32 ip_sum;		/* ones' complement sum of the IPv4 header
				 * words, checksum and source address 0 */
	__u16 sport;		/* host order: flow f has sport + f */
	__u16 pad0;
	__u32 pad1;
	/* Pacing (GCRA, the virtual-scheduling form of a token bucket):
	 * a frame conforms when the theoretical arrival time shared.tat_ps
	 * is at most tau_ps ahead of now; it then moves tat_ps on by
	 * interval_ps. Times are ps since t0_ns (CLOCK_MONOTONIC). */
	__u64 interval_ps; /* 1e12 / rate; 0 = unpaced */
	__u64 tau_ps;	   /* (burst - 1) * interval_ps */
	__u64 t0_ns;	   /* start of the run */
	__u64 limit;	   /* frames to let through in the run; 0 = no limit */
};

/* Per CPU; the loader sums the counters over the CPUs. */
struct xdpgen_pcpu {
	__u64 sent;    /* frames let through (XDP_TX / XDP_REDIRECT) */
	__u64 bytes;   /* their bytes */
	__u64 paced;   /* dropped: over the rate */
	__u64 limited; /* dropped: the run's count was reached */
	__u64 errors;  /* dropped: frame shorter than XDPGEN_MIN_LEN */
	__u32 flow;    /* flow of the next frame */
	__u32 pad;
};

struct xdpgen_shared {
	__u64 issued; /* frames that asked to be let through (with a limit) */
	__u64 tat_ps; /* pacer: theoretical arrival time of the next frame */
};

struct xdpsink_cfg {
	__u16 udp_dport; /* network order; 0: count no "matched" frames */
	__u16 pad0;
	__u32 pad1;
};

struct xdpsink_pcpu {
	__u64 packets; /* every frame seen (and dropped) */
	__u64 bytes;
	__u64 matched; /* IPv4/UDP frames to cfg.udp_dport */
};

#endif /* SL_XDPGEN_BPF_H */
