// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams=dynamic=true --myquant-quantize=dynamic-symmetric=true | FileCheck %s
// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams=dynamic=true --myquant-quantize | FileCheck %s --check-prefix=ASYM
// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams=dynamic=true 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: myquant-opt %s -split-input-file "--myquant-ptq=dynamic=true allow-float=false" | FileCheck %s --check-prefix=PTQ
// RUN: myquant-opt %s -split-input-file "--myquant-ptq=dynamic=true dynamic-per-row=true" | FileCheck %s --check-prefix=ROW
// RUN: not myquant-opt %s -split-input-file "--myquant-propagate-qparams=dynamic=true activation-bits=16" 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not myquant-opt %s -split-input-file "--myquant-propagate-qparams=dynamic=true weight-bits=4" 2>&1 | FileCheck %s --check-prefix=BITS

// Dynamic quantization (docs/NumericSpec.md 8): the matmuls with constant
// weights read wide values (i32, scale max|range| / 2^23) and quantize them
// to int8 at run time; their bias is int64 at scale s_in * s_w[c] / 127.

// An MLP: every value is wide. x: 2.325 / 2^23 = 2.7716159820556643E-7;
// act1: 2.866 / 2^23. The int64 bias and the rescales are those of the
// numpy reference (reference.dynamic_bias, dynamic_multipliers): fc1's bias
// 0.1 on channel 0 (weights max 2.0) is round(0.1 * 127 / (2.7716e-7 *
// 2 / 127)) = 2909674418, its multiplier (s_x * s_w) / (127 * s_act1)
// 1769657146 * 2^-44.
// CHECK-LABEL: func.func @mlp
// CHECK:       %[[B1:.*]] = arith.constant dense<[2909674418, -11638697673, 17458046943, 2909674418]> : tensor<4xi64>
// CHECK:       %[[X:.*]] = myquant.quantize %{{.*}} -> tensor<1x4x!quant.uniform<i32<-2147483647:2147483647>:f32, 2.7716159820556643E-7>>
// CHECK:       %[[FC1:.*]] = myquant.dynamic_matmul %[[X]], %{{.*}}, %[[B1]] {clamp = #myquant.clamp<0, 2147483647>, rescale = #myquant.rescale<multiplier = [1769657146, 1769657146, 1769657146, 1769657146], shift = [44, 45, 45, 45], rounding = single>, transpose_rhs}
// CHECK-SAME:      -> tensor<1x4x!quant.uniform<i32<-2147483647:2147483647>:f32, 3.4165382385253907E-7>>
// CHECK:       %[[FC2:.*]] = myquant.dynamic_matmul %[[FC1]], %{{[^,]*}} {rescale = {{.*}}, transpose_rhs}
// CHECK-SAME:      -> tensor<1x4x!quant.uniform<i32<-2147483647:2147483647>:f32, 4.850625991821289E-7>>
// CHECK:       myquant.dequantize %[[FC2]]
// By default the small weights here allow asymmetric uint8 inputs (8.2b):
// 255 for 127 in the bias, round(0.1 * 255 / (2.7716e-7 * 2 / 127)) =
// 5842259659, and in the multiplier, 1762717314 * 2^-45.
// ASYM-LABEL:  func.func @mlp
// ASYM:        %[[B1:.*]] = arith.constant dense<[5842259659, -23369038635, 35053558823, 5842259659]> : tensor<4xi64>
// ASYM:        myquant.dynamic_matmul %{{.*}}, %{{.*}}, %[[B1]] {asymmetric, clamp = #myquant.clamp<0, 2147483647>, rescale = #myquant.rescale<multiplier = [1762717314, 1762717314, 1762717314, 1762717314], shift = [45, 46, 46, 46], rounding = single>, transpose_rhs}
// ASYM:        myquant.dynamic_matmul {{.*}}asymmetric
// PTQ-LABEL:   func.func @mlp
// PTQ-COUNT-2: myquant.dynamic_matmul
// PTQ-NOT:     per_row
// With dynamic-per-row (8.2c) both take their parameters per row.
// ROW-LABEL:   func.func @mlp
// ROW-COUNT-2: myquant.dynamic_matmul {{.*}}per_row
// BITS:        error: dynamic=true takes 8-bit weights and activations; drop weight-bits, activation-bits and the w4/a16 layer-precision entries (norm-input-bits=16 and softmax-input-bits=16 combine with it)

  func.func @mlp(%x: tensor<1x4xf32> loc("x")) -> tensor<1x4xf32> {
    %s1 = myquant.stats %x {min = array<f64: -2.325>, max = array<f64: 1.304>} : tensor<1x4xf32> loc("x")
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
    %c13 = arith.constant 0.0 : f32 loc("act1")
    %e14 = tensor.empty() : tensor<1x4xf32> loc("act1")
    %g15 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s12 : tensor<1x4xf32>) outs(%e14 : tensor<1x4xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %r = arith.maximumf %in0, %c13 : f32 loc("act1")
      linalg.yield %r : f32 loc("act1")
    } -> tensor<1x4xf32> loc("act1")
    %s16 = myquant.stats %g15 {min = array<f64: 0.0>, max = array<f64: 2.866>} : tensor<1x4xf32> loc("act1")
    %cst17 = arith.constant dense<"0x0000003F000080BF0000803E0000803F0000803F0000003F0000003F000080BE0000403F000000BF0000803F0000003F000080BF0000803E0000003F0000803F"> : tensor<4x4xf32> loc("fc2")
    %e18 = tensor.empty() : tensor<4x4xf32> loc("fc2")
    %wt19 = linalg.transpose ins(%cst17 : tensor<4x4xf32>) outs(%e18 : tensor<4x4xf32>) permutation = [1, 0] loc("fc2")
    %c20 = arith.constant 0.0 : f32 loc("fc2")
    %e21 = tensor.empty() : tensor<1x4xf32> loc("fc2")
    %fill22 = linalg.fill ins(%c20 : f32) outs(%e21 : tensor<1x4xf32>) -> tensor<1x4xf32> loc("fc2")
    %mm23 = linalg.matmul ins(%s16, %wt19 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%fill22 : tensor<1x4xf32>) -> tensor<1x4xf32> loc("fc2")
    %s24 = myquant.stats %mm23 {min = array<f64: -0.188>, max = array<f64: 4.069>} : tensor<1x4xf32> loc("fc2")
    return %s24 : tensor<1x4xf32>
  }

