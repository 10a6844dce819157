# Thin wrapper over meson. Every target that needs a package runs
# scripts/deps.sh first, so a fresh machine needs nothing else.

BUILD      ?= build
ASAN_BUILD ?= build-asan
CLANG_BUILD ?= build-clang
MESON_OPTS ?=
JOBS       ?= $(shell nproc)
DEPS        = scripts/deps.sh
FORMAT_SRC  = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

.PHONY: all build deps test run vrouter bench asan clang format \
	format-check install clean help

all: build

help:
	@echo "make            build (release) into $(BUILD)/"
	@echo "make test       build and run every test; ends with 'N passed, N failed'"
	@echo "make run        forward traffic: txgen -> sluice-fwd -> sink over AF_XDP (10 s)"
	@echo "make vrouter    FRR's OSPF on two routers, sluice-stack forwarding between them (root)"
	@echo "make bench-vrouter iperf3 and 64 B frames through the vRouter: sluice-stack vs kernel forwarding (root)"
	@echo "make bench      run every benchmark against its peer (bench/results/)"
	@echo "make bench-NAME run one benchmark group (e.g. bench-core)"
	@echo "make bench-afxdp net_af_xdp vs testpmd's on a veth (root, dpdk-testpmd)"
	@echo "make bench-fwd  forwarding veth->veth vs testpmd, Linux, XDP redirect (root, dpdk-testpmd)"
	@echo "make bench-stack L3 forwarding through sluice-stack vs Linux, testpmd io, sluice-fwd (root, dpdk-testpmd)"
	@echo "make bench-lookup FIB, hash and graph walk vs rte_fib/rte_fib6, rte_hash, rte_graph"
	@echo "make asan       AddressSanitizer+UBSan debug build running all tests"
	@echo "make clang      build with clang and run the unit tests"
	@echo "make format     reformat the sources; format-check only checks"

deps:
	@bash $(DEPS)

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS)

# The fuzz targets are libFuzzer binaries only with clang: make test builds
# them in the clang build directory and runs them briefly there.
test: build $(CLANG_BUILD)/build.ninja
	ninja -C $(CLANG_BUILD) -j $(JOBS) tests/fuzz/fuzz_memif_msg tests/fuzz/fuzz_cnet_ip4
	@bash scripts/run-tests.sh $(BUILD) --also $(CLANG_BUILD) fuzz

# The main job: txgen -> fwd -> sink over AF_XDP in namespaces of its own
# (scripts/run.py); without root, sluice-fwd's built-in default.
run: build
	@python3 scripts/run.py $(BUILD)

# The vRouter: c1 - r1 - r2 - c2 in namespaces, FRR's zebra and ospfd on
# the routers, sluice-stack forwarding with kernel forwarding off
# (scripts/vrouter.py, docs/vrouter.md; root).
vrouter: build
	@python3 scripts/vrouter.py $(BUILD)

# iperf3 TCP/UDP and 64 B frames c1 -> c2 through the vRouter, sluice-stack
# against kernel forwarding, alternating (medians of 3 repetitions):
# bench/results/vrouter.json and vrouter.png. 77 = skipped.
.PHONY: bench-vrouter
bench-vrouter: build
	@rc=0; python3 bench/vrouter/bench_vrouter.py --build $(BUILD) \
		--out bench/results/vrouter.json || rc=$$?; \
	if [ "$$rc" -eq 77 ]; then echo "bench-vrouter: skipped" >&2; rc=0; fi; \
	exit $$rc

bench: build
	@bash scripts/bench.sh $(BUILD) all

bench-%: build
	@bash scripts/bench.sh $(BUILD) $*

# L3 forwarding through sluice-stack against Linux IP forwarding, testpmd
# io and sluice-fwd on bench-fwd's veths, in one invocation (medians of 3
# repetitions): bench/results/stack.json and stack.png. 77 = skipped.
BENCH_STACK_CASES ?= stack-native,stack-skb,sluice-xdp-native,testpmd-xdp-native,linux
.PHONY: bench-stack
bench-stack: build
	@rc=0; bash bench/fwd/bench_fwd.sh --build $(BUILD) --name stack \
		--out bench/results/stack.json --cases $(BENCH_STACK_CASES) \
		|| rc=$$?; \
	if [ "$$rc" -eq 77 ]; then echo "bench-stack: skipped" >&2; rc=0; fi; \
	exit $$rc

$(ASAN_BUILD)/build.ninja: | deps
	meson setup $(ASAN_BUILD) -Dbuildtype=debug -Dsl_debug=true \
		-Db_sanitize=address,undefined -Db_lundef=false $(MESON_OPTS)

asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 bash scripts/run-tests.sh $(ASAN_BUILD)

$(CLANG_BUILD)/build.ninja: | deps
	CC=clang meson setup $(CLANG_BUILD) $(MESON_OPTS)

clang: deps $(CLANG_BUILD)/build.ninja
	ninja -C $(CLANG_BUILD) -j $(JOBS)
	@bash scripts/run-tests.sh $(CLANG_BUILD) unit fuzz

format: deps
	clang-format -i $(FORMAT_SRC)

format-check: deps
	@clang-format --dry-run --Werror $(FORMAT_SRC) && echo "format: clean"

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(CLANG_BUILD)
