/*
 * Loading, attaching and sharing steer.bpf.o for net_af_xdp (see
 * af_xdp_prog.h).
 */
#define SL_LOG_MODULE "net_af_xdp"
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <net/if.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "sluice/sl_common.h"
#include "sluice/sl_log.h"
#include "af_xdp_prog.h"
#include "steer.h"

SL_STATIC_ASSERT((int)AXP_STAT_MAX == (int)STEER_STAT_MAX,
		 "enum axp_stat must follow enum steer_stat");

#define AXP_OBJ_NAME "steer.bpf.o"
#define AXP_FRAGS_OBJ_NAME "steer_frags.bpf.o"
#define AXP_PROG_NAME "sl_steer"

/* How a program is attached, best first. */
enum axp_how {
	AXP_HOW_NONE = 0,
	AXP_HOW_DISPATCHER, /* libxdp's dispatcher, next to other programs */
	AXP_HOW_LINK,	    /* alone, held by a bpf_link of this process */
	AXP_HOW_NETLINK,    /* alone, attached through netlink */
};

static const char *const axp_hows[] = {
	[AXP_HOW_NONE] = "not",
	[AXP_HOW_DISPATCHER] = "through libxdp's dispatcher",
	[AXP_HOW_LINK] = "alone through a bpf_link",
	[AXP_HOW_NETLINK] = "alone through netlink",
};

struct axp_dev {
	struct axp_dev *next;
	unsigned long netns; /* inode of the network namespace */
	int ifindex;
	unsigned refs;
	enum axp_mode mode;
	uint32_t xdp_flags; /* XDP_FLAGS_DRV_MODE or _SKB_MODE */
	struct bpf_object *obj;
	int prog_fd;
	enum axp_how how;	   /* how the program is attached */
	int link_fd;		   /* AXP_HOW_LINK */
	struct xdp_program *xprog; /* AXP_HOW_DISPATCHER */
	struct bpf_object *xobj;   /* its object (sharing obj's maps) */
	int xsks_fd, qmask_fd, stats_fd;
	struct axp_rule_maps rmaps;
	bool frags;	      /* steer_frags.bpf.o */
	enum axp_steer steer; /* steer= of the lport that attached it */
	char ifname[32];
	char port[32]; /* the lport that attached it, for messages */
};

static struct {
	pthread_mutex_t lock;
	struct axp_dev *devs;
} axp = {.lock = PTHREAD_MUTEX_INITIALIZER};

const char *
axp_mode_name(enum axp_mode mode)
{
	switch (mode) {
	case AXP_MODE_NATIVE:
		return "native";
	case AXP_MODE_SKB:
		return "skb";
	default:
		return "auto";
	}
}

const char *
axp_steer_name(enum axp_steer steer)
{
	return steer == AXP_STEER_RULES ? "rules" : "all";
}

static unsigned long
axp_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) == 0 ? (unsigned long)st.st_ino
						   : 0;
}

static bool
axp_exists(const char *path)
{
	return access(path, R_OK) == 0;
}

const char *
axp_obj_path_variant(char *buf, size_t len, bool frags)
{
	const char *env = getenv("SL_BPF_PATH");
	const char *name = frags ? AXP_FRAGS_OBJ_NAME : AXP_OBJ_NAME;
	const char *slash;
	struct stat st;

	if (env != NULL && env[0] != '\0') {
		if (stat(env, &st) == 0 && S_ISDIR(st.st_mode))
			snprintf(buf, len, "%s/%s", env, name);
		else if (!frags)
			snprintf(buf, len, "%s", env);
		else if ((slash = strrchr(env, '/')) != NULL)
			snprintf(buf, len, "%.*s/%s", (int)(slash - env), env,
				 name);
		else
			snprintf(buf, len, "%s", name);
	} else if (frags) {
		snprintf(buf, len, "%s",
			 axp_exists(SL_BPF_FRAGS_BUILD_PATH)
				 ? SL_BPF_FRAGS_BUILD_PATH
				 : SL_BPF_FRAGS_INSTALL_PATH);
	} else if (axp_exists(SL_BPF_BUILD_PATH)) {
		snprintf(buf, len, "%s", SL_BPF_BUILD_PATH);
	} else {
		snprintf(buf, len, "%s", SL_BPF_INSTALL_PATH);
	}
	return buf;
}

