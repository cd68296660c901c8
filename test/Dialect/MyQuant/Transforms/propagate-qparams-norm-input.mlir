// RUN: myquant-opt %s "--myquant-propagate-qparams=norm-input-bits=16 int16-range-headroom=1" --myquant-quantize 2>&1 | FileCheck %s
// RUN: myquant-opt %s --myquant-propagate-qparams --myquant-quantize 2>&1 | FileCheck %s --check-prefix=EIGHT
// RUN: myquant-opt %s "--myquant-ptq=norm-input-bits=16 allow-float=false" | myquant-opt --myquant-lower-to-llvm -o /dev/null
// RUN: not myquant-opt %s --myquant-propagate-qparams=norm-input-bits=12 2>&1 | FileCheck %s --check-prefix=BITS
// The 16-bit scales checked below are the calibrated ranges' own
// (int16-range-headroom=1; the default headroom doubles them,
// docs/NumericSpec.md 6.1, propagate-qparams-int16.mlir).

// 16-bit LayerNorm inputs (docs/NumericSpec.md 6.5), on a ViT block as
// python/myquant/emit.py writes it: pos = x + constant (a position
// embedding), ln1 = LayerNorm(pos), fc = Linear(ln1), res = fc + pos,
// ln2 = LayerNorm(res).

// With norm-input-bits=16 the values the LayerNorms read are symmetric i16
// (scale max|range| / 32767: 2.43 / 32767 for pos, 2.856 / 32767 for res).
// The add of the constant reads 8 bits (x and the constant, left_shift 20)
// and writes 16; the residual add of an 8-bit and a 16-bit operand shifts
// by 15. The LayerNorms write int8, so fc keeps 8 bits. epsilon is
// 2^-8 * C^3 * eps / s_in^2: 2^-8 * 64 * 1e-5 / (2.43 / 32767)^2 = 455.
// CHECK-NOT:   remark
// CHECK-LABEL: func.func @forward
// CHECK:       %[[X:.+]] = myquant.quantize %{{.+}} -> tensor<1x3x4x!quant.uniform<i8:f32, 0.012737254901960786:-27>>
// CHECK:       %[[POS:.+]] = myquant.add %[[X]], %{{.+}} {left_shift = 20 : i64{{.*}} -> tensor<1x3x4x!quant.uniform<i16<-32767:32767>:f32, 7.4159978026673177E-5>>
// CHECK:       %[[LN1:.+]] = myquant.layer_norm %[[POS]] {{{.*}}epsilon = 455 : i64{{.*}}} : tensor<1x3x4x!quant.uniform<i16<-32767:32767>:f32, 7.4159978026673177E-5>> -> tensor<1x3x4x!quant.uniform<i8:f32,
// CHECK:       myquant.matmul {{.*}} -> tensor<3x4x!quant.uniform<i8:f32,
// CHECK:       %[[RES:.+]] = myquant.add %{{.+}}, %[[POS]] {left_shift = 15 : i64{{.*}} -> tensor<1x3x4x!quant.uniform<i16<-32767:32767>:f32, 8.7160863063447978E-5>>
// CHECK:       myquant.layer_norm %[[RES]] {{.*}} : tensor<1x3x4x!quant.uniform<i16<-32767:32767>:f32, 8.7160863063447978E-5>> -> tensor<1x3x4x!quant.uniform<i8:f32,

// By default everything is int8.
// EIGHT-LABEL: func.func @forward
// EIGHT-NOT:   i16
// EIGHT:       myquant.layer_norm %{{.+}} : tensor<1x3x4x!quant.uniform<i8:f32
// EIGHT:       myquant.layer_norm %{{.+}} : tensor<1x3x4x!quant.uniform<i8:f32

