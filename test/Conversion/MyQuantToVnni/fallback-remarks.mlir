// Every op convert-myquant-to-vnni leaves to convert-myquant-to-linalg says
// why, as a missed-optimization remark: shown with
// --remarks-filter-missed=convert-myquant-to-vnni, silent without.
// RUN: myquant-opt %s --split-input-file --convert-myquant-to-vnni=target=avx512-vnni --remarks-filter-missed=convert-myquant-to-vnni -verify-diagnostics
// RUN: myquant-opt %s --split-input-file --convert-myquant-to-vnni=target=avx512-vnni 2>&1 | FileCheck %s --check-prefix=SILENT
// RUN: myquant-opt %s --split-input-file --convert-myquant-to-vnni=target=generic --remarks-filter-missed=convert-myquant-to-vnni 2>&1 | FileCheck %s --check-prefix=GENERIC

// SILENT-NOT: [Missed]
// GENERIC: remark: [Missed] NotLowered | Category:convert-myquant-to-vnni | Remark="not lowered to a VNNI kernel: the target is generic (target=generic)"

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

func.func @grouped(%x: tensor<1x4x5x5x!qx>) -> tensor<1x4x5x5x!qy> {
  %wi = arith.constant dense<1> : tensor<4x2x3x3xi8>
  %w = quant.scast %wi : tensor<4x2x3x3xi8> to tensor<4x2x3x3x!qw>
  // expected-remark @below {{not lowered to a VNNI kernel: grouped convolution with 2 groups of 4 channels is not depthwise}}
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 2 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x4x5x5x!qx>, tensor<4x2x3x3x!qw>) -> tensor<1x4x5x5x!qy>
  return %y : tensor<1x4x5x5x!qy>
}

// -----

// The depthwise kernel sums a 16-bit input's pair products of one pixel in
// one int32 block of at most 255 pairs (NumericSpec 6.3): a 1 x 256 filter
// has 256.
!qx = !quant.uniform<i16<-32767:32767>:f32, 0.1>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i16<-32767:32767>:f32, 0.2>

func.func @depthwise_wide(%x: tensor<1x4x1x256x!qx>) -> tensor<1x4x1x1x!qy> {
  %wi = arith.constant dense<1> : tensor<4x1x1x256xi8>
  %w = quant.scast %wi : tensor<4x1x1x256xi8> to tensor<4x1x1x256x!qw>
  // expected-remark @below {{not lowered to a VNNI kernel: depthwise convolution of a 16-bit input with 256 pairs of filter rows per column, more than 255}}
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 4 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x4x1x256x!qx>, tensor<4x1x1x256x!qw>) -> tensor<1x4x1x1x!qy>
  return %y : tensor<1x4x1x1x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

