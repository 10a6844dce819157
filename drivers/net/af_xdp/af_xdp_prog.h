/*
 * The XDP side of net_af_xdp (not installed): our steering program
 * (bpf/steer.bpf.c) attached once per network device and shared by the
 * lports on the device's queues, or an XSKMAP someone else pinned.
 *
 * A device entry is keyed by (network namespace, ifindex) and reference
 * counted: the first lport loads and attaches the program, the last one
 * detaches exactly the program it attached. It is attached through
 * libxdp's dispatcher where the kernel accepts it (BPF_PROG_TYPE_EXT
 * programs), next to other programs; else alone through a bpf_link, which
 * the kernel removes when the process ends however it ends (SIGKILL too);
 * else (kernels without XDP links) through netlink. A sluice program left
 * attached through netlink by a process that is gone is replaced; one a
 * live process holds (a bpf_link) is not. At exit and on SIGINT/SIGTERM,
 * net_af_xdp calls axp_detach_all().
 *
 * Two builds of the program exist: steer.bpf.o (SEC "xdp") and
 * steer_frags.bpf.o (SEC "xdp.frags", for multi-buffer sockets); a device
 * runs one of them, chosen by the lport that attaches it. Its steering
 * rules (bpf/steer.h) are written by af_xdp_rules.c through the map fds
 * of struct axp_rule_maps.
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

/* Counters of steer.bpf.c (enum steer_stat in bpf/steer.h, same order)
 * that axp_dev_stats() sums over the CPUs. */
enum axp_stat {
	AXP_STAT_REDIRECT = 0,
	AXP_STAT_PASS,
	AXP_STAT_REDIRECT_FAIL,
	AXP_STAT_DROP,
	AXP_STAT_MAX,
};

/* What a device's default action is when the program is attached: the
 * lport option steer=all|rules, one value per device. */
enum axp_steer {
	AXP_STEER_ALL = 0, /* default XSK: every packet of the queue */
	AXP_STEER_RULES,   /* default PASS: only what the rules select */
};

/* Map fds of the program for its rules (owned by the device; valid while
 * a reference is held). */
struct axp_rule_maps {
	int stats;	    /* steer_stats */
	int cfg;	    /* steer_cfg */
	int rules;	    /* steer_rules */
	int rstats;	    /* steer_rstats */
	int lpm4, lpm6;	    /* steer_lpm4, steer_lpm6 */
	int local4, local6; /* steer_local4, steer_local6 */
};

struct axp_dev;

struct axp_req {
	const char *port;   /* lport name, for messages */
	const char *ifname; /* device name */
	int ifindex;
	enum axp_mode mode;
	bool force; /* replace a foreign XDP program */
	bool frags; /* the SEC("xdp.frags") build (multi-buffer sockets) */
	enum axp_steer steer;
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

/* The device's name, its build of the program, its steer= value. */
const char *axp_dev_ifname(const struct axp_dev *dev);
bool axp_dev_frags(const struct axp_dev *dev);
enum axp_steer axp_dev_steer(const struct axp_dev *dev);
const struct axp_rule_maps *axp_dev_rule_maps(const struct axp_dev *dev);

/* The device of that name in this network namespace, if this process
 * attached the program to it, with a reference (drop it with
 * axp_dev_put()); NULL with errno ENODEV. */
struct axp_dev *axp_dev_find(const char *ifname);
/* Every device this process attached the program to (any namespace):
 * up to max of them in out, each with a reference. Returns how many. */
unsigned axp_dev_all(struct axp_dev **out, unsigned max);

/* Enable or disable the socket of queue q in a qmask map. */
int axp_qmask_set(int qmask_fd, uint32_t q, bool on);

/* Detach every program this process attached in the calling thread's
 * network namespace, at exit or in a signal handler (no lock taken). */
void axp_detach_all(void);

/* Name of an XDP mode, of a steer= value, for messages. */
const char *axp_mode_name(enum axp_mode mode);
const char *axp_steer_name(enum axp_steer steer);

/* Path of steer.bpf.o: $SL_BPF_PATH (a file, or a directory holding
 * steer.bpf.o), else the build tree's, else the install tree's. */
const char *axp_obj_path(char *buf, size_t len);
/* The same for either build: with frags, steer_frags.bpf.o in the
 * directory $SL_BPF_PATH names (or holds the file it names), else the
 * build tree's, else the install tree's. */
const char *axp_obj_path_variant(char *buf, size_t len, bool frags);

#endif /* SL_AF_XDP_PROG_H */