const char *
axp_obj_path(char *buf, size_t len)
{
	return axp_obj_path_variant(buf, len, false);
}

/* Name of the program of that id, for messages. */
static void
axp_prog_name(uint32_t id, char *buf, size_t len)
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

static bool axp_dispatcher_usable(int ifindex);

/*
 * Our program left attached by a process that is gone (killed before it
 * could detach): it was attached through netlink, since a bpf_link dies
 * with its process. Replace it. A live process of ours holds its program
 * through a bpf_link, which netlink cannot detach (EBUSY).
 * 0: it was stale and is gone; -ENOENT: not our program; else an error.
 */
static int
axp_stale(const struct axp_req *req, uint32_t id, uint32_t flag,
	  const char *name, const char *mode)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
	struct bpf_prog_info info;
	uint32_t ilen = sizeof(info);
	int fd, err;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -ENOENT;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen) < 0 ||
	    strcmp(info.name, AXP_PROG_NAME) != 0) {
		close(fd);
		return -ENOENT;
	}
	ao.old_prog_fd = fd;
	err = bpf_xdp_detach(req->ifindex, flag | XDP_FLAGS_REPLACE, &ao);
	close(fd);
	if (err == -EBUSY) {
		SL_ERR("%s: %s already has the XDP program of sluice %s (%s "
		       "mode), held by a bpf_link of another process that "
		       "is running: one process steers a device",
		       req->port, req->ifname, name, mode);
		return -EBUSY;
	}
	if (err < 0) {
		SL_ERR("%s: detaching the stale XDP program %s from %s: %s",
		       req->port, name, req->ifname, sl_strerror(err));
		return err;
	}
	SL_NOTICE("%s: replaced the XDP program of sluice %s (%s mode) that "
		  "an earlier process left on %s",
		  req->port, name, mode, req->ifname);
	return 0;
}

/* A program not ours on the device: refuse, or detach it when forced. */
static int
axp_foreign(const struct axp_req *req)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
	uint32_t ids[2], flags[2] = {XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE};
	const char *modes[2] = {"native", "skb"};
	char name[64];
	unsigned i;
	int err, fd;

	err = bpf_xdp_query(req->ifindex, 0, &q);
	if (err < 0) {
		SL_ERR("%s: querying the XDP programs of %s: %s", req->port,
		       req->ifname, sl_strerror(err));
		return err;
	}
	ids[0] = q.drv_prog_id;
	ids[1] = q.skb_prog_id;
	for (i = 0; i < 2; i++) {
		if (ids[i] == 0)
			continue;
		axp_prog_name(ids[i], name, sizeof(name));
		err = axp_stale(req, ids[i], flags[i], name, modes[i]);
		if (err != -ENOENT) {
			if (err < 0)
				return err;
			continue;
		}
		if (axp_dispatcher_usable(req->ifindex))
			continue; /* we join it */
		if (!req->force) {
			SL_ERR("%s: %s already has the XDP program %s "
			       "attached in %s mode: not replacing it "
			       "(force=yes replaces it)",
			       req->port, req->ifname, name, modes[i]);
			return -EBUSY;
		}
		fd = bpf_prog_get_fd_by_id(ids[i]);
		if (fd < 0) {
			err = -errno;
			SL_ERR("%s: XDP program %s on %s: %s", req->port, name,
			       req->ifname, sl_strerror(err));
			return err;
		}
		ao.old_prog_fd = fd;
		err = bpf_xdp_detach(req->ifindex, flags[i] | XDP_FLAGS_REPLACE,
				     &ao);
		close(fd);
		if (err < 0) {
			SL_ERR("%s: detaching the XDP program %s from %s: %s",
			       req->port, name, req->ifname, sl_strerror(err));
			return err;
		}
		SL_WARN("%s: force=yes: detached the XDP program %s (%s "
			"mode) from %s; it is not restored at close",
			req->port, name, modes[i], req->ifname);
	}
	return 0;
}

