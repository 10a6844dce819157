/*
 * The XDP traffic generator and counting sink (include/sluice/sl_xdpgen.h):
 * loaders of bpf/xdpgen.bpf.o and bpf/xdpsink.bpf.o and the generator's
 * run loop. The map layouts are in xdpgen_bpf.h.
 *
 * Run loop: each BPF_PROG_RUN call with live frames builds a page pool,
 * and the kernel re-publishes its XDP dispatcher (a synchronize_rcu(),
 * tens of ms in a VM, during which nothing is sent) whenever the first
 * run of a program starts or the last one ends. So a run has two workers,
 * the calling thread and a helper on the same CPUs, each making calls of
 * about XG_CALL_NS at the throughput it measured on its previous call
 * (the last one sized to end at the deadline): while one is between two
 * calls the other is inside one, the program stays in the dispatcher and
 * the traffic has no gaps. The program paces (one token bucket shared by
 * every CPU) and counts; user space only sizes the calls, reads the
 * counters and stops.
 */
#define SL_LOG_MODULE "xdpgen"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sluice/sl_log.h"
#include "sluice/sl_xdpgen.h"
#include "xdpgen_bpf.h"

#define XG_GEN_OBJ "xdpgen.bpf.o"
#define XG_SINK_OBJ "xdpsink.bpf.o"
#define XG_CALL_NS 50000000ull	 /* target duration of one call */
#define XG_FIRST_REPEAT 16384u	 /* frames in the first call */
#define XG_MAX_REPEAT (1u << 24) /* frames in one call at most */
#define XG_MAX_RATE 1000000000ull
#define XG_MAX_BURST (1u << 24)
/* default bucket depth: the larger of this and 2 ms of the rate */
#define XG_MIN_BURST 32
#define XG_MAX_BUCKET_PS 1000000000000000ull /* 1000 s */
#define XG_PS_PER_S 1000000000000ull
#define XG_WORKERS 2

SL_STATIC_ASSERT(SL_XDPGEN_MIN_FRAME == XDPGEN_MIN_LEN,
		 "the public minimum frame is the program's");

struct sl_xdpgen {
	struct bpf_object *obj;
	int prog_fd, cfg_fd, pcpu_fd, shared_fd;
	int ifindex;
	int ncpu;
	uint32_t batch;
	uint16_t frame_size;
	char ifname[IF_NAMESIZE];
	pthread_mutex_t lock; /* kcfg, and its writes to the map */
	struct xdpgen_cfg kcfg;
	struct xdpgen_pcpu *pcpu[XG_WORKERS]; /* ncpu values, for lookups */
	uint8_t frame[SL_XDPGEN_MAX_FRAME];
	volatile sig_atomic_t stop;
	int run_err;		 /* first error of a worker (atomic) */
	uint64_t count;		 /* the run's count, 0: none */
	uint64_t deadline;	 /* CLOCK_MONOTONIC ns, UINT64_MAX: none */
	uint64_t sent;		 /* frames sent, as last read (atomic) */
	uint64_t calls;		 /* atomic */
	uint64_t t_start, t_end; /* CLOCK_MONOTONIC ns of the last run */
};

struct sl_xdpsink {
	struct bpf_object *obj;
	int prog_fd, pcpu_fd;
	int ifindex;
	int ncpu;
	uint32_t xdp_flags; /* XDP_FLAGS_DRV_MODE or _SKB_MODE */
	enum sl_xdpsink_mode mode;
	struct xdpsink_pcpu *pcpu;
	char ifname[IF_NAMESIZE];
};

static uint64_t
xg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Path of one of our objects: $SL_BPF_PATH (a directory, or a file whose
 * directory holds it), else the build tree, else the install tree. */
static const char *
xg_obj_path(const char *name, char *buf, size_t len)
{
	const char *env = getenv("SL_BPF_PATH");
	const char *slash;
	struct stat st;

	if (env != NULL && env[0] != '\0') {
		if (stat(env, &st) == 0 && S_ISDIR(st.st_mode)) {
			snprintf(buf, len, "%s/%s", env, name);
		} else {
			slash = strrchr(env, '/');
			snprintf(buf, len, "%.*s%s",
				 slash ? (int)(slash - env + 1) : 0, env, name);
		}
		return buf;
	}
	snprintf(buf, len, "%s/%s", SL_XDPGEN_BPF_BUILD_DIR, name);
	if (access(buf, R_OK) == 0)
		return buf;
	snprintf(buf, len, "%s/%s", SL_XDPGEN_BPF_INSTALL_DIR, name);
	return buf;
}

