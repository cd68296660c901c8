module {
  func.func @forward(%arg0: tensor<1x2x6x6x!quant.uniform<i8:f32, 0.03:12>>) -> tensor<1x4x6x6x!quant.uniform<i8:f32, 0.02:-128>> attributes {myquant.input_qparams = [{scale = 0.03 : f64, zero_point = 12 : i64}], myquant.output_qparams = [{scale = 0.02 : f64, zero_point = -128 : i64}]} {
    %w = arith.constant dense<[[[[1, -2, 3], [4, -5, 6], [7, 8, -9]], [[-10, 11, 12], [13, -14, 15], [16, 17, -18]]], [[[19, 20, 21], [-22, 23, 24], [25, 26, 27]], [[28, -29, 30], [31, 32, -33], [34, 35, 36]]], [[[-1, 2, 3], [4, 5, 6], [7, 8, 9]], [[10, 11, -12], [13, 14, 15], [-16, 17, 18]]], [[[19, -20, 21], [22, 23, 24], [25, -26, 27]], [[28, 29, 30], [-31, 32, 33], [34, 35, -36]]]]> : tensor<4x2x3x3xi8>
    %wq = quant.scast %w : tensor<4x2x3x3xi8> to tensor<4x2x3x3x!quant.uniform<i8<-127:127>:f32:0, {0.005, 0.005, 0.005, 0.005}>>
    %b = arith.constant dense<[100, -200, 300, -400]> : tensor<4xi32>
    %0 = myquant.conv2d %arg0, %wq, %b {dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x2x6x6x!quant.uniform<i8:f32, 0.03:12>>, tensor<4x2x3x3x!quant.uniform<i8<-127:127>:f32:0, {0.005, 0.005, 0.005, 0.005}>>, tensor<4xi32>) -> tensor<1x4x6x6x!quant.uniform<i8:f32, 0.02:-128>>
    return %0 : tensor<1x4x6x6x!quant.uniform<i8:f32, 0.02:-128>>
  }
}
