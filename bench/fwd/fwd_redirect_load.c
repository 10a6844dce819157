/*
 * fwd-redirect-load: load bench/fwd/fwd_redirect.bpf.o, point it at a
 * target device, and keep it attached to a device (through a BPF link:
 * it goes away with this process, even a killed one) until SIGINT or
 * SIGTERM, or for --seconds. Prints "ready" once attached (with --json,
 * as JSON). The in-kernel XDP redirect row of bench-fwd.
 * Exit: 0; 1 failed; 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: fwd-redirect-load --obj FILE --dev IF --to IF "
		   "[--mode native|skb] [--seconds S] [--json]\n"
		   "Attach FILE's XDP program to IF, redirecting every frame "
		   "to the device --to,\nuntil SIGINT/SIGTERM (or S seconds); "
		   "detached on exit.\n");
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned
ifindex_of(const char *name)
{
	unsigned i = if_nametoindex(name);

	if (i == 0)
		fprintf(stderr, "fwd-redirect-load: no device %s: %s\n", name,
			strerror(errno));
	return i;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"obj", 1, NULL, 'o'},	   {"dev", 1, NULL, 'd'},
		{"to", 1, NULL, 't'},	   {"mode", 1, NULL, 'm'},
		{"seconds", 1, NULL, 's'}, {"json", 0, NULL, 'j'},
		{"help", 0, NULL, 'h'},	   {NULL, 0, NULL, 0},
	};
	const char *obj_path = NULL, *dev = NULL, *to = NULL, *mode = "native";
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	struct bpf_program *prog;
	struct bpf_object *obj;
	double seconds = 0, t0;
	unsigned ifindex, to_index, key = 0;
	int c, map_fd, link_fd, err;
	bool json = false;
	char *end;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'o':
			obj_path = optarg;
			break;
		case 'd':
			dev = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 's':
			seconds = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(seconds > 0)) {
				fprintf(stderr,
					"fwd-redirect-load: --seconds "
					"'%s': not a number > 0\n",
					optarg);
				return 2;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || obj_path == NULL || dev == NULL || to == NULL ||
	    (strcmp(mode, "native") != 0 && strcmp(mode, "skb") != 0)) {
		usage(stderr);
		return 2;
	}
	ifindex = ifindex_of(dev);
	to_index = ifindex_of(to);
	if (ifindex == 0 || to_index == 0)
		return 1;

	obj = bpf_object__open_file(obj_path, NULL);
	if (obj == NULL) {
		fprintf(stderr, "fwd-redirect-load: opening %s: %s\n", obj_path,
			strerror(errno));
		return 1;
	}
	err = bpf_object__load(obj);
	if (err < 0) {
		fprintf(stderr, "fwd-redirect-load: loading %s: %s\n", obj_path,
			strerror(-err));
		goto fail;
	}
	prog = bpf_object__find_program_by_name(obj, "fwd_redirect");
	map_fd = bpf_object__find_map_fd_by_name(obj, "fwd_ports");
	if (prog == NULL || map_fd < 0) {
		fprintf(stderr,
			"fwd-redirect-load: %s has no fwd_redirect "
			"program or fwd_ports map\n",
			obj_path);
		goto fail;
	}
	if (bpf_map_update_elem(map_fd, &key, &to_index, BPF_ANY) < 0) {
		fprintf(stderr,
			"fwd-redirect-load: %s as redirect target: %s\n", to,
			strerror(errno));
		goto fail;
	}
	lopts.flags = strcmp(mode, "skb") == 0 ? XDP_FLAGS_SKB_MODE
					       : XDP_FLAGS_DRV_MODE;
	link_fd = bpf_link_create(bpf_program__fd(prog), (int)ifindex, BPF_XDP,
				  &lopts);
	if (link_fd < 0) {
		fprintf(stderr,
			"fwd-redirect-load: attaching to %s in %s "
			"mode: %s\n",
			dev, mode, strerror(-link_fd));
		goto fail;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (json)
		printf("{\"ready\":true,\"dev\":\"%s\",\"to\":\"%s\","
		       "\"mode\":\"%s\"}\n",
		       dev, to, mode);
	else
		printf("ready: %s -> %s, %s mode\n", dev, to, mode);
	fflush(stdout);
	t0 = now_s();
	while (!stop && (seconds == 0 || now_s() - t0 < seconds))
		usleep(20000);
	close(link_fd);
	bpf_object__close(obj);
	return 0;
fail:
	bpf_object__close(obj);
	return 1;
}
