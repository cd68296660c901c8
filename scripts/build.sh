#!/usr/bin/env bash
# Configures (once) and builds myquant in build/ with Ninja, ccache and lld.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${MYQUANT_BUILD_DIR:-$ROOT/build}"
LLVM_PREFIX=/usr/lib/llvm-22
# Paths relative to the checkout in ccache's keys: a clone elsewhere (CI)
# reuses the objects compiled here.
export CCACHE_BASEDIR="$ROOT"

if [[ ! -f "$BUILD/build.ninja" ]]; then
  cmake -G Ninja -S "$ROOT" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
    -DLLVM_EXTERNAL_LIT="$LLVM_PREFIX/bin/lit" \
    -DCMAKE_INSTALL_PREFIX="$BUILD/install"
fi
cmake --build "$BUILD" "$@"
