# Front door. The build itself is CMake; this installs what it needs first.
#
#   make demo    build bindsup and the demo's programs, then show the two
#                uplinks side by side (root)
#   make test    build with sanitizers and run the whole suite (root for
#                the namespace tests)
#   make bench   measure what bindsup costs (root; docs/performance.md)
#   make fuzz-escape SECONDS=N
#                the escape fuzzer for N seconds in a lab of its own (root);
#                reproducers of what it finds go to fuzz/escape/regressions/
#   make static  a fully static bindsup in build-static/, for container
#                images (docs/deployment.md)
#   make deb     a Debian package, build-deb/bindsup_<version>_<arch>.deb
#   make build | install | lint | format | clean

BUILD      ?= build
TEST_BUILD ?= build-test
STATIC_BUILD ?= build-static
DEB_BUILD  ?= build-deb
JOBS       ?= $(shell nproc)
# Compiler warnings as errors: for development and CI (make test turns it on,
# and its tests that run make static and make deb pass WERROR=ON); a user's
# build does not fail on a warning a newer compiler adds.
WERROR     ?= OFF
FUZZ_SECONDS ?= 30
SECONDS ?= 600
# The tests whose oracle is a packet capture on the lab's uplinks run
# PACKET_REPEAT more times in make test, so that a flaky oracle shows up in CI
# rather than in a user's run: in both modes (kernel:Suite.Test is the kernel
# mode run, KernelMode.* kernel mode's own).
PACKET_TESTS := ^(kernel:)?(FailClosed[.]Interface|SupervisorDeath[.]|Escape[.]|Guard[.](DenyWins|RulesHold)|Addressing[.]AnExcludedSocket|KernelMode[.])
PACKET_REPEAT ?= 3
BENCH_ROUNDS ?= 7

# Debian 12 packages: to build, to test, to demo. examples/Dockerfile installs
# BUILD_PACKAGES (tests/integration/examples_test.cc checks it).
BUILD_PACKAGES := cmake g++ make pkg-config libseccomp-dev libboost-dev libfmt-dev
# make deb: dpkg-dev for dpkg-buildflags and dpkg-shlibdeps (the Depends).
DEB_PACKAGES := $(BUILD_PACKAGES) dpkg-dev
PACKAGES := $(BUILD_PACKAGES) \
            libgtest-dev nlohmann-json3-dev golang-go iproute2 util-linux curl busybox-static microsocks \
            musl-tools dnsmasq-base bind9-dnsutils clang libclang-rt-14-dev file \
            chromium firefox-esr nodejs python3 wget git openssh-client openssh-server aria2 bubblewrap \
            dpkg-dev man-db bash-completion llvm libbpf-dev bpftool

.PHONY: all deps build static deb test demo bench fuzz-escape install lint format clean

all: build

deps:
	@scripts/install-deps.sh $(PACKAGES)

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBINDSUP_WERROR=$(WERROR)
	cmake --build $(BUILD) -j$(JOBS)

test: deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DBINDSUP_SANITIZE=ON -DBINDSUP_WERROR=ON \
	      -DBINDSUP_KERNEL_MODE=ON
	cmake --build $(TEST_BUILD) -j$(JOBS)
	@scripts/check-no-leftovers.sh --stale
	cd $(TEST_BUILD) && ctest -j$(JOBS) --output-on-failure
	cd $(TEST_BUILD) && ctest -j$(JOBS) --output-on-failure -R '$(PACKET_TESTS)' \
	                          --repeat until-fail:$(PACKET_REPEAT)
	@scripts/check-no-leftovers.sh
	scripts/fuzz.sh $(FUZZ_SECONDS)

# The test build (sanitizers on, which the supervisor's fuzzing wants), then
# only the fuzzer; make test runs the same for 45 s. FINDINGS=N: stop after N.
FINDINGS ?= 5
fuzz-escape: deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DBINDSUP_SANITIZE=ON -DBINDSUP_WERROR=ON
	cmake --build $(TEST_BUILD) -j$(JOBS) --target escape_fuzz_tests
	@scripts/check-no-leftovers.sh --stale
	BINDSUP_FUZZ_ESCAPE_SECONDS=$(SECONDS) BINDSUP_FUZZ_ESCAPE_FINDINGS=$(FINDINGS) \
	BINDSUP_FUZZ_ESCAPE_SAVE=$(CURDIR)/fuzz/escape/regressions \
	  $(TEST_BUILD)/tests/escape_fuzz_tests --gtest_filter='EscapeFuzzer.Random*'
	@scripts/check-no-leftovers.sh

# Release (-O3): CI's -O3 build of bindsup, with WERROR=ON (tests/CMakeLists.txt,
# static_build). Install it stripped: cmake --install $(STATIC_BUILD) --strip
static:
	@scripts/install-deps.sh $(BUILD_PACKAGES)
	cmake -S . -B $(STATIC_BUILD) -DCMAKE_BUILD_TYPE=Release -DBINDSUP_STATIC=ON \
	      -DBINDSUP_BUILD_TESTS=OFF -DBINDSUP_WERROR=$(WERROR)
	cmake --build $(STATIC_BUILD) -j$(JOBS) --target bindsup

# The way Debian builds a package: CMAKE_BUILD_TYPE=None with
# dpkg-buildflags' flags (-O2, hardening); then CPack (packaging/deb.cmake).
deb:
	@scripts/install-deps.sh $(DEB_PACKAGES)
	CFLAGS="$$(dpkg-buildflags --get CFLAGS) $$(dpkg-buildflags --get CPPFLAGS)" \
	CXXFLAGS="$$(dpkg-buildflags --get CXXFLAGS) $$(dpkg-buildflags --get CPPFLAGS)" \
	LDFLAGS="$$(dpkg-buildflags --get LDFLAGS)" \
	cmake -S . -B $(DEB_BUILD) -DCMAKE_BUILD_TYPE=None -DBINDSUP_BUILD_TESTS=OFF \
	      -DBINDSUP_WERROR=$(WERROR)
	cmake --build $(DEB_BUILD) -j$(JOBS) --target bindsup
	cd $(DEB_BUILD) && cpack -G DEB

# Builds only what the demo runs: bindsup, the address server, the Go client.
demo: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBINDSUP_WERROR=$(WERROR)
	cmake --build $(BUILD) -j$(JOBS) --target bindsup addr_server goclient
	scripts/demo.sh $(BUILD)

# Builds only what the benchmark runs (not the test suite).
bench: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBINDSUP_WERROR=$(WERROR)
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
	rm -rf $(BUILD) $(TEST_BUILD) $(STATIC_BUILD) $(DEB_BUILD) build-fuzz
