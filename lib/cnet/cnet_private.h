/*
 * Internals of cnet shared by its files: the tables, the per-thread state
 * and the per-packet metadata the nodes pass along (in the mbuf's priv
 * area).
 */
#ifndef CNET_PRIVATE_H
#define CNET_PRIVATE_H

#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <pthread.h>
#include <stdint.h>

#include <sluice/sl_chnl.h>
#include <sluice/sl_cnet.h>
#include <sluice/sl_fib.h>
#include <sluice/sl_graph.h>
#include <sluice/sl_hash.h>
#include <sluice/sl_mbuf.h>
#include <sluice/sl_nlmirror.h>
#include <sluice/sl_ring.h>

#define CNET_ETH_HLEN 14
#define CNET_ETHERTYPE_IP4 0x0800

/* The IPv4 and ICMP headers as they lie in a frame: after the 14-byte
 * Ethernet header, so only 2-byte aligned (struct iphdr wants 4: access
 * through it would be undefined, and fault where alignment is strict). */
typedef struct iphdr cnet_ip4_hdr __attribute__((aligned(2)));
typedef struct icmphdr cnet_icmp4_hdr __attribute__((aligned(2)));

/* The UDP header. */
struct cnet_udp_hdr {
	uint16_t sport, dport, len, check;
};

#define CNET_IP4_HLEN 20
#define CNET_UDP_HLEN 8
/* Ethernet + IPv4 without options + UDP */
#define CNET_UDP_HDRS (CNET_ETH_HLEN + CNET_IP4_HLEN + CNET_UDP_HLEN)

/* Devices whose steering one stack manages. */
#define CNET_STEER_DEVS 64

/* Pending resolution requests; more are dropped (asked again later). */
#define CNET_RQ_MAX 64

/* Next-hop kinds. Id 0 is the FIB's default: no route. */
enum cnet_nh_type {
	CNET_NH_NONE,	     /* free slot, or no route */
	CNET_NH_GATEWAY,     /* forward via gw on ifindex */
	CNET_NH_CONNECTED,   /* forward to the destination on ifindex */
	CNET_NH_LOCAL,	     /* for this host: punt */
	CNET_NH_BLACKHOLE,   /* drop silently */
	CNET_NH_UNREACHABLE, /* ICMP host unreachable */
	CNET_NH_PROHIBIT,    /* ICMP administratively prohibited */
};

/* Paths of a next hop: a multipath route's paths fill the slots in
 * proportion to their weights; a flow hash picks a slot. */
#define CNET_NH_PATHS 16

struct cnet_path {
	int32_t ifindex;
	uint32_t gw; /* host order; 0: the destination is on the link */
};

/* Published entries never change; readers load the fields plainly. */
struct cnet_nh {
	uint8_t type;
	uint8_t npaths; /* slots of path[] in use (GATEWAY, CONNECTED) */
	uint8_t __pad[2];
	struct cnet_path path[CNET_NH_PATHS];
};

/* Written by the mirror thread field by field, read by the graph. */
struct cnet_link {
	uint8_t mac[6];
	uint8_t up;
	uint8_t known;
	uint32_t mtu;
	uint32_t addr; /* first IPv4 address, host order; 0: none */
	char name[16];
};

/* Control-side record of one route (mirror thread only). */
struct cnet_route {
	uint32_t dst;
	uint8_t plen;
	uint8_t local; /* from the local table */
	uint8_t seen;  /* reported since resync_begin */
	uint8_t __pad;
	uint32_t priority;
	uint32_t nh;
};

/* Neighbour hash key. */
struct cnet_neigh_key {
	int32_t ifindex;
	uint32_t ip; /* host order */
};

struct cnet_retired {
	uint32_t nh;
	uint64_t token;
};

