# Convenience driver: `make` builds everything into build/ (the CLI is build/locus).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all test asan fuzz clean
all:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: all
	cd $(BUILD) && ctest --output-on-failure

# AddressSanitizer + UBSan build of the library, CLI and unit tests (CPU only).
asan:
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLOCUS_SANITIZE=ON -DLOCUS_CUDA=OFF $(CMAKE_ARGS) >/dev/null
	@cmake --build build-asan -j $(JOBS)

fuzz:
	@cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DLOCUS_FUZZ=ON -DLOCUS_CUDA=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ $(CMAKE_ARGS) >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

clean:
	rm -rf build build-asan build-fuzz
