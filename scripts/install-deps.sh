#!/usr/bin/env bash
# Installs every Debian package myquant needs. Idempotent: re-running only
# re-checks; apt-get skips packages that are already installed.
set -euo pipefail

PACKAGES=(
  # Toolchain and build
  cmake ninja-build ccache lld clang-22 clang-format
  # Static analysis (.clang-tidy, test/Format/clang-tidy.test)
  clang-tidy-22
  # LLVM / MLIR 22
  llvm-22-dev llvm-22-tools mlir-22-tools libmlir-22-dev
  # OpenMP runtime for kernels compiled with --kernel-threads > 1
  libomp-22-dev
  # Unit tests
  libgtest-dev
  # Running a library built for a newer CPU on an emulated older one
  # (test/Tools/compiled-cpu-check.test)
  qemu-user
  # Bare-metal cross targets under qemu (python/tests/test_baremetal.py,
  # docs/Targets.md): Cortex-M (newlib, semihosting) and RV32 (picolibc)
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
  picolibc-riscv64-unknown-elf qemu-system-misc
  # Python side: reference, tests, example
  python3 python3-numpy python3-pytest
  # Baseline and oracle (PyTorch quantized kernels), the torchvision model zoo,
  # data sets for the examples
  python3-torch python3-torchvision python3-sklearn dataset-fashion-mnist
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