static int
axp_load(struct axp_dev *d, const char *port)
{
	struct axp_rule_maps *rm = &d->rmaps;
	struct bpf_program *prog;
	char path[4096];
	int err;

	axp_obj_path_variant(path, sizeof(path), d->frags);
	d->obj = bpf_object__open_file(path, NULL);
	if (d->obj == NULL) {
		err = -errno;
		SL_ERR("%s: opening the XDP program %s: %s%s", port, path,
		       sl_strerror(err),
		       err == -ENOENT ? " (set SL_BPF_PATH to the directory "
					"of steer.bpf.o)"
				      : "");
		return err;
	}
	err = bpf_object__load(d->obj);
	if (err < 0) {
		SL_ERR("%s: loading the XDP program %s: %s%s", port, path,
		       sl_strerror(err),
		       err == -EPERM ? " (needs CAP_BPF and CAP_NET_ADMIN, "
				       "or use xsk_pin_path or uds_path)"
				     : "");
		return err;
	}
	prog = bpf_object__find_program_by_name(d->obj, AXP_PROG_NAME);
	d->prog_fd = prog != NULL ? bpf_program__fd(prog) : -1;
	d->xsks_fd = bpf_object__find_map_fd_by_name(d->obj, "xsks_map");
	d->qmask_fd = bpf_object__find_map_fd_by_name(d->obj, "qmask");
	d->stats_fd = bpf_object__find_map_fd_by_name(d->obj, "steer_stats");
	if (d->prog_fd < 0 || d->xsks_fd < 0 || d->qmask_fd < 0 ||
	    d->stats_fd < 0) {
		SL_ERR("%s: %s lacks the program %s or one of the maps "
		       "xsks_map, qmask, steer_stats",
		       port, path, AXP_PROG_NAME);
		return -ENOENT;
	}
	rm->stats = d->stats_fd;
	rm->cfg = bpf_object__find_map_fd_by_name(d->obj, "steer_cfg");
	rm->rules = bpf_object__find_map_fd_by_name(d->obj, "steer_rules");
	rm->rstats = bpf_object__find_map_fd_by_name(d->obj, "steer_rstats");
	rm->lpm4 = bpf_object__find_map_fd_by_name(d->obj, "steer_lpm4");
	rm->lpm6 = bpf_object__find_map_fd_by_name(d->obj, "steer_lpm6");
	rm->local4 = bpf_object__find_map_fd_by_name(d->obj, "steer_local4");
	rm->local6 = bpf_object__find_map_fd_by_name(d->obj, "steer_local6");
	if (rm->cfg < 0 || rm->rules < 0 || rm->rstats < 0 || rm->lpm4 < 0 ||
	    rm->lpm6 < 0 || rm->local4 < 0 || rm->local6 < 0) {
		SL_ERR("%s: %s lacks one of the rule maps steer_cfg, "
		       "steer_rules, steer_rstats, steer_lpm4, steer_lpm6, "
		       "steer_local4, steer_local6 (an older build?)",
		       port, path);
		return -ENOENT;
	}
	SL_DBG("%s: loaded %s", port, path);
	return 0;
}

/* ---- attaching -----------------------------------------------------------
 * Through libxdp's dispatcher when the kernel accepts it (other XDP
 * programs then run next to ours); else alone, through a bpf_link, which
 * the kernel detaches when the process ends in any way (SIGKILL too);
 * else (kernels without XDP links) through netlink.
 */

static int __attribute__((format(printf, 2, 0)))
axp_libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)level;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	SL_DBG("libxdp: %s", buf);
	return 0;
}

static int __attribute__((format(printf, 2, 0)))
axp_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return axp_libxdp_print((enum libxdp_print_level)level, fmt, ap);
}

