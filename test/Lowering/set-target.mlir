// RUN: myquant-opt %s --myquant-set-target="triple=thumbv7em-none-eabi cpu=cortex-m4 features=-fpregs" | FileCheck %s --check-prefix=ATTRS
// RUN: myquant-opt %s --myquant-set-target | FileCheck %s --check-prefix=HOST
// RUN: myquant-opt %s --myquant-lower-to-llvm="triple=riscv32-unknown-elf features=+m,+a,+c" | FileCheck %s --check-prefix=RV32
// RUN: not myquant-opt %s --myquant-lower-to-llvm="triple=thumbv7em-none-eabi target=avx512-vnni" 2>&1 | FileCheck %s --check-prefix=X86
// RUN: myquant-opt %s --myquant-lower-to-llvm="triple=x86_64-unknown-linux-gnu target=avx512-vnni" | FileCheck %s --check-prefix=X86-64
// RUN: not myquant-opt %s --myquant-lower-to-llvm="triple=i686-unknown-linux-gnu target=avx512-vnni" 2>&1 | FileCheck %s --check-prefix=I686
// RUN: myquant-opt %s --myquant-lower-to-llvm="triple=riscv32-unknown-elf" --mlir-print-op-generic 2>&1 | FileCheck %s --check-prefix=GENERIC --implicit-check-not=vector.

// The triple, the TargetMachine's data layout and a 32-bit index.
// ATTRS:      module attributes {
// ATTRS-SAME:   dlti.dl_spec = #dlti.dl_spec<
// ATTRS-SAME:   index = 32 : i64>
// ATTRS-SAME:   llvm.data_layout = "e-m:e-p:32:32-Fi8-i64:64-v128:64:128-a:0:32-n32-S64"
// ATTRS-SAME:   llvm.target_triple = "thumbv7em-none-eabi"
// Without a triple, nothing.
// HOST-NOT:   llvm.target_triple
// HOST-NOT:   dlti.dl_spec

// malloc takes an i32, the descriptors hold i32 sizes.
// RV32:       llvm.func @malloc(i32) -> !llvm.ptr
// RV32-LABEL: llvm.func @model(
// RV32-SAME:    -> !llvm.struct<(ptr, ptr, i32, array<2 x i32>, array<2 x i32>)>
// RV32:         llvm.call @malloc(%{{.*}}) : (i32) -> !llvm.ptr

// x86 kernels on another triple.
// X86: error: kernel target 'avx512-vnni' needs an x86-64 triple, not 'thumbv7em-none-eabi' (use target=generic or host)

// An x86-64 triple keeps the kernels and a 64-bit index; a 32-bit x86
// triple cannot have them (their vector ops need a 64-bit index).
// X86-64:     llvm.func @malloc(i64) -> !llvm.ptr
// X86-64:     llvm.x86.avx512.vpdpbusd.512
// I686: error: kernel target 'avx512-vnni' needs an x86-64 triple, not 'i686-unknown-linux-gnu'

// The default kernel target on a cross triple is the generic lowering: no
// vector op is left to a 64-bit-index lowering.
// GENERIC: "llvm.func"() <{{.*}}sym_name = "model"

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8:f32:0, {0.01, 0.02}>
!qy = !quant.uniform<i8:f32, 0.05:3>

func.func @model(%x: tensor<4x8xi8>) -> tensor<4x2xi8> {
  %xq = quant.scast %x : tensor<4x8xi8> to tensor<4x8x!qx>
  %wi = arith.constant dense<[[1, -2, 3, 4, 5, -6, 7, 8], [-1, 2, -3, 4, -5, 6, -7, 8]]> : tensor<2x8xi8>
  %w = quant.scast %wi : tensor<2x8xi8> to tensor<2x8x!qw>
  %b = arith.constant dense<[100, -200]> : tensor<2xi32>
  %y = myquant.matmul %xq, %w, %b {transpose_rhs} : (tensor<4x8x!qx>, tensor<2x8x!qw>, tensor<2xi32>) -> tensor<4x2x!qy>
  %yi = quant.scast %y : tensor<4x2x!qy> to tensor<4x2xi8>
  return %yi : tensor<4x2xi8>
}
