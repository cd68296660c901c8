#!/usr/bin/env bash
# The main job: installs what is missing, builds, then trains a small CNN on
# Fashion-MNIST, quantizes it with myquant, compiles and runs it, and prints
# float vs int8 accuracy, SQNR, size and latency against PyTorch.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${MYQUANT_BUILD_DIR:-$ROOT/build}"

"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh"

cd "$ROOT"
MYQUANT_BUILD_DIR="$BUILD" PYTHONPATH="$ROOT/python" \
  /usr/bin/python3 examples/fashion_mnist.py "$@"
