// The whole pipeline on a small layer: quantized ops with every integer
// precomputed, then (integer-io) no float left anywhere after lowering.
// RUN: myquant-opt %s --myquant-ptq | FileCheck %s
// RUN: myquant-opt %s --myquant-ptq="rounding=gemmlowp weight-granularity=per-tensor" | FileCheck %s --check-prefix=OPTS
// RUN: myquant-opt %s --myquant-ptq="integer-io allow-float=false" --myquant-lower-to-llvm | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVM
// RUN: not myquant-opt %s --myquant-ptq="rounding=nearest" 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK-LABEL: func.func @linear
// CHECK:       %[[Q:.*]] = myquant.quantize %arg0
// CHECK:       %[[Y:.*]] = myquant.matmul %[[Q]], %{{.*}}, %{{.*}} {rescale = #myquant.rescale<multiplier = [1574103977, 1574103977, 1561806289], shift = [40, 40, 33], rounding = single>, transpose_rhs}
// CHECK:       %[[D:.*]] = myquant.dequantize %[[Y]]
// CHECK:       return %[[D]]

// OPTS:        myquant.matmul {{.*}}rounding = gemmlowp{{.*}} -> tensor<2x3x!quant.uniform<i8:f32, 0.021568627450980392:-82>>
// OPTS-SAME:   {{$}}
// OPTS-NOT:    {0.0078740157480314959,

// LLVM:        define {{.*}} @linear(
// LLVM-NOT:    float
// LLVM-NOT:    double
// LLVM:        define {{.*}} @_mlir_ciface_linear(

// BAD: Cannot find option named 'nearest'
func.func @linear(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %xs = myquant.stats %x {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<2x4xf32>
  %w = arith.constant dense<[[0.5, -1.0, 0.25, 0.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<3x4xf32>
  %b = arith.constant dense<[0.5, -0.25, 0.0]> : tensor<3xf32>
  %z = arith.constant 0.0 : f32
  %et = tensor.empty() : tensor<4x3xf32>
  %wt = linalg.transpose ins(%w : tensor<3x4xf32>) outs(%et : tensor<4x3xf32>) permutation = [1, 0]
  %e = tensor.empty() : tensor<2x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%xs, %wt : tensor<2x4xf32>, tensor<4x3xf32>) outs(%f : tensor<2x3xf32>) -> tensor<2x3xf32>
  %ba = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<2x3xf32>, tensor<3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %s = arith.addf %in, %in2 : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  %bs = myquant.stats %ba {min = array<f64: -1.0>, max = array<f64: 4.5>} : tensor<2x3xf32>
  return %bs : tensor<2x3xf32>
}