/* Open and load one object; the program's fd in *prog_fd. */
static int
xg_load(const char *what, const char *obj_name, const char *prog_name,
	struct bpf_object **objp, int *prog_fd)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	char path[4096];
	int err;

	xg_obj_path(obj_name, path, sizeof(path));
	obj = bpf_object__open_file(path, NULL);
	if (obj == NULL) {
		err = -errno;
		SL_ERR("%s: opening the XDP program %s: %s%s", what, path,
		       sl_strerror(err),
		       err == -ENOENT ? " (set SL_BPF_PATH to the directory "
					"holding " XG_GEN_OBJ ")"
				      : "");
		return err;
	}
	err = bpf_object__load(obj);
	if (err < 0) {
		SL_ERR("%s: loading the XDP program %s: %s%s", what, path,
		       sl_strerror(err),
		       err == -EPERM ? " (needs CAP_BPF and CAP_NET_ADMIN, "
				       "or CAP_SYS_ADMIN)"
				     : "");
		bpf_object__close(obj);
		return err;
	}
	prog = bpf_object__find_program_by_name(obj, prog_name);
	if (prog == NULL) {
		SL_ERR("%s: %s has no program %s", what, path, prog_name);
		bpf_object__close(obj);
		return -ENOENT;
	}
	*prog_fd = bpf_program__fd(prog);
	*objp = obj;
	return 0;
}

static int
xg_map_fd(struct bpf_object *obj, const char *what, const char *name)
{
	int fd = bpf_object__find_map_fd_by_name(obj, name);

	if (fd < 0)
		SL_ERR("%s: the XDP program has no map %s", what, name);
	return fd < 0 ? -ENOENT : fd;
}

/* ifindex of a device of this network namespace, its flags and MAC. */
static int
xg_dev(const char *what, const char *ifname, int *ifindex, short *flags,
       uint8_t mac[6])
{
	struct ifreq ifr;
	int fd, err = 0;

	if (ifname == NULL || ifname[0] == '\0') {
		SL_ERR("%s: no device given", what);
		return -EINVAL;
	}
	if (strlen(ifname) >= IF_NAMESIZE) {
		SL_ERR("%s: device name '%s' is longer than %d characters",
		       what, ifname, IF_NAMESIZE - 1);
		return -EINVAL;
	}
	*ifindex = (int)if_nametoindex(ifname);
	if (*ifindex == 0) {
		SL_ERR("%s: network device '%s': no such device in this "
		       "network namespace",
		       what, ifname);
		return -ENODEV;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		SL_ERR("%s: control socket: %s", what, sl_strerror(err));
		return err;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		err = -errno;
		SL_ERR("%s: flags of %s: %s", what, ifname, sl_strerror(err));
		goto out;
	}
	*flags = ifr.ifr_flags;
	if (mac != NULL) {
		if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
			err = -errno;
			SL_ERR("%s: MAC address of %s: %s", what, ifname,
			       sl_strerror(err));
			goto out;
		}
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	}
out:
	close(fd);
	return err;
}

/* ---- generator ------------------------------------------------------------
 */

static uint16_t
xg_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Ones' complement sum of the 16-bit words of a buffer (memory order). */
static uint32_t
xg_sum16(const uint8_t *p, unsigned len)
{
	uint32_t sum = 0;
	uint16_t w;
	unsigned i;

	for (i = 0; i + 1 < len; i += 2) {
		memcpy(&w, p + i, 2);
		sum += w;
	}
	return sum;
}

/* The frame template (also the data the kernel copies into each page) and
 * the program's header fields. */
