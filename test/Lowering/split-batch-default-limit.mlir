// RUN: myquant-opt %s --split-input-file --myquant-split-batch | FileCheck %s
// RUN: myquant-opt %s --split-input-file "--myquant-lower-to-llvm=target=generic" --mlir-print-ir-after=myquant-split-batch -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPELINE

// The default max-weight-bytes (32 MiB): resnet50's 24.4 MiB of constants
// are split, each image reading them again; more than 32 MiB are not.
// myquant-lower-to-llvm (myquant-compile) has the same default.

!qx = !quant.uniform<i8:f32, 0.05:-3>
!qw = !quant.uniform<i8<-127:127>:f32, 0.01>
!qy = !quant.uniform<i8:f32, 0.1:5>

// 25 MiB of weights (6400 x 4096 int8).
// CHECK-LABEL: func.func @resnet50_sized(
// CHECK:         scf.for
// CHECK:           myquant.conv2d %{{.*}} -> tensor<1x6400x1x1x!quant
// PIPELINE-LABEL: func.func @resnet50_sized(
// PIPELINE:         scf.for
// PIPELINE:           myquant.conv2d %{{.*}} -> tensor<1x6400x1x1x!quant
func.func @resnet50_sized(%f: tensor<2x4096x1x1xf32>) -> tensor<2x6400x1x1xf32> {
  %wi = arith.constant dense<1> : tensor<6400x4096x1x1xi8>
  %w = quant.scast %wi : tensor<6400x4096x1x1xi8> to tensor<6400x4096x1x1x!qw>
  %x = myquant.quantize %f : tensor<2x4096x1x1xf32> -> tensor<2x4096x1x1x!qx>
  %a = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [32], rounding = single>} : (tensor<2x4096x1x1x!qx>, tensor<6400x4096x1x1x!qw>) -> tensor<2x6400x1x1x!qy>
  %d = myquant.dequantize %a : tensor<2x6400x1x1x!qy> -> tensor<2x6400x1x1xf32>
  return %d : tensor<2x6400x1x1xf32>
}

// -----

!qx = !quant.uniform<i8:f32, 0.05:-3>
!qw = !quant.uniform<i8<-127:127>:f32, 0.01>
!qy = !quant.uniform<i8:f32, 0.1:5>

// 34 MiB of weights (8704 x 4096 int8): above the default, unchanged.
// CHECK-LABEL: func.func @above_default(
// CHECK-NOT:     scf.for
// CHECK:         myquant.conv2d %{{.*}} -> tensor<2x8704x1x1x!quant
// PIPELINE-LABEL: func.func @above_default(
// PIPELINE-NOT:     scf.for
// PIPELINE:         myquant.conv2d %{{.*}} -> tensor<2x8704x1x1x!quant
func.func @above_default(%f: tensor<2x4096x1x1xf32>) -> tensor<2x8704x1x1xf32> {
  %wi = arith.constant dense<1> : tensor<8704x4096x1x1xi8>
  %w = quant.scast %wi : tensor<8704x4096x1x1xi8> to tensor<8704x4096x1x1x!qw>
  %x = myquant.quantize %f : tensor<2x4096x1x1xf32> -> tensor<2x4096x1x1x!qx>
  %a = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [32], rounding = single>} : (tensor<2x4096x1x1x!qx>, tensor<8704x4096x1x1x!qw>) -> tensor<2x8704x1x1x!qy>
  %d = myquant.dequantize %a : tensor<2x8704x1x1x!qy> -> tensor<2x8704x1x1xf32>
  return %d : tensor<2x8704x1x1xf32>
}
