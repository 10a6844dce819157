/**
 * @file XDP traffic generator and counting sink, for tests, benchmarks
 * and traffic apps (txgen).
 *
 * The generator makes the kernel send the frames: user space runs the XDP
 * program xdpgen.bpf.o with BPF_PROG_RUN and BPF_F_TEST_XDP_LIVE_FRAMES
 * (Linux >= 5.18) in batches of up to 256 frames, and the program writes
 * the Ethernet/IPv4/UDP header of each frame, picks its flow, stamps a
 * sequence number and paces with a token bucket; it returns XDP_TX (out of
 * the generator's device) or XDP_REDIRECT (out of another device). It
 * does not go through pktdev: no socket, no UMEM, no copy in user space.
 * A veth peer delivers the frames only when it has NAPI (an XDP program
 * attached, or GRO on).
 *
 * The sink attaches xdpsink.bpf.o to a device: it counts (per CPU) and
 * drops every frame the device receives.
 *
 * Both need CAP_BPF and CAP_NET_ADMIN (or CAP_SYS_ADMIN) and a libsluice
 * built with BPF support (libbpf, libxdp, clang's BPF target); the
 * objects are found through $SL_BPF_PATH (a directory, or a file next to
 * them), else the build tree, else the install tree (share/sluice/).
 * Functions that fail log what failed and why (module "xdpgen").
 */
#ifndef SL_XDPGEN_H
#define SL_XDPGEN_H

#include <stdbool.h>
#include <stdint.h>
#include "sl_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Smallest frame: Ethernet + IPv4 + UDP headers and the sequence number. */
#define SL_XDPGEN_MIN_FRAME 50
/** Largest frame: a page less the kernel's headroom and tailroom (x86-64,
 * Linux 6.x; the kernel has the last word: larger fails with EINVAL). */
#define SL_XDPGEN_MAX_FRAME 3408
/** Frames per kernel batch (the kernel's maximum). */
#define SL_XDPGEN_BATCH 256

/** Header fields that differ between flows. */
enum sl_xdpgen_flow_field {
	SL_XDPGEN_FLOW_SPORT = 1,  /**< UDP source port: src_port + flow */
	SL_XDPGEN_FLOW_SRC_IP = 2, /**< IPv4 source: src_ip + flow */
	SL_XDPGEN_FLOW_BOTH = 3,   /**< both */
};

/** Generator settings. Zero fields take the default given. */
struct sl_xdpgen_cfg {
	/** Device the frames leave by (XDP_TX). Required. */
	const char *ifname;
	/** When set: the frames are redirected to this device instead
	 * (XDP_REDIRECT); ifname is then only where they "arrive". */
	const char *redirect_ifname;
	uint8_t src_mac[6]; /**< all zero: the MAC of ifname */
	uint8_t dst_mac[6]; /**< all zero: ff:ff:ff:ff:ff:ff */
	uint32_t src_ip;    /**< network order; 0: 198.18.0.1 */
	uint32_t dst_ip;    /**< network order; 0: 198.18.0.2 */
	uint16_t src_port;  /**< 0: 9000 */
	uint16_t dst_port;  /**< 0: 9001 */
	/** Frame length without FCS, SL_XDPGEN_MIN_FRAME to
	 * SL_XDPGEN_MAX_FRAME; 0: 64. */
	uint16_t frame_size;
	/** Flows, 1 to 65536 (frame i is in flow i % flows); 0: 1. */
	uint32_t flows;
	/** What differs between flows; 0: SL_XDPGEN_FLOW_SPORT. */
	enum sl_xdpgen_flow_field flow_field;
	/** Frames per second; 0: as fast as the kernel sends them. */
	uint64_t rate_pps;
	/** Depth of the token bucket in frames (the longest burst at line
	 * rate); 0: the larger of 32 and 2 ms of rate_pps. */
	uint32_t burst;
	/** Frames per kernel batch, 1 to SL_XDPGEN_BATCH; 0: the maximum. */
	uint32_t batch_size;
};

/** Counters of a run (since the last sl_xdpgen_run() started). */
struct sl_xdpgen_stats {
	uint64_t sent;	  /**< frames handed to the device */
	uint64_t bytes;	  /**< their bytes */
	uint64_t paced;	  /**< frames dropped by the token bucket */
	uint64_t limited; /**< frames dropped once the count was reached */
	uint64_t calls;	  /**< BPF_PROG_RUN calls */
	double seconds;	  /**< duration of the run (so far) */
};

struct sl_xdpgen;