// -----

// fc1 (+ relu act1) feeds fc2 and the add res: act1 is static int8 (the add
// has no wide form), so fc2 stays static with a remark, and fc1 is dynamic
// with an int8 result.
// Only fc2 (of the second function) has a remark.
// REMARK-NOT:  remark
// REMARK:      remark: loc("fc2"): stays static int8: its input is also read or written by 'linalg.generic'
// REMARK-NOT:  remark
// CHECK-LABEL: func.func @residual
// CHECK:       %[[X:.*]] = myquant.quantize %{{.*}} -> tensor<1x4x!quant.uniform<i32<-2147483647:2147483647>:f32, 2.7716159820556643E-7>>
// CHECK:       %[[FC1:.*]] = myquant.dynamic_matmul %[[X]], {{.*}} -> tensor<1x4x!quant.uniform<i8:f32, {{.*}}>>
// CHECK:       %[[FC2:.*]] = myquant.matmul %[[FC1]], {{.*}} -> tensor<1x4x!quant.uniform<i8:f32
// CHECK:       myquant.add %[[FC2]], %[[FC1]]
  func.func @residual(%x: tensor<1x4xf32> loc("x")) -> tensor<1x4xf32> {
    %s1 = myquant.stats %x {min = array<f64: -2.325>, max = array<f64: 1.304>} : tensor<1x4xf32> loc("x")
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
    %c13 = arith.constant 0.0 : f32 loc("act1")
    %e14 = tensor.empty() : tensor<1x4xf32> loc("act1")
    %g15 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s12 : tensor<1x4xf32>) outs(%e14 : tensor<1x4xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %r = arith.maximumf %in0, %c13 : f32 loc("act1")
      linalg.yield %r : f32 loc("act1")
    } -> tensor<1x4xf32> loc("act1")
    %s16 = myquant.stats %g15 {min = array<f64: 0.0>, max = array<f64: 2.866>} : tensor<1x4xf32> loc("act1")
    %cst17 = arith.constant dense<"0x0000003F000080BF0000803E0000803F0000803F0000003F0000003F000080BE0000403F000000BF0000803F0000003F000080BF0000803E0000003F0000803F"> : tensor<4x4xf32> loc("fc2")
    %e18 = tensor.empty() : tensor<4x4xf32> loc("fc2")
    %wt19 = linalg.transpose ins(%cst17 : tensor<4x4xf32>) outs(%e18 : tensor<4x4xf32>) permutation = [1, 0] loc("fc2")
    %c20 = arith.constant 0.0 : f32 loc("fc2")
    %e21 = tensor.empty() : tensor<1x4xf32> loc("fc2")
    %fill22 = linalg.fill ins(%c20 : f32) outs(%e21 : tensor<1x4xf32>) -> tensor<1x4xf32> loc("fc2")
    %mm23 = linalg.matmul ins(%s16, %wt19 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%fill22 : tensor<1x4xf32>) -> tensor<1x4xf32> loc("fc2")
    %s24 = myquant.stats %mm23 {min = array<f64: -0.188>, max = array<f64: 4.069>} : tensor<1x4xf32> loc("fc2")
    %e25 = tensor.empty() : tensor<1x4xf32> loc("res")
    %g26 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s24, %s16 : tensor<1x4xf32>, tensor<1x4xf32>) outs(%e25 : tensor<1x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %a = arith.addf %in0, %in1 : f32 loc("res")
      linalg.yield %a : f32 loc("res")
    } -> tensor<1x4xf32> loc("res")
    %s27 = myquant.stats %g26 {min = array<f64: -0.188>, max = array<f64: 6.934>} : tensor<1x4xf32> loc("res")
    return %s27 : tensor<1x4xf32>
  }