struct sl_cnet {
	struct sl_fib4 *fib;
	struct sl_fib_qsbr *qsbr;
	struct sl_hash *neigh; /* (ifindex, ip) -> mac | valid bit */
	struct cnet_nh *nh;    /* max_nh slots */
	uint32_t max_nh;
	uint32_t nh_next; /* next slot to try */
	struct cnet_retired *retired;
	uint32_t nretired;
	struct cnet_route *routes; /* max_routes, linear (control side) */
	uint32_t max_routes;
	uint32_t nroutes;
	struct cnet_link links[SL_CNET_IFINDEX_MAX + 1];
	uint8_t punt_taken[SL_CNET_IFINDEX_MAX + 1]; /* a thread punts there */
	uint32_t epoch; /* resyncs begun, for the neighbours' epoch bits */
	bool resync;	/* between resync_begin and resync_end */
	/* bumped on every neighbour change (graph threads may look) */
	uint64_t neigh_gen;
	struct sl_cnet_cfg cfg;
	struct sl_nlm *nlm;
	/* channels: (ip, port) -> struct sl_chnl *; writers hold chnl_lock
	 * and free a closed channel after a QSBR grace period */
	struct sl_hash *chnls;
	pthread_mutex_t chnl_lock;
	uint32_t nchnls;
	uint16_t chnl_port_next; /* next ephemeral port to try */
	/* datagrams of sl_chnl_sendto() for udp_output (any thread) */
	struct sl_ring *chnl_txq;
	struct sl_chnl *chnl_list[SL_CHNL_MAX]; /* open ones (chnl_lock) */
	/* devices whose steering the stack manages (chnl_lock) */
	unsigned nsteer;
	char steer_devs[CNET_STEER_DEVS][16];
	/* resolution requests of the graph threads, made by a thread of
	 * cnet (a netlink request may wait for the kernel's answer) */
	pthread_t resolver;
	bool resolver_on, resolver_quit;
	pthread_mutex_t rq_lock;
	pthread_cond_t rq_cond;
	uint32_t rq_n;
	struct cnet_neigh_key rq[CNET_RQ_MAX];
	pthread_mutex_t lock; /* table updates vs sl_cnet_show() */
};

#define CNET_NEIGH_VALID (UINT64_C(1) << 48)
/* bits 49..63 of a neighbour's value: the resync epoch that reported it */
#define CNET_NEIGH_EPOCH_SHIFT 49

/* Per-packet metadata in mbuf->priv. */
struct cnet_meta {
	int32_t in_ifindex;
	int32_t out_ifindex;
	uint32_t nh;	/* next-hop id */
	uint32_t nh_ip; /* neighbour to resolve, host order */
	uint8_t reason; /* drop reason */
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint8_t __pad;
	uint16_t icmp_mtu; /* for frag needed */
	/* channels: udp_input -> chnl_recv, sl_chnl_sendto -> udp_output */
	uint16_t lport; /* local UDP port */
	struct sl_chnl *chnl;
	uint32_t laddr; /* local address, host order */
	uint32_t raddr; /* remote address, host order */
	uint16_t rport; /* remote UDP port */
};
SL_STATIC_ASSERT(sizeof(struct cnet_meta) <=
			 sizeof(((struct sl_mbuf *)0)->priv),
		 "cnet metadata must fit the mbuf's priv area");

static inline struct cnet_meta *
cnet_meta(struct sl_mbuf *m)
{
	return (struct cnet_meta *)(void *)m->priv;
}

/* A channel (sl_chnl.h). Graph threads read the fixed fields and add to
 * the rx counters; the rest belongs to the owner. */
#define CNET_CHNL_RULES 8
struct cnet_chnl_key {
	uint32_t ip; /* host order, 0: any */
	uint16_t port;
	uint16_t __pad;
};

struct sl_chnl {
	struct sl_cnet *cnet;
	struct sl_ring *rxq; /* MP (graph threads) / SC (owner) */
	sl_chnl_cb cb;
	void *arg;
	struct sl_chnl_addr local, peer;
	bool bound, connected;
	struct sl_chnl_stats st; /* rx_*: atomic adds of the graph threads */
	unsigned nrules;
	struct {
		char dev[16];
		unsigned id;
	} rules[CNET_CHNL_RULES];
};

/* Find the channel of a datagram to (ip, port), host order. */
static inline struct sl_chnl *
cnet_chnl_find(const struct sl_cnet *c, uint32_t ip, uint16_t port)
{
	struct cnet_chnl_key k = {.ip = ip, .port = port};
	uint64_t v;

	if (__atomic_load_n(&c->nchnls, __ATOMIC_RELAXED) == 0)
		return NULL;
	if (sl_hash_lookup(c->chnls, &k, &v) == 0)
		return (struct sl_chnl *)(uintptr_t)v;
	k.ip = 0;
	if (sl_hash_lookup(c->chnls, &k, &v) == 0)
		return (struct sl_chnl *)(uintptr_t)v;
	return NULL;
}

/* Checksum pieces: a running sum of 16-bit words in memory order, and
 * its folded complement (ready to store). */
uint32_t cnet_sum_partial(const void *data, uint32_t len, uint32_t sum);
uint16_t cnet_sum_fold(uint32_t sum);
/* The UDP checksum over the pseudo-header of ip (saddr, daddr), the UDP
 * header and payload (len bytes, the check field as it is): 0 for a
 * datagram whose check field is right; the value to store when the field
 * was 0 (a 0 result is sent as 0xffff). */