static void
xg_template(struct sl_xdpgen *g, const struct sl_xdpgen_cfg *cfg,
	    const uint8_t src_mac[6], const uint8_t dst_mac[6])
{
	uint8_t *t = g->frame;
	uint16_t v16;
	uint32_t saddr = cfg->src_ip, daddr = cfg->dst_ip;
	uint16_t sport = cfg->src_port ? cfg->src_port : 9000;
	uint16_t dport = cfg->dst_port ? cfg->dst_port : 9001;
	unsigned i;

	if (saddr == 0)
		inet_pton(AF_INET, "198.18.0.1", &saddr);
	if (daddr == 0)
		inet_pton(AF_INET, "198.18.0.2", &daddr);
	memset(t, 0, g->frame_size);
	memcpy(t, dst_mac, 6);
	memcpy(t + 6, src_mac, 6);
	t[12] = 0x08; /* IPv4 */
	t[14] = 0x45;
	v16 = htons((uint16_t)(g->frame_size - 14));
	memcpy(t + 16, &v16, 2);
	t[20] = 0x40; /* DF */
	t[22] = 64;   /* TTL */
	t[23] = 17;   /* UDP */
	memcpy(t + 30, &daddr, 4);
	/* the sum without checksum and source address: the program adds
	 * each flow's source address */
	g->kcfg.ip_sum = xg_sum16(t + XDPGEN_OFF_IP, 20);
	memcpy(t + XDPGEN_OFF_IP_SRC, &saddr, 4);
	v16 = (uint16_t)~xg_csum_fold(xg_sum16(t + XDPGEN_OFF_IP, 20));
	memcpy(t + XDPGEN_OFF_IP_CSUM, &v16, 2);
	v16 = htons(sport);
	memcpy(t + 34, &v16, 2);
	v16 = htons(dport);
	memcpy(t + 36, &v16, 2);
	v16 = htons((uint16_t)(g->frame_size - 34));
	memcpy(t + 38, &v16, 2);
	/* UDP checksum 0: none. Payload: sequence number, then a pattern */
	for (i = XDPGEN_SEQ_OFF + 8; i < g->frame_size; i++)
		t[i] = (uint8_t)i;
	memcpy(g->kcfg.hdr, t, XDPGEN_HDR_LEN);
	g->kcfg.src_ip = ntohl(saddr);
	g->kcfg.sport = sport;
}

/* Pacing fields of kcfg for a rate and bucket depth (0: default). */
static void
xg_pacing(struct sl_xdpgen *g, uint64_t rate, uint32_t burst)
{
	uint64_t b = burst;

	uint64_t interval = 0;

	if (rate != 0) {
		if (b == 0)
			b = SL_MAX((uint64_t)XG_MIN_BURST, rate / 500);
		interval = SL_MAX(XG_PS_PER_S / rate, (uint64_t)1);
		g->kcfg.tau_ps = SL_MIN((b - 1) * interval, XG_MAX_BUCKET_PS);
	}
	/* read by the workers without the lock */
	__atomic_store_n(&g->kcfg.interval_ps, interval, __ATOMIC_RELAXED);
}

static int
xg_cfg_write(struct sl_xdpgen *g)
{
	uint32_t k = 0;

	if (bpf_map_update_elem(g->cfg_fd, &k, &g->kcfg, BPF_ANY) < 0) {
		int err = -errno;

		SL_ERR("xdpgen %s: writing the program's settings: %s",
		       g->ifname, sl_strerror(err));
		return err;
	}
	return 0;
}

static int
xg_check_cfg(const struct sl_xdpgen_cfg *cfg)
{
	if (cfg == NULL) {
		SL_ERR("xdpgen: no settings given");
		return -EINVAL;
	}
	if (cfg->frame_size != 0 && (cfg->frame_size < SL_XDPGEN_MIN_FRAME ||
				     cfg->frame_size > SL_XDPGEN_MAX_FRAME)) {
		SL_ERR("xdpgen %s: frame size %u: must be %d to %d bytes",
		       cfg->ifname ? cfg->ifname : "?", cfg->frame_size,
		       SL_XDPGEN_MIN_FRAME, SL_XDPGEN_MAX_FRAME);
		return -EINVAL;
	}
	if (cfg->flows > 65536) {
		SL_ERR("xdpgen: %u flows: at most 65536", cfg->flows);
		return -EINVAL;
	}
	if (cfg->flow_field != 0 && (cfg->flow_field < SL_XDPGEN_FLOW_SPORT ||
				     cfg->flow_field > SL_XDPGEN_FLOW_BOTH)) {
		SL_ERR("xdpgen: unknown flow field %d", (int)cfg->flow_field);
		return -EINVAL;
	}
	if (cfg->rate_pps > XG_MAX_RATE) {
		SL_ERR("xdpgen: rate %llu frames/s: at most %llu",
		       (unsigned long long)cfg->rate_pps, XG_MAX_RATE);
		return -EINVAL;
	}
	if (cfg->burst > XG_MAX_BURST) {
		SL_ERR("xdpgen: burst %u: at most %u frames", cfg->burst,
		       XG_MAX_BURST);
		return -EINVAL;
	}
	if (cfg->batch_size > SL_XDPGEN_BATCH) {
		SL_ERR("xdpgen: batch size %u: the kernel takes at most %d",
		       cfg->batch_size, SL_XDPGEN_BATCH);
		return -EINVAL;
	}
	return 0;
}

