// RUN: mlir-opt %s --load-dialect-plugin=%myquant_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor))" \
// RUN:   | myquant-opt --myquant-normalize | FileCheck %s --check-prefix=NORM
// RUN: mlir-opt %s --load-dialect-plugin=%myquant_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor))" \
// RUN:   | myquant-opt "--myquant-ptq=allow-float=false" | FileCheck %s

// TOSA's concat through the upstream conversions (tosa-to-tensor writes a
// tensor.empty and one tensor.insert_slice per operand), between two
// convolutions, is a concatenation: integer-only.
// NORM-LABEL: func.func @tosa_concat
// NORM: tensor.concat dim(3)
// NORM-NOT: tensor.insert_slice
// CHECK-LABEL: func.func @tosa_concat
// CHECK: myquant.conv2d
// CHECK: myquant.concat %{{.*}}, %{{.*}} {dim = 3 : i64}
// CHECK: myquant.conv2d
// CHECK-NOT: tensor.insert_slice
func.func @tosa_concat(%x: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x4x4x2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %w1 = "tosa.const"() <{values = dense<[[[[0.5, -0.25]]], [[[0.75, 1.0]]], [[[-0.5, 0.125]]]]> : tensor<3x1x1x2xf32>}> : () -> tensor<3x1x1x2xf32>
  %b1 = "tosa.const"() <{values = dense<[0.1, -0.2, 0.3]> : tensor<3xf32>}> : () -> tensor<3xf32>
  %c1 = tosa.conv2d %xs, %w1, %b1, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<3x1x1x2xf32>, tensor<3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x3xf32>
  %c1s = myquant.stats %c1 {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x4x4x3xf32>
  %cat = tosa.concat %c1s, %xs {axis = 3 : i32} : (tensor<1x4x4x3xf32>, tensor<1x4x4x2xf32>) -> tensor<1x4x4x5xf32>
  %cats = myquant.stats %cat {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x4x4x5xf32>
  %w2 = "tosa.const"() <{values = dense<0.25> : tensor<2x1x1x5xf32>}> : () -> tensor<2x1x1x5xf32>
  %b2 = "tosa.const"() <{values = dense<[0.0, 0.5]> : tensor<2xf32>}> : () -> tensor<2xf32>
  %c2 = tosa.conv2d %cats, %w2, %b2, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x5xf32>, tensor<2x1x1x5xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x2xf32>
  %c2s = myquant.stats %c2 {min = array<f64: -3.0>, max = array<f64: 3.0>} : tensor<1x4x4x2xf32>
  return %c2s : tensor<1x4x4x2xf32>
}
