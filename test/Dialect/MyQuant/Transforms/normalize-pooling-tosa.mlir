// TOSA's max_pool2d and avg_pool2d as the stock mlir-opt lowers them:
// linalg.pooling_nhwc_max, and linalg.pooling_nhwc_sum over a tensor.pad
// (amounts as constant SSA values) followed by a division by each window's
// element count without the padding, which the body computes from
// linalg.index. myquant-normalize evaluates the counts into a constant
// [OH, OW] tensor of divisors (here 4, 2, 2, 1: the 3x3 input padded at
// the bottom and right), the form of average pooling the dry run reads.

// RUN: mlir-opt %s --load-dialect-plugin=%myquant_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor))" \
// RUN:   | myquant-opt --myquant-normalize | FileCheck %s --check-prefix=NORM
// RUN: mlir-opt %s --load-dialect-plugin=%myquant_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor))" \
// RUN:   | myquant-opt "--myquant-ptq=allow-float=false" | FileCheck %s

// NORM-LABEL: func.func @tosa_pools
// NORM:       linalg.pooling_nhwc_max
// NORM:       %[[SUM:.*]] = linalg.pooling_nhwc_sum
// NORM:       %[[D:.*]] = arith.constant dense<{{\[\[}}4.000000e+00, 2.000000e+00], [2.000000e+00, 1.000000e+00]]> : tensor<2x2xf32>
// NORM:       linalg.generic {{.*}} ins(%[[SUM]], %[[D]] : tensor<1x2x2x2xf32>, tensor<2x2xf32>)
// NORM-NOT:   linalg.index
// CHECK-LABEL: func.func @tosa_pools
// CHECK:       myquant.max_pool2d
// CHECK-SAME:    kernel = array<i64: 2, 2>, layout = #myquant.layout<nhwc>
// CHECK:       myquant.avg_pool2d
// CHECK-SAME:    divisors = array<i64: 4, 2, 2, 1>
// CHECK-SAME:    padding = array<i64: 0, 0, 1, 1>
// CHECK-NEXT:  myquant.dequantize
func.func @tosa_pools(%x: tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x4x4x2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %m = tosa.max_pool2d %xs {kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>) -> tensor<1x3x3x2xf32>
  %ms = myquant.stats %m {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x3x3x2xf32>
  %a = tosa.avg_pool2d %ms, %zp, %zp {acc_type = f32, kernel = array<i64: 2, 2>, pad = array<i64: 0, 1, 0, 1>, stride = array<i64: 2, 2>} : (tensor<1x3x3x2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %as = myquant.stats %a {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x2x2xf32>
  return %as : tensor<1x2x2x2xf32>
}
