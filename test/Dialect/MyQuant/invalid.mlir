// RUN: myquant-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

// expected-error@+1 {{rescale has 2 multipliers but 1 shifts}}
func.func @rescale_size_mismatch() attributes {r = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [31], rounding = single>} {
  return
}

// -----

// expected-error@+1 {{rescale multiplier -1073741824 is negative}}
func.func @rescale_negative_multiplier() attributes {r = #myquant.rescale<multiplier = [1073741824, -1073741824], shift = [31, 31], rounding = single>} {
  return
}

// -----

// expected-error@+1 {{rescale shift 63 is outside [0, 62]}}
func.func @rescale_shift_too_big() attributes {r = #myquant.rescale<multiplier = [1073741824], shift = [63], rounding = single>} {
  return
}

// -----

// expected-error@+1 {{rescale shift -1 is outside [0, 62]}}
func.func @rescale_shift_negative() attributes {r = #myquant.rescale<multiplier = [1073741824], shift = [-1], rounding = gemmlowp>} {
  return
}

// -----

// expected-error@+1 {{clamp lower bound 10 is above its upper bound 9}}
func.func @clamp_inverted() attributes {c = #myquant.clamp<10, 9>} {
  return
}

// -----

// An empty multiplier list does not even parse (so the "rescale needs at
// least one multiplier" check cannot be reached from text).
// expected-error@+2 {{expected integer value}}
// expected-error@+1 {{failed to parse MyQuant_RescaleAttr parameter 'multiplier'}}
func.func @rescale_empty() attributes {r = #myquant.rescale<multiplier = [], shift = [], rounding = single>} {
  return
}

// -----

// expected-error@+2 {{expected ::myquant::RoundingMode to be one of: single, gemmlowp}}
// expected-error@+1 {{failed to parse MyQuant_RoundingModeAttr parameter 'value'}}
func.func @unknown_rounding() attributes {r = #myquant.rounding<nearest>} {
  return
}

// -----

// expected-error@+2 {{expected one of [single, gemmlowp] for how an int32 value is multiplied by a Q31 multiplier and shifted, got: half_even}}
// expected-error@+1 {{failed to parse MyQuant_RescaleAttr parameter 'rounding'}}
func.func @unknown_rounding_in_rescale() attributes {r = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = half_even>} {
  return
}

// -----

// expected-error@+2 {{expected ::myquant::Layout to be one of: nchw, nhwc}}
// expected-error@+1 {{failed to parse MyQuant_LayoutAttr parameter 'value'}}
func.func @unknown_layout() attributes {l = #myquant.layout<chwn>} {
  return
}

// -----

// expected-error@+1 {{expected 'shift'}}
func.func @rescale_missing_shift() attributes {r = #myquant.rescale<multiplier = [1073741824], rounding = single>} {
  return
}

// -----

//===----------------------------------------------------------------------===//
// stats
//===----------------------------------------------------------------------===//

func.func @stats_min_max_count(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'myquant.stats' op needs as many min as max values (at least one), got 1 and 2}}
  %0 = myquant.stats %x {min = array<f64: 0.0>, max = array<f64: 1.0, 2.0>} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @stats_empty(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{needs as many min as max values (at least one), got 0 and 0}}
  %0 = myquant.stats %x {min = array<f64>, max = array<f64>} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @stats_axis_out_of_range(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'myquant.stats' op axis 2 is out of range for rank 2}}
  %0 = myquant.stats %x {axis = 2, min = array<f64: 0.0, 0.0>, max = array<f64: 1.0, 1.0>} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @stats_axis_negative(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{attribute 'axis' failed to satisfy constraint: 64-bit signless integer attribute whose value is non-negative}}
  %0 = myquant.stats %x {axis = -1, min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @stats_axis_size(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'myquant.stats' op has 2 ranges but axis 1 has size 3}}
  %0 = myquant.stats %x {axis = 1, min = array<f64: 0.0, 0.0>, max = array<f64: 1.0, 1.0>} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @stats_per_tensor_count(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'myquant.stats' op has 2 ranges but no axis; per-tensor stats have one}}
  %0 = myquant.stats %x {min = array<f64: 0.0, 0.0>, max = array<f64: 1.0, 1.0>} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @stats_not_finite(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'myquant.stats' op range 1 is not finite}}
  %0 = myquant.stats %x {axis = 0, min = array<f64: 0.0, 0.0>, max = array<f64: 1.0, 0x7FF0000000000000>} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @stats_nan(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'myquant.stats' op range 0 is not finite}}
  %0 = myquant.stats %x {min = array<f64: 0x7FF8000000000000>, max = array<f64: 1.0>} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @stats_inverted(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'myquant.stats' op range 0 is inverted: min 2.500000e+00 > max 1.000000e+00}}
  %0 = myquant.stats %x {min = array<f64: 2.5>, max = array<f64: 1.0>} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @stats_histogram_per_axis(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'myquant.stats' op a histogram needs per-tensor stats}}
  %0 = myquant.stats %x {axis = 0, min = array<f64: 0.0, 0.0>, max = array<f64: 1.0, 1.0>, histogram = array<i64: 1, 2>} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @stats_histogram_empty(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'myquant.stats' op histogram has no bins}}
  %0 = myquant.stats %x {min = array<f64: 0.0>, max = array<f64: 1.0>, histogram = array<i64>} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @stats_histogram_negative(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'myquant.stats' op histogram counts must be non-negative}}
  %0 = myquant.stats %x {min = array<f64: 0.0>, max = array<f64: 1.0>, histogram = array<i64: 3, -1, 4>} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @stats_type_change(%x: tensor<2x3xf32>) -> tensor<2x3xf16> {
  // expected-error@+1 {{'myquant.stats' op failed to verify that all of {input, result} have same type}}
  %0 = "myquant.stats"(%x) <{min = array<f64: 0.0>, max = array<f64: 1.0>}> : (tensor<2x3xf32>) -> tensor<2x3xf16>
  return %0 : tensor<2x3xf16>
}

// -----