/**
 * Load the generator's program and check that the kernel can run it with
 * live frames (a run that sends nothing).
 * @param cfg Settings; copied.
 * @return The generator, or NULL with errno: EINVAL (a setting out of
 *   range, or a kernel without live frames), ENODEV (no such device),
 *   ENETDOWN (the device is down), EPERM (needs CAP_BPF and CAP_NET_ADMIN,
 *   or CAP_SYS_ADMIN), ENOENT (xdpgen.bpf.o not found), ENOMEM.
 */
SL_API struct sl_xdpgen *sl_xdpgen_create(const struct sl_xdpgen_cfg *cfg);

/**
 * Send until count frames were sent, seconds passed, or sl_xdpgen_stop()
 * was called, whichever comes first. Runs on the calling thread and on a
 * helper thread started with the caller's CPU affinity and every signal
 * blocked: one of them is always inside the kernel, so the kernel never
 * re-publishes its XDP dispatcher between two calls (a pause of tens of
 * ms in a VM). Pin the calling thread to one CPU for exact pacing and
 * one sequence of numbers: counters and sequence numbers are per CPU.
 * @param count Frames to send exactly (0: no limit).
 * @param seconds Duration (0: no limit); count and seconds may not both
 *   be 0.
 * @param st When not NULL: the run's counters.
 * @return 0 (also when stopped), -EINVAL (no limit given), or the -errno
 *   of a failed BPF_PROG_RUN or map access.
 */
SL_API int sl_xdpgen_run(struct sl_xdpgen *g, uint64_t count, double seconds,
			 struct sl_xdpgen_stats *st);

/** Make a running sl_xdpgen_run() return soon (async-signal-safe). */
SL_API void sl_xdpgen_stop(struct sl_xdpgen *g);

/**
 * Change the rate, also while running (from any thread).
 * @param rate_pps Frames per second; 0: unpaced.
 * @param burst Bucket depth in frames; 0: the default (see the cfg).
 * @return 0, or -errno of the map update.
 */
SL_API int sl_xdpgen_rate_set(struct sl_xdpgen *g, uint64_t rate_pps,
			      uint32_t burst);

/**
 * Read the counters of the current or last run (from any thread).
 * @return 0, or -errno of the map lookup.
 */
SL_API int sl_xdpgen_stats_get(struct sl_xdpgen *g, struct sl_xdpgen_stats *st);

/** Unload the program. NULL: no-op. */
SL_API void sl_xdpgen_destroy(struct sl_xdpgen *g);

/** How the sink is attached. */
enum sl_xdpsink_mode {
	SL_XDPSINK_MODE_AUTO = 0, /**< native, else SKB (generic) */
	SL_XDPSINK_MODE_NATIVE,	  /**< driver mode */
	SL_XDPSINK_MODE_SKB,	  /**< generic mode */
};

/** Sink settings. */
struct sl_xdpsink_cfg {
	const char *ifname; /**< device to count on; required */
	enum sl_xdpsink_mode mode;
	/** Count IPv4/UDP frames to this port (host order) as "matched";
	 * 0: matched stays 0. */
	uint16_t udp_dport;
	/** Replace an XDP program already on the device. */
	bool force;
};

/** Counters of the sink since it was attached. */
struct sl_xdpsink_stats {
	uint64_t packets; /**< every frame received (and dropped) */
	uint64_t bytes;
	uint64_t matched; /**< IPv4/UDP frames to udp_dport */
};

struct sl_xdpsink;

/**
 * Attach the sink to a device.
 * @return The sink, or NULL with errno: EINVAL, ENODEV, EBUSY (another
 *   XDP program is attached and force is not set), EPERM, ENOENT
 *   (xdpsink.bpf.o not found), EOPNOTSUPP (native mode not supported by
 *   the driver), ENOMEM.
 */
SL_API struct sl_xdpsink *sl_xdpsink_attach(const struct sl_xdpsink_cfg *cfg);

/** @return The mode the sink is attached in (NATIVE or SKB). */
SL_API enum sl_xdpsink_mode sl_xdpsink_mode(const struct sl_xdpsink *s);

/**
 * Sum the sink's per-CPU counters.
 * @return 0, or -errno of the map lookup.
 */
SL_API int sl_xdpsink_stats_get(struct sl_xdpsink *s,
				struct sl_xdpsink_stats *st);

/** Detach the sink (only if it is still the program attached) and free
 * it. NULL: no-op. */
SL_API void sl_xdpsink_detach(struct sl_xdpsink *s);

#ifdef __cplusplus
}
#endif
#endif /* SL_XDPGEN_H */
