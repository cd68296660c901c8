// Execution test of the requantization arithmetic: both roundings on edge
// values, lowered with --convert-myquant-to-linalg and run on the CPU.
//
// RUN: myquant-opt %s --convert-myquant-to-linalg \
// RUN: | mlir-opt --pass-pipeline='builtin.module(one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map}, func.func(convert-linalg-to-loops), convert-scf-to-cf, expand-strided-metadata, lower-affine, convert-to-llvm, reconcile-unrealized-casts)' \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s
//
// Every expected value below was computed with the independent numpy
// reference, python/myquant/testing/reference.py (requantize_tensor with the same
// integers, multipliers, shifts, zero points and clamp bounds), not taken from
// the compiler's output. The quantized types' scales only document the
// multipliers: every rescale is given explicitly.

func.func private @printMemrefI32(memref<*xi32>)

// Prints an i8 tensor as i32 (printMemrefI8 would print characters).
func.func @print(%t: tensor<8xi8>) {
  %e = tensor.empty() : tensor<8xi32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%t : tensor<8xi8>) outs(%e : tensor<8xi32>) {
  ^bb0(%x: i8, %o: i32):
    %y = arith.extsi %x : i8 to i32
    linalg.yield %y : i32
  } -> tensor<8xi32>
  %m = bufferization.to_buffer %w : tensor<8xi32> to memref<8xi32>
  %u = memref.cast %m : memref<8xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