!q = !quant.uniform<i8:f32, 0.1>
func.func @stats_on_quantized(%x: tensor<2x3x!q>) -> tensor<2x3x!q> {
  // expected-error@+1 {{'myquant.stats' op operand #0 must be ranked tensor of floating-point values}}
  %0 = myquant.stats %x {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<2x3x!q>
  return %0 : tensor<2x3x!q>
}

// -----

//===----------------------------------------------------------------------===//
// quantize / dequantize
//===----------------------------------------------------------------------===//

!q = !quant.uniform<i8:f32, 0.1>
func.func @quantize_shape(%x: tensor<2x3xf32>) -> tensor<3x2x!q> {
  // expected-error@+1 {{'myquant.quantize' op requires the same shape for all operands and results}}
  %0 = myquant.quantize %x : tensor<2x3xf32> -> tensor<3x2x!q>
  return %0 : tensor<3x2x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1>
func.func @quantize_expressed_type(%x: tensor<2x3xf16>) -> tensor<2x3x!q> {
  // expected-error@+1 {{'myquant.quantize' op float element type 'f16' differs from the quantized type's expressed type 'f32'}}
  %0 = myquant.quantize %x : tensor<2x3xf16> -> tensor<2x3x!q>
  return %0 : tensor<2x3x!q>
}

// -----

!q = !quant.uniform<i8:f32:3, {0.1, 0.2}>
func.func @quantize_axis_out_of_range(%x: tensor<2x3xf32>) -> tensor<2x3x!q> {
  // expected-error@+1 {{'myquant.quantize' op quantized type is quantized along dimension 3 but has rank 2}}
  %0 = myquant.quantize %x : tensor<2x3xf32> -> tensor<2x3x!q>
  return %0 : tensor<2x3x!q>
}

// -----

!q = !quant.uniform<i8:f32:1, {0.1, 0.2}>
func.func @quantize_axis_scale_count(%x: tensor<2x3xf32>) -> tensor<2x3x!q> {
  // expected-error@+1 {{'myquant.quantize' op quantized type has 2 per-axis scales but dimension 1 has size 3}}
  %0 = myquant.quantize %x : tensor<2x3xf32> -> tensor<2x3x!q>
  return %0 : tensor<2x3x!q>
}

// -----

func.func @quantize_not_uniform(%x: tensor<2x3xf32>) -> tensor<2x3x!quant.any<i8:f32>> {
  // expected-error@+1 {{'myquant.quantize' op quantized type must have a uniform quantized element type, per tensor or per axis}}
  %0 = myquant.quantize %x : tensor<2x3xf32> -> tensor<2x3x!quant.any<i8:f32>>
  return %0 : tensor<2x3x!quant.any<i8:f32>>
}

// -----

func.func @quantize_to_integer(%x: tensor<2x3xf32>) -> tensor<2x3xi8> {
  // expected-error@+1 {{'myquant.quantize' op result #0 must be ranked tensor of quantized type values, but got 'tensor<2x3xi8>'}}
  %0 = myquant.quantize %x : tensor<2x3xf32> -> tensor<2x3xi8>
  return %0 : tensor<2x3xi8>
}

// -----

!q = !quant.uniform<i8:f32, 0.1>
func.func @dequantize_shape(%q: tensor<2x3x!q>) -> tensor<2x4xf32> {
  // expected-error@+1 {{'myquant.dequantize' op requires the same shape for all operands and results}}
  %0 = myquant.dequantize %q : tensor<2x3x!q> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

!q = !quant.uniform<i8:f32, 0.1>
func.func @dequantize_expressed_type(%q: tensor<2x3x!q>) -> tensor<2x3xbf16> {
  // expected-error@+1 {{'myquant.dequantize' op float element type 'bf16' differs from the quantized type's expressed type 'f32'}}
  %0 = myquant.dequantize %q : tensor<2x3x!q> -> tensor<2x3xbf16>
  return %0 : tensor<2x3xbf16>
}

// -----

!q = !quant.uniform<i8:f32:0, {0.1, 0.2, 0.3}>
func.func @dequantize_axis_scale_count(%q: tensor<2x3x!q>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'myquant.dequantize' op quantized type has 3 per-axis scales but dimension 0 has size 2}}
  %0 = myquant.dequantize %q : tensor<2x3x!q> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

!q = !quant.uniform<i8:f32:2, {0.1, 0.2, 0.3}>
func.func @dequantize_axis_out_of_range(%q: tensor<3x!q>) -> tensor<3xf32> {
  // expected-error@+1 {{'myquant.dequantize' op quantized type is quantized along dimension 2 but has rank 1}}
  %0 = myquant.dequantize %q : tensor<3x!q> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

//===----------------------------------------------------------------------===//
// requantize
//===----------------------------------------------------------------------===//

!a = !quant.uniform<i8:f32, 0.1>
!c = !quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>
func.func @requantize_per_axis_result(%x: tensor<2x3x!a>) -> tensor<2x3x!c> {
  // expected-error@+1 {{'myquant.requantize' op result must be quantized per tensor}}
  %0 = myquant.requantize %x : tensor<2x3x!a> -> tensor<2x3x!c>
  return %0 : tensor<2x3x!c>
}

// -----

!a = !quant.uniform<i8:f32, 0.1>
!b = !quant.uniform<i8:f32, 0.2>
func.func @requantize_shape(%x: tensor<2x3x!a>) -> tensor<3x2x!b> {
  // expected-error@+1 {{'myquant.requantize' op requires the same shape for all operands and results}}
  %0 = myquant.requantize %x : tensor<2x3x!a> -> tensor<3x2x!b>
  return %0 : tensor<3x2x!b>
}

// -----

!b = !quant.uniform<i8:f32, 0.2>
!c = !quant.uniform<i8:f32:1, {0.1, 0.2}>
func.func @requantize_per_axis_input_scale_count(%x: tensor<2x3x!c>) -> tensor<2x3x!b> {
  // expected-error@+1 {{'myquant.requantize' op input has 2 per-axis scales but dimension 1 has size 3}}
  %0 = myquant.requantize %x : tensor<2x3x!c> -> tensor<2x3x!b>
  return %0 : tensor<2x3x!b>
}

// -----

!a = !quant.uniform<i8:f32, 0.1>
!b = !quant.uniform<i8:f32, 0.2>
func.func @requantize_rescale_size_per_tensor(%x: tensor<2x3x!a>) -> tensor<2x3x!b> {
  // expected-error@+1 {{'myquant.requantize' op 'rescale' has 2 entries; expected 1}}
  %0 = myquant.requantize %x {rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [31, 31], rounding = single>} : tensor<2x3x!a> -> tensor<2x3x!b>
  return %0 : tensor<2x3x!b>
}

// -----

!b = !quant.uniform<i8:f32, 0.2>
!c = !quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>
func.func @requantize_rescale_size_per_axis(%x: tensor<2x3x!c>) -> tensor<2x3x!b> {
  // expected-error@+1 {{'myquant.requantize' op 'rescale' has 2 entries; expected 1 or 3}}
  %0 = myquant.requantize %x {rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [31, 31], rounding = single>} : tensor<2x3x!c> -> tensor<2x3x!b>
  return %0 : tensor<2x3x!b>
}

// -----

!a = !quant.uniform<i8:f32, 0.1>
!b = !quant.uniform<u8:f32, 0.2:128>
func.func @requantize_clamp_bounds(%x: tensor<2x3x!a>) -> tensor<2x3x!b> {
  // expected-error@+1 {{'myquant.requantize' op clamp bounds [-1, 255] exceed the result's storage range [0, 255]}}
  %0 = myquant.requantize %x {clamp = #myquant.clamp<-1, 255>} : tensor<2x3x!a> -> tensor<2x3x!b>
  return %0 : tensor<2x3x!b>
}

// -----

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_rank(%x: tensor<3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op expects 4-D input, filter and result, got ranks 3, 4 and 4}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32:1, {0.1, 0.1, 0.1}>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_per_axis_input(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op input must be quantized per tensor}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32:1, {0.2, 0.2, 0.2, 0.2}>
func.func @conv2d_per_axis_result(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op result must be quantized per tensor}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

// nhwc filters are KH x KW x C x F: quantizing along dimension 0 is wrong.
!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32:0, {0.01, 0.02, 0.03}>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_filter_axis(%x: tensor<1x8x8x3x!x>, %w: tensor<3x3x3x4x!w>) -> tensor<1x6x6x4x!y> {
  // expected-error@+1 {{'myquant.conv2d' op filter must be quantized along its output channel dimension 3, not 0}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>}
      : (tensor<1x8x8x3x!x>, tensor<3x3x3x4x!w>) -> tensor<1x6x6x4x!y>
  return %0 : tensor<1x6x6x4x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32:0, {0.01:0, 0.02:1, 0.01:0, 0.03:0}>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_filter_asymmetric(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op filter quantized per axis must be symmetric (zero point 0)}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32:0, {0.01, 0.02, 0.03}>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_filter_scale_count(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op filter has 3 per-axis scales but dimension 0 has size 4}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_channels(%x: tensor<1x3x8x8x!x>, %w: tensor<4x2x3x3x!w>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op input has 3 channels but the filter expects 2 x 1 groups}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x2x3x3x!w>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_channels_groups(%x: tensor<1x8x8x6x!x>, %w: tensor<3x3x2x6x!w>) -> tensor<1x6x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op input has 6 channels but the filter expects 2 x 2 groups}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 2 : i64, layout = #myquant.layout<nhwc>}
      : (tensor<1x8x8x6x!x>, tensor<3x3x2x6x!w>) -> tensor<1x6x6x6x!y>
  return %0 : tensor<1x6x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_output_channels_groups(%x: tensor<1x4x8x8x!x>, %w: tensor<6x1x3x3x!w>) -> tensor<1x6x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op filter has 6 output channels, not a multiple of 4 groups}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 4 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x4x8x8x!x>, tensor<6x1x3x3x!w>) -> tensor<1x6x6x6x!y>
  return %0 : tensor<1x6x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_groups_zero(%x: tensor<1x4x8x8x!x>, %w: tensor<4x4x3x3x!w>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{attribute 'groups' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 0 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x4x8x8x!x>, tensor<4x4x3x3x!w>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_result_channels(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x5x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op result has 5 channels but the filter produces 4}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x5x6x6x!y>
  return %0 : tensor<1x5x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_batch(%x: tensor<1x8x8x3x!x>, %w: tensor<3x3x3x4x!w>) -> tensor<2x6x6x4x!y> {
  // expected-error@+1 {{'myquant.conv2d' op result batch 2 differs from input batch 1}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>}
      : (tensor<1x8x8x3x!x>, tensor<3x3x3x4x!w>) -> tensor<2x6x6x4x!y>
  return %0 : tensor<2x6x6x4x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_strides_size(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op attribute 'strides' failed to satisfy constraint: i64 dense array attribute with exactly 2 elements}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_dilations_size(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op attribute 'dilations' failed to satisfy constraint: i64 dense array attribute with exactly 2 elements}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_padding_size(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x8x8x!y> {
  // expected-error@+1 {{'myquant.conv2d' op attribute 'padding' failed to satisfy constraint: i64 dense array attribute with exactly 4 elements}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x8x8x!y>
  return %0 : tensor<1x4x8x8x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_zero_stride(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op kernel sizes, strides and dilations must be positive}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 0>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_negative_dilation(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op kernel sizes, strides and dilations must be positive}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: -1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_negative_padding(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op padding must be non-negative}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, -1, -1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_window_too_big(%x: tensor<1x3x4x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x1x4x!y> {
  // expected-error@+1 {{'myquant.conv2d' op window of extent 5 exceeds the padded height 4}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x4x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x1x4x!y>
  return %0 : tensor<1x4x1x4x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_result_width(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x6x7x!y> {
  // expected-error@+1 {{'myquant.conv2d' op result width is 7 but the window gives 6}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x6x7x!y>
  return %0 : tensor<1x4x6x7x!y>
}

// -----

// Stride 2 over 9 + 1 + 0 rows with a 3-row window: (10 - 3) / 2 + 1 = 4.
!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_result_height_strided(%x: tensor<1x9x9x3x!x>, %w: tensor<3x3x3x4x!w>) -> tensor<1x5x4x4x!y> {
  // expected-error@+1 {{'myquant.conv2d' op result height is 5 but the window gives 4}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 1, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>}
      : (tensor<1x9x9x3x!x>, tensor<3x3x3x4x!w>) -> tensor<1x5x4x4x!y>
  return %0 : tensor<1x5x4x4x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_bias_shape(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>, %b: tensor<5xi32>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op bias must have shape [4], got 'tensor<5xi32>'}}
  %0 = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>, tensor<5xi32>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_bias_rank(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>, %b: tensor<1x4xi32>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op bias must have shape [4], got 'tensor<1x4xi32>'}}
  %0 = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>, tensor<1x4xi32>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_bias_element_type(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>, %b: tensor<4xi16>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op operand #2 must be ranked tensor of 32-bit signless integer or quantized type values, but got 'tensor<4xi16>'}}
  %0 = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>, tensor<4xi16>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
!b = !quant.uniform<i16:f32, 0.005>
func.func @conv2d_bias_storage(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>, %b: tensor<4x!b>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op bias must have 32-bit storage, got 16-bit}}
  %0 = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>, tensor<4x!b>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
!b = !quant.uniform<i32:f32, 0.005:7>
func.func @conv2d_bias_zero_point(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>, %b: tensor<4x!b>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op bias zero point must be 0, got 7}}
  %0 = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>, tensor<4x!b>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
!b = !quant.uniform<i32:f32, 0.05>
func.func @conv2d_bias_scale(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>, %b: tensor<4x!b>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op bias scale 5.000000e-02 (channel 0) must equal input scale * weight scale = 5.000000e-03}}
  %0 = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>, tensor<4x!b>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32:0, {0.01, 0.02, 0.01, 0.03}>
!y = !quant.uniform<i8:f32, 0.2:3>
!b = !quant.uniform<i32:f32:0, {0.001, 0.002, 0.001, 0.002}>
func.func @conv2d_bias_scale_per_channel(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>, %b: tensor<4x!b>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op bias scale 2.000000e-03 (channel 3) must equal input scale * weight scale = 3.000000e-03}}
  %0 = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>, tensor<4x!b>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
!b = !quant.uniform<i32:f32:0, {0.005, 0.005, 0.005}>
func.func @conv2d_bias_scale_count(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>, %b: tensor<4x!b>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op bias has 3 per-axis scales but dimension 0 has size 4}}
  %0 = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>, tensor<4x!b>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_rescale_size(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op 'rescale' has 2 entries; expected 1 or 4}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>,
      rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [40, 40], rounding = single>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_clamp(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{'myquant.conv2d' op clamp bounds [3, 128] exceed the result's storage range [-128, 127]}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>,
      clamp = #myquant.clamp<3, 128>}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv2d_missing_layout(%x: tensor<1x3x8x8x!x>, %w: tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y> {
  // expected-error@+1 {{requires attribute 'layout'}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<1x3x8x8x!x>, tensor<4x3x3x3x!w>) -> tensor<1x4x6x6x!y>
  return %0 : tensor<1x4x6x6x!y>
}

// -----

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_rank(%a: tensor<2x16x!a>, %w: tensor<1x16x10x!w>) -> tensor<2x10x!y> {
  // expected-error@+1 {{'myquant.matmul' op expects lhs, rhs and result of rank 2, or 3 when batched, got 2, 3 and 2}}
  %0 = myquant.matmul %a, %w : (tensor<2x16x!a>, tensor<1x16x10x!w>) -> tensor<2x10x!y>
  return %0 : tensor<2x10x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_rank_4(%a: tensor<1x1x2x16x!a>, %w: tensor<1x1x16x10x!w>) -> tensor<1x1x2x10x!y> {
  // expected-error@+1 {{'myquant.matmul' op expects lhs, rhs and result of rank 2, or 3 when batched, got 4, 4 and 4}}
  %0 = myquant.matmul %a, %w : (tensor<1x1x2x16x!a>, tensor<1x1x16x10x!w>) -> tensor<1x1x2x10x!y>
  return %0 : tensor<1x1x2x10x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_empty_lhs(%a: tensor<0x16x!a>, %w: tensor<16x10x!w>) -> tensor<0x10x!y> {
  // expected-error@+1 {{'myquant.matmul' op lhs 'tensor<0x16x!quant.uniform<i8:f32, 1.000000e-01:-4>>' is empty}}
  %0 = myquant.matmul %a, %w : (tensor<0x16x!a>, tensor<16x10x!w>) -> tensor<0x10x!y>
  return %0 : tensor<0x10x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_no_weights(%a: tensor<2x16x!a>, %w: tensor<16x0x!w>) -> tensor<2x0x!y> {
  // expected-error@+1 {{'myquant.matmul' op result 'tensor<2x0x!quant.uniform<i8:f32, 2.000000e-01:3>>' is empty}}
  %0 = myquant.matmul %a, %w : (tensor<2x16x!a>, tensor<16x0x!w>) -> tensor<2x0x!y>
  return %0 : tensor<2x0x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @conv_empty_input(%x: tensor<0x2x4x4x!x>, %w: tensor<3x2x1x1x!w>) -> tensor<0x3x4x4x!y> {
  // expected-error@+1 {{'myquant.conv2d' op input 'tensor<0x2x4x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>' is empty}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>} : (tensor<0x2x4x4x!x>, tensor<3x2x1x1x!w>) -> tensor<0x3x4x4x!y>
  return %0 : tensor<0x3x4x4x!y>
}

// -----

!a = !quant.uniform<i8:f32:0, {0.1, 0.2}>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_lhs_per_axis(%a: tensor<2x16x!a>, %w: tensor<16x10x!w>) -> tensor<2x10x!y> {
  // expected-error@+1 {{'myquant.matmul' op lhs must be quantized per tensor}}
  %0 = myquant.matmul %a, %w : (tensor<2x16x!a>, tensor<16x10x!w>) -> tensor<2x10x!y>
  return %0 : tensor<2x10x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_k(%a: tensor<2x16x!a>, %w: tensor<8x10x!w>) -> tensor<2x10x!y> {
  // expected-error@+1 {{'myquant.matmul' op lhs has K = 16 but rhs has K = 8}}
  %0 = myquant.matmul %a, %w : (tensor<2x16x!a>, tensor<8x10x!w>) -> tensor<2x10x!y>
  return %0 : tensor<2x10x!y>
}

// -----

// With transpose_rhs, rhs is N x K: a K x N rhs is a K mismatch.
!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_k_transposed(%a: tensor<2x16x!a>, %w: tensor<16x10x!w>) -> tensor<2x10x!y> {
  // expected-error@+1 {{'myquant.matmul' op lhs has K = 16 but rhs has K = 10}}
  %0 = myquant.matmul %a, %w {transpose_rhs} : (tensor<2x16x!a>, tensor<16x10x!w>) -> tensor<2x10x!y>
  return %0 : tensor<2x10x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_result_n(%a: tensor<2x16x!a>, %w: tensor<16x10x!w>) -> tensor<2x16x!y> {
  // expected-error@+1 {{'myquant.matmul' op result type 'tensor<2x16x!quant.uniform<i8:f32, 2.000000e-01:3>>' does not match the M x N of the operands}}
  %0 = myquant.matmul %a, %w : (tensor<2x16x!a>, tensor<16x10x!w>) -> tensor<2x16x!y>
  return %0 : tensor<2x16x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_result_m(%a: tensor<3x2x16x!a>, %w: tensor<3x16x10x!w>) -> tensor<3x4x10x!y> {
  // expected-error@+1 {{'myquant.matmul' op result type 'tensor<3x4x10x!quant.uniform<i8:f32, 2.000000e-01:3>>' does not match the M x N of the operands}}
  %0 = myquant.matmul %a, %w : (tensor<3x2x16x!a>, tensor<3x16x10x!w>) -> tensor<3x4x10x!y>
  return %0 : tensor<3x4x10x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_result_n_transposed(%a: tensor<2x16x!a>, %w: tensor<10x16x!w>) -> tensor<2x16x!y> {
  // expected-error@+1 {{'myquant.matmul' op result type 'tensor<2x16x!quant.uniform<i8:f32, 2.000000e-01:3>>' does not match the M x N of the operands}}
  %0 = myquant.matmul %a, %w {transpose_rhs} : (tensor<2x16x!a>, tensor<10x16x!w>) -> tensor<2x16x!y>
  return %0 : tensor<2x16x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_batch_rhs(%a: tensor<3x2x16x!a>, %w: tensor<4x16x10x!w>) -> tensor<3x2x10x!y> {
  // expected-error@+1 {{'myquant.matmul' op batch dimensions of lhs, rhs and result differ}}
  %0 = myquant.matmul %a, %w : (tensor<3x2x16x!a>, tensor<4x16x10x!w>) -> tensor<3x2x10x!y>
  return %0 : tensor<3x2x10x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_batch_result(%a: tensor<3x2x16x!a>, %w: tensor<3x16x10x!w>) -> tensor<1x2x10x!y> {
  // expected-error@+1 {{'myquant.matmul' op batch dimensions of lhs, rhs and result differ}}
  %0 = myquant.matmul %a, %w : (tensor<3x2x16x!a>, tensor<3x16x10x!w>) -> tensor<1x2x10x!y>
  return %0 : tensor<1x2x10x!y>
}

// -----

// Without transpose_rhs the N dimension of a K x N rhs is dimension 1.
!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32:0, {0.01, 0.02, 0.01, 0.03}>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_rhs_axis(%a: tensor<2x4x!a>, %w: tensor<4x4x!w>) -> tensor<2x4x!y> {
  // expected-error@+1 {{'myquant.matmul' op rhs must be quantized along its output channel dimension 1, not 0}}
  %0 = myquant.matmul %a, %w : (tensor<2x4x!a>, tensor<4x4x!w>) -> tensor<2x4x!y>
  return %0 : tensor<2x4x!y>
}

// -----

// With transpose_rhs the N dimension of an N x K rhs is dimension 0.
!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32:1, {0.01, 0.02, 0.01, 0.03}>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_rhs_axis_transposed(%a: tensor<2x4x!a>, %w: tensor<4x4x!w>) -> tensor<2x4x!y> {
  // expected-error@+1 {{'myquant.matmul' op rhs must be quantized along its output channel dimension 0, not 1}}
  %0 = myquant.matmul %a, %w {transpose_rhs} : (tensor<2x4x!a>, tensor<4x4x!w>) -> tensor<2x4x!y>
  return %0 : tensor<2x4x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32:2, {0.01:0, 0.02:0, 0.01:-1, 0.03:0}>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_rhs_asymmetric(%a: tensor<5x2x16x!a>, %w: tensor<5x16x4x!w>) -> tensor<5x2x4x!y> {
  // expected-error@+1 {{'myquant.matmul' op rhs quantized per axis must be symmetric (zero point 0)}}
  %0 = myquant.matmul %a, %w : (tensor<5x2x16x!a>, tensor<5x16x4x!w>) -> tensor<5x2x4x!y>
  return %0 : tensor<5x2x4x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_bias_shape(%a: tensor<2x16x!a>, %w: tensor<10x16x!w>, %b: tensor<16xi32>) -> tensor<2x10x!y> {
  // expected-error@+1 {{'myquant.matmul' op bias must have shape [10], got 'tensor<16xi32>'}}
  %0 = myquant.matmul %a, %w, %b {transpose_rhs} : (tensor<2x16x!a>, tensor<10x16x!w>, tensor<16xi32>) -> tensor<2x10x!y>
  return %0 : tensor<2x10x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
!b = !quant.uniform<i32:f32, 0.01>
func.func @matmul_bias_scale(%a: tensor<2x16x!a>, %w: tensor<16x10x!w>, %b: tensor<10x!b>) -> tensor<2x10x!y> {
  // expected-error@+1 {{'myquant.matmul' op bias scale 1.000000e-02 (channel 0) must equal input scale * weight scale = 5.000000e-03}}
  %0 = myquant.matmul %a, %w, %b : (tensor<2x16x!a>, tensor<16x10x!w>, tensor<10x!b>) -> tensor<2x10x!y>
  return %0 : tensor<2x10x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_rescale_size(%a: tensor<2x16x!a>, %w: tensor<16x10x!w>) -> tensor<2x10x!y> {
  // expected-error@+1 {{'myquant.matmul' op 'rescale' has 3 entries; expected 1 or 10}}
  %0 = myquant.matmul %a, %w {rescale = #myquant.rescale<multiplier = [1073741824, 1073741824, 1073741824], shift = [40, 40, 40], rounding = single>}
      : (tensor<2x16x!a>, tensor<16x10x!w>) -> tensor<2x10x!y>
  return %0 : tensor<2x10x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8<-127:127>:f32, 0.2>
func.func @matmul_clamp(%a: tensor<2x16x!a>, %w: tensor<16x10x!w>) -> tensor<2x10x!y> {
  // expected-error@+1 {{'myquant.matmul' op clamp bounds [-128, 127] exceed the result's storage range [-127, 127]}}
  %0 = myquant.matmul %a, %w {clamp = #myquant.clamp<-128, 127>} : (tensor<2x16x!a>, tensor<16x10x!w>) -> tensor<2x10x!y>
  return %0 : tensor<2x10x!y>
}

// -----

//===----------------------------------------------------------------------===//
// add / mul
//===----------------------------------------------------------------------===//

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @add_partial_attrs(%a: tensor<4x!q>, %b: tensor<4x!q>) -> tensor<4x!q> {
  // expected-error@+1 {{'myquant.add' op 'left_shift', 'lhs_rescale', 'rhs_rescale' and 'rescale' go together: give all or none}}
  %0 = myquant.add %a, %b {left_shift = 20 : i64,
      lhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [30], rounding = single>,
      rhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [30], rounding = single>}
      : (tensor<4x!q>, tensor<4x!q>) -> tensor<4x!q>
  return %0 : tensor<4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @add_only_rescale(%a: tensor<4x!q>, %b: tensor<4x!q>) -> tensor<4x!q> {
  // expected-error@+1 {{'myquant.add' op 'left_shift', 'lhs_rescale', 'rhs_rescale' and 'rescale' go together: give all or none}}
  %0 = myquant.add %a, %b {rescale = #myquant.rescale<multiplier = [1073741824], shift = [30], rounding = single>}
      : (tensor<4x!q>, tensor<4x!q>) -> tensor<4x!q>
  return %0 : tensor<4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @add_left_shift_range(%a: tensor<4x!q>, %b: tensor<4x!q>) -> tensor<4x!q> {
  // expected-error@+1 {{attribute 'left_shift' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 0 whose maximum value is 30}}
  %0 = myquant.add %a, %b {left_shift = 31 : i64,
      lhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [30], rounding = single>,
      rhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [30], rounding = single>,
      rescale = #myquant.rescale<multiplier = [1073741824], shift = [30], rounding = single>}
      : (tensor<4x!q>, tensor<4x!q>) -> tensor<4x!q>
  return %0 : tensor<4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @add_rescale_size(%a: tensor<4x!q>, %b: tensor<4x!q>) -> tensor<4x!q> {
  // expected-error@+1 {{'myquant.add' op 'rhs_rescale' has 2 entries; expected 1}}
  %0 = myquant.add %a, %b {left_shift = 20 : i64,
      lhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [30], rounding = single>,
      rhs_rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [30, 30], rounding = single>,
      rescale = #myquant.rescale<multiplier = [1073741824], shift = [30], rounding = single>}
      : (tensor<4x!q>, tensor<4x!q>) -> tensor<4x!q>
  return %0 : tensor<4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @add_shape(%a: tensor<4x!q>, %b: tensor<5x!q>) -> tensor<4x!q> {
  // expected-error@+1 {{'myquant.add' op operand sizes 4 and 5 in dimension 0 do not broadcast to the result's 4}}
  %0 = myquant.add %a, %b : (tensor<4x!q>, tensor<5x!q>) -> tensor<4x!q>
  return %0 : tensor<4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @add_result_shape(%a: tensor<4x!q>, %b: tensor<4x!q>) -> tensor<2x2x!q> {
  // expected-error@+1 {{'myquant.add' op lhs has rank 1 but the result has rank 2}}
  %0 = myquant.add %a, %b : (tensor<4x!q>, tensor<4x!q>) -> tensor<2x2x!q>
  return %0 : tensor<2x2x!q>
}

// -----

// Per-axis values only along the last dimension (docs/NumericSpec.md 6.6).
!q = !quant.uniform<i8:f32, 0.1:-4>
!c = !quant.uniform<i8:f32:0, {0.1, 0.2, 0.3, 0.4}>
func.func @add_per_axis(%a: tensor<4x2x!q>, %b: tensor<4x2x!c>) -> tensor<4x2x!q> {
  // expected-error@+1 {{'myquant.add' op rhs is quantized along dimension 0; an add takes per-tensor values or values quantized along the result's last dimension}}
  %0 = myquant.add %a, %b : (tensor<4x2x!q>, tensor<4x2x!c>) -> tensor<4x2x!q>
  return %0 : tensor<4x2x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!c = !quant.uniform<i8:f32:1, {0.1:1, 0.2:2}>
func.func @add_per_axis_zero_points(%a: tensor<4x2x!q>, %b: tensor<4x2x!q>) -> tensor<4x2x!c> {
  // expected-error@+1 {{'myquant.add' op result has zero point 2 in channel 1 but 1 in channel 0; per-channel values of an add share one zero point}}
  %0 = myquant.add %a, %b : (tensor<4x2x!q>, tensor<4x2x!q>) -> tensor<4x2x!c>
  return %0 : tensor<4x2x!c>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!c = !quant.uniform<i8:f32:1, {0.1, 0.2}>
#r = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>
#r2 = #myquant.rescale<multiplier = [1073741824, 1073741824, 1073741824], shift = [31, 31, 31], rounding = single>
func.func @add_per_axis_rescale_count(%a: tensor<4x2x!q>, %b: tensor<4x2x!c>) -> tensor<4x2x!q> {
  // expected-error@+1 {{'myquant.add' op 'rhs_rescale' has 3 entries; expected 1 or 2}}
  %0 = myquant.add %a, %b {left_shift = 20 : i64, lhs_rescale = #r, rhs_rescale = #r2, rescale = #r} : (tensor<4x2x!q>, tensor<4x2x!c>) -> tensor<4x2x!q>
  return %0 : tensor<4x2x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @add_clamp(%a: tensor<4x!q>, %b: tensor<4x!q>) -> tensor<4x!quant.uniform<i4:f32, 0.5>> {
  // expected-error@+1 {{'myquant.add' op clamp bounds [0, 15] exceed the result's storage range [-8, 7]}}
  %0 = myquant.add %a, %b {clamp = #myquant.clamp<0, 15>} : (tensor<4x!q>, tensor<4x!q>) -> tensor<4x!quant.uniform<i4:f32, 0.5>>
  return %0 : tensor<4x!quant.uniform<i4:f32, 0.5>>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @mul_rescale_size(%a: tensor<4x!q>, %b: tensor<4x!q>) -> tensor<4x!q> {
  // expected-error@+1 {{'myquant.mul' op 'rescale' has 4 entries; expected 1}}
  %0 = myquant.mul %a, %b {rescale = #myquant.rescale<multiplier = [1073741824, 1073741824, 1073741824, 1073741824], shift = [30, 30, 30, 30], rounding = single>}
      : (tensor<4x!q>, tensor<4x!q>) -> tensor<4x!q>
  return %0 : tensor<4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @mul_shape(%a: tensor<4x!q>, %b: tensor<4x1x!q>) -> tensor<4x!q> {
  // expected-error@+1 {{'myquant.mul' op rhs has rank 2 but the result has rank 1}}
  %0 = myquant.mul %a, %b : (tensor<4x!q>, tensor<4x1x!q>) -> tensor<4x!q>
  return %0 : tensor<4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!c = !quant.uniform<i8:f32:0, {0.1, 0.2, 0.3, 0.4}>
func.func @mul_per_axis_result(%a: tensor<4x!q>, %b: tensor<4x!q>) -> tensor<4x!c> {
  // expected-error@+1 {{'myquant.mul' op result must be quantized per tensor}}
  %0 = myquant.mul %a, %b : (tensor<4x!q>, tensor<4x!q>) -> tensor<4x!c>
  return %0 : tensor<4x!c>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @mul_clamp(%a: tensor<4x!q>, %b: tensor<4x!q>) -> tensor<4x!q> {
  // expected-error@+1 {{'myquant.mul' op clamp bounds [-200, 100] exceed the result's storage range [-128, 127]}}
  %0 = myquant.mul %a, %b {clamp = #myquant.clamp<-200, 100>} : (tensor<4x!q>, tensor<4x!q>) -> tensor<4x!q>
  return %0 : tensor<4x!q>
}

// -----

// 16-bit operands (docs/NumericSpec.md 3.3): the centered product must fit
// int32; 65535 * 33767 does not.
!u = !quant.uniform<u16:f32, 0.1>
!q = !quant.uniform<i16:f32, 0.1:-1000>
func.func @mul_product_beyond_int32(%a: tensor<4x!u>, %b: tensor<4x!q>) -> tensor<4x!q> {
  // expected-error@+1 {{'myquant.mul' op the operands minus their zero points reach 65535 and 33767, whose product 2212920345 is beyond int32}}
  %0 = myquant.mul %a, %b : (tensor<4x!u>, tensor<4x!q>) -> tensor<4x!q>
  return %0 : tensor<4x!q>
}

// -----

// A zero point away from 0 widens the centered range: 65535 * 65535.
!q = !quant.uniform<i16:f32, 0.1:32767>
func.func @mul_i16_zero_point(%a: tensor<4x!q>, %b: tensor<4x!q>) -> tensor<4x!q> {
  // expected-error@+1 {{'myquant.mul' op the operands minus their zero points reach 65535 and 65535, whose product 4294836225 is beyond int32}}
  %0 = myquant.mul %a, %b : (tensor<4x!q>, tensor<4x!q>) -> tensor<4x!q>
  return %0 : tensor<4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i32:f32, 0.001>
func.func @mul_i32_result(%a: tensor<4x!q>, %b: tensor<4x!q>) -> tensor<4x!w> {
  // expected-error@+1 {{'myquant.mul' op result must have 8- or 16-bit storage, got 32-bit}}
  %0 = myquant.mul %a, %b : (tensor<4x!q>, tensor<4x!q>) -> tensor<4x!w>
  return %0 : tensor<4x!w>
}

// -----

//===----------------------------------------------------------------------===//
// concat
//===----------------------------------------------------------------------===//

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @concat_no_inputs() -> tensor<2x3x!q> {
  // expected-error@+1 {{'myquant.concat' op needs at least one input}}
  %0 = "myquant.concat"() <{dim = 0 : i64}> : () -> tensor<2x3x!q>
  return %0 : tensor<2x3x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @concat_element_type(%a: tensor<2x3x!q>, %b: tensor<2x3x!r>) -> tensor<4x3x!q> {
  // expected-error@+1 {{'myquant.concat' op input #1 has element type '!quant.uniform<i8:f32, 2.000000e-01:-4>' but the result has '!quant.uniform<i8:f32, 1.000000e-01:-4>'; requantize it first}}
  %0 = myquant.concat %a, %b {dim = 0 : i64} : (tensor<2x3x!q>, tensor<2x3x!r>) -> tensor<4x3x!q>
  return %0 : tensor<4x3x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @concat_rank(%a: tensor<2x3x!q>, %b: tensor<2x3x1x!q>) -> tensor<4x3x!q> {
  // expected-error@+1 {{'myquant.concat' op input #1 has rank 3, expected 2}}
  %0 = myquant.concat %a, %b {dim = 0 : i64} : (tensor<2x3x!q>, tensor<2x3x1x!q>) -> tensor<4x3x!q>
  return %0 : tensor<4x3x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @concat_dim_out_of_range(%a: tensor<2x3x!q>, %b: tensor<2x3x!q>) -> tensor<2x3x!q> {
  // expected-error@+1 {{'myquant.concat' op dim 2 is out of range for rank 2}}
  %0 = myquant.concat %a, %b {dim = 2 : i64} : (tensor<2x3x!q>, tensor<2x3x!q>) -> tensor<2x3x!q>
  return %0 : tensor<2x3x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @concat_dim_negative(%a: tensor<2x3x!q>, %b: tensor<2x3x!q>) -> tensor<2x6x!q> {
  // expected-error@+1 {{attribute 'dim' failed to satisfy constraint: 64-bit signless integer attribute whose value is non-negative}}
  %0 = myquant.concat %a, %b {dim = -1 : i64} : (tensor<2x3x!q>, tensor<2x3x!q>) -> tensor<2x6x!q>
  return %0 : tensor<2x6x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @concat_other_dim_size(%a: tensor<2x3x!q>, %b: tensor<2x4x!q>) -> tensor<4x3x!q> {
  // expected-error@+1 {{'myquant.concat' op input #1 has size 4 in dimension 1, expected 3}}
  %0 = myquant.concat %a, %b {dim = 0 : i64} : (tensor<2x3x!q>, tensor<2x4x!q>) -> tensor<4x3x!q>
  return %0 : tensor<4x3x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @concat_result_size(%a: tensor<2x3x!q>, %b: tensor<2x2x!q>) -> tensor<2x6x!q> {
  // expected-error@+1 {{'myquant.concat' op result has size 6 in dimension 1 but the inputs add up to 5}}
  %0 = myquant.concat %a, %b {dim = 1 : i64} : (tensor<2x3x!q>, tensor<2x2x!q>) -> tensor<2x6x!q>
  return %0 : tensor<2x6x!q>
}

// -----

!c = !quant.uniform<i8:f32:0, {0.1, 0.2}>
func.func @concat_per_axis(%a: tensor<2x3x!c>, %b: tensor<2x3x!c>) -> tensor<2x6x!c> {
  // expected-error@+1 {{'myquant.concat' op result must be quantized per tensor}}
  %0 = myquant.concat %a, %b {dim = 1 : i64} : (tensor<2x3x!c>, tensor<2x3x!c>) -> tensor<2x6x!c>
  return %0 : tensor<2x6x!c>
}

// -----

//===----------------------------------------------------------------------===//
// max_pool2d / avg_pool2d
//===----------------------------------------------------------------------===//

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @max_pool_type_change(%x: tensor<1x4x8x8x!q>) -> tensor<1x4x4x4x!r> {
  // expected-error@+1 {{'myquant.max_pool2d' op input and result must share one quantized type; max pooling does not rescale}}
  %0 = myquant.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, layout = #myquant.layout<nchw>}
      : tensor<1x4x8x8x!q> -> tensor<1x4x4x4x!r>
  return %0 : tensor<1x4x4x4x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @max_pool_rank(%x: tensor<4x8x8x!q>) -> tensor<4x4x4x!q> {
  // expected-error@+1 {{'myquant.max_pool2d' op expects 4-D input and result}}
  %0 = myquant.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, layout = #myquant.layout<nchw>}
      : tensor<4x8x8x!q> -> tensor<4x4x4x!q>
  return %0 : tensor<4x4x4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @max_pool_channels(%x: tensor<1x4x8x8x!q>) -> tensor<1x8x4x4x!q> {
  // expected-error@+1 {{'myquant.max_pool2d' op pooling keeps batch and channels, but dimension 1 changes from 4 to 8}}
  %0 = myquant.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, layout = #myquant.layout<nchw>}
      : tensor<1x4x8x8x!q> -> tensor<1x8x4x4x!q>
  return %0 : tensor<1x8x4x4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @max_pool_channels_nhwc(%x: tensor<1x8x8x4x!q>) -> tensor<1x4x4x8x!q> {
  // expected-error@+1 {{'myquant.max_pool2d' op pooling keeps batch and channels, but dimension 3 changes from 4 to 8}}
  %0 = myquant.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, layout = #myquant.layout<nhwc>}
      : tensor<1x8x8x4x!q> -> tensor<1x4x4x8x!q>
  return %0 : tensor<1x4x4x8x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @max_pool_batch(%x: tensor<1x4x8x8x!q>) -> tensor<2x4x4x4x!q> {
  // expected-error@+1 {{'myquant.max_pool2d' op pooling keeps batch and channels, but dimension 0 changes from 1 to 2}}
  %0 = myquant.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, layout = #myquant.layout<nchw>}
      : tensor<1x4x8x8x!q> -> tensor<2x4x4x4x!q>
  return %0 : tensor<2x4x4x4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @max_pool_window_too_big(%x: tensor<1x4x8x8x!q>) -> tensor<1x4x1x1x!q> {
  // expected-error@+1 {{'myquant.max_pool2d' op window of extent 9 exceeds the padded width 8}}
  %0 = myquant.max_pool2d %x {kernel = array<i64: 8, 9>, strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, layout = #myquant.layout<nchw>}
      : tensor<1x4x8x8x!q> -> tensor<1x4x1x1x!q>
  return %0 : tensor<1x4x1x1x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @max_pool_dilated_window_too_big(%x: tensor<1x8x8x4x!q>) -> tensor<1x1x1x4x!q> {
  // expected-error@+1 {{'myquant.max_pool2d' op window of extent 9 exceeds the padded height 8}}
  %0 = myquant.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 4, 1>, layout = #myquant.layout<nhwc>}
      : tensor<1x8x8x4x!q> -> tensor<1x1x1x4x!q>
  return %0 : tensor<1x1x1x4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @max_pool_kernel_size(%x: tensor<1x4x8x8x!q>) -> tensor<1x4x4x4x!q> {
  // expected-error@+1 {{'myquant.max_pool2d' op attribute 'kernel' failed to satisfy constraint: i64 dense array attribute with exactly 2 elements}}
  %0 = myquant.max_pool2d %x {kernel = array<i64: 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, layout = #myquant.layout<nchw>}
      : tensor<1x4x8x8x!q> -> tensor<1x4x4x4x!q>
  return %0 : tensor<1x4x4x4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @max_pool_zero_kernel(%x: tensor<1x4x8x8x!q>) -> tensor<1x4x4x4x!q> {
  // expected-error@+1 {{'myquant.max_pool2d' op kernel sizes, strides and dilations must be positive}}
  %0 = myquant.max_pool2d %x {kernel = array<i64: 0, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, layout = #myquant.layout<nchw>}
      : tensor<1x4x8x8x!q> -> tensor<1x4x4x4x!q>
  return %0 : tensor<1x4x4x4x!q>
}

// -----

!c = !quant.uniform<i8:f32:1, {0.1, 0.2, 0.3, 0.4}>
func.func @max_pool_per_axis(%x: tensor<1x4x8x8x!c>) -> tensor<1x4x4x4x!c> {
  // expected-error@+1 {{'myquant.max_pool2d' op input must be quantized per tensor}}
  %0 = myquant.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, layout = #myquant.layout<nchw>}
      : tensor<1x4x8x8x!c> -> tensor<1x4x4x4x!c>
  return %0 : tensor<1x4x4x4x!c>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @avg_pool_window_too_big(%x: tensor<1x7x7x16x!q>) -> tensor<1x1x1x16x!r> {
  // expected-error@+1 {{'myquant.avg_pool2d' op window of extent 8 exceeds the padded height 7}}
  %0 = myquant.avg_pool2d %x {kernel = array<i64: 8, 8>, strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, layout = #myquant.layout<nhwc>}
      : tensor<1x7x7x16x!q> -> tensor<1x1x1x16x!r>
  return %0 : tensor<1x1x1x16x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @avg_pool_channels(%x: tensor<1x7x7x16x!q>) -> tensor<1x1x1x8x!r> {
  // expected-error@+1 {{'myquant.avg_pool2d' op pooling keeps batch and channels, but dimension 3 changes from 16 to 8}}
  %0 = myquant.avg_pool2d %x {kernel = array<i64: 7, 7>, strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, layout = #myquant.layout<nhwc>}
      : tensor<1x7x7x16x!q> -> tensor<1x1x1x8x!r>
  return %0 : tensor<1x1x1x8x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @avg_pool_result_size(%x: tensor<1x16x7x7x!q>) -> tensor<1x16x2x2x!r> {
  // expected-error@+1 {{'myquant.avg_pool2d' op result height is 2 but the window gives 1}}
  %0 = myquant.avg_pool2d %x {kernel = array<i64: 7, 7>, strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, layout = #myquant.layout<nchw>}
      : tensor<1x16x7x7x!q> -> tensor<1x16x2x2x!r>
  return %0 : tensor<1x16x2x2x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @avg_pool_padding_size(%x: tensor<1x16x7x7x!q>) -> tensor<1x16x1x1x!r> {
  // expected-error@+1 {{'myquant.avg_pool2d' op attribute 'padding' failed to satisfy constraint: i64 dense array attribute with exactly 4 elements}}
  %0 = myquant.avg_pool2d %x {kernel = array<i64: 7, 7>, strides = array<i64: 1, 1>, padding = array<i64: 0, 0>, layout = #myquant.layout<nchw>}
      : tensor<1x16x7x7x!q> -> tensor<1x16x1x1x!r>
  return %0 : tensor<1x16x1x1x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @avg_pool_negative_padding(%x: tensor<1x16x7x7x!q>) -> tensor<1x16x1x1x!r> {
  // expected-error@+1 {{'myquant.avg_pool2d' op padding must be non-negative}}
  %0 = myquant.avg_pool2d %x {kernel = array<i64: 7, 7>, strides = array<i64: 1, 1>, padding = array<i64: 0, -1, 0, 0>, layout = #myquant.layout<nchw>}
      : tensor<1x16x7x7x!q> -> tensor<1x16x1x1x!r>
  return %0 : tensor<1x16x1x1x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @avg_pool_rescale_size(%x: tensor<1x16x7x7x!q>) -> tensor<1x16x1x1x!r> {
  // expected-error@+1 {{'myquant.avg_pool2d' op 'rescale' has 16 entries; expected 1}}
  %0 = myquant.avg_pool2d %x {kernel = array<i64: 7, 7>, strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, layout = #myquant.layout<nchw>,
      rescale = #myquant.rescale<multiplier = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], shift = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], rounding = single>}
      : tensor<1x16x7x7x!q> -> tensor<1x16x1x1x!r>
  return %0 : tensor<1x16x1x1x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<u8:f32, 0.2:128>
func.func @avg_pool_clamp(%x: tensor<1x16x7x7x!q>) -> tensor<1x16x1x1x!r> {
  // expected-error@+1 {{'myquant.avg_pool2d' op clamp bounds [-128, 127] exceed the result's storage range [0, 255]}}
  %0 = myquant.avg_pool2d %x {kernel = array<i64: 7, 7>, strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, layout = #myquant.layout<nchw>,
      clamp = #myquant.clamp<-128, 127>}
      : tensor<1x16x7x7x!q> -> tensor<1x16x1x1x!r>
  return %0 : tensor<1x16x1x1x!r>
}

// -----

//===----------------------------------------------------------------------===//
// clamp
//===----------------------------------------------------------------------===//

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @clamp_below_storage(%x: tensor<4x!q>) -> tensor<4x!q> {
  // expected-error@+1 {{'myquant.clamp' op clamp bounds [-129, 127] exceed the result's storage range [-128, 127]}}
  %0 = myquant.clamp %x <-129, 127> : tensor<4x!q>
  return %0 : tensor<4x!q>
}

// -----

!q = !quant.uniform<u8:f32, 0.1:128>
func.func @clamp_above_storage(%x: tensor<4x!q>) -> tensor<4x!q> {
  // expected-error@+1 {{'myquant.clamp' op clamp bounds [128, 256] exceed the result's storage range [0, 255]}}
  %0 = myquant.clamp %x <128, 256> : tensor<4x!q>
  return %0 : tensor<4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @clamp_inverted_bounds(%x: tensor<4x!q>) -> tensor<4x!q> {
  // expected-error@+1 {{clamp lower bound 127 is above its upper bound -4}}
  %0 = myquant.clamp %x <127, -4> : tensor<4x!q>
  return %0 : tensor<4x!q>
}

// -----

!c = !quant.uniform<i8:f32:0, {0.1, 0.2, 0.3, 0.4}>
func.func @clamp_per_axis(%x: tensor<4x!c>) -> tensor<4x!c> {
  // expected-error@+1 {{'myquant.clamp' op input must be quantized per tensor}}
  %0 = myquant.clamp %x <-128, 127> : tensor<4x!c>
  return %0 : tensor<4x!c>
}

// -----

//===----------------------------------------------------------------------===//
// table
//===----------------------------------------------------------------------===//

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @table_size(%x: tensor<4x!q>) -> tensor<4x!q> {
  // expected-error@+1 {{'myquant.table' op table has 3 entries; the input's storage range needs 256}}
  %0 = myquant.table %x {values = array<i32: 0, 1, 2>} : tensor<4x!q> -> tensor<4x!q>
  return %0 : tensor<4x!q>
}

// -----

!q = !quant.uniform<u16:f32, 0.1>
!r = !quant.uniform<i8:f32, 0.1>
func.func @table_input_width(%x: tensor<4x!q>) -> tensor<4x!r> {
  // expected-error@+1 {{'myquant.table' op input must have 8-bit or signed 16-bit storage, got unsigned 16-bit}}
  %0 = myquant.table %x {values = array<i32: 0, 1, 2>} : tensor<4x!q> -> tensor<4x!r>
  return %0 : tensor<4x!r>
}

// -----

!q = !quant.uniform<i16<-32767:32767>:f32, 0.1>
!r = !quant.uniform<i8:f32, 0.1>
// A 16-bit input's table holds the 513 grid points -32768 + 128 i.
func.func @table_size_int16_input(%x: tensor<4x!q>) -> tensor<4x!r> {
  // expected-error@+1 {{'myquant.table' op table has 256 entries; the input's storage range needs 513}}
  %0 = myquant.table %x {values = array<i32: 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>} : tensor<4x!q> -> tensor<4x!r>
  return %0 : tensor<4x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2>
func.func @table_shape(%x: tensor<4x!q>) -> tensor<5x!r> {
  // expected-error@+1 {{'myquant.table' op requires the same shape for all operands and results}}
  %0 = myquant.table %x {values = array<i32: 0>} : tensor<4x!q> -> tensor<5x!r>
  return %0 : tensor<5x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!c = !quant.uniform<i8:f32:0, {0.1, 0.2, 0.3, 0.4}>
func.func @table_per_axis_result(%x: tensor<4x!q>) -> tensor<4x!c> {
  // expected-error@+1 {{'myquant.table' op result must be quantized per tensor}}
  %0 = myquant.table %x {values = array<i32: 0>} : tensor<4x!q> -> tensor<4x!c>
  return %0 : tensor<4x!c>
}

// -----

!q = !quant.uniform<i8<-127:127>:f32, 0.1>
!r = !quant.uniform<i8:f32, 0.2>
func.func @table_size_narrow_input(%x: tensor<4x!q>) -> tensor<4x!r> {
  // expected-error@+1 {{'myquant.table' op table has 256 entries; the input's storage range needs 255}}
  %0 = myquant.table %x {values = array<i32: -128, -127, -126, -125, -124, -123, -122, -121, -120, -119, -118, -117, -116, -115, -114, -113, -112, -111, -110, -109, -108, -107, -106, -105, -104, -103, -102, -101, -100, -99, -98, -97, -96, -95, -94, -93, -92, -91, -90, -89, -88, -87, -86, -85, -84, -83, -82, -81, -80, -79, -78, -77, -76, -75, -74, -73, -72, -71, -70, -69, -68, -67, -66, -65, -64, -63, -62, -61, -60, -59, -58, -57, -56, -55, -54, -53, -52, -51, -50, -49, -48, -47, -46, -45, -44, -43, -42, -41, -40, -39, -38, -37, -36, -35, -34, -33, -32, -31, -30, -29, -28, -27, -26, -25, -24, -23, -22, -21, -20, -19, -18, -17, -16, -15, -14, -13, -12, -11, -10, -9, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127>} : tensor<4x!q> -> tensor<4x!r>
  return %0 : tensor<4x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8<-127:127>:f32, 0.2>
func.func @table_value_below_range(%x: tensor<4x!q>) -> tensor<4x!r> {
  // expected-error@+1 {{'myquant.table' op table entry 0 = -128 is outside the result's storage range [-127, 127]}}
  %0 = myquant.table %x {values = array<i32: -128, -127, -126, -125, -124, -123, -122, -121, -120, -119, -118, -117, -116, -115, -114, -113, -112, -111, -110, -109, -108, -107, -106, -105, -104, -103, -102, -101, -100, -99, -98, -97, -96, -95, -94, -93, -92, -91, -90, -89, -88, -87, -86, -85, -84, -83, -82, -81, -80, -79, -78, -77, -76, -75, -74, -73, -72, -71, -70, -69, -68, -67, -66, -65, -64, -63, -62, -61, -60, -59, -58, -57, -56, -55, -54, -53, -52, -51, -50, -49, -48, -47, -46, -45, -44, -43, -42, -41, -40, -39, -38, -37, -36, -35, -34, -33, -32, -31, -30, -29, -28, -27, -26, -25, -24, -23, -22, -21, -20, -19, -18, -17, -16, -15, -14, -13, -12, -11, -10, -9, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127>} : tensor<4x!q> -> tensor<4x!r>
  return %0 : tensor<4x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2>
func.func @table_value_above_range(%x: tensor<4x!q>) -> tensor<4x!r> {
  // expected-error@+1 {{'myquant.table' op table entry 200 = 300 is outside the result's storage range [-128, 127]}}
  %0 = myquant.table %x {values = array<i32: 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 300, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>} : tensor<4x!q> -> tensor<4x!r>
  return %0 : tensor<4x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @avg_pool_padding_without_count(%x: tensor<1x16x7x7x!q>) -> tensor<1x16x7x7x!r> {
  // expected-error@+1 {{'myquant.avg_pool2d' op padding needs 'count_include_pad'}}
  %0 = myquant.avg_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, layout = #myquant.layout<nchw>}
      : tensor<1x16x7x7x!q> -> tensor<1x16x7x7x!r>
  return %0 : tensor<1x16x7x7x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @mul_broadcast_to_wrong_size(%a: tensor<1x8x1x1x!q>, %b: tensor<1x8x5x5x!q>) -> tensor<1x8x5x1x!q> {
  // expected-error@+1 {{'myquant.mul' op operand sizes 1 and 5 in dimension 3 do not broadcast to the result's 1}}
  %0 = myquant.mul %a, %b : (tensor<1x8x1x1x!q>, tensor<1x8x5x5x!q>) -> tensor<1x8x5x1x!q>
  return %0 : tensor<1x8x5x1x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @avg_pool_divisors_count(%x: tensor<1x4x5x5x!q>) -> tensor<1x4x3x3x!r> {
  // expected-error@+1 {{'myquant.avg_pool2d' op 'divisors' has 4 entries; expected one per output position (9)}}
  %0 = myquant.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>, layout = #myquant.layout<nchw>, divisors = array<i64: 4, 2, 2, 1>}
      : tensor<1x4x5x5x!q> -> tensor<1x4x3x3x!r>
  return %0 : tensor<1x4x3x3x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @avg_pool_divisor_zero(%x: tensor<1x4x4x4x!q>) -> tensor<1x4x2x2x!r> {
  // expected-error@+1 {{'myquant.avg_pool2d' op 'divisors' must be positive}}
  %0 = myquant.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, layout = #myquant.layout<nchw>, divisors = array<i64: 4, 4, 0, 4>}
      : tensor<1x4x4x4x!q> -> tensor<1x4x2x2x!r>
  return %0 : tensor<1x4x2x2x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @requantize_negative_factor(%x: tensor<4x!q>) -> tensor<4x!r> {
  // expected-error@+1 {{'myquant.requantize' op factor -2.000000e+00 must be positive and finite}}
  %0 = myquant.requantize %x {factor = -2.0 : f64} : tensor<4x!q> -> tensor<4x!r>
  return %0 : tensor<4x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @requantize_factors_count(%x: tensor<2x3x!q>) -> tensor<2x3x!r> {
  // expected-error@+1 {{'myquant.requantize' op has 2 factors; expected 3 (the size of 'factor_axis')}}
  %0 = myquant.requantize %x {factors = array<f64: 1.0, -2.0>, factor_axis = 1 : i64} : tensor<2x3x!q> -> tensor<2x3x!r>
  return %0 : tensor<2x3x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @requantize_factors_axis(%x: tensor<2x3x!q>) -> tensor<2x3x!r> {
  // expected-error@+1 {{'myquant.requantize' op 'factor_axis' 2 is not a dimension of the rank-2 input}}
  %0 = myquant.requantize %x {factors = array<f64: 1.0, -2.0>, factor_axis = 2 : i64} : tensor<2x3x!q> -> tensor<2x3x!r>
  return %0 : tensor<2x3x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @requantize_factor_and_factors(%x: tensor<2x3x!q>) -> tensor<2x3x!r> {
  // expected-error@+1 {{'myquant.requantize' op takes 'factor' or 'factors', not both}}
  %0 = myquant.requantize %x {factor = 2.0 : f64, factors = array<f64: 1.0>} : tensor<2x3x!q> -> tensor<2x3x!r>
  return %0 : tensor<2x3x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @requantize_factors_rescale(%x: tensor<2x3x!q>) -> tensor<2x3x!r> {
  // expected-error@+1 {{'myquant.requantize' op 'rescale' has 1 entries; expected one per factor (2)}}
  %0 = myquant.requantize %x {factors = array<f64: 1.0, -2.0>, factor_axis = 0 : i64, rescale = #myquant.rescale<multiplier = [1073741824], shift = [30], rounding = single>} : tensor<2x3x!q> -> tensor<2x3x!r>
  return %0 : tensor<2x3x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>
func.func @requantize_factors_not_finite(%x: tensor<2x3x!q>) -> tensor<2x3x!r> {
  // expected-error@+1 {{'myquant.requantize' op factor INF is not finite}}
  %0 = myquant.requantize %x {factors = array<f64: 0x7FF0000000000000>} : tensor<2x3x!q> -> tensor<2x3x!r>
  return %0 : tensor<2x3x!r>
}

// -----

//===----------------------------------------------------------------------===//
// softmax
//===----------------------------------------------------------------------===//

!q = !quant.uniform<i8:f32, 0.1:-4>
!p = !quant.uniform<i8:f32, 0.00390625:-128>
func.func @softmax_table_size(%x: tensor<2x4x!q>) -> tensor<2x4x!p> {
  // expected-error@+1 {{'myquant.softmax' op exp_table has 2 entries; the input's storage range needs 256}}
  %0 = myquant.softmax %x {exp_table = array<i32: 65536, 1>} : tensor<2x4x!q> -> tensor<2x4x!p>
  return %0 : tensor<2x4x!p>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!p = !quant.uniform<i8:f32, 0.00390625:-128>
func.func @softmax_table_entry(%x: tensor<2x4x!q>) -> tensor<2x4x!p> {
  // expected-error@+1 {{'myquant.softmax' op exp_table entry 3 = 70000 is outside [0, 65536]}}
  %0 = myquant.softmax %x {exp_table = array<i32: 65536, 59299, 53656, 70000, 43930, 39750, 35967, 32544, 29447, 26645, 24109, 21815, 19739, 17861, 16161, 14623, 13231, 11972, 10833, 9802, 8869, 8025, 7262, 6571, 5945, 5380, 4868, 4404, 3985, 3606, 3263, 2952, 2671, 2417, 2187, 1979, 1791, 1620, 1466, 1327, 1200, 1086, 983, 889, 805, 728, 659, 596, 539, 488, 442, 400, 362, 327, 296, 268, 242, 219, 198, 180, 162, 147, 133, 120, 109, 99, 89, 81, 73, 66, 60, 54, 49, 44, 40, 36, 33, 30, 27, 24, 22, 20, 18, 16, 15, 13, 12, 11, 10, 9, 8, 7, 7, 6, 5, 5, 4, 4, 4, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>} : tensor<2x4x!q> -> tensor<2x4x!p>
  return %0 : tensor<2x4x!p>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!p = !quant.uniform<i8:f32, 0.00390625:-128>
func.func @softmax_table_first(%x: tensor<2x4x!q>) -> tensor<2x4x!p> {
  // expected-error@+1 {{'myquant.softmax' op exp_table[0] = 65535 must be 65536}}
  %0 = myquant.softmax %x {exp_table = array<i32: 65535, 59299, 53656, 48550, 43930, 39750, 35967, 32544, 29447, 26645, 24109, 21815, 19739, 17861, 16161, 14623, 13231, 11972, 10833, 9802, 8869, 8025, 7262, 6571, 5945, 5380, 4868, 4404, 3985, 3606, 3263, 2952, 2671, 2417, 2187, 1979, 1791, 1620, 1466, 1327, 1200, 1086, 983, 889, 805, 728, 659, 596, 539, 488, 442, 400, 362, 327, 296, 268, 242, 219, 198, 180, 162, 147, 133, 120, 109, 99, 89, 81, 73, 66, 60, 54, 49, 44, 40, 36, 33, 30, 27, 24, 22, 20, 18, 16, 15, 13, 12, 11, 10, 9, 8, 7, 7, 6, 5, 5, 4, 4, 4, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>} : tensor<2x4x!q> -> tensor<2x4x!p>
  return %0 : tensor<2x4x!p>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!p = !quant.uniform<i8:f32, 0.00390625:0>
func.func @softmax_result_type(%x: tensor<2x4x!q>) -> tensor<2x4x!p> {
  // expected-error@+1 {{'myquant.softmax' op result must have scale 3.906250e-03 and zero point -128 (its storage minimum), got scale 3.906250e-03 and zero point 0}}
  %0 = myquant.softmax %x {exp_table = array<i32: 65536>} : tensor<2x4x!q> -> tensor<2x4x!p>
  return %0 : tensor<2x4x!p>
}

// -----

// A 16-bit result has scale 2^-15 and zero point 0 (docs/NumericSpec.md 6.4).
!q = !quant.uniform<i16<-32767:32767>:f32, 0.001>
!p = !quant.uniform<i16<-32767:32767>:f32, 0.0000152587890625>
func.func @softmax_int16_result_type(%x: tensor<2x4x!q>) -> tensor<2x4x!p> {
  // expected-error@+1 {{'myquant.softmax' op result must have scale 3.051758e-05 and zero point 0, got scale 1.525879e-05 and zero point 0}}
  %0 = myquant.softmax %x : tensor<2x4x!q> -> tensor<2x4x!p>
  return %0 : tensor<2x4x!p>
}

// -----

!q = !quant.uniform<i32:f32, 0.1>
!p = !quant.uniform<i8:f32, 0.00390625:-128>
func.func @softmax_input_width(%x: tensor<2x4x!q>) -> tensor<2x4x!p> {
  // expected-error@+1 {{'myquant.softmax' op input and result must have 8- or 16-bit and 8- or 16-bit storage, got 32-bit and 8-bit}}
  %0 = myquant.softmax %x {exp_table = array<i32: 65536>} : tensor<2x4x!q> -> tensor<2x4x!p>
  return %0 : tensor<2x4x!p>
}

// -----

!q = !quant.uniform<i16:f32, 0.1>
!p = !quant.uniform<i8:f32, 0.00390625:-128>
func.func @softmax_16_bit_table(%x: tensor<2x4x!q>) -> tensor<2x4x!p> {
  // expected-error@+1 {{'myquant.softmax' op takes no exp_table with a 16-bit input; its exponential is computed (exp_rescale)}}
  %0 = myquant.softmax %x {exp_table = array<i32: 65536>} : tensor<2x4x!q> -> tensor<2x4x!p>
  return %0 : tensor<2x4x!p>
}

// -----

!q = !quant.uniform<i16:f32, 0.1>
!p = !quant.uniform<i8:f32, 0.00390625:-128>
func.func @softmax_16_bit_rescale(%x: tensor<2x4x!q>) -> tensor<2x4x!p> {
  // expected-error@+1 {{'myquant.softmax' op exp_rescale must be one positive multiplier with single rounding, got #myquant.rescale<multiplier = [1548615843], shift = [40], rounding = gemmlowp>}}
  %0 = myquant.softmax %x {exp_rescale = #myquant.rescale<multiplier = [1548615843], shift = [40], rounding = gemmlowp>} : tensor<2x4x!q> -> tensor<2x4x!p>
  return %0 : tensor<2x4x!p>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!p = !quant.uniform<i8:f32, 0.00390625:-128>
func.func @softmax_8_bit_rescale(%x: tensor<2x4x!q>) -> tensor<2x4x!p> {
  // expected-error@+1 {{'myquant.softmax' op takes no exp_rescale with an 8-bit input; its exponential is the exp_table}}
  %0 = myquant.softmax %x {exp_rescale = #myquant.rescale<multiplier = [1548615843], shift = [40], rounding = single>} : tensor<2x4x!q> -> tensor<2x4x!p>
  return %0 : tensor<2x4x!p>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!p = !quant.uniform<i8:f32, 0.00390625:-128>
func.func @softmax_8_bit_no_table(%x: tensor<2x4x!q>) -> tensor<2x4x!p> {
  // expected-error@+1 {{'myquant.softmax' op needs an exp_table with an 8-bit input}}
  %0 = myquant.softmax %x : tensor<2x4x!q> -> tensor<2x4x!p>
  return %0 : tensor<2x4x!p>
}

// -----

//===----------------------------------------------------------------------===//
// layer_norm
//===----------------------------------------------------------------------===//

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @layer_norm_sizes(%x: tensor<2x4x!q>) -> tensor<2x4x!q> {
  // expected-error@+1 {{'myquant.layer_norm' op has 3 gamma and 4 beta entries for rows of 4}}
  %0 = myquant.layer_norm %x {gamma = array<i64: 1, 2, 3>, beta = array<i64: 0, 0, 0, 0>, epsilon = 1 : i64} : tensor<2x4x!q> -> tensor<2x4x!q>
  return %0 : tensor<2x4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @layer_norm_epsilon(%x: tensor<2x4x!q>) -> tensor<2x4x!q> {
  // expected-error@+1 {{'myquant.layer_norm' op epsilon -1 is outside [0, 2^60]}}
  %0 = myquant.layer_norm %x {gamma = array<i64: 1, 2, 3, 4>, beta = array<i64: 0, 0, 0, 0>, epsilon = -1 : i64} : tensor<2x4x!q> -> tensor<2x4x!q>
  return %0 : tensor<2x4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @layer_norm_affine_bound(%x: tensor<2x4x!q>) -> tensor<2x4x!q> {
  // expected-error@+1 {{'myquant.layer_norm' op channel 1: |gamma| * 2^17 + |beta| = 4.611686e+18 is beyond 2^62}}
  %0 = myquant.layer_norm %x {gamma = array<i64: 1, 35184373137408, 3, 4>, beta = array<i64: 0, 1, 0, 0>, epsilon = 1 : i64} : tensor<2x4x!q> -> tensor<2x4x!q>
  return %0 : tensor<2x4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @layer_norm_rows(%x: tensor<1x5000x!q>) -> tensor<1x5000x!q> {
  // expected-error@+1 {{'myquant.layer_norm' op normalizes rows of 5000 elements; at most 4096 are supported}}
  %0 = myquant.layer_norm %x {gamma = array<i64: 1>, beta = array<i64: 0>, epsilon = 1 : i64} : tensor<1x5000x!q> -> tensor<1x5000x!q>
  return %0 : tensor<1x5000x!q>
}

// -----

// A 16-bit input (docs/NumericSpec.md 6.4): rows of at most 2048.
!x = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @layer_norm_rows_i16(%x: tensor<1x2049x!x>) -> tensor<1x2049x!q> {
  // expected-error@+1 {{'myquant.layer_norm' op normalizes rows of 2049 elements; at most 2048 are supported with a 16-bit input}}
  %0 = myquant.layer_norm %x {gamma = array<i64: 1>, beta = array<i64: 0>, epsilon = 1 : i64} : tensor<1x2049x!x> -> tensor<1x2049x!q>
  return %0 : tensor<1x2049x!q>
}

// -----

// The result is 8-bit whatever the input.
!x = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
func.func @layer_norm_result_i16(%x: tensor<2x4x!x>) -> tensor<2x4x!x> {
  // expected-error@+1 {{'myquant.layer_norm' op input and result must have 8- or 16-bit and 8-bit (or wide 32-bit) storage, got 16-bit and 16-bit}}
  %0 = myquant.layer_norm %x {gamma = array<i64: 1, 2, 3, 4>, beta = array<i64: 0, 0, 0, 0>, epsilon = 1 : i64} : tensor<2x4x!x> -> tensor<2x4x!x>
  return %0 : tensor<2x4x!x>
}

// -----

// A per-channel input (docs/NumericSpec.md 6.6): scales s * 2^a, a in 0..7.
!x = !quant.uniform<i8:f32:1, {0.01:3, 0.03:3, 0.02:3, 0.01:3}>
!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @layer_norm_shifts_not_power_of_two(%x: tensor<2x4x!x>) -> tensor<2x4x!q> {
  // expected-error@+1 {{'myquant.layer_norm' op input with 'input_shifts': channel 1 has scale 3.000000e-02 and zero point 3; each must be 1.000000e-02 * 2^a (a in 0..7) with zero point 3}}
  %0 = myquant.layer_norm %x {gamma = array<i64: 1, 2, 3, 4>, beta = array<i64: 0, 0, 0, 0>, epsilon = 1 : i64, input_shifts = array<i64: 0, 0, 1, 0>} : tensor<2x4x!x> -> tensor<2x4x!q>
  return %0 : tensor<2x4x!q>
}

// -----

!x = !quant.uniform<i8:f32:1, {0.01:3, 2.56:3, 0.02:3, 0.01:3}>
!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @layer_norm_shifts_too_large(%x: tensor<2x4x!x>) -> tensor<2x4x!q> {
  // expected-error@+1 {{'myquant.layer_norm' op input with 'input_shifts': channel 1 has scale 2.560000e+00 and zero point 3; each must be 1.000000e-02 * 2^a (a in 0..7) with zero point 3}}
  %0 = myquant.layer_norm %x {gamma = array<i64: 1, 2, 3, 4>, beta = array<i64: 0, 0, 0, 0>, epsilon = 1 : i64, input_shifts = array<i64: 0, 8, 1, 0>} : tensor<2x4x!x> -> tensor<2x4x!q>
  return %0 : tensor<2x4x!q>
}

// -----

!x = !quant.uniform<i8:f32:1, {0.01:3, 0.01:2, 0.02:3, 0.01:3}>
!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @layer_norm_shifts_zero_points(%x: tensor<2x4x!x>) -> tensor<2x4x!q> {
  // expected-error@+1 {{'myquant.layer_norm' op input with 'input_shifts': channel 1 has scale 1.000000e-02 and zero point 2; each must be 1.000000e-02 * 2^a (a in 0..7) with zero point 3}}
  %0 = myquant.layer_norm %x {gamma = array<i64: 1, 2, 3, 4>, beta = array<i64: 0, 0, 0, 0>, epsilon = 1 : i64, input_shifts = array<i64: 0, 0, 1, 0>} : tensor<2x4x!x> -> tensor<2x4x!q>
  return %0 : tensor<2x4x!q>
}

// -----

!x = !quant.uniform<i8:f32:1, {0.01:3, 0.01:3, 0.02:3, 0.01:3}>
!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @layer_norm_shifts_mismatch(%x: tensor<2x4x!x>) -> tensor<2x4x!q> {
  // expected-error@+1 {{'myquant.layer_norm' op input_shifts [0, 0, 2, 0] do not match the input's scales, which give [0, 0, 1, 0]}}
  %0 = myquant.layer_norm %x {gamma = array<i64: 1, 2, 3, 4>, beta = array<i64: 0, 0, 0, 0>, epsilon = 1 : i64, input_shifts = array<i64: 0, 0, 2, 0>} : tensor<2x4x!x> -> tensor<2x4x!q>
  return %0 : tensor<2x4x!q>
}

// -----

!x = !quant.uniform<i8:f32, 0.01:3>
!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @layer_norm_shifts_per_tensor(%x: tensor<2x4x!x>) -> tensor<2x4x!q> {
  // expected-error@+1 {{'myquant.layer_norm' op input with 'input_shifts' must be 8-bit and quantized along its last dimension}}
  %0 = myquant.layer_norm %x {gamma = array<i64: 1, 2, 3, 4>, beta = array<i64: 0, 0, 0, 0>, epsilon = 1 : i64, input_shifts = array<i64: 0, 0, 0, 0>} : tensor<2x4x!x> -> tensor<2x4x!q>
  return %0 : tensor<2x4x!q>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!b = !quant.uniform<i8:f32, 0.05:3>
!y = !quant.uniform<i8:f32, 0.2>
func.func @matmul_factor(%x: tensor<2x3x4x!a>, %w: tensor<2x4x5x!b>) -> tensor<2x3x5x!y> {
  // expected-error@+1 {{'myquant.matmul' op factor -5.000000e-01 must be positive and finite}}
  %0 = myquant.matmul %x, %w {factor = -0.5 : f64} : (tensor<2x3x4x!a>, tensor<2x4x5x!b>) -> tensor<2x3x5x!y>
  return %0 : tensor<2x3x5x!y>
}
