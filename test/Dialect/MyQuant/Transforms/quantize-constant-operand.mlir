// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams \
// RUN:   --myquant-quantize -verify-diagnostics | FileCheck %s
// RUN: myquant-opt %s -split-input-file \
// RUN:   --myquant-propagate-qparams=activation-type=uint8 \
// RUN:   --myquant-quantize -verify-diagnostics | FileCheck %s --check-prefix=U8

// A constant operand of a concatenation or an addition (ViT's class token
// and position embedding) is quantized at compile time: into the result's
// parameters for a concatenation, which then copies it (docs/NumericSpec.md
// 3.5), into the parameters of its own range for an addition (3.2).

// The class token, a [1, 4] constant broadcast over the batch, before the
// patches: quantized into the concatenation's (4/255, 0), values past the
// range saturate (2.0 -> 127.5 -> 127, 3.0 -> 127).
// CHECK-LABEL: func.func @class_token
// CHECK: %[[C:.*]] = arith.constant dense<{{\[}}{{\[}}[32, -64, 127, 127]], {{\[}}[32, -64, 127, 127]]]> : tensor<2x1x4xi8>
// CHECK: %[[X:.*]] = myquant.quantize %arg0
// CHECK: %[[T:.*]] = quant.scast %[[C]] : tensor<2x1x4xi8> to tensor<2x1x4x!quant.uniform<i8:f32, 0.015686274509803921>>
// CHECK: myquant.concat %[[T]], %[[X]] {dim = 1 : i64} : (tensor<2x1x4x!quant.uniform<i8:f32, 0.015686274509803921>>, tensor<2x3x4x!quant.uniform<i8:f32, 0.015686274509803921>>) -> tensor<2x4x4x!quant.uniform<i8:f32, 0.015686274509803921>>
// CHECK-NOT: myquant.requantize
// CHECK-NOT: linalg.broadcast
// CHECK-NOT: tensor.concat
// uint8: zero point 128, storage [0, 255] (160, 64, 255, 255 as i8 bits).
// U8-LABEL: func.func @class_token
// U8: arith.constant dense<{{\[}}{{\[}}[-96, 64, -1, -1]], {{\[}}[-96, 64, -1, -1]]]> : tensor<2x1x4xi8>
// U8: myquant.concat {{.*}} -> tensor<2x4x4x!quant.uniform<u8:f32, 0.015686274509803921:128>>
func.func @class_token(%x: tensor<2x3x4xf32>) -> tensor<2x4x4xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<2x3x4xf32>
  %t = arith.constant dense<[[0.5, -1.0, 2.0, 3.0]]> : tensor<1x4xf32>
  %e = tensor.empty() : tensor<2x1x4xf32>
  %b = linalg.broadcast ins(%t : tensor<1x4xf32>) outs(%e : tensor<2x1x4xf32>) dimensions = [0]
  %c = tensor.concat dim(1) %b, %xs : (tensor<2x1x4xf32>, tensor<2x3x4xf32>) -> tensor<2x4x4xf32>
  %cs = myquant.stats %c {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<2x4x4xf32>
  return %cs : tensor<2x4x4xf32>
}

// -----

#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#pos = affine_map<(d0, d1, d2) -> (0, d1, d2)>
// The position embedding [1, 2, 2] read by torch-mlir's broadcast map, the
// constant first: its own range [-1, 1] gives (2/255, 0); -127.5 rounds to
// -128 and 127.5 to 128, saturated to 127. The add reads it with the
// result's rank.
// CHECK-LABEL: func.func @position_embedding
// CHECK: %[[C:.*]] = arith.constant dense<{{\[}}{{\[}}[-128, 64], [32, 127]]]> : tensor<1x2x2xi8>
// CHECK: %[[X:.*]] = myquant.quantize %arg0
// CHECK: %[[P:.*]] = quant.scast %[[C]] : tensor<1x2x2xi8> to tensor<1x2x2x!quant.uniform<i8:f32, 0.0078431372549019607>>
// CHECK: myquant.add %[[P]], %[[X]] {left_shift = 20 : i64, lhs_rescale = {{.*}}} : (tensor<1x2x2x!quant.uniform<i8:f32, 0.0078431372549019607>>, tensor<3x2x2x!quant.uniform<i8:f32, 0.015686274509803921>>) -> tensor<3x2x2x!quant.uniform<i8:f32, 0.031372549019607843>>
// CHECK-NOT: linalg.generic
func.func @position_embedding(%x: tensor<3x2x2xf32>) -> tensor<3x2x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<3x2x2xf32>
  %p = arith.constant dense<[[[-1.0, 0.5], [0.25, 1.0]]]> : tensor<1x2x2xf32>
  %e = tensor.empty() : tensor<3x2x2xf32>
  %a = linalg.generic {indexing_maps = [#pos, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%p, %xs : tensor<1x2x2xf32>, tensor<3x2x2xf32>) outs(%e : tensor<3x2x2xf32>) {
  ^bb0(%in0: f32, %in1: f32, %o: f32):
    %s = arith.addf %in0, %in1 : f32
    linalg.yield %s : f32
  } -> tensor<3x2x2xf32>
  %as = myquant.stats %a {min = array<f64: -4.0>, max = array<f64: 4.0>} : tensor<3x2x2xf32>
  return %as : tensor<3x2x2xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
// x - c with a same-shaped constant: a subtracting add, the constant the
// rhs. A constant of one value v has the range [min(v, 0), max(v, 0)].
// CHECK-LABEL: func.func @subtract_constant
// CHECK: %[[C:.*]] = arith.constant dense<127> : tensor<2x2xi8>
// CHECK: %[[S:.*]] = quant.scast %[[C]] : tensor<2x2xi8> to tensor<2x2x!quant.uniform<i8:f32, 0.0019607843137254902:-128>>
// CHECK: myquant.add %{{.*}}, %[[S]] {{{.*}}subtract{{.*}}}
func.func @subtract_constant(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<2x2xf32>
  %c = arith.constant dense<0.5> : tensor<2x2xf32>
  %e = tensor.empty() : tensor<2x2xf32>
  %a = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%xs, %c : tensor<2x2xf32>, tensor<2x2xf32>) outs(%e : tensor<2x2xf32>) {
  ^bb0(%in0: f32, %in1: f32, %o: f32):
    %s = arith.subf %in0, %in1 : f32
    linalg.yield %s : f32
  } -> tensor<2x2xf32>
  %as = myquant.stats %a {min = array<f64: -3.0>, max = array<f64: 2.0>} : tensor<2x2xf32>
  return %as : tensor<2x2xf32>
}

// -----

// A constant that is not finite has no integers.
func.func @infinite_token(%x: tensor<1x3x2xf32>) -> tensor<1x4x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x3x2xf32>
  %t = arith.constant dense<[[[1.0, 0x7F800000]]]> : tensor<1x1x2xf32>
  // expected-error @+1 {{operand #0 of 'tensor.concat' is a constant holding INF at flat index 1; only finite values can be quantized}}
  %c = tensor.concat dim(1) %t, %xs : (tensor<1x1x2xf32>, tensor<1x3x2xf32>) -> tensor<1x4x2xf32>
  %cs = myquant.stats %c {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x4x2xf32>
  return %cs : tensor<1x4x2xf32>
}
