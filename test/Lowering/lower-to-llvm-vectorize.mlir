// RUN: myquant-opt %s --myquant-lower-to-llvm | FileCheck %s
// RUN: myquant-opt %s --myquant-lower-to-llvm=vectorize=false | FileCheck %s --check-prefix=LOOPS

// The float matmul runs as vector FMAs; without vectorization as scalar
// multiplies and adds.
// CHECK-LABEL: llvm.func @matmul(
// CHECK:         llvm.intr.fmuladd({{.*}}) : (vector<32xf32>, vector<32xf32>, vector<32xf32>) -> vector<32xf32>
// LOOPS-LABEL: llvm.func @matmul(
// LOOPS-NOT:     vector<
// LOOPS:         llvm.fmul {{.*}} : f32
func.func @matmul(%a: tensor<16x64xf32>, %b: tensor<64x64xf32>) -> tensor<16x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x64xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<16x64xf32>) -> tensor<16x64xf32>
  %r = linalg.matmul ins(%a, %b : tensor<16x64xf32>, tensor<64x64xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %r : tensor<16x64xf32>
}
