/*
 * Loading, attaching and sharing steer.bpf.o for net_af_xdp (see
 * af_xdp_prog.h).
 */
#define SL_LOG_MODULE "net_af_xdp"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sluice/sl_common.h"
#include "sluice/sl_log.h"
#include "af_xdp_prog.h"

#define AXP_OBJ_NAME "steer.bpf.o"
#define AXP_PROG_NAME "sl_steer"

struct axp_dev {
	struct axp_dev *next;
	unsigned long netns; /* inode of the network namespace */
	int ifindex;
	unsigned refs;
	enum axp_mode mode;
	uint32_t xdp_flags; /* XDP_FLAGS_DRV_MODE or _SKB_MODE */
	struct bpf_object *obj;
	int prog_fd;
	int xsks_fd, qmask_fd, stats_fd;
	char ifname[32];
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
axp_obj_path(char *buf, size_t len)
{
	const char *env = getenv("SL_BPF_PATH");
	struct stat st;

	if (env != NULL && env[0] != '\0') {
		if (stat(env, &st) == 0 && S_ISDIR(st.st_mode))
			snprintf(buf, len, "%s/%s", env, AXP_OBJ_NAME);
		else
			snprintf(buf, len, "%s", env);
	} else if (axp_exists(SL_BPF_BUILD_PATH)) {
		snprintf(buf, len, "%s", SL_BPF_BUILD_PATH);
	} else {
		snprintf(buf, len, "%s", SL_BPF_INSTALL_PATH);
	}
	return buf;
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
	struct bpf_program *prog;
	char path[4096];
	int err;

	axp_obj_path(path, sizeof(path));
	d->obj = bpf_object__open_file(path, NULL);
	if (d->obj == NULL) {
		err = -errno;
		SL_ERR("%s: opening the XDP program %s: %s%s", port, path,
		       sl_strerror(err),
		       err == -ENOENT ? " (set SL_BPF_PATH to steer.bpf.o)"
				      : "");
		return err;
	}
	err = bpf_object__load(d->obj);
	if (err < 0) {
		SL_ERR("%s: loading the XDP program %s: %s%s", port, path,
		       sl_strerror(err),
		       err == -EPERM ? " (needs CAP_BPF and CAP_NET_ADMIN, "
				       "or use xsk_pin_path)"
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
	SL_DBG("%s: loaded %s", port, path);
	return 0;
}

static int
axp_attach_mode(struct axp_dev *d, const struct axp_req *req,
		enum axp_mode mode)
{
	uint32_t flags = XDP_FLAGS_UPDATE_IF_NOEXIST |
			 (mode == AXP_MODE_NATIVE ? XDP_FLAGS_DRV_MODE
						  : XDP_FLAGS_SKB_MODE);
	int err;

	err = bpf_xdp_attach(req->ifindex, d->prog_fd, flags, NULL);
	if (err < 0)
		return err;
	d->mode = mode;
	d->xdp_flags = flags & ~(uint32_t)XDP_FLAGS_UPDATE_IF_NOEXIST;
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

static void
axp_dev_free(struct axp_dev *d)
{
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
		if (req->mode != AXP_MODE_AUTO && req->mode != d->mode) {
			SL_ERR("%s: the XDP program of sluice is attached to "
			       "%s in %s mode by another lport; %s mode "
			       "cannot be added",
			       req->port, req->ifname, axp_mode_name(d->mode),
			       axp_mode_name(req->mode));
			err = -EBUSY;
			goto unlock;
		}
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
	snprintf(d->ifname, sizeof(d->ifname), "%s", req->ifname);
	err = axp_foreign(req);
	if (err == 0)
		err = axp_load(d, req->port);
	if (err == 0)
		err = axp_attach(d, req);
	if (err < 0) {
		axp_dev_free(d);
		goto unlock;
	}
	SL_INFO("%s: XDP program attached to %s in %s mode", req->port,
		req->ifname, axp_mode_name(d->mode));
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
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
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
	/* detach only our program: if another replaced it, leave that */
	ao.old_prog_fd = dev->prog_fd;
	err = bpf_xdp_detach(dev->ifindex, dev->xdp_flags | XDP_FLAGS_REPLACE,
			     &ao);
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