/* Set once the kernel refused the dispatcher: not tried again. */
static bool axp_no_dispatcher;

/* A libxdp dispatcher (not a legacy single program) on the device? */
static bool
axp_dispatcher_usable(int ifindex)
{
	struct xdp_multiprog *mp;
	bool yes;

	if (axp_no_dispatcher)
		return false;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp) != 0 || mp == NULL)
		return false;
	yes = !xdp_multiprog__is_legacy(mp);
	xdp_multiprog__close(mp);
	return yes;
}

/*
 * libxdp keeps the dispatcher's state in a bpffs: LIBXDP_BPFFS, else
 * /sys/fs/bpf. Where that is no bpffs (`ip netns exec` hides the host's),
 * use one per network namespace, /run/sluice/bpffs/<netns>, mounted by
 * libxdp when missing.
 */
static void
axp_bpffs(const char *port)
{
	static char dir[64];
	struct statfs sf;

	if (getenv(XDP_BPFFS_ENVVAR) != NULL)
		return;
	if (statfs("/sys/fs/bpf", &sf) == 0 && sf.f_type == BPF_FS_MAGIC)
		return;
	snprintf(dir, sizeof(dir), "/run/sluice/bpffs/%lu", axp_netns());
	(void)mkdir("/run/sluice", 0755);
	(void)mkdir("/run/sluice/bpffs", 0755);
	(void)mkdir(dir, 0700);
	setenv(XDP_BPFFS_ENVVAR, dir, 0);
	setenv(XDP_BPFFS_MOUNT_ENVVAR, "1", 0);
	SL_INFO("%s: no bpffs at /sys/fs/bpf: libxdp uses %s (set "
		"LIBXDP_BPFFS to choose)",
		port, dir);
}

static const char *
axp_section(const struct axp_dev *d)
{
	struct bpf_program *p =
		bpf_object__find_program_by_name(d->obj, AXP_PROG_NAME);

	return p != NULL ? bpf_program__section_name(p) : "xdp";
}

/* Id of the program attached to the device in that mode (0: none). */
static uint32_t
axp_attached_id(int ifindex, enum axp_mode mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q) < 0)
		return 0;
	return mode == AXP_MODE_NATIVE ? q.drv_prog_id : q.skb_prog_id;
}

/* Through the dispatcher: 0, or -EOPNOTSUPP when the kernel refused it
 * (libxdp then attached our program alone, which is undone here). */
static int
axp_attach_dispatcher(struct axp_dev *d, const struct axp_req *req,
		      enum axp_mode mode)
{
	enum xdp_attach_mode xm =
		mode == AXP_MODE_NATIVE ? XDP_MODE_NATIVE : XDP_MODE_SKB;
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
	struct xdp_program *xp;
	struct bpf_object *obj;
	struct bpf_map *m, *mine;
	char path[4096];
	int err;

