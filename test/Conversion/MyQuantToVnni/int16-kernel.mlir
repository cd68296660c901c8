// RUN: myquant-opt %s --split-input-file --convert-myquant-to-vnni=target=avx512-vnni --canonicalize --cse | FileCheck %s
// RUN: myquant-opt %s --split-input-file --myquant-lower-to-llvm=target=avx512-vnni | FileCheck %s --check-prefix=ZMM
// RUN: myquant-opt %s --split-input-file --myquant-lower-to-llvm=target=avx512-vnni-256 | FileCheck %s --check-prefix=YMM

// 16-bit activations, 8-bit weights (docs/NumericSpec.md 6.3): pairs of
// int16 inputs times the int8 weights widened to int16 (vpdpwssd) into
// int32 lanes, widened into int64 accumulators after at most 255 steps,
// then the exact int64 requantization.

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
!y16 = !quant.uniform<i16<-32767:32767>:f32, 2.0e-4>
!w = !quant.uniform<i8<-127:127>:f32:1, {0.01, 0.02}>

// K = 600: 300 pair steps, in two blocks (255 and 45 steps).
// CHECK-LABEL: func.func private @matmul_kernel(
// CHECK-SAME:    %[[X:.*]]: tensor<4x600xi16>, %[[OUT:.*]]: tensor<4x2xi16>) -> tensor<4x2xi16>
// CHECK-DAG:     %[[C255:.*]] = arith.constant 255 : index
// CHECK-DAG:     %[[C300:.*]] = arith.constant 300 : index
// CHECK-DAG:     arith.constant dense<[100, -7, {{.*}}]> : tensor<16xi32>
// CHECK:         %[[INIT:.*]] = arith.extsi %{{.*}} : vector<16xi32> to vector<16xi64>
// CHECK:         %[[ACCS:.*]]:4 = scf.for %[[BLOCK:.*]] = %{{.*}} to %[[C300]] step %[[C255]] iter_args(%[[A0:[a-z0-9_]+]] = %[[INIT]], {{.*}}) -> (vector<16xi64>,
// CHECK:           %[[END:.*]] = arith.minsi %{{.*}}, %[[C300]] : index
// CHECK:           %[[SUMS:.*]]:4 = scf.for %[[STEP:.*]] = %[[BLOCK]] to %[[END]] step %{{.*}} iter_args({{.*}}) -> (vector<16xi32>,
// CHECK:             vector.transfer_read %{{.*}}[%{{.*}}, %[[STEP]], %{{.*}}], %{{.*}} : tensor<1x300x32xi8>, vector<32xi8>
// CHECK:             vector.transfer_read %{{.*}} : tensor<1x1x4x600xi16>, vector<2xi16>
// CHECK:             vector.bitcast %{{.*}} : vector<2xi16> to vector<1xi32>
// CHECK:             vector.broadcast %{{.*}} : i32 to vector<16xi32>
// CHECK:             vector.bitcast %{{.*}} : vector<16xi32> to vector<32xi16>
// CHECK-NOT:         arith.xori
// CHECK:             arith.extsi %{{.*}} : vector<32xi16> to vector<32xi32>
// CHECK:             arith.extsi %{{.*}} : vector<32xi8> to vector<32xi32>
// CHECK:             vector.shape_cast %{{.*}} : vector<32xi32> to vector<16x2xi32>
// CHECK:             vector.multi_reduction <add>, %{{.*}} [1] : vector<16x2xi32> to vector<16xi32>
// The block's int32 sums widened into the int64 accumulators.
// CHECK:           %[[WIDE:.*]] = arith.extsi %[[SUMS]]#0 : vector<16xi32> to vector<16xi64>
// CHECK:           %[[NEXT:.*]] = arith.addi %[[A0]], %[[WIDE]] : vector<16xi64>
// CHECK:           scf.yield %[[NEXT]],
// The epilogue: requantizeInt64, exact in 128 bits, clamped to int16.
// CHECK:         arith.extsi %[[ACCS]]#0 : vector<16xi64> to vector<16xi128>
// CHECK:         arith.muli %{{.*}}, %{{.*}} : vector<16xi128>
// CHECK:         arith.shrsi %{{.*}}, %{{.*}} : vector<16xi128>
// CHECK:         arith.trunci %{{.*}} : vector<16xi64> to vector<16xi16>
// CHECK:         vector.transfer_write %{{.*}} : vector<16xi16>, tensor<1x1x4x2xi16>
// CHECK-LABEL: func.func @matmul(
// ZMM-LABEL:   llvm.func internal @matmul_kernel(
// ZMM:           llvm.call_intrinsic "llvm.x86.avx512.vpdpwssd.512"
// ZMM-SAME:        (vector<16xi32>, vector<32xi16>, vector<32xi16>) -> vector<16xi32>
// YMM-LABEL:   llvm.func internal @matmul_kernel(
// YMM:           llvm.call_intrinsic "llvm.x86.avx512.vpdpwssd.256"
func.func @matmul(%x: tensor<4x600x!x16>) -> tensor<4x2x!y16> {
  %wi = arith.constant dense<3> : tensor<600x2xi8>
  %bias = arith.constant dense<[100, -7]> : tensor<2xi32>
  %wq = quant.scast %wi : tensor<600x2xi8> to tensor<600x2x!w>
  %y = myquant.matmul %x, %wq, %bias : (tensor<4x600x!x16>, tensor<600x2x!w>, tensor<2xi32>) -> tensor<4x2x!y16>
  return %y : tensor<4x2x!y16>
}

