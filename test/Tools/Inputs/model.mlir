// The myquant model of myquant-run.mlir, with the quantization parameters
// of its input and output for the generated header.
!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8:f32:0, {0.01, 0.02}>
!qy = !quant.uniform<i8:f32, 0.05:3>
func.func @model(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> attributes {
    myquant.input_qparams = [{scale = 0.1 : f64, zero_point = -4 : i64}],
    myquant.output_qparams = [{scale = 0.05 : f64, zero_point = 3 : i64}]} {
  %wi = arith.constant dense<[[[[1, -2, 3], [4, 5, -6], [7, 8, 9]], [[-1, 2, -3], [4, -5, 6], [-7, 8, -9]]], [[[10, 20, 30], [-40, 50, 60], [70, -80, 90]], [[1, 1, 1], [1, 1, 1], [1, 1, -127]]]]> : tensor<2x2x3x3xi8>
  %w = quant.scast %wi : tensor<2x2x3x3xi8> to tensor<2x2x3x3x!qw>
  %b = arith.constant dense<[100, -200]> : tensor<2xi32>
  %q = myquant.quantize %x : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!qx>
  %y = myquant.conv2d %q, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>} : (tensor<1x2x4x4x!qx>, tensor<2x2x3x3x!qw>, tensor<2xi32>) -> tensor<1x2x4x4x!qy>
  %d = myquant.dequantize %y : tensor<1x2x4x4x!qy> -> tensor<1x2x4x4xf32>
  return %d : tensor<1x2x4x4xf32>
}

// Returns its argument (so the result must be a copy the caller owns) and a
// constant.
func.func @pair(%a: tensor<3xi32>) -> (tensor<3xi32>, tensor<i64>) {
  %c = arith.constant dense<42> : tensor<i64>
  return %a, %c : tensor<3xi32>, tensor<i64>
}