/* One BPF_PROG_RUN call over n frames; its duration in *ns. */
static int
xg_call(struct sl_xdpgen *g, uint32_t n, uint64_t *ns)
{
	struct xdp_md ctx = {
		.data = 0,
		.data_end = g->frame_size,
		.ingress_ifindex = (uint32_t)g->ifindex,
		.rx_queue_index = 0,
	};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = g->frame,
		    .data_size_in = g->frame_size, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = n,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .batch_size = g->batch);
	uint64_t t0 = xg_now_ns();
	int err;

	err = bpf_prog_test_run_opts(g->prog_fd, &o);
	*ns = xg_now_ns() - t0;
	__atomic_fetch_add(&g->calls, 1, __ATOMIC_RELAXED);
	return err < 0 ? -errno : 0;
}

static void
xg_call_error(const struct sl_xdpgen *g, int err)
{
	SL_ERR("xdpgen %s: BPF_PROG_RUN with live frames: %s%s", g->ifname,
	       sl_strerror(err),
	       err == -EINVAL
		       ? " (the kernel needs BPF_F_TEST_XDP_LIVE_FRAMES, Linux "
			 ">= 5.18, and the frame must fit in a page with the "
			 "kernel's headroom: try a smaller frame size)"
	       : err == -EPERM	? " (needs CAP_BPF and CAP_NET_ADMIN, or "
				  "CAP_SYS_ADMIN)"
	       : err == -ENODEV ? " (the device went away)"
				: "");
}

struct sl_xdpgen *
sl_xdpgen_create(const struct sl_xdpgen_cfg *cfg)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t zero[6] = {0};
	uint8_t src_mac[6];
	struct sl_xdpgen *g;
	uint64_t ns;
	short flags;
	int err, i, rifindex = 0;
	char what[64];

	err = xg_check_cfg(cfg);
	if (err < 0)
		goto fail;
	snprintf(what, sizeof(what), "xdpgen %s",
		 cfg->ifname ? cfg->ifname : "");
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	pthread_mutex_init(&g->lock, NULL);
	g->prog_fd = g->cfg_fd = g->pcpu_fd = g->shared_fd = -1;
	err = xg_dev(what, cfg->ifname, &g->ifindex, &flags, src_mac);
	if (err < 0)
		goto free_g;
	snprintf(g->ifname, sizeof(g->ifname), "%s", cfg->ifname);
	if (!(flags & IFF_UP)) {
		SL_ERR("%s: the device is down (ip link set %s up)", what,
		       g->ifname);
		err = -ENETDOWN;
		goto free_g;
	}
	if (!(flags & IFF_RUNNING))
		SL_WARN("%s: the device has no carrier: frames sent now are "
			"dropped (a veth needs its peer up)",
			what);
	if (cfg->redirect_ifname != NULL) {
		err = xg_dev(what, cfg->redirect_ifname, &rifindex, &flags,
			     NULL);
		if (err < 0)
			goto free_g;
	}
	g->frame_size = cfg->frame_size ? cfg->frame_size : 64;
	g->batch = cfg->batch_size ? cfg->batch_size : SL_XDPGEN_BATCH;
	g->ncpu = libbpf_num_possible_cpus();
	if (g->ncpu <= 0) {
		err = g->ncpu < 0 ? g->ncpu : -EINVAL;
		SL_ERR("%s: number of possible CPUs: %s", what,
		       sl_strerror(err));
		goto free_g;
	}
	for (i = 0; i < XG_WORKERS; i++) {
		g->pcpu[i] = calloc((size_t)g->ncpu, sizeof(*g->pcpu[i]));
		if (g->pcpu[i] == NULL) {
			err = -ENOMEM;
			goto free_g;
		}
	}
	xg_template(g, cfg,
		    memcmp(cfg->src_mac, zero, 6) ? cfg->src_mac : src_mac,
		    memcmp(cfg->dst_mac, zero, 6) ? cfg->dst_mac : bcast);
	g->kcfg.flows = cfg->flows ? cfg->flows : 1;
	g->kcfg.flow_fields =
		cfg->flow_field ? (uint32_t)cfg->flow_field : XDPGEN_FLOW_SPORT;
	g->kcfg.redirect_ifindex = (uint32_t)rifindex;
	xg_pacing(g, cfg->rate_pps, cfg->burst);
	err = xg_load(what, XG_GEN_OBJ, "sl_xdpgen", &g->obj, &g->prog_fd);
	if (err < 0)
		goto free_g;
	g->cfg_fd = xg_map_fd(g->obj, what, "xdpgen_cfg");
	g->pcpu_fd = xg_map_fd(g->obj, what, "xdpgen_pcpu");
	g->shared_fd = xg_map_fd(g->obj, what, "xdpgen_shared");
	if (g->cfg_fd < 0 || g->pcpu_fd < 0 || g->shared_fd < 0) {
		err = -ENOENT;
		goto free_g;
	}
	/* a disarmed run: does this kernel run live frames at all? */
	g->kcfg.action = XDPGEN_ACT_DROP;
	err = xg_cfg_write(g);
	if (err < 0)
		goto free_g;
	err = xg_call(g, 1, &ns);
	if (err < 0) {
		xg_call_error(g, err);
		goto free_g;
	}
	g->kcfg.action = rifindex ? XDPGEN_ACT_REDIRECT : XDPGEN_ACT_TX;
	SL_INFO("%s: %u-byte frames, %u flow(s), %s%s%s", what, g->frame_size,
		g->kcfg.flows, g->kcfg.interval_ps ? "paced" : "unpaced",
		rifindex ? ", redirected to " : "",
		rifindex ? cfg->redirect_ifname : "");
	return g;