// Each case prints its single result, then its gemmlowp result.
func.func @main() {
  // ties at shift 31 (M = 0.5): one rounding, ties toward +inf in both schemes; input zp 1, output zp -2
  %c0 = arith.constant dense<[1, -1, 3, -3, 5, -5, 127, -128]> : tensor<8xi8>
  %q0 = quant.scast %c0 : tensor<8xi8> to tensor<8x!quant.uniform<i8:f32, 1.0:1>>
  %r0s = myquant.requantize %q0 {rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>}
      : tensor<8x!quant.uniform<i8:f32, 1.0:1>> -> tensor<8x!quant.uniform<i8:f32, 2.0:-2>>
  %s0s = quant.scast %r0s : tensor<8x!quant.uniform<i8:f32, 2.0:-2>> to tensor<8xi8>
  call @print(%s0s) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [-2, -3, -1, -4, 0, -5, 61, -66]
  %r0g = myquant.requantize %q0 {rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = gemmlowp>}
      : tensor<8x!quant.uniform<i8:f32, 1.0:1>> -> tensor<8x!quant.uniform<i8:f32, 2.0:-2>>
  %s0g = quant.scast %r0g : tensor<8x!quant.uniform<i8:f32, 2.0:-2>> to tensor<8xi8>
  call @print(%s0g) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [-2, -3, -1, -4, 0, -5, 61, -66]

  // shift 33 (M = 1/8): gemmlowp rounds twice; negative ties go away from zero
  %c1 = arith.constant dense<[3, -3, 4, -4, 12, -12, 20, -20]> : tensor<8xi8>
  %q1 = quant.scast %c1 : tensor<8xi8> to tensor<8x!quant.uniform<i8:f32, 1.0>>
  %r1s = myquant.requantize %q1 {rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>}
      : tensor<8x!quant.uniform<i8:f32, 1.0>> -> tensor<8x!quant.uniform<i8:f32, 8.0>>
  %s1s = quant.scast %r1s : tensor<8x!quant.uniform<i8:f32, 8.0>> to tensor<8xi8>
  call @print(%s1s) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [0, 0, 1, 0, 2, -1, 3, -2]
  %r1g = myquant.requantize %q1 {rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = gemmlowp>}
      : tensor<8x!quant.uniform<i8:f32, 1.0>> -> tensor<8x!quant.uniform<i8:f32, 8.0>>
  %s1g = quant.scast %r1g : tensor<8x!quant.uniform<i8:f32, 8.0>> to tensor<8xi8>
  call @print(%s1g) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [1, 0, 1, -1, 2, -2, 3, -3]

  // shift 0 (M = 3): single saturates only at the i8 clamp; gemmlowp's left shift by 31 saturates
  %c2 = arith.constant dense<[0, 1, -1, 2, -2, 42, 43, -43]> : tensor<8xi8>
  %q2 = quant.scast %c2 : tensor<8xi8> to tensor<8x!quant.uniform<i8:f32, 3.0>>
  %r2s = myquant.requantize %q2 {rescale = #myquant.rescale<multiplier = [3], shift = [0], rounding = single>}
      : tensor<8x!quant.uniform<i8:f32, 3.0>> -> tensor<8x!quant.uniform<i8:f32, 1.0>>
  %s2s = quant.scast %r2s : tensor<8x!quant.uniform<i8:f32, 1.0>> to tensor<8xi8>
  call @print(%s2s) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [0, 3, -3, 6, -6, 126, 127, -128]
  %r2g = myquant.requantize %q2 {rescale = #myquant.rescale<multiplier = [3], shift = [0], rounding = gemmlowp>}
      : tensor<8x!quant.uniform<i8:f32, 3.0>> -> tensor<8x!quant.uniform<i8:f32, 1.0>>
  %s2g = quant.scast %r2g : tensor<8x!quant.uniform<i8:f32, 1.0>> to tensor<8xi8>
  call @print(%s2g) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [0, 3, -3, 3, -3, 3, 3, -3]

  // int32 input, shift 55 (M = 2^-25): the INT32 extremes, ties and near-ties
  %c3 = arith.constant dense<[2147483647, -2147483648, 50331648, -50331648, 16777216, -16777216, 16777215, -16777217]> : tensor<8xi32>
  %q3 = quant.scast %c3 : tensor<8xi32> to tensor<8x!quant.uniform<i32:f32, 1.0>>
  %r3s = myquant.requantize %q3 {rescale = #myquant.rescale<multiplier = [1073741824], shift = [55], rounding = single>}
      : tensor<8x!quant.uniform<i32:f32, 1.0>> -> tensor<8x!quant.uniform<i8:f32, 33554432.0>>
  %s3s = quant.scast %r3s : tensor<8x!quant.uniform<i8:f32, 33554432.0>> to tensor<8xi8>
  call @print(%s3s) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [64, -64, 2, -1, 1, 0, 0, -1]
  %r3g = myquant.requantize %q3 {rescale = #myquant.rescale<multiplier = [1073741824], shift = [55], rounding = gemmlowp>}
      : tensor<8x!quant.uniform<i32:f32, 1.0>> -> tensor<8x!quant.uniform<i8:f32, 33554432.0>>
  %s3g = quant.scast %r3g : tensor<8x!quant.uniform<i8:f32, 33554432.0>> to tensor<8xi8>
  call @print(%s3g) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [64, -64, 2, -2, 1, -1, 1, -1]

  // int32 input, M ~ 2^-24.5, output zp -5 and clamp<-20, 100>
  %c4 = arith.constant dense<[2147483647, -2147483648, 1073741824, -1073741825, 123456789, -987654321, 2, -3]> : tensor<8xi32>
  %q4 = quant.scast %c4 : tensor<8xi32> to tensor<8x!quant.uniform<i32:f32, 1.0>>
  %r4s = myquant.requantize %q4 {rescale = #myquant.rescale<multiplier = [1518500250], shift = [55], rounding = single>, clamp = #myquant.clamp<-20, 100>}
      : tensor<8x!quant.uniform<i32:f32, 1.0>> -> tensor<8x!quant.uniform<i8:f32, 23726566.0:-5>>
  %s4s = quant.scast %r4s : tensor<8x!quant.uniform<i8:f32, 23726566.0:-5>> to tensor<8xi8>
  call @print(%s4s) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [86, -20, 40, -20, 0, -20, -5, -5]
  %r4g = myquant.requantize %q4 {rescale = #myquant.rescale<multiplier = [1518500250], shift = [55], rounding = gemmlowp>, clamp = #myquant.clamp<-20, 100>}
      : tensor<8x!quant.uniform<i32:f32, 1.0>> -> tensor<8x!quant.uniform<i8:f32, 23726566.0:-5>>
  %s4g = quant.scast %r4g : tensor<8x!quant.uniform<i8:f32, 23726566.0:-5>> to tensor<8xi8>
  call @print(%s4g) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [86, -20, 40, -20, 0, -20, -5, -5]

  // int32 input, shift 62 (M = 2^-32): |v * M| <= 1/2, single gives 0, gemmlowp +-1 at the extremes
  %c5 = arith.constant dense<[2147483647, -2147483648, 1073741824, -1073741824, 1073741825, -1073741825, 1, 0]> : tensor<8xi32>
  %q5 = quant.scast %c5 : tensor<8xi32> to tensor<8x!quant.uniform<i32:f32, 1.0>>
  %r5s = myquant.requantize %q5 {rescale = #myquant.rescale<multiplier = [1073741824], shift = [62], rounding = single>}
      : tensor<8x!quant.uniform<i32:f32, 1.0>> -> tensor<8x!quant.uniform<i8:f32, 4294967296.0>>
  %s5s = quant.scast %r5s : tensor<8x!quant.uniform<i8:f32, 4294967296.0>> to tensor<8xi8>
  call @print(%s5s) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [0, 0, 0, 0, 0, 0, 0, 0]
  %r5g = myquant.requantize %q5 {rescale = #myquant.rescale<multiplier = [1073741824], shift = [62], rounding = gemmlowp>}
      : tensor<8x!quant.uniform<i32:f32, 1.0>> -> tensor<8x!quant.uniform<i8:f32, 4294967296.0>>
  %s5g = quant.scast %r5g : tensor<8x!quant.uniform<i8:f32, 4294967296.0>> to tensor<8xi8>
  call @print(%s5g) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [1, -1, 0, 0, 0, 0, 0, 0]

  // int32 input, shift 62 with the largest multiplier (M = (2^31 - 1) * 2^-62)
  %c6 = arith.constant dense<[2147483647, -2147483648, 1073741824, -1073741824, 1610612736, -1610612736, 1, 0]> : tensor<8xi32>
  %q6 = quant.scast %c6 : tensor<8xi32> to tensor<8x!quant.uniform<i32:f32, 1.0>>
  %r6s = myquant.requantize %q6 {rescale = #myquant.rescale<multiplier = [2147483647], shift = [62], rounding = single>}
      : tensor<8x!quant.uniform<i32:f32, 1.0>> -> tensor<8x!quant.uniform<i8:f32, 2147483648.0>>
  %s6s = quant.scast %r6s : tensor<8x!quant.uniform<i8:f32, 2147483648.0>> to tensor<8xi8>
  call @print(%s6s) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [1, -1, 0, 0, 1, -1, 0, 0]
  %r6g = myquant.requantize %q6 {rescale = #myquant.rescale<multiplier = [2147483647], shift = [62], rounding = gemmlowp>}
      : tensor<8x!quant.uniform<i32:f32, 1.0>> -> tensor<8x!quant.uniform<i8:f32, 2147483648.0>>
  %s6g = quant.scast %r6g : tensor<8x!quant.uniform<i8:f32, 2147483648.0>> to tensor<8xi8>
  call @print(%s6g) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [1, -1, 1, 0, 1, -1, 0, 0]

  // per-axis input (axis 0 of 2x4): zero points [1, -1], rescales (2^30, 31) and (2^30, 33)
  %c7 = arith.constant dense<[[3, -3, 4, -4], [3, -5, 4, -4]]> : tensor<2x4xi8>
  %q7 = quant.scast %c7 : tensor<2x4xi8> to tensor<2x4x!quant.uniform<i8:f32:0, {1.0:1, 0.25:-1}>>
  %r7s = myquant.requantize %q7 {rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [31, 33], rounding = single>}
      : tensor<2x4x!quant.uniform<i8:f32:0, {1.0:1, 0.25:-1}>> -> tensor<2x4x!quant.uniform<i8:f32, 2.0>>
  %s7s = quant.scast %r7s : tensor<2x4x!quant.uniform<i8:f32, 2.0>> to tensor<2x4xi8>
  %f7s = tensor.collapse_shape %s7s [[0, 1]] : tensor<2x4xi8> into tensor<8xi8>
  call @print(%f7s) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [1, -2, 2, -2, 1, 0, 1, 0]
  %r7g = myquant.requantize %q7 {rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [31, 33], rounding = gemmlowp>}
      : tensor<2x4x!quant.uniform<i8:f32:0, {1.0:1, 0.25:-1}>> -> tensor<2x4x!quant.uniform<i8:f32, 2.0>>
  %s7g = quant.scast %r7g : tensor<2x4x!quant.uniform<i8:f32, 2.0>> to tensor<2x4xi8>
  %f7g = tensor.collapse_shape %s7g [[0, 1]] : tensor<2x4xi8> into tensor<8xi8>
  call @print(%f7g) : (tensor<8xi8>) -> ()
  // CHECK:      data =
  // CHECK-NEXT: [1, -2, 2, -2, 1, -1, 1, 0]

  return
}
