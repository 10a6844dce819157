/*
 * tp_skb_shim: an LD_PRELOAD library that makes DPDK 22.11's net_af_xdp
 * attach its XDP program in SKB (generic) mode, for the SKB rows of
 * bench-afxdp. That PMD has no XDP-mode option: it creates its sockets with
 * libxdp's xsk_socket__create() and XDP_FLAGS_UPDATE_IF_NOEXIST only, so
 * the kernel picks native mode on a veth. The shim wraps the three calls
 * that carry XDP flags and turns the mode into XDP_FLAGS_SKB_MODE:
 *   xsk_socket__create()  (libxdp attaches the program with cfg->xdp_flags)
 *   bpf_xdp_query_id(), bpf_xdp_detach()  (the PMD removes the program
 *                         when it closes the port)
 * Every call it changes is reported once on stderr, so the benchmark can
 * check that the shim was used; `ip link` then shows "xdpgeneric".
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <linux/if_link.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#define SHIM_MODES (XDP_FLAGS_SKB_MODE | XDP_FLAGS_DRV_MODE | XDP_FLAGS_HW_MODE)

typedef int (*create_fn)(struct xsk_socket **, const char *, __u32,
			 struct xsk_umem *, struct xsk_ring_cons *,
			 struct xsk_ring_prod *,
			 const struct xsk_socket_config *);
typedef int (*query_fn)(int, int, __u32 *);
typedef int (*detach_fn)(int, __u32, const struct bpf_xdp_attach_opts *);

int xsk_socket__create(struct xsk_socket **xsk, const char *ifname,
		       __u32 queue_id, struct xsk_umem *umem,
		       struct xsk_ring_cons *rx, struct xsk_ring_prod *tx,
		       const struct xsk_socket_config *cfg);
int bpf_xdp_query_id(int ifindex, int flags, __u32 *prog_id);
int bpf_xdp_detach(int ifindex, __u32 flags,
		   const struct bpf_xdp_attach_opts *opts);

/* The real function, from the library that defines it (the PMD loads
 * libxdp and libbpf with dlopen(), so RTLD_NEXT may not see them). */
static void *
shim_next(const char *lib, const char *name, const char *version)
{
	void *h, *f;

	h = dlopen(lib, RTLD_NOW | RTLD_NOLOAD);
	if (h == NULL)
		h = dlopen(lib, RTLD_NOW);
	if (h == NULL) {
		fprintf(stderr, "tp_skb_shim: %s: %s\n", lib, dlerror());
		return NULL;
	}
	f = dlvsym(h, name, version);
	if (f == NULL)
		f = dlsym(h, name);
	if (f == NULL)
		fprintf(stderr, "tp_skb_shim: %s not found in %s: %s\n", name,
			lib, dlerror());
	return f;
}

int
xsk_socket__create(struct xsk_socket **xsk, const char *ifname, __u32 queue_id,
		   struct xsk_umem *umem, struct xsk_ring_cons *rx,
		   struct xsk_ring_prod *tx,
		   const struct xsk_socket_config *cfg)
{
	create_fn next = __extension__(create_fn)
		shim_next("libxdp.so.1", "xsk_socket__create", "LIBXDP_1.2.0");
	struct xsk_socket_config c;

	if (next == NULL)
		return -ENOSYS;
	if (cfg == NULL)
		return next(xsk, ifname, queue_id, umem, rx, tx, cfg);
	c = *cfg;
	c.xdp_flags = (c.xdp_flags & ~(__u32)SHIM_MODES) | XDP_FLAGS_SKB_MODE;
	fprintf(stderr,
		"tp_skb_shim: xsk_socket__create(%s, queue %u): xdp_flags "
		"0x%x -> 0x%x (SKB mode)\n",
		ifname, queue_id, cfg->xdp_flags, c.xdp_flags);
	return next(xsk, ifname, queue_id, umem, rx, tx, &c);
}

int
bpf_xdp_query_id(int ifindex, int flags, __u32 *prog_id)
{
	query_fn next = __extension__(query_fn)
		shim_next("libbpf.so.1", "bpf_xdp_query_id", "LIBBPF_0.7.0");

	if (next == NULL)
		return -ENOSYS;
	return next(ifindex, (flags & ~SHIM_MODES) | XDP_FLAGS_SKB_MODE,
		    prog_id);
}

int
bpf_xdp_detach(int ifindex, __u32 flags, const struct bpf_xdp_attach_opts *opts)
{
	detach_fn next = __extension__(detach_fn)
		shim_next("libbpf.so.1", "bpf_xdp_detach", "LIBBPF_0.7.0");

	if (next == NULL)
		return -ENOSYS;
	fprintf(stderr, "tp_skb_shim: bpf_xdp_detach(ifindex %d) in SKB mode\n",
		ifindex);
	return next(ifindex, (flags & ~(__u32)SHIM_MODES) | XDP_FLAGS_SKB_MODE,
		    opts);
}