free_g:
	sl_xdpgen_destroy(g);
fail:
	errno = -err;
	return NULL;
}

void
sl_xdpgen_destroy(struct sl_xdpgen *g)
{
	int i;

	if (g == NULL)
		return;
	if (g->obj != NULL)
		bpf_object__close(g->obj);
	pthread_mutex_destroy(&g->lock);
	for (i = 0; i < XG_WORKERS; i++)
		free(g->pcpu[i]);
	free(g);
}

void
sl_xdpgen_stop(struct sl_xdpgen *g)
{
	g->stop = 1;
}

int
sl_xdpgen_rate_set(struct sl_xdpgen *g, uint64_t rate_pps, uint32_t burst)
{
	int err;

	if (rate_pps > XG_MAX_RATE || burst > XG_MAX_BURST) {
		SL_ERR("xdpgen %s: rate %llu frames/s, burst %u: at most %llu "
		       "and %u",
		       g->ifname, (unsigned long long)rate_pps, burst,
		       XG_MAX_RATE, XG_MAX_BURST);
		return -EINVAL;
	}
	pthread_mutex_lock(&g->lock);
	xg_pacing(g, rate_pps, burst);
	if (g->kcfg.t0_ns == 0)
		g->kcfg.t0_ns = xg_now_ns();
	err = xg_cfg_write(g);
	pthread_mutex_unlock(&g->lock);
	return err;
}

/* Sum the per-CPU counters, with buf (g->ncpu values) for the lookup. */
static int
xg_stats(struct sl_xdpgen *g, struct xdpgen_pcpu *buf,
	 struct sl_xdpgen_stats *st)
{
	uint64_t start, end;
	uint32_t k = 0;
	int c;

	memset(st, 0, sizeof(*st));
	if (bpf_map_lookup_elem(g->pcpu_fd, &k, buf) < 0) {
		int err = -errno;

		SL_ERR("xdpgen %s: reading the counters: %s", g->ifname,
		       sl_strerror(err));
		return err;
	}
	for (c = 0; c < g->ncpu; c++) {
		st->sent += buf[c].sent;
		st->bytes += buf[c].bytes;
		st->paced += buf[c].paced;
		st->limited += buf[c].limited;
	}
	st->calls = __atomic_load_n(&g->calls, __ATOMIC_RELAXED);
	start = __atomic_load_n(&g->t_start, __ATOMIC_RELAXED);
	end = __atomic_load_n(&g->t_end, __ATOMIC_RELAXED);
	if (end == 0 || end < start)
		end = xg_now_ns();
	st->seconds = start ? (double)(end - start) / 1e9 : 0.0;
	return 0;
}

int
sl_xdpgen_stats_get(struct sl_xdpgen *g, struct sl_xdpgen_stats *st)
{
	struct xdpgen_pcpu *buf;
	int err;

	buf = calloc((size_t)g->ncpu, sizeof(*buf));
	if (buf == NULL)
		return -ENOMEM;
	err = xg_stats(g, buf, st);
	free(buf);
	return err;
}

