// RUN: myquant-opt %s -split-input-file "--myquant-propagate-qparams=weight-bits=4 weight-group-size=4" -verify-diagnostics | FileCheck %s
// RUN: myquant-opt %s -split-input-file "--myquant-ptq=weight-bits=4 weight-group-size=4" -verify-diagnostics | FileCheck %s --check-prefix=PTQ
// RUN: myquant-opt %s -split-input-file "--myquant-ptq=weight-bits=4 weight-group-size=4" 2>/dev/null | myquant-opt -split-input-file --myquant-verify-qparams | FileCheck %s --check-prefix=PTQ
// RUN: not myquant-opt %s -split-input-file --myquant-propagate-qparams=weight-bits=3 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not myquant-opt %s -split-input-file --myquant-propagate-qparams=weight-group-size=32 2>&1 | FileCheck %s --check-prefix=GROUP8
// RUN: not myquant-opt %s -split-input-file --myquant-propagate-qparams=layer-precision=fc:w3a8 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: not myquant-opt %s -split-input-file --myquant-propagate-qparams=layer-precision=nope:w4a8 2>&1 | FileCheck %s --check-prefix=UNNAMED

// BITS: error: weight-bits is 3; supported: 8 or 4
// GROUP8: error: weight-group-size 32 needs 4-bit weights (weight-bits=4 or a w4a8 layer)
// MODE: error: layer-precision entry 'fc:w3a8' is not '<layer name>:w<4|8>a<8|16>'
// UNNAMED: error: layer-precision names 'nope', which is not the location name of an op of this function

// Per group of K = 4 (docs/NumericSpec.md 7.2), [K, N] weights. Channel 0:
// group 0 has amax 7 (m = 256, s = 7 / 7 = 1.0), group 1 amax 0.7
// (m = ceil(25.6) = 26, s = 26 / 256 = 0.1015625); channel 1 is 2.0
// everywhere (s = 2 / 7 rounded up to 15 significant bits, 9363 / 2^15,
// in both groups). The unit scales u = 2^-8 and 9363 / 2^23 give the
// bias's scales.
// CHECK-LABEL: func.func @grouped
// CHECK: arith.constant dense<[8160, -14280]> : tensor<2xi32>
// CHECK-NEXT: quant.scast {{.*}} to tensor<2x!quant.uniform<i32:f32:0, {6.1274509803921568E-5,1.7507403504614738E-5}>>
// CHECK: %[[W:.*]] = arith.constant dense<{{\[}}[7, 7], [-4, 7], [1, 7], [0, 7], [7, 7], [0, 7], [0, 7], [3, 7]]> : tensor<8x2xi4>
// CHECK: quant.scast %[[W]] : tensor<8x2xi4> to tensor<8x2x!quant.uniform<i4<-7:7>:f32:{1:1, 0:4}, {{\{}}{1.000000e+00, 0.2857208251953125}, {0.1015625, 0.2857208251953125}}>>
// PTQ-LABEL: func.func @grouped
// PTQ: myquant.matmul {{.*}} tensor<8x2x!quant.uniform<i4<-7:7>:f32:{1:1, 0:4}
func.func @grouped(%x: tensor<1x8xf32>) -> tensor<1x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x8xf32>
  %w = arith.constant dense<[[7.0, 2.0], [-3.5, 2.0], [1.0, 2.0], [0.0, 2.0],
                             [0.7, 2.0], [0.0, 2.0], [0.0, 2.0], [0.35, 2.0]]> : tensor<8x2xf32>
  %b = arith.constant dense<[0.5, -0.25]> : tensor<2xf32>
  %e = tensor.empty() : tensor<1x2xf32>
  %bb = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%b : tensor<2xf32>) outs(%e : tensor<1x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2xf32>
  %m = linalg.matmul ins(%xs, %w : tensor<1x8xf32>, tensor<8x2xf32>) outs(%bb : tensor<1x2xf32>) -> tensor<1x2xf32>
  %ms = myquant.stats %m {min = array<f64: -8.0>, max = array<f64: 8.0>} : tensor<1x2xf32>
  return %ms : tensor<1x2xf32>
}

// -----

// K = 6 is not a multiple of 4: per channel, with a remark; scale 7 / 7.
// CHECK-LABEL: func.func @ungrouped
// CHECK: arith.constant dense<{{\[}}[7, 7], [-4, 0], [1, 0], [0, 0], [1, 0], [0, 0]]> : tensor<6x2xi4>
// CHECK: tensor<6x2x!quant.uniform<i4<-7:7>:f32:1, {1.000000e+00,1.000000e+00}>>
func.func @ungrouped(%x: tensor<1x6xf32>) -> tensor<1x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x6xf32>
  %w = arith.constant dense<[[7.0, 7.0], [-3.5, 0.0], [1.0, 0.0], [0.0, 0.0], [0.7, 0.0], [0.0, 0.0]]> : tensor<6x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  // expected-remark@+1 {{4-bit weights per channel: K = 6 is not a multiple of the group size 4}}
  %m = linalg.matmul ins(%xs, %w : tensor<1x6xf32>, tensor<6x2xf32>) outs(%f : tensor<1x2xf32>) -> tensor<1x2xf32>
  %ms = myquant.stats %m {min = array<f64: -8.0>, max = array<f64: 8.0>} : tensor<1x2xf32>
  return %ms : tensor<1x2xf32>
}

// -----

// Convolutions take 4-bit weights per output channel.
// CHECK-LABEL: func.func @conv
// CHECK: arith.constant dense<{{\[}}{{\[}}{{\[}}[7]]], {{\[}}{{\[}}[-7]]]]> : tensor<2x1x1x1xi4>
// CHECK: tensor<2x1x1x1x!quant.uniform<i4<-7:7>:f32:0, {0.2857142857142857,1.4285714285714286}>>
func.func @conv(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x1x2x2xf32>
  %w = arith.constant dense<[[[[2.0]]], [[[-10.0]]]]> : tensor<2x1x1x1xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  // expected-remark@+1 {{4-bit weights per channel: groups of K (weight-group-size 4) are for 2-D matmul weights}}
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%xs, %w : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) outs(%f : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %cs = myquant.stats %c {min = array<f64: -10.0>, max = array<f64: 10.0>} : tensor<1x2x2x2xf32>
  return %cs : tensor<1x2x2x2xf32>
}
