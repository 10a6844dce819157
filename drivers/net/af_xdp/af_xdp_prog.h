/*
 * The XDP side of net_af_xdp (not installed): our steering program
 * (bpf/steer.bpf.c) attached once per network device and shared by the
 * lports on the device's queues, or an XSKMAP someone else pinned.
 *
 * A device entry is keyed by (network namespace, ifindex) and reference
 * counted: the first lport loads and attaches the program, the last one
 * detaches exactly the program it attached. The program is attached as a
 * single program with libbpf (the libxdp dispatcher is not used: it needs
 * BPF_PROG_TYPE_EXT programs, which not every kernel accepts).
 *
 * Functions return 0 or -errno after logging what failed, naming the lport.
 */
#ifndef SL_AF_XDP_PROG_H
#define SL_AF_XDP_PROG_H

#include <stdbool.h>
#include <stdint.h>

/* Where the program is attached. */
enum axp_mode {
	AXP_MODE_AUTO = 0, /* native, else SKB (generic) */
	AXP_MODE_NATIVE,   /* driver mode */
	AXP_MODE_SKB,	   /* generic mode */
};

/* Counters of steer.bpf.c (enum steer_stat). */
enum axp_stat {
	AXP_STAT_REDIRECT = 0,
	AXP_STAT_PASS,
	AXP_STAT_REDIRECT_FAIL,
	AXP_STAT_MAX,
};

struct axp_dev;

struct axp_req {
	const char *port;   /* lport name, for messages */
	const char *ifname; /* device name */
	int ifindex;
	enum axp_mode mode;
	bool force; /* replace a foreign XDP program */
};

/* Attach the program to the device, or take a reference on the one
 * attached by an earlier lport (whose mode must then fit req->mode). */
int axp_dev_get(const struct axp_req *req, struct axp_dev **out);
/* Drop a reference; the last one detaches the program. NULL: no-op. */
void axp_dev_put(struct axp_dev *dev);

/* The mode the program is attached in (AXP_MODE_NATIVE or _SKB). */
enum axp_mode axp_dev_mode(const struct axp_dev *dev);
int axp_dev_xsks_fd(const struct axp_dev *dev);
int axp_dev_qmask_fd(const struct axp_dev *dev);
/* Sum the per-CPU counters of the program into out[AXP_STAT_MAX]. */
int axp_dev_stats(const struct axp_dev *dev, uint64_t *out);

/* Enable or disable the socket of queue q in a qmask map. */
int axp_qmask_set(int qmask_fd, uint32_t q, bool on);

/* Name of an XDP mode for messages. */
const char *axp_mode_name(enum axp_mode mode);

/* Path of steer.bpf.o: $SL_BPF_PATH (a file, or a directory holding
 * steer.bpf.o), else the build tree's, else the install tree's. */
const char *axp_obj_path(char *buf, size_t len);

#endif /* SL_AF_XDP_PROG_H */