	if (axp_no_dispatcher)
		return -EOPNOTSUPP;
	libxdp_set_print(axp_libxdp_print);
	axp_bpffs(req->port);
	obj = bpf_object__open_file(
		axp_obj_path_variant(path, sizeof(path), d->frags), NULL);
	if (obj == NULL)
		return -errno;
	/* the dispatcher's copy of the program uses the maps already made */
	bpf_object__for_each_map(m, obj)
	{
		mine = bpf_object__find_map_by_name(d->obj, bpf_map__name(m));
		if (mine != NULL &&
		    bpf_map__reuse_fd(m, bpf_map__fd(mine)) < 0) {
			err = -errno;
			bpf_object__close(obj);
			return err;
		}
	}
	xp = xdp_program__from_bpf_obj(obj, axp_section(d));
	err = (int)libxdp_get_error(xp);
	if (err == 0) {
		/* what libbpf says while libxdp probes the dispatcher is
		 * debug output here (under axp.lock) */
		libbpf_print_fn_t old = libbpf_set_print(axp_libbpf_print);

		err = xdp_program__attach(xp, req->ifindex, xm, 0);
		(void)libbpf_set_print(old);
	}
	if (err < 0) {
		SL_DBG("%s: libxdp could not attach to %s: %s", req->port,
		       req->ifname, sl_strerror(err));
		if (libxdp_get_error(xp) == 0)
			xdp_program__close(xp);
		bpf_object__close(obj);
		return err;
	}
	if (axp_attached_id(req->ifindex, mode) == xdp_program__id(xp)) {
		/* libxdp attached our program alone (legacy) */
		ao.old_prog_fd = xdp_program__fd(xp);
		(void)bpf_xdp_detach(req->ifindex,
				     (mode == AXP_MODE_NATIVE
					      ? XDP_FLAGS_DRV_MODE
					      : XDP_FLAGS_SKB_MODE) |
					     XDP_FLAGS_REPLACE,
				     &ao);
		xdp_program__close(xp);
		bpf_object__close(obj);
		axp_no_dispatcher = true;
		SL_INFO("%s: this kernel refuses libxdp's dispatcher (no "
			"BPF_PROG_TYPE_EXT programs): the program is "
			"attached alone",
			req->port);
		return -EOPNOTSUPP;
	}
	d->xprog = xp;
	d->xobj = obj;
	d->how = AXP_HOW_DISPATCHER;
	return 0;
}

/* Alone: through a bpf_link, else through netlink. */
static int
axp_attach_alone(struct axp_dev *d, const struct axp_req *req,
		 enum axp_mode mode)
{
	uint32_t flags = mode == AXP_MODE_NATIVE ? XDP_FLAGS_DRV_MODE
						 : XDP_FLAGS_SKB_MODE;
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = flags);
	int fd, err;

	fd = bpf_link_create(d->prog_fd, req->ifindex, BPF_XDP, &lo);
	if (fd >= 0) {
		d->link_fd = fd;
		d->how = AXP_HOW_LINK;
		return 0;
	}
	err = -errno;
	if (err != -EINVAL && err != -EOPNOTSUPP && err != -ENOSYS)
		return err;
	/* a kernel without XDP links */
	err = bpf_xdp_attach(req->ifindex, d->prog_fd,
			     flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err < 0)
		return err;
	d->how = AXP_HOW_NETLINK;
	return 0;
}

static int
axp_attach_mode(struct axp_dev *d, const struct axp_req *req,
		enum axp_mode mode)
{
	int err;

	err = axp_attach_dispatcher(d, req, mode);
	if (err < 0)
		err = axp_attach_alone(d, req, mode);
	if (err < 0)
		return err;
	d->mode = mode;
	d->xdp_flags = mode == AXP_MODE_NATIVE ? XDP_FLAGS_DRV_MODE
					       : XDP_FLAGS_SKB_MODE;
	return 0;
}

static int
axp_attach(struct axp_dev *d, const struct axp_req *req)
{
	int err;

	if (req->mode != AXP_MODE_SKB) {
		err = axp_attach_mode(d, req, AXP_MODE_NATIVE);
		if (err == 0 || req->mode == AXP_MODE_NATIVE) {
			if (err < 0)
				SL_ERR("%s: attaching the XDP program to %s in "
				       "native mode: %s",
				       req->port, req->ifname,
				       sl_strerror(err));
			return err;
		}
		SL_INFO("%s: native XDP on %s failed (%s): trying SKB mode",
			req->port, req->ifname, sl_strerror(err));
	}
	err = axp_attach_mode(d, req, AXP_MODE_SKB);
	if (err < 0)
		SL_ERR("%s: attaching the XDP program to %s in SKB mode: %s",
		       req->port, req->ifname, sl_strerror(err));
	return err;
}

