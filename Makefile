# netscope — the two commands of the README:
#   make run    set up, build Release, run the main job (analyze the shipped sample)
#   make test   set up, build with ASan+UBSan (clang, with libFuzzer targets), run ctest
# Other targets: build, bench, fuzz, format, sample, clean.

RELEASE_DIR ?= build-release
TEST_DIR    ?= build-test
BENCH_DIR   ?= build-bench
JOBS        ?= $(shell nproc)
SAMPLE      ?= samples/netscope-sample.pcapng
FUZZ_SECONDS ?= 600

.PHONY: all setup build run test bench fuzz format sample clean bench-live

all: build

setup:
	@scripts/setup

build: setup
	@cmake -S . -B $(RELEASE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DNETSCOPE_TESTS=OFF >/dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS)

run: build
	$(RELEASE_DIR)/src/cli/netscope analyze $(SAMPLE)

test: setup
	@CC=clang CXX=clang++ cmake -S . -B $(TEST_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DNETSCOPE_SANITIZE=ON -DNETSCOPE_FUZZ=ON -DNETSCOPE_NDPI=ON >/dev/null
	@cmake --build $(TEST_DIR) -j $(JOBS)
	@cd $(TEST_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: setup
	@cmake -S . -B $(BENCH_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DNETSCOPE_TESTS=OFF \
	  -DNETSCOPE_BENCH=ON >/dev/null
	@cmake --build $(BENCH_DIR) -j $(JOBS)
	@bench/run.sh $(BENCH_DIR)

fuzz: setup
	@CC=clang CXX=clang++ cmake -S . -B $(TEST_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DNETSCOPE_SANITIZE=ON -DNETSCOPE_FUZZ=ON -DNETSCOPE_NDPI=ON >/dev/null
	@cmake --build $(TEST_DIR) -j $(JOBS)
	@fuzz/run.sh $(TEST_DIR) $(FUZZ_SECONDS)

sample: build
	@scripts/make-sample $(SAMPLE)

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(RELEASE_DIR) $(TEST_DIR) $(BENCH_DIR)

# Live capture against tcpdump, nethogs and iftop over a veth (root; see docs/PERFORMANCE.md).
bench-live: setup
	@bench/live/deps.sh
	@cmake -S . -B $(BENCH_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DNETSCOPE_TESTS=OFF \
	  -DNETSCOPE_BENCH=ON >/dev/null
	@cmake --build $(BENCH_DIR) -j $(JOBS) --target netscope
	@bench/live/run.sh $(BENCH_DIR)