/* Zero the counters, the pacer and the count. */
static int
xg_reset(struct sl_xdpgen *g)
{
	struct xdpgen_shared sh = {0};
	uint32_t k = 0;
	int err;

	memset(g->pcpu[0], 0, (size_t)g->ncpu * sizeof(*g->pcpu[0]));
	if (bpf_map_update_elem(g->pcpu_fd, &k, g->pcpu[0], BPF_ANY) < 0 ||
	    bpf_map_update_elem(g->shared_fd, &k, &sh, BPF_ANY) < 0) {
		err = -errno;
		SL_ERR("xdpgen %s: resetting the counters: %s", g->ifname,
		       sl_strerror(err));
		return err;
	}
	g->calls = 0;
	g->sent = 0;
	g->run_err = 0;
	return 0;
}

/* Frames for the next call: about XG_CALL_NS at the measured throughput,
 * no longer than what is left of the run. */
static uint32_t
xg_repeat(const struct sl_xdpgen *g, double fps, uint64_t left_ns,
	  uint64_t left_frames, bool paced)
{
	double n = fps > 0 ? fps * (double)XG_CALL_NS / 1e9 : XG_FIRST_REPEAT;

	if (left_ns != UINT64_MAX && fps > 0)
		n = SL_MIN(n, fps * (double)left_ns / 1e9);
	/* unpaced with a count: the frames over it would be thrown away */
	if (!paced && left_frames != 0)
		n = SL_MIN(n, (double)left_frames);
	n = SL_MAX(n, (double)g->batch);
	return (uint32_t)SL_MIN(n, (double)XG_MAX_REPEAT);
}

struct xg_worker_arg {
	struct sl_xdpgen *g;
	int id;
};

