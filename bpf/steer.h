/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The maps of steer.bpf.c as both sides see them: the XDP program and its
 * loader and rule writer in drivers/net/af_xdp/ (af_xdp_prog.c,
 * af_xdp_rules.c) include this file, so the layouts cannot drift apart.
 * Only <linux/types.h> types: the file is compiled for the BPF target and
 * for the host.
 *
 * Classification of one packet (see steer.bpf.c):
 *   candidates = steer_cfg.active
 *                & (steer_cfg.nodst | mask of the longest prefix of the
 *                   packet's IP destination in steer_lpm4 / steer_lpm6)
 *   the first candidate slot (lowest index = highest priority) whose
 *   other fields match gives the action; none: steer_cfg.default_action.
 * A prefix's mask holds every rule whose destination prefix contains that
 * prefix (the control plane recomputes the masks when rules change), so
 * one trie lookup gives every rule whose prefix contains the destination.
 */
#ifndef SL_BPF_STEER_H
#define SL_BPF_STEER_H

#include <linux/types.h>

#define STEER_MAX_QUEUES 256
#define STEER_MAX_RULES 64 /* bits of a __u64 mask */
#define STEER_MAX_LOCAL 1024
/* steer_rstats: one entry per rule slot, then the default action's. */
#define STEER_RSTAT_DEFAULT STEER_MAX_RULES
#define STEER_RSTAT_MAX (STEER_MAX_RULES + 1)

/* Device counters (steer_stats, per CPU), one per final verdict. */
enum steer_stat {
	STEER_STAT_REDIRECT = 0, /* handed to an XSK */
	STEER_STAT_PASS, /* to the kernel: PASS, or XSK without socket */
	STEER_STAT_REDIRECT_FAIL, /* the redirect fell back to XDP_PASS */
	STEER_STAT_DROP,	  /* dropped by a rule or the default action */
	STEER_STAT_MAX,
};

/* Actions of a rule and of the default; 0 is XSK so that a program whose
 * maps are fresh behaves as before rules existed (everything of a queue
 * with a socket goes to it). Same values as enum sl_steer_action. */
enum steer_action {
	STEER_ACT_XSK = 0,
	STEER_ACT_PASS = 1,
	STEER_ACT_DROP = 2,
	STEER_ACT_MAX,
};

/* Fields a rule matches (struct steer_rule.match); a field whose bit is
 * clear is a wildcard. The destination prefix is not here: it is matched
 * through the tries, before the rule is read. */
#define STEER_M_ETHERTYPE (1u << 0) /* ethertype (after one VLAN tag) */
#define STEER_M_PROTO (1u << 1)	    /* IPv4 protocol / IPv6 next header */
#define STEER_M_PORT (1u << 2)	    /* UDP/TCP/SCTP destination port range */
#define STEER_M_TRANSIT (1u << 3)   /* unicast IP not for a local address */

/* steer_cfg, key 0. */
struct steer_cfg {
	__u64 active; /* published rule slots */
	__u64 nodst;  /* rule slots without a destination prefix */
	__u32 default_action;
	__u32 next_id; /* control plane only: sequence of rule ids */
};

/* steer_rules, key = slot = priority (0 first). The program reads match,
 * action, ethertype, ip_proto and the ports; the rest describes the rule
 * for the control plane (listing it, recomputing the prefix masks). */
struct steer_rule {
	__u32 id;    /* 0: free slot; else the rule id (slot in bits 0-5) */
	__u16 match; /* STEER_M_* */
	__u8 action; /* enum steer_action */
	__u8 ip_proto;
	__u16 ethertype; /* host order */
	__u16 port_lo;	 /* host order, inclusive */
	__u16 port_hi;
	__u8 dst_family; /* 0 (any), 4 or 6 */
	__u8 dst_plen;
	__u8 dst[16]; /* network order, host bits zero */
};

/* steer_rstats (per CPU), key = slot or STEER_RSTAT_DEFAULT. */
struct steer_rstat {
	__u64 pkts;
	__u64 bytes;
};

/* Keys of steer_lpm4 / steer_lpm6 (value: __u64 mask of rule slots). */
struct steer_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct steer_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Key of steer_local6 (steer_local4: the __u32 address, network order). */
struct steer_addr6 {
	__u8 addr[16];
};

#endif /* SL_BPF_STEER_H */