/* Undo the attachment, exactly: 0 or -errno. */
static int
axp_detach(struct axp_dev *d)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
	int err = 0;

	switch (d->how) {
	case AXP_HOW_DISPATCHER:
		err = xdp_program__detach(d->xprog, d->ifindex,
					  d->mode == AXP_MODE_NATIVE
						  ? XDP_MODE_NATIVE
						  : XDP_MODE_SKB,
					  0);
		break;
	case AXP_HOW_LINK:
		err = close(d->link_fd) < 0 ? -errno : 0;
		d->link_fd = -1;
		break;
	case AXP_HOW_NETLINK:
		/* only our program: if another replaced it, leave that */
		ao.old_prog_fd = d->prog_fd;
		err = bpf_xdp_detach(d->ifindex,
				     d->xdp_flags | XDP_FLAGS_REPLACE, &ao);
		break;
	case AXP_HOW_NONE:
		break;
	}
	d->how = AXP_HOW_NONE;
	return err;
}

/* The device's default action from the lport's steer= value, written
 * before the program is attached. */
static int
axp_cfg_init(struct axp_dev *d, const struct axp_req *req)
{
	struct steer_cfg c;
	uint32_t k = 0;
	int err;

	memset(&c, 0, sizeof(c));
	c.default_action =
		req->steer == AXP_STEER_RULES ? STEER_ACT_PASS : STEER_ACT_XSK;
	if (bpf_map_update_elem(d->rmaps.cfg, &k, &c, BPF_ANY) < 0) {
		err = -errno;
		SL_ERR("%s: setting the default action of the XDP program "
		       "for %s: %s",
		       req->port, req->ifname, sl_strerror(err));
		return err;
	}
	d->steer = req->steer;
	return 0;
}

/* An lport joining a device whose program another lport attached must
 * want the same mode, the same build and the same steer= value. */
static int
axp_dev_fits(const struct axp_dev *d, const struct axp_req *req)
{
	static const char *const builds[] = {"xdp", "xdp.frags (multi-buffer)"};

	if (req->mode != AXP_MODE_AUTO && req->mode != d->mode) {
		SL_ERR("%s: the XDP program of sluice is attached to "
		       "%s in %s mode by another lport; %s mode "
		       "cannot be added",
		       req->port, req->ifname, axp_mode_name(d->mode),
		       axp_mode_name(req->mode));
		return -EBUSY;
	}
	if (req->frags != d->frags) {
		SL_ERR("%s: the XDP program of sluice is attached to %s in "
		       "its %s build by lport %s; this lport needs the %s "
		       "build: the lports of one device must agree on "
		       "multi-buffer",
		       req->port, req->ifname, builds[d->frags], d->port,
		       builds[req->frags]);
		return -EBUSY;
	}
	if (req->steer != d->steer) {
		SL_ERR("%s: steer=%s, but lport %s attached the XDP program "
		       "to %s with steer=%s: the lports of one device share "
		       "its steering",
		       req->port, axp_steer_name(req->steer), d->port,
		       req->ifname, axp_steer_name(d->steer));
		return -EBUSY;
	}
	return 0;
}

static void
axp_dev_free(struct axp_dev *d)
{
	if (d->xprog != NULL)
		xdp_program__close(d->xprog);
	if (d->xobj != NULL)
		bpf_object__close(d->xobj);
	if (d->obj != NULL)
		bpf_object__close(d->obj);
	free(d);
}

int
axp_dev_get(const struct axp_req *req, struct axp_dev **out)
{
	unsigned long netns = axp_netns();
	struct axp_dev *d;
	int err;

	pthread_mutex_lock(&axp.lock);
	for (d = axp.devs; d != NULL; d = d->next)
		if (d->netns == netns && d->ifindex == req->ifindex)
			break;
	if (d != NULL) {
		err = axp_dev_fits(d, req);
		if (err < 0)
			goto unlock;
		d->refs++;
		*out = d;
		err = 0;
		goto unlock;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		err = -ENOMEM;
		goto unlock;
	}
	d->netns = netns;
	d->ifindex = req->ifindex;
	d->prog_fd = d->xsks_fd = d->qmask_fd = d->stats_fd = -1;
	d->link_fd = -1;
	d->frags = req->frags;
	snprintf(d->ifname, sizeof(d->ifname), "%s", req->ifname);
	snprintf(d->port, sizeof(d->port), "%s", req->port);
	err = axp_foreign(req);
	if (err == 0)
		err = axp_load(d, req->port);
	if (err == 0)
		err = axp_cfg_init(d, req);
	if (err == 0)
		err = axp_attach(d, req);
	if (err < 0) {
		axp_dev_free(d);
		goto unlock;
	}
	SL_INFO("%s: XDP program attached to %s in %s mode, %s", req->port,
		req->ifname, axp_mode_name(d->mode), axp_hows[d->how]);
	d->refs = 1;
	d->next = axp.devs;
	axp.devs = d;
	*out = d;
unlock:
	pthread_mutex_unlock(&axp.lock);
	return err;
}