// -----

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
!y8 = !quant.uniform<i8:f32, 0.05:3>
!f = !quant.uniform<i8<-127:127>:f32:3, {0.01, 0.02}>

// 3 x 3 taps of 64 channels (32 steps each): blocks of 7 whole taps (224
// steps), the taps flattened; a 16-bit input and an 8-bit result.
// CHECK-LABEL: func.func private @conv_kernel(
// CHECK-SAME:    -> tensor<1x4x4x2xi8>
// CHECK-DAG:     %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG:     %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG:     %[[C7:.*]] = arith.constant 7 : index
// CHECK-DAG:     %[[C9:.*]] = arith.constant 9 : index
// CHECK:         tensor.pad %{{.*}} low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK:         scf.for %[[BLOCK:.*]] = %{{.*}} to %[[C9]] step %[[C7]] iter_args({{.*}}) -> (vector<16xi64>,
// CHECK:           %[[END:.*]] = arith.minsi %{{.*}}, %[[C9]] : index
// CHECK:           %[[SUMS:.*]]:4 = scf.for %[[TAP:.*]] = %[[BLOCK]] to %[[END]] step %{{.*}} iter_args({{.*}}) -> (vector<16xi32>,
// CHECK:             arith.divui %[[TAP]], %[[C3]] : index
// CHECK:             arith.remui %[[TAP]], %[[C3]] : index
// CHECK:             scf.for %{{.*}} = %{{.*}} to %[[C32]] step
// CHECK:               vector.transfer_read %{{.*}} : tensor<1x6x6x64xi16>, vector<2xi16>
// CHECK:               vector.multi_reduction <add>, %{{.*}} [1] : vector<16x2xi32> to vector<16xi32>
// CHECK:           arith.extsi %[[SUMS]]#0 : vector<16xi32> to vector<16xi64>
// CHECK:         arith.muli %{{.*}}, %{{.*}} : vector<16xi128>
// CHECK:         arith.trunci %{{.*}} : vector<16xi64> to vector<16xi8>
// CHECK-LABEL: func.func @conv(
func.func @conv(%x: tensor<1x4x4x64x!x16>) -> tensor<1x4x4x2x!y8> {
  %wi = arith.constant dense<-5> : tensor<3x3x64x2xi8>
  %wq = quant.scast %wi : tensor<3x3x64x2xi8> to tensor<3x3x64x2x!f>
  %y = myquant.conv2d %x, %wq {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
      dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>}
      : (tensor<1x4x4x64x!x16>, tensor<3x3x64x2x!f>) -> tensor<1x4x4x2x!y8>
  return %y : tensor<1x4x4x2x!y8>
}

// -----

!x8 = !quant.uniform<i8:f32, 0.05:3>
!y16 = !quant.uniform<i16<-32767:32767>:f32, 2.0e-4>
!w = !quant.uniform<i8<-127:127>:f32:1, {0.01, 0.02}>

// An 8-bit input and a 16-bit result (the border of a 16-bit region): the
// int8 kernel (vpdpbusd, int32 accumulators; shift 20: rescaled in int64,
// no i128), narrowed to int16.
// CHECK-LABEL: func.func private @widen_kernel(
// CHECK-SAME:    -> tensor<4x2xi16>
// CHECK:         vector.multi_reduction <add>, %{{.*}} [1] : vector<16x4xi32> to vector<16xi32>
// CHECK-NOT:     i128
// CHECK:         arith.trunci %{{.*}} : vector<16xi64> to vector<16xi16>
// CHECK:         vector.transfer_write %{{.*}} : vector<16xi16>, tensor<1x1x4x2xi16>
// CHECK-LABEL: func.func @widen(
func.func @widen(%x: tensor<4x8x!x8>) -> tensor<4x2x!y16> {
  %wi = arith.constant dense<3> : tensor<8x2xi8>
  %wq = quant.scast %wi : tensor<8x2xi8> to tensor<8x2x!w>
  %y = myquant.matmul %x, %wq {rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [20, 20], rounding = single>} : (tensor<4x8x!x8>, tensor<8x2x!w>) -> tensor<4x2x!y16>
  return %y : tensor<4x2x!y16>
}