/* One worker: calls until the run ends. */
static void *
xg_worker(void *arg)
{
	struct xg_worker_arg *w = arg;
	struct sl_xdpgen *g = w->g;
	struct sl_xdpgen_stats cur;
	uint64_t now, ns, sent, left, left_ns;
	double fps = 0;
	uint32_t n;
	bool paced;
	int err;

	for (;;) {
		now = xg_now_ns();
		sent = __atomic_load_n(&g->sent, __ATOMIC_RELAXED);
		if (g->stop || now >= g->deadline ||
		    (g->count != 0 && sent >= g->count))
			break;
		left_ns = g->deadline == UINT64_MAX ? UINT64_MAX
						    : g->deadline - now;
		left = g->count != 0 ? g->count - sent : 0;
		paced = __atomic_load_n(&g->kcfg.interval_ps,
					__ATOMIC_RELAXED) != 0;
		n = xg_repeat(g, fps, left_ns, left, paced);
		err = xg_call(g, n, &ns);
		if (err == -EINTR) /* a signal: stop if it asked to */
			continue;
		if (err == 0 && ns > 0)
			fps = (double)n * 1e9 / (double)ns;
		if (err == 0)
			err = xg_stats(g, g->pcpu[w->id], &cur);
		if (err < 0) {
			int zero = 0;

			if (__atomic_compare_exchange_n(&g->run_err, &zero, err,
							false, __ATOMIC_RELAXED,
							__ATOMIC_RELAXED))
				xg_call_error(g, err);
			g->stop = 1;
			break;
		}
		__atomic_store_n(&g->sent, cur.sent, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Start the helper worker on the CPUs of the calling thread. */
static int
xg_helper_start(struct sl_xdpgen *g, pthread_t *t, struct xg_worker_arg *w)
{
	pthread_attr_t attr;
	cpu_set_t cpus;
	int err;

	err = pthread_attr_init(&attr);
	if (err != 0)
		return -err;
	if (pthread_getaffinity_np(pthread_self(), sizeof(cpus), &cpus) == 0)
		(void)pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	err = pthread_create(t, &attr, xg_worker, w);
	pthread_attr_destroy(&attr);
	if (err != 0)
		SL_ERR("xdpgen %s: starting the helper thread: %s", g->ifname,
		       sl_strerror(-err));
	return -err;
}

int
sl_xdpgen_run(struct sl_xdpgen *g, uint64_t count, double seconds,
	      struct sl_xdpgen_stats *st)
{
	struct xg_worker_arg w[XG_WORKERS];
	sigset_t block, old;
	pthread_t helper;
	bool helped;
	int err, i;

	if (count == 0 && !(seconds > 0)) {
		SL_ERR("xdpgen %s: a run needs a count or a duration",
		       g->ifname);
		return -EINVAL;
	}
	g->stop = 0;
	err = xg_reset(g);
	if (err < 0)
		return err;
	g->count = count;
	__atomic_store_n(&g->t_end, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&g->t_start, xg_now_ns(), __ATOMIC_RELAXED);
	g->deadline = seconds > 0 ? g->t_start + (uint64_t)(seconds * 1e9)
				  : UINT64_MAX;
	pthread_mutex_lock(&g->lock);
	g->kcfg.limit = count;
	g->kcfg.t0_ns = g->t_start;
	g->kcfg.action =
		g->kcfg.redirect_ifindex ? XDPGEN_ACT_REDIRECT : XDPGEN_ACT_TX;
	err = xg_cfg_write(g);
	pthread_mutex_unlock(&g->lock);
	if (err < 0)
		return err;
	for (i = 0; i < XG_WORKERS; i++) {
		w[i].g = g;
		w[i].id = i;
	}
	/* signals go to the calling thread (whose call they interrupt) */
	sigfillset(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	helped = xg_helper_start(g, &helper, &w[1]) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* without the helper the run still works, with gaps */
	xg_worker(&w[0]);
	if (helped)
		pthread_join(helper, NULL);
	__atomic_store_n(&g->t_end, xg_now_ns(), __ATOMIC_RELAXED);
	err = g->run_err;
	/* disarm: a later probe or stray call sends nothing */
	pthread_mutex_lock(&g->lock);
	g->kcfg.action = XDPGEN_ACT_DROP;
	(void)xg_cfg_write(g);
	pthread_mutex_unlock(&g->lock);
	if (st != NULL && xg_stats(g, g->pcpu[0], st) < 0 && err == 0)
		err = -EIO;
	return err;
}

/* ---- sink ---------------------------------------------------------------- */

static const char *
xs_mode_name(enum sl_xdpsink_mode m)
{
	return m == SL_XDPSINK_MODE_NATIVE ? "native"
	       : m == SL_XDPSINK_MODE_SKB  ? "skb"
					   : "auto";
}

/* Name of the program of that id, for messages. */
static void
xs_prog_name(uint32_t id, char *buf, size_t len)
{
	struct bpf_prog_info info;
	uint32_t ilen = sizeof(info);
	int fd;

	snprintf(buf, len, "id %u", id);
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen) == 0 && info.name[0])
		snprintf(buf, len, "'%s' (id %u)", info.name, id);
	close(fd);
}

/* Refuse a program already on the device, or detach it when forced. */
static int
xs_foreign(const struct sl_xdpsink *s, bool force)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	uint32_t ids[2], flags[2] = {XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE};
	const char *modes[2] = {"native", "skb"};
	char name[64];
	unsigned i;
	int err;

	err = bpf_xdp_query(s->ifindex, 0, &q);
	if (err < 0) {
		SL_ERR("xdpsink %s: querying its XDP programs: %s", s->ifname,
		       sl_strerror(err));
		return err;
	}
	ids[0] = q.drv_prog_id;
	ids[1] = q.skb_prog_id;
	for (i = 0; i < 2; i++) {
		if (ids[i] == 0)
			continue;
		xs_prog_name(ids[i], name, sizeof(name));
		if (!force) {
			SL_ERR("xdpsink %s: the XDP program %s is attached in "
			       "%s mode: not replacing it (force replaces it)",
			       s->ifname, name, modes[i]);
			return -EBUSY;
		}
		err = bpf_xdp_detach(s->ifindex, flags[i], NULL);
		if (err < 0) {
			SL_ERR("xdpsink %s: detaching the XDP program %s: %s",
			       s->ifname, name, sl_strerror(err));
			return err;
		}
		SL_WARN("xdpsink %s: detached the XDP program %s (%s mode)",
			s->ifname, name, modes[i]);
	}
	return 0;
}

static int
xs_attach_mode(struct sl_xdpsink *s, enum sl_xdpsink_mode m)
{
	uint32_t f = m == SL_XDPSINK_MODE_NATIVE ? XDP_FLAGS_DRV_MODE
						 : XDP_FLAGS_SKB_MODE;
	int err;

	err = bpf_xdp_attach(s->ifindex, s->prog_fd,
			     f | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err < 0)
		return err;
	s->xdp_flags = f;
	s->mode = m;
	return 0;
}

struct sl_xdpsink *
sl_xdpsink_attach(const struct sl_xdpsink_cfg *cfg)
{
	struct xdpsink_cfg kc = {0};
	struct sl_xdpsink *s;
	uint32_t k = 0;
	short flags;
	int err, cfg_fd;

	if (cfg == NULL || (unsigned)cfg->mode > SL_XDPSINK_MODE_SKB) {
		SL_ERR("xdpsink: no settings, or an unknown mode");
		err = -EINVAL;
		goto fail;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	s->prog_fd = s->pcpu_fd = -1;
	err = xg_dev("xdpsink", cfg->ifname, &s->ifindex, &flags, NULL);
	if (err < 0)
		goto free_s;
	snprintf(s->ifname, sizeof(s->ifname), "%s", cfg->ifname);
	s->ncpu = libbpf_num_possible_cpus();
	if (s->ncpu <= 0) {
		err = s->ncpu < 0 ? s->ncpu : -EINVAL;
		goto free_s;
	}
	s->pcpu = calloc((size_t)s->ncpu, sizeof(*s->pcpu));
	if (s->pcpu == NULL) {
		err = -ENOMEM;
		goto free_s;
	}
	err = xg_load("xdpsink", XG_SINK_OBJ, "sl_xdpsink", &s->obj,
		      &s->prog_fd);
	if (err < 0)
		goto free_s;
	cfg_fd = xg_map_fd(s->obj, "xdpsink", "xdpsink_cfg");
	s->pcpu_fd = xg_map_fd(s->obj, "xdpsink", "xdpsink_pcpu");
	if (cfg_fd < 0 || s->pcpu_fd < 0) {
		err = -ENOENT;
		goto free_s;
	}
	kc.udp_dport = htons(cfg->udp_dport);
	if (bpf_map_update_elem(cfg_fd, &k, &kc, BPF_ANY) < 0) {
		err = -errno;
		SL_ERR("xdpsink %s: writing the program's settings: %s",
		       s->ifname, sl_strerror(err));
		goto free_s;
	}
	err = xs_foreign(s, cfg->force);
	if (err < 0)
		goto free_s;
	if (cfg->mode != SL_XDPSINK_MODE_SKB) {
		err = xs_attach_mode(s, SL_XDPSINK_MODE_NATIVE);
		if (err < 0 && cfg->mode == SL_XDPSINK_MODE_NATIVE) {
			SL_ERR("xdpsink %s: attaching in native mode: %s%s",
			       s->ifname, sl_strerror(err),
			       err == -EOPNOTSUPP ? " (the driver has no "
						    "native XDP: use skb)"
						  : "");
			goto free_s;
		}
	}
	if (cfg->mode == SL_XDPSINK_MODE_SKB ||
	    (cfg->mode == SL_XDPSINK_MODE_AUTO && err < 0)) {
		err = xs_attach_mode(s, SL_XDPSINK_MODE_SKB);
		if (err < 0) {
			SL_ERR("xdpsink %s: attaching in SKB mode: %s%s",
			       s->ifname, sl_strerror(err),
			       err == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
			goto free_s;
		}
	}
	SL_INFO("xdpsink %s: attached in %s mode", s->ifname,
		xs_mode_name(s->mode));
	return s;
free_s:
	if (s->obj != NULL)
		bpf_object__close(s->obj);
	free(s->pcpu);
	free(s);
fail:
	errno = -err;
	return NULL;
}

enum sl_xdpsink_mode
sl_xdpsink_mode(const struct sl_xdpsink *s)
{
	return s->mode;
}

int
sl_xdpsink_stats_get(struct sl_xdpsink *s, struct sl_xdpsink_stats *st)
{
	uint32_t k = 0;
	int c;

	memset(st, 0, sizeof(*st));
	if (bpf_map_lookup_elem(s->pcpu_fd, &k, s->pcpu) < 0) {
		int err = -errno;

		SL_ERR("xdpsink %s: reading the counters: %s", s->ifname,
		       sl_strerror(err));
		return err;
	}
	for (c = 0; c < s->ncpu; c++) {
		st->packets += s->pcpu[c].packets;
		st->bytes += s->pcpu[c].bytes;
		st->matched += s->pcpu[c].matched;
	}
	return 0;
}

void
sl_xdpsink_detach(struct sl_xdpsink *s)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
	int err;

	if (s == NULL)
		return;
	/* only our program: if another replaced it, leave that one */
	ao.old_prog_fd = s->prog_fd;
	err = bpf_xdp_detach(s->ifindex, s->xdp_flags | XDP_FLAGS_REPLACE, &ao);
	if (err < 0)
		SL_WARN("xdpsink %s: detaching: %s", s->ifname,
			sl_strerror(err));
	bpf_object__close(s->obj);
	free(s->pcpu);
	free(s);
}
