# Front door. The build itself is CMake; this installs what it needs first.
#
#   make demo    build, then show the two uplinks side by side (root)
#   make test    build with sanitizers and run the whole suite (root for
#                the namespace tests)
#   make bench   measure what bindsup costs (root; docs/performance.md)
#   make static  a fully static bindsup in build-static/, for container
#                images (docs/deployment.md)
#   make build | install | lint | format | clean

BUILD      ?= build
TEST_BUILD ?= build-test
STATIC_BUILD ?= build-static
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 30
BENCH_ROUNDS ?= 7

# Debian 12 packages: to build, to test, to demo. examples/Dockerfile installs
# BUILD_PACKAGES (tests/integration/examples_test.cc checks it).
BUILD_PACKAGES := cmake g++ make pkg-config libseccomp-dev libboost-dev libfmt-dev
PACKAGES := $(BUILD_PACKAGES) \
            libgtest-dev nlohmann-json3-dev golang-go iproute2 util-linux curl busybox-static microsocks \
            musl-tools dnsmasq-base bind9-dnsutils clang libclang-rt-14-dev file \
            chromium firefox-esr nodejs python3 wget git openssh-client openssh-server aria2 bubblewrap \
            llvm libbpf-dev bpftool

.PHONY: all deps build static test demo bench install lint format clean

all: build

deps:
	@scripts/install-deps.sh $(PACKAGES)

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS)

test: deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DBINDSUP_SANITIZE=ON -DBINDSUP_KERNEL_MODE=ON
	cmake --build $(TEST_BUILD) -j$(JOBS)
	cd $(TEST_BUILD) && ctest -j$(JOBS) --output-on-failure
	@scripts/check-no-leftovers.sh
	scripts/fuzz.sh $(FUZZ_SECONDS)

# RelWithDebInfo, like build: GCC 12 at -O3 (Release) reports false -Wrestrict
# warnings in libstdc++. Install it stripped: cmake --install $(STATIC_BUILD) --strip
static:
	@scripts/install-deps.sh $(BUILD_PACKAGES)
	cmake -S . -B $(STATIC_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBINDSUP_STATIC=ON \
	      -DBINDSUP_BUILD_TESTS=OFF
	cmake --build $(STATIC_BUILD) -j$(JOBS) --target bindsup

demo: build
	scripts/demo.sh $(BUILD)

# Builds only what the benchmark runs (not the test suite).
bench: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS) --target bench
	$(BUILD)/bench/bench --rounds $(BENCH_ROUNDS)

install: build
	cmake --install $(BUILD)

lint: deps
	@scripts/install-deps.sh clang-format
	clang-format --dry-run -Werror $$(git ls-files '*.cc' '*.h')

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(STATIC_BUILD) build-fuzz