func.func @activations(%a: tensor<2x4x!qx>, %c: tensor<4x3x!qw>) -> tensor<2x3x!qy> {
  // expected-remark @below {{not lowered to a VNNI kernel: the weights are not a constant}}
  %m = myquant.matmul %a, %c {rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<2x4x!qx>, tensor<4x3x!qw>) -> tensor<2x3x!qy>
  return %m : tensor<2x3x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

func.func @batched(%a: tensor<2x2x4x!qx>, %c: tensor<2x4x3x!qw>) -> tensor<2x2x3x!qy> {
  // expected-remark @below {{not lowered to a VNNI kernel: batched matmul (rank 3)}}
  %m = myquant.matmul %a, %c {rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<2x2x4x!qx>, tensor<2x4x3x!qw>) -> tensor<2x2x3x!qy>
  return %m : tensor<2x2x3x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

func.func @bias_argument(%a: tensor<2x4x!qx>, %b: tensor<3xi32>) -> tensor<2x3x!qy> {
  %ci = arith.constant dense<1> : tensor<4x3xi8>
  %c = quant.scast %ci : tensor<4x3xi8> to tensor<4x3x!qw>
  // expected-remark @below {{not lowered to a VNNI kernel: the bias is not a constant}}
  %m = myquant.matmul %a, %c, %b {rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<2x4x!qx>, tensor<4x3x!qw>, tensor<3xi32>) -> tensor<2x3x!qy>
  return %m : tensor<2x3x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8:f32, 0.05:3>
!qy = !quant.uniform<i8:f32, 0.2:-5>

func.func @weight_zero_point(%a: tensor<2x4x!qx>) -> tensor<2x3x!qy> {
  %ci = arith.constant dense<1> : tensor<4x3xi8>
  %c = quant.scast %ci : tensor<4x3xi8> to tensor<4x3x!qw>
  // expected-remark @below {{not lowered to a VNNI kernel: the weights have a non-zero zero point}}
  %m = myquant.matmul %a, %c {rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<2x4x!qx>, tensor<4x3x!qw>) -> tensor<2x3x!qy>
  return %m : tensor<2x3x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<u8:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

func.func @unsigned_weights(%a: tensor<2x4x!qx>) -> tensor<2x3x!qy> {
  %ci = arith.constant dense<1> : tensor<4x3xi8>
  %c = quant.scast %ci : tensor<4x3xi8> to tensor<4x3x!qw>
  // expected-remark @below {{not lowered to a VNNI kernel: the weights are not signed 8- or 4-bit}}
  %m = myquant.matmul %a, %c {rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<2x4x!qx>, tensor<4x3x!qw>) -> tensor<2x3x!qy>
  return %m : tensor<2x3x!qy>
}

// -----

// 16-bit input: symmetric only (docs/NumericSpec.md 6.1).
!qx = !quant.uniform<i16:f32, 0.1:3>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

func.func @wide_input(%a: tensor<2x4x!qx>) -> tensor<2x3x!qy> {
  %ci = arith.constant dense<1> : tensor<4x3xi8>
  %c = quant.scast %ci : tensor<4x3xi8> to tensor<4x3x!qw>
  // expected-remark @below {{not lowered to a VNNI kernel: the input is neither 8-bit per-tensor nor 16-bit symmetric per-tensor quantized}}
  %m = myquant.matmul %a, %c {rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<2x4x!qx>, tensor<4x3x!qw>) -> tensor<2x3x!qy>
  return %m : tensor<2x3x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

func.func @overflow(%a: tensor<2x4x!qx>) -> tensor<2x3x!qy> {
  // 255 * (4 * 127) + 2147360000 > 2^31 - 1.
  %ci = arith.constant dense<127> : tensor<4x3xi8>
  %c = quant.scast %ci : tensor<4x3xi8> to tensor<4x3x!qw>
  %b = arith.constant dense<2147360000> : tensor<3xi32>
  // expected-remark @below {{not lowered to a VNNI kernel: the accumulator of output channel 0 could leave int32 (255 * sum |w| + |bias| = 2147489540)}}
  %m = myquant.matmul %a, %c, %b {rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<2x4x!qx>, tensor<4x3x!qw>, tensor<3xi32>) -> tensor<2x3x!qy>
  return %m : tensor<2x3x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

func.func @dynamic(%a: tensor<?x4x!qx>) -> tensor<?x3x!qy> {
  %ci = arith.constant dense<1> : tensor<4x3xi8>
  %c = quant.scast %ci : tensor<4x3xi8> to tensor<4x3x!qw>
  // expected-remark @below {{not lowered to a VNNI kernel: its shapes are not static}}
  %m = myquant.matmul %a, %c {rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<?x4x!qx>, tensor<4x3x!qw>) -> tensor<?x3x!qy>
  return %m : tensor<?x3x!qy>
}

// -----

// 4-bit weights (NumericSpec 7): groups of K that do not fill the kernel's
// byte vectors of 8 input channels and partial sums of 16 * w that could
// leave int32 stay generic.
!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i4<-7:7>:f32:{0:1, 1:4}, {{1.0, 0.5}, {2.0, 1.0}, {1.0, 1.0}}>
!qy = !quant.uniform<i8:f32, 0.2:-5>

func.func @int4_groups_of_4(%a: tensor<2x8x!qx>) -> tensor<2x3x!qy> {
  %ci = arith.constant dense<1> : tensor<3x8xi4>
  %c = quant.scast %ci : tensor<3x8xi4> to tensor<3x8x!qw>
  // expected-remark @below {{not lowered to a VNNI kernel: its weight groups of 4 are not a multiple of 8}}
  %m = myquant.matmul %a, %c {transpose_rhs, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<2x8x!qx>, tensor<3x8x!qw>) -> tensor<2x3x!qy>
  return %m : tensor<2x3x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1>
!qw = !quant.uniform<i4<-7:7>:f32, 0.25>
!qy = !quant.uniform<i8:f32, 0.5>

func.func @int4_partial_sum(%a: tensor<1x76000x!qx>) -> tensor<1x1x!qy> {
  %ci = arith.constant dense<7> : tensor<76000x1xi4>
  %c = quant.scast %ci : tensor<76000x1xi4> to tensor<76000x1x!qw>
  // expected-remark @below {{not lowered to a VNNI kernel: a 4-bit partial sum of output channel 0 could leave int32 (16 * 255 * sum |w| = 2170560000)}}
  %m = myquant.matmul %a, %c {rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x76000x!qx>, tensor<76000x1x!qw>) -> tensor<1x1x!qy>
  return %m : tensor<1x1x!qy>
}