void
axp_dev_put(struct axp_dev *dev)
{
	struct axp_dev **pp;
	int err;

	if (dev == NULL)
		return;
	pthread_mutex_lock(&axp.lock);
	if (--dev->refs > 0) {
		pthread_mutex_unlock(&axp.lock);
		return;
	}
	for (pp = &axp.devs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	pthread_mutex_unlock(&axp.lock);
	err = axp_detach(dev);
	if (err < 0)
		SL_WARN("detaching the XDP program of sluice from %s: %s",
			dev->ifname, sl_strerror(err));
	else
		SL_INFO("XDP program detached from %s", dev->ifname);
	axp_dev_free(dev);
}

enum axp_mode
axp_dev_mode(const struct axp_dev *dev)
{
	return dev->mode;
}

const char *
axp_dev_ifname(const struct axp_dev *dev)
{
	return dev->ifname;
}

bool
axp_dev_frags(const struct axp_dev *dev)
{
	return dev->frags;
}

enum axp_steer
axp_dev_steer(const struct axp_dev *dev)
{
	return dev->steer;
}

const struct axp_rule_maps *
axp_dev_rule_maps(const struct axp_dev *dev)
{
	return &dev->rmaps;
}

struct axp_dev *
axp_dev_find(const char *ifname)
{
	unsigned long netns = axp_netns();
	unsigned idx = ifname != NULL ? if_nametoindex(ifname) : 0;
	struct axp_dev *d;

	if (idx == 0) {
		errno = ENODEV;
		return NULL;
	}
	pthread_mutex_lock(&axp.lock);
	for (d = axp.devs; d != NULL; d = d->next)
		if (d->netns == netns && d->ifindex == (int)idx)
			break;
	if (d != NULL)
		d->refs++;
	pthread_mutex_unlock(&axp.lock);
	if (d == NULL)
		errno = ENODEV;
	return d;
}

unsigned
axp_dev_all(struct axp_dev **out, unsigned max)
{
	struct axp_dev *d;
	unsigned n = 0;

	pthread_mutex_lock(&axp.lock);
	for (d = axp.devs; d != NULL && n < max; d = d->next) {
		d->refs++;
		out[n++] = d;
	}
	pthread_mutex_unlock(&axp.lock);
	return n;
}

int
axp_dev_xsks_fd(const struct axp_dev *dev)
{
	return dev->xsks_fd;
}

int
axp_dev_qmask_fd(const struct axp_dev *dev)
{
	return dev->qmask_fd;
}

int
axp_dev_stats(const struct axp_dev *dev, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;
	uint32_t k;
	int c, err = 0;

	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (vals == NULL)
		return -ENOMEM;
	for (k = 0; k < AXP_STAT_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(dev->stats_fd, &k, vals) < 0) {
			err = -errno;
			continue;
		}
		for (c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return err;
}

int
axp_qmask_set(int qmask_fd, uint32_t q, bool on)
{
	uint32_t v = on;

	return bpf_map_update_elem(qmask_fd, &q, &v, BPF_ANY) < 0 ? -errno : 0;
}

void
axp_detach_all(void)
{
	struct axp_dev *d;
	unsigned long netns = axp_netns();

	for (d = axp.devs; d != NULL; d = d->next)
		if (d->netns == netns) /* else another namespace's ifindex */
			(void)axp_detach(d);
}
