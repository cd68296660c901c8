// A max pool pads its input with -inf: the border is not data, so
// calibration must not report it as NaN or infinite values (on data that
// has none). The pool's own result is observed as usual.
// RUN: myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy" -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @maxpool(
// CHECK:         myquant.stats %arg0
// CHECK:         %[[PAD:.*]] = tensor.pad
// CHECK-NOT:     myquant.stats %[[PAD]]
// CHECK:         %[[POOL:.*]] = linalg.pooling_nchw_max
// CHECK:         myquant.stats %[[POOL]] {max = array<f64: 4.000000e+00>, min = array<f64: {{.*}}>}
func.func @maxpool(%x: tensor<2x4xf32>) -> tensor<2x1x2x2xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %r = tensor.expand_shape %x [[0], [1, 2, 3]] output_shape [2, 1, 2, 2] : tensor<2x4xf32> into tensor<2x1x2x2xf32>
  %pad = tensor.pad %r low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %ninf : f32
  } : tensor<2x1x2x2xf32> to tensor<2x1x4x4xf32> loc("maxpool")
  %e = tensor.empty() : tensor<2x1x2x2xf32>
  %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<2x1x2x2xf32>) -> tensor<2x1x2x2xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %mp = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%pad, %win : tensor<2x1x4x4xf32>, tensor<2x2xf32>) outs(%f : tensor<2x1x2x2xf32>) -> tensor<2x1x2x2xf32> loc("maxpool")
  return %mp : tensor<2x1x2x2xf32>
}
