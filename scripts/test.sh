#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the GoogleTest unit
# tests and the lit suite (through CTest), then the Python tests.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${MYQUANT_BUILD_DIR:-$ROOT/build}"

"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh"

# glibc fills freed (and fresh) heap memory with a pattern: a compiler pass
# or compiled model that reads freed memory then fails a test instead of
# passing by luck.
export MALLOC_PERTURB_=165

echo "== unit and lit tests (ctest) =="
(cd "$BUILD" && ctest --output-on-failure -j2)

# The 15 slowest tests are listed so that CI time stays visible.
echo "== Python tests (pytest) =="
cd "$ROOT"
MYQUANT_BUILD_DIR="$BUILD" /usr/bin/python3 -m pytest -q --durations=15 python/tests
