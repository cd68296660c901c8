// RUN: not myquant-opt %s --myquant-propagate-qparams=dynamic=true --myquant-quantize=dynamic-symmetric=true 2>&1 | FileCheck %s
// RUN: not myquant-opt %s --myquant-propagate-qparams=dynamic=true --myquant-quantize 2>&1 | FileCheck %s --check-prefix=ASYM

// A dynamic layer's bias is int64 at scale s_in * s_w[c] / 127
// (docs/NumericSpec.md 8.3); with an input range of 1e-30 the bias 0.1
// needs about 2^129 units, beyond 2^62: an error naming the layer and the
// channel, not a wrapped constant.
// CHECK: error: loc("fc1"): bias 1.000000e-01 of output channel 0 is {{.*}} in units of input scale * weight scale / 127, beyond 2^62
// ASYM: error: loc("fc1"): bias 1.000000e-01 of output channel 0 is {{.*}} in units of input scale * weight scale / 255, beyond 2^62
  func.func @tiny_input(%x: tensor<1x4xf32> loc("x")) -> tensor<1x4xf32> {
    %s1 = myquant.stats %x {min = array<f64: -1.0e-30>, max = array<f64: 1.0e-30>} : tensor<1x4xf32> loc("x")
    %cst2 = arith.constant dense<"0x0000803F000000BF0000803E000000400000003F0000803F000080BF0000403F000080BE0000003F0000803F0000803F0000803F0000803F000000BF0000003F"> : tensor<4x4xf32> loc("fc1")
    %e3 = tensor.empty() : tensor<4x4xf32> loc("fc1")
    %wt4 = linalg.transpose ins(%cst2 : tensor<4x4xf32>) outs(%e3 : tensor<4x4xf32>) permutation = [1, 0] loc("fc1")
    %c5 = arith.constant 0.0 : f32 loc("fc1")
    %e6 = tensor.empty() : tensor<1x4xf32> loc("fc1")
    %fill7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<1x4xf32>) -> tensor<1x4xf32> loc("fc1")
    %mm8 = linalg.matmul ins(%s1, %wt4 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%fill7 : tensor<1x4xf32>) -> tensor<1x4xf32> loc("fc1")
    %cst9 = arith.constant dense<"0xCDCCCC3DCDCC4CBE9A99993ECDCC4C3D"> : tensor<4xf32> loc("fc1")
    %e10 = tensor.empty() : tensor<1x4xf32> loc("fc1")
    %g11 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm8, %cst9 : tensor<1x4xf32>, tensor<4xf32>) outs(%e10 : tensor<1x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %a = arith.addf %in0, %in1 : f32 loc("fc1")
      linalg.yield %a : f32 loc("fc1")
    } -> tensor<1x4xf32> loc("fc1")
    %s12 = myquant.stats %g11 {min = array<f64: -3.892>, max = array<f64: 2.866>} : tensor<1x4xf32> loc("fc1")
    return %s12 : tensor<1x4xf32>
  }
