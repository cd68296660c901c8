// NHWC convolutions for the Cortex-M4's dual multiply-accumulate
// (python/tests/test_baremetal.py): a depthwise 3x3 (quads along the
// window) then a 4-channel 3x3 (quads along the channels).
!x = !quant.uniform<i8:f32, 0.03:12>
!h = !quant.uniform<i8:f32, 0.05:-3>
!y = !quant.uniform<i8:f32, 0.08:5>
!wd = !quant.uniform<i8<-127:127>:f32:3, {0.004, 0.005, 0.006, 0.007}>
!wc = !quant.uniform<i8<-127:127>:f32:3, {0.001, 0.002, 0.0015, 0.0025}>
module {
  func.func @forward(%x: tensor<1x6x6x4x!x>) -> tensor<1x6x6x4x!y> attributes {myquant.input_qparams = [{scale = 0.03 : f64, zero_point = 12 : i64}], myquant.output_qparams = [{scale = 0.08 : f64, zero_point = 5 : i64}]} {
    %dwc = arith.constant dense<[[[[  79, -106,  -82,  -67]],

  [[ -81,   77,   94,   21]],

  [[-117, -103,  -43,  -17]]],


 [[[  31,   -5,  -60,  -87]],

  [[  49,   60, -119,  -99]],

  [[ -12,  -28,   99,    4]]],


 [[[ -20,  -18,   42,   22]],

  [[ -83,   61,   65,  116]],

  [[  73,  -55,  -46,   38]]]]> : tensor<3x3x1x4xi8>
    %dwq = quant.scast %dwc : tensor<3x3x1x4xi8> to tensor<3x3x1x4x!wd>
    %h = myquant.conv2d %x, %dwq {dilations = array<i64: 1, 1>, groups = 4 : i64, layout = #myquant.layout<nhwc>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x6x6x4x!x>, tensor<3x3x1x4x!wd>) -> tensor<1x6x6x4x!h>
    %cwc = arith.constant dense<[[[[  38,   50,   94,  -53],
   [ 112, -127, -108,  121],
   [ 113,  -51,  -92,  -47],
   [-117,  100,   41,   22]],

  [[ -65,   -7,  -79,   70],
   [  -7, -120,  -63,   53],
   [   5,  -32,  -63, -104],
   [  28,   41,    5,  110]],

  [[ 109,  -75,   28,   33],
   [ -64,  -51,   -3,   62],
   [ -53,   57,   39,  -72],
   [ -29,   84,   87,   40]]],


 [[[-126,   47,  -70,   82],
   [ 105,  -18,  117,   66],
   [ -44,   97,  -29, -101],
   [  24,   89,   40,  -27]],

  [[ 103,   -5,  -29,  -90],
   [ -73,   51,   76,  -53],
   [  33,   95,  -90,  -57],
   [   6,   16,  -26,  -26]],

  [[ -95,   29,  110,  -77],
   [  76,  -82, -116,   63],
   [ -81,   64,  -43,   17],
   [ 112,  107,   -6,  -75]]],


 [[[ -64,   89,   23,  -84],
   [  98,  118,  120,   32],
   [ 121,   27,    0,  120],
   [  27,   73,  -41,   74]],

  [[ 121, -114,    9,  -33],
   [-114, -106,  -59,  -78],
   [  55,  -73,   32,   91],
   [  -1,  -95, -111,  -52]],

  [[ -22,   -2,  -50,   89],
   [  17,  119,  111,   53],
   [-121,  -73,   63,   11],
   [ 113,   53,   82, -114]]]]> : tensor<3x3x4x4xi8>
    %cwq = quant.scast %cwc : tensor<3x3x4x4xi8> to tensor<3x3x4x4x!wc>
    %y = myquant.conv2d %h, %cwq {dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x6x6x4x!h>, tensor<3x3x4x4x!wc>) -> tensor<1x6x6x4x!y>
    return %y : tensor<1x6x6x4x!y>
  }
}