// BITS: error: norm-input-bits is 12; it must be 8 or 16
module {
  func.func @forward(%x: tensor<1x3x4xf32> loc("x")) -> tensor<1x3x4xf32> {
    %s1 = myquant.stats %x {min = array<f64: -1.288>, max = array<f64: 1.96>} : tensor<1x3x4xf32> loc("x")
    %cst2 = arith.constant dense<"0x8FC2753D295C8FBD0AD7A33ECDCC4C3D713D8ABEEC51383E6666263FD7A3F03E3333B3BEAE4721BF52B89EBE0AD7A33C"> : tensor<1x3x4xf32> loc("pos")
    %e3 = tensor.empty() : tensor<1x3x4xf32> loc("pos")
    %g4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s1, %cst2 : tensor<1x3x4xf32>, tensor<1x3x4xf32>) outs(%e3 : tensor<1x3x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %a = arith.addf %in0, %in1 : f32 loc("pos")
      linalg.yield %a : f32 loc("pos")
    } -> tensor<1x3x4xf32> loc("pos")
    %s5 = myquant.stats %g4 {min = array<f64: -1.8>, max = array<f64: 2.43>} : tensor<1x3x4xf32> loc("pos")
    %c6 = arith.constant 4.0 : f32 loc("ln1")
    %c7 = arith.constant 0.0 : f32 loc("ln1")
    %e8 = tensor.empty() : tensor<1x3xf32> loc("ln1")
    %fill9 = linalg.fill ins(%c7 : f32) outs(%e8 : tensor<1x3xf32>) -> tensor<1x3xf32> loc("ln1")
    %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%s5 : tensor<1x3x4xf32>) outs(%fill9 : tensor<1x3xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %r = arith.addf %in0, %out : f32 loc("ln1")
      linalg.yield %r : f32 loc("ln1")
    } -> tensor<1x3xf32> loc("ln1")
    %e11 = tensor.empty() : tensor<1x3x4xf32> loc("ln1")
    %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s5, %g10 : tensor<1x3x4xf32>, tensor<1x3xf32>) outs(%e11 : tensor<1x3x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %m = arith.divf %in1, %c6 : f32 loc("ln1")
      %r = arith.subf %in0, %m : f32 loc("ln1")
      linalg.yield %r : f32 loc("ln1")
    } -> tensor<1x3x4xf32> loc("ln1")
    %c13 = arith.constant 0.0 : f32 loc("ln1")
    %e14 = tensor.empty() : tensor<1x3xf32> loc("ln1")
    %fill15 = linalg.fill ins(%c13 : f32) outs(%e14 : tensor<1x3xf32>) -> tensor<1x3xf32> loc("ln1")
    %g16 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%g12 : tensor<1x3x4xf32>) outs(%fill15 : tensor<1x3xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %p = arith.mulf %in0, %in0 : f32 loc("ln1")
      %r = arith.addf %p, %out : f32 loc("ln1")
      linalg.yield %r : f32 loc("ln1")
    } -> tensor<1x3xf32> loc("ln1")
    %c17 = arith.constant 9.999999747378752e-06 : f32 loc("ln1")
    %cst18 = arith.constant dense<"0x0000803F0000003F000080BF00000040"> : tensor<4xf32> loc("ln1")
    %cst19 = arith.constant dense<"0x000000000000803E000000BF0000003E"> : tensor<4xf32> loc("ln1")
    %e20 = tensor.empty() : tensor<1x3x4xf32> loc("ln1")
    %g21 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g12, %g16, %cst18, %cst19 : tensor<1x3x4xf32>, tensor<1x3xf32>, tensor<4xf32>, tensor<4xf32>) outs(%e20 : tensor<1x3x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %in2: f32, %in3: f32, %out: f32):
      %v = arith.divf %in1, %c6 : f32 loc("ln1")
      %ve = arith.addf %v, %c17 : f32 loc("ln1")
      %s = math.rsqrt %ve : f32 loc("ln1")
      %n = arith.mulf %in0, %s : f32 loc("ln1")
      %ng = arith.mulf %n, %in2 : f32 loc("ln1")
      %r = arith.addf %ng, %in3 : f32 loc("ln1")
      linalg.yield %r : f32 loc("ln1")
    } -> tensor<1x3x4xf32> loc("ln1")
    %s22 = myquant.stats %g21 {min = array<f64: -2.847>, max = array<f64: 3.009>} : tensor<1x3x4xf32> loc("ln1")
    %collapse23 = tensor.collapse_shape %s22 [[0, 1], [2]] : tensor<1x3x4xf32> into tensor<3x4xf32> loc("fc")
    %cst24 = arith.constant dense<"0xE17A94BFAE47E1BD52B81EBFA470BDBE713D8ABE0AD723BE3D0A573EB81E053F8FC275BD7B142E3FC3F5A8BEEC51383E6666E63ECDCC4C3DA470BDBE1F85EBBE"> : tensor<4x4xf32> loc("fc")
    %e25 = tensor.empty() : tensor<4x4xf32> loc("fc")
    %wt26 = linalg.transpose ins(%cst24 : tensor<4x4xf32>) outs(%e25 : tensor<4x4xf32>) permutation = [1, 0] loc("fc")
    %c27 = arith.constant 0.0 : f32 loc("fc")
    %e28 = tensor.empty() : tensor<3x4xf32> loc("fc")
    %fill29 = linalg.fill ins(%c27 : f32) outs(%e28 : tensor<3x4xf32>) -> tensor<3x4xf32> loc("fc")
    %mm30 = linalg.matmul ins(%collapse23, %wt26 : tensor<3x4xf32>, tensor<4x4xf32>) outs(%fill29 : tensor<3x4xf32>) -> tensor<3x4xf32> loc("fc")
    %cst31 = arith.constant dense<"0x00000000000000000000000000000000"> : tensor<4xf32> loc("fc")
    %e32 = tensor.empty() : tensor<3x4xf32> loc("fc")
    %g33 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm30, %cst31 : tensor<3x4xf32>, tensor<4xf32>) outs(%e32 : tensor<3x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %a = arith.addf %in0, %in1 : f32 loc("fc")
      linalg.yield %a : f32 loc("fc")
    } -> tensor<3x4xf32> loc("fc")
    %s34 = myquant.stats %g33 {min = array<f64: -1.953>, max = array<f64: 2.576>} : tensor<3x4xf32> loc("fc")
    %expand35 = tensor.expand_shape %s34 [[0, 1], [2]] output_shape [1, 3, 4] : tensor<3x4xf32> into tensor<1x3x4xf32> loc("fc")
    %s36 = myquant.stats %expand35 {min = array<f64: -1.953>, max = array<f64: 2.576>} : tensor<1x3x4xf32> loc("fc")
    %e37 = tensor.empty() : tensor<1x3x4xf32> loc("res")
    %g38 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s36, %s5 : tensor<1x3x4xf32>, tensor<1x3x4xf32>) outs(%e37 : tensor<1x3x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %a = arith.addf %in0, %in1 : f32 loc("res")
      linalg.yield %a : f32 loc("res")
    } -> tensor<1x3x4xf32> loc("res")
    %s39 = myquant.stats %g38 {min = array<f64: -2.088>, max = array<f64: 2.856>} : tensor<1x3x4xf32> loc("res")
    %c40 = arith.constant 4.0 : f32 loc("ln2")
    %c41 = arith.constant 0.0 : f32 loc("ln2")
    %e42 = tensor.empty() : tensor<1x3xf32> loc("ln2")
    %fill43 = linalg.fill ins(%c41 : f32) outs(%e42 : tensor<1x3xf32>) -> tensor<1x3xf32> loc("ln2")
    %g44 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%s39 : tensor<1x3x4xf32>) outs(%fill43 : tensor<1x3xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %r = arith.addf %in0, %out : f32 loc("ln2")
      linalg.yield %r : f32 loc("ln2")
    } -> tensor<1x3xf32> loc("ln2")
    %e45 = tensor.empty() : tensor<1x3x4xf32> loc("ln2")
    %g46 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s39, %g44 : tensor<1x3x4xf32>, tensor<1x3xf32>) outs(%e45 : tensor<1x3x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %m = arith.divf %in1, %c40 : f32 loc("ln2")
      %r = arith.subf %in0, %m : f32 loc("ln2")
      linalg.yield %r : f32 loc("ln2")
    } -> tensor<1x3x4xf32> loc("ln2")
    %c47 = arith.constant 0.0 : f32 loc("ln2")
    %e48 = tensor.empty() : tensor<1x3xf32> loc("ln2")
    %fill49 = linalg.fill ins(%c47 : f32) outs(%e48 : tensor<1x3xf32>) -> tensor<1x3xf32> loc("ln2")
    %g50 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%g46 : tensor<1x3x4xf32>) outs(%fill49 : tensor<1x3xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %p = arith.mulf %in0, %in0 : f32 loc("ln2")
      %r = arith.addf %p, %out : f32 loc("ln2")
      linalg.yield %r : f32 loc("ln2")
    } -> tensor<1x3xf32> loc("ln2")
    %c51 = arith.constant 9.999999747378752e-06 : f32 loc("ln2")
    %cst52 = arith.constant dense<"0x0000803F0000803F0000803F0000803F"> : tensor<4xf32> loc("ln2")
    %cst53 = arith.constant dense<"0x00000000000000000000000000000000"> : tensor<4xf32> loc("ln2")
    %e54 = tensor.empty() : tensor<1x3x4xf32> loc("ln2")
    %g55 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g46, %g50, %cst52, %cst53 : tensor<1x3x4xf32>, tensor<1x3xf32>, tensor<4xf32>, tensor<4xf32>) outs(%e54 : tensor<1x3x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %in2: f32, %in3: f32, %out: f32):
      %v = arith.divf %in1, %c40 : f32 loc("ln2")
      %ve = arith.addf %v, %c51 : f32 loc("ln2")
      %s = math.rsqrt %ve : f32 loc("ln2")
      %n = arith.mulf %in0, %s : f32 loc("ln2")
      %ng = arith.mulf %n, %in2 : f32 loc("ln2")
      %r = arith.addf %ng, %in3 : f32 loc("ln2")
      linalg.yield %r : f32 loc("ln2")
    } -> tensor<1x3x4xf32> loc("ln2")
    %s56 = myquant.stats %g55 {min = array<f64: -1.712>, max = array<f64: 1.707>} : tensor<1x3x4xf32> loc("ln2")
    return %s56 : tensor<1x3x4xf32>
  }
}