// -----

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
!y16 = !quant.uniform<i16<-32767:32767>:f32, 2.0e-4>
!d = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02, 0.03}>

// A depthwise convolution of a 16-bit input: the tap-pair kernel of 8-bit
// inputs with the int16 rows interleaved as they are (no widening; the odd
// last row sign-extended to the pair (x, 0 or -1)), the pair products of
// a pixel summed from zero in int32 (6 pairs <= 255, NumericSpec 6.3),
// widened to int64 and added to the bias after the taps; then the int64
// epilogue of the GEMM kernel.
// CHECK-LABEL: func.func private @depthwise_kernel(
// CHECK-SAME:    -> tensor<1x6x6x3xi16>
// CHECK-DAG:     %[[BIAS:.*]] = arith.constant dense<[9, -4, 1, 0, {{.*}}]> : tensor<16xi32>
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant dense<0> : vector<16xi32>
// CHECK:         %[[X:.*]] = tensor.pad %{{.*}} low[0, 1, 1, 0] high[0, 1, 1, 13]
// CHECK:         } : tensor<1x6x6x3xi16> to tensor<1x8x8x16xi16>
// CHECK:               %[[R0:.*]] = vector.transfer_read %[[X]]{{.*}} : tensor<1x8x8x16xi16>, vector<16xi16>
// CHECK:               %[[R1:.*]] = vector.transfer_read %[[X]]{{.*}} : tensor<1x8x8x16xi16>, vector<16xi16>
// CHECK:               %[[PAIR:.*]] = vector.interleave %[[R0]], %[[R1]] : vector<16xi16> -> vector<32xi16>
// CHECK:               %[[A:.*]] = arith.extsi %[[PAIR]] : vector<32xi16> to vector<32xi32>
// CHECK:               vector.multi_reduction <add>, %{{.*}}, %[[ZERO]] [1] : vector<16x2xi32> to vector<16xi32>
// CHECK:               %[[LAST:.*]] = arith.extsi %{{.*}} : vector<16xi16> to vector<16xi32>
// CHECK:               vector.bitcast %[[LAST]] : vector<16xi32> to vector<32xi16>
// CHECK:               %[[B:.*]] = vector.transfer_read %[[BIAS]]
// CHECK:               %[[WIDEB:.*]] = arith.extsi %[[B]] : vector<16xi32> to vector<16xi64>
// CHECK:               %[[WIDE:.*]] = arith.extsi %{{.*}} : vector<16xi32> to vector<16xi64>
// CHECK:               %[[ACC:.*]] = arith.addi %[[WIDE]], %[[WIDEB]] : vector<16xi64>
// CHECK:               arith.extsi %[[ACC]] : vector<16xi64> to vector<16xi128>
// CHECK:               arith.muli %{{.*}}, %{{.*}} : vector<16xi128>
// CHECK:               arith.trunci %{{.*}} : vector<16xi64> to vector<16xi16>
// CHECK:               vector.transfer_write %{{.*}} : vector<16xi16>, tensor<1x6x6x3xi16>
// CHECK-LABEL: func.func @depthwise(
// ZMM-LABEL:   llvm.func internal @depthwise_kernel(
// ZMM:           llvm.call_intrinsic "llvm.x86.avx512.vpdpwssd.512"
// YMM-LABEL:   llvm.func internal @depthwise_kernel(
// YMM:           llvm.call_intrinsic "llvm.x86.avx512.vpdpwssd.256"
func.func @depthwise(%x: tensor<1x3x6x6x!x16>) -> tensor<1x3x6x6x!y16> {
  %wi = arith.constant dense<5> : tensor<3x1x3x3xi8>
  %bias = arith.constant dense<[9, -4, 1]> : tensor<3xi32>
  %wq = quant.scast %wi : tensor<3x1x3x3xi8> to tensor<3x1x3x3x!d>
  %y = myquant.conv2d %x, %wq, %bias {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
      dilations = array<i64: 1, 1>, groups = 3 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x6x6x!x16>, tensor<3x1x3x3x!d>, tensor<3xi32>) -> tensor<1x3x6x6x!y16>
  return %y : tensor<1x3x6x6x!y16>
}
