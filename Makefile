# postbox front door. `make run` and `make test` each work alone on a fresh Debian 12 (as root):
# they install missing Debian packages through tools/setup.sh first.
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all setup setup-test setup-bench build run test test-unit test-asan bench fuzz format clean
BENCH_SECONDS ?= 10

all: build

setup:
	@bash tools/setup.sh

setup-test:
	@bash tools/setup.sh --test
	@bash tools/setup_js.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS)

setup-bench:
	@bash tools/setup.sh --bench

build: setup $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/postbox serve --dev

# Two tests at a time: each end-to-end test starts its own server on its own port and data
# directory, and most of their time is spent waiting on clients.
test: setup-test build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j 2

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -LE e2e

test-asan: setup-test
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPOSTBOX_SANITIZE=ON
	cmake --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ctest --output-on-failure --timeout 900 -j 2

fuzz: setup-test
	cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DPOSTBOX_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS) --target form_decoder_fuzz json_request_fuzz receipt_handle_fuzz queue_config_fuzz \
		filter_policy_fuzz sns_query_fuzz json_fast_path_fuzz log_segment_fuzz mail_message_fuzz sms_text_fuzz push_message_fuzz sigv4_fuzz access_policy_fuzz \
		query_fast_path_fuzz

# End-to-end SQS benchmark against Redis streams and moto_server in the same run (not part of
# `make test`).
bench: setup-bench build
	bash bench/run_bench.sh $(BUILD_DIR) $(BENCH_SECONDS)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