uint16_t cnet_udp4_cksum(const void *ip, const void *udp, uint16_t len);

int cnet_chnl_init(struct sl_cnet *c);
void cnet_chnl_fini(struct sl_cnet *c);

/* Resolution requests remembered per thread (rate limit). */
#define CNET_RESOLVE_SLOTS 16

/* The state of one stack thread. */
struct sl_cnet_thread {
	struct sl_cnet *cnet;
	struct sl_graph *graph;
	unsigned nports;
	struct sl_port *ports[SL_CNET_THREAD_PORTS];
	int ifindex[SL_CNET_THREAD_PORTS];
	unsigned qsbr_id;
	uint64_t rx_last; /* packets of the last walk (eth_rx) */
	uint64_t drops[SL_CNET_DROP_MAX];
	/* icmp4 token bucket */
	uint64_t icmp_tokens, icmp_last_tsc, icmp_tsc_per_token;
	/* ip4_output: packets waiting for a neighbour (hold_n: slots in
	 * use; slot i free when its n is 0) */
	struct sl_node *output; /* ip4_output, or NULL */
	unsigned hold_n;
	uint64_t hold_gen;   /* cnet->neigh_gen last seen */
	uint64_t hold_check; /* TSC of the last look at the slots */
	struct {
		uint32_t ip;
		int32_t ifindex;
		uint32_t n;
		uint64_t tsc; /* first packet held */
		struct sl_mbuf *pkts[SL_CNET_HOLD_PKTS];
	} hold[SL_CNET_HOLD_SLOTS];
	/* punt: the TAP device of each lport's device (NULL: none, the
	 * packets are dropped as punt), polled by kernel_recv */
	struct sl_port *punt[SL_CNET_THREAD_PORTS];
	uint64_t punt_poll_tsc; /* next look at the punt devices */
	uint16_t ip_id;		/* udp_output's IPv4 identification */
	/* ip4_output: last resolution asked per neighbour */
	struct {
		uint32_t ip;
		int32_t ifindex;
		uint64_t tsc;
	} resolve[CNET_RESOLVE_SLOTS];
};

/* Node contexts hold the thread's state. */
struct cnet_node_ctx {
	struct sl_cnet_thread *t;
};

/* Set by sl_cnet_thread_create() around sl_graph_create() (same thread):
 * each node's init copies it into its context. */
extern __thread struct sl_cnet_thread *cnet_thread_setup;

int cnet_node_init(struct sl_graph *g, struct sl_node *node);

/* Ask the resolver thread to resolve a neighbour; never blocks. */
void cnet_resolve_post(struct sl_cnet *c, int ifindex, uint32_t ip);

/* Release held packets whose neighbour is known now, or expired. */
void cnet_hold_flush(struct sl_cnet_thread *t);

static inline struct sl_cnet_thread *
cnet_node_thread(struct sl_node *node)
{
	return ((struct cnet_node_ctx *)sl_node_ctx(node))->t;
}

static inline const struct cnet_link *
cnet_link_get(const struct sl_cnet *c, int ifindex)
{
	if (ifindex <= 0 || ifindex > SL_CNET_IFINDEX_MAX)
		return NULL;
	return &c->links[ifindex];
}

/* Route a packet from ip4_forward or icmp4: the next hop of a destination
 * is read once from the published table. */
static inline const struct cnet_nh *
cnet_nh_get(const struct sl_cnet *c, uint32_t id)
{
	return &c->nh[id < c->max_nh ? id : 0];
}

/* The path of a next hop (GATEWAY or CONNECTED) for a flow: a hash of
 * its addresses picks a slot when there are several (as the kernel's
 * default L3 multipath hash does, so one flow keeps one path). */
static inline const struct cnet_path *
cnet_nh_path(const struct cnet_nh *nh, uint32_t src, uint32_t dst)
{
	uint32_t h;

	if (likely(nh->npaths <= 1))
		return &nh->path[0];
	h = (src ^ (dst * 0x9e3779b1u)) * 0x85ebca6bu;
	return &nh->path[(h >> 16) % nh->npaths];
}

/* Set a packet's output from its next hop: interface and neighbour. */
static inline void
cnet_meta_route(struct cnet_meta *meta, const struct cnet_nh *nh, uint32_t id,
		uint32_t src, uint32_t dst)
{
	const struct cnet_path *p = cnet_nh_path(nh, src, dst);

	meta->nh = id;
	meta->out_ifindex = p->ifindex;
	meta->nh_ip = p->gw != 0 ? p->gw : dst;
}

#endif /* CNET_PRIVATE_H */
