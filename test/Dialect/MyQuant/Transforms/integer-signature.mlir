// RUN: myquant-opt %s -split-input-file --myquant-integer-signature -verify-diagnostics | FileCheck %s

!qx = !quant.uniform<i8:f32, 0.5:-3>
!qy = !quant.uniform<i8:f32, 0.25:10>

// CHECK-LABEL: func.func @edges
// CHECK-SAME:  (%[[X:.*]]: tensor<4x!quant.uniform<i8:f32, 5.000000e-01:-3>>) -> tensor<4x!quant.uniform<i8:f32, 2.500000e-01:10>>
// CHECK-SAME:  myquant.input_qparams = [{scale = 5.000000e-01 : f64, zero_point = -3 : i64}]
// CHECK-SAME:  myquant.output_qparams = [{scale = 2.500000e-01 : f64, zero_point = 10 : i64}]
// CHECK-NOT:   myquant.quantize
// CHECK:       %[[R:.*]] = myquant.requantize %[[X]]
// CHECK-NOT:   myquant.dequantize
// CHECK:       return %[[R]]
func.func @edges(%x: tensor<4xf32>) -> tensor<4xf32> {
  %q = myquant.quantize %x : tensor<4xf32> -> tensor<4x!qx>
  %r = myquant.requantize %q : tensor<4x!qx> -> tensor<4x!qy>
  %d = myquant.dequantize %r : tensor<4x!qy> -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

!qx = !quant.uniform<i8:f32, 0.5:-3>

// expected-error@+1 {{argument #0 is not only quantized with one per-tensor type; it cannot become an integer argument}}
func.func @float_use(%x: tensor<4xf32>) -> tensor<4xf32> {
  %q = myquant.quantize %x : tensor<4xf32> -> tensor<4x!qx>
  %d = myquant.dequantize %q : tensor<4x!qx> -> tensor<4xf32>
  %s = arith.addf %d, %x : tensor<4xf32>
  // expected-error@+1 {{result #0 is not produced by a per-tensor dequantize}}
  return %s : tensor<4xf32>
}

// -----

!qx = !quant.uniform<i8:f32, 0.5:-3>

func.func @float_result(%x: tensor<4xf32>) -> tensor<4xf32> {
  %q = myquant.quantize %x : tensor<4xf32> -> tensor<4x!qx>
  %d = myquant.dequantize %q : tensor<4x!qx> -> tensor<4xf32>
  %e = math.exp %d : tensor<4xf32>
  // expected-error@+1 {{result #0 is not produced by a per-tensor dequantize; it cannot become an integer result}}
  return %e : tensor<4xf32>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>

// expected-error@+1 {{'func.func' op has 2 blocks; myquant-integer-signature supports single-block functions}}
func.func @two_blocks(%x: tensor<4xf32>) -> tensor<4xf32> {
  %q = myquant.quantize %x : tensor<4xf32> -> tensor<4x!qx>
  %d = myquant.dequantize %q : tensor<4x!qx> -> tensor<4xf32>
  cf.br ^bb1(%d : tensor<4xf32>)
^bb1(%y: tensor<4xf32>):
  return %y : tensor<4xf32>
}
