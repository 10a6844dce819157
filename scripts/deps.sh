#!/usr/bin/env bash
# Install every Debian package sluice needs to build, test and benchmark.
# Idempotent: does nothing when all packages are present.
set -euo pipefail

PKGS=(
	# build
	gcc clang meson ninja-build pkg-config
	# tests and tooling
	libcmocka-dev clang-format python3 python3-matplotlib
	# netns tests: ip netns, veth, tuntap, GRO on veth (tests/netns/)
	iproute2 ethtool
	# net_af_xdp: AF_XDP sockets (libxdp), XDP loading (libbpf), clang's
	# BPF target (llvm) and the UAPI headers for bpf/steer.bpf.c
	libxdp-dev libbpf-dev llvm linux-libc-dev
	# graph capture files (lib/graph) and reading them back in its tests
	libpcap-dev libjson-c-dev iperf3 iputils-ping tcpdump
	# the kernel mirror (lib/nlmirror): rtnetlink through libnl-route-3
	libnl-3-dev libnl-route-3-dev
	# benchmark peers (DPDK is never linked into the library)
	libdpdk-dev
	# interop and memif benchmark peers: dpdk-testpmd (Debian ships it in
	# dpdk-dev, not in dpdk) and the memif PMD
	dpdk-dev librte-net-memif23
	# make vrouter and its test: FRR's zebra and ospfd in namespaces
	frr
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi

echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
