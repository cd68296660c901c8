#!/usr/bin/env bash
# The sanitizer lane: builds the tools with AddressSanitizer and
# UndefinedBehaviorSanitizer into build-sanitize/ and runs the lit suite
# (without the format checks) and the bad-input and end-to-end Python tests
# against them. MLIR itself (libMLIR.so) is not instrumented; the known
# false positives that come from mixing the two are switched off below and
# in scripts/sanitize-suppressions.txt, each with its reason.
#
#   scripts/sanitize.sh [pytest args...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${MYQUANT_SANITIZE_BUILD_DIR:-$ROOT/build-sanitize}"
LLVM_PREFIX=/usr/lib/llvm-22
export CCACHE_BASEDIR="$ROOT"

"$ROOT/scripts/install-deps.sh"
# The sanitizer runtimes are only needed here.
if ! dpkg-query -W -f='${Status}' libclang-rt-22-dev 2>/dev/null |
    grep -q "install ok installed"; then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    --no-install-recommends libclang-rt-22-dev
fi

# -fno-sanitize=vptr: the dynamic type check needs every class's type info
# from instrumented code, and MLIR's classes come from libMLIR.so.
FLAGS="-fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
if [[ ! -f "$BUILD/build.ninja" ]]; then
  cmake -G Ninja -S "$ROOT" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
    -DLLVM_EXTERNAL_LIT="$LLVM_PREFIX/bin/lit"
fi
cmake --build "$BUILD"

# detect_container_overflow=0: std::vector annotations differ between the
# instrumented tools and the uninstrumented libMLIR.so that fills the same
# vectors, which reads as overflows that are none. detect_leaks=0: MLIR's
# global registries and the JIT keep their memory until exit by design.
# allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons its free space in
# code inlined into the instrumented tools, and the uninstrumented
# libMLIR.so then writes there (attribute storage), which reads as
# use-after-poison.
export ASAN_OPTIONS="detect_container_overflow=0:detect_leaks=0:allow_user_poisoning=0:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$ROOT/scripts/sanitize-suppressions.txt"
# Left out: the format checks (not about the code's behaviour), the
# installed consumer, the plugin tests (stock mlir-opt cannot load an
# instrumented plugin: the ASan runtime must come first) and the qemu tests
# (ASan's shadow memory does not map under qemu-user).
"$LLVM_PREFIX/bin/lit" -sv \
  --filter-out 'Format/|Install/|Plugin/|compiled-cpu-check|Lowering/lower-to-llvm.mlir' \
  "$BUILD/test"
cd "$ROOT"
MYQUANT_BUILD_DIR="$BUILD" /usr/bin/python3 -m pytest -q \
  python/tests/test_bad_inputs.py python/tests/test_end_to_end.py "$@"
