// RUN: myquant-opt %s --myquant-propagate-qparams=keep-float=linalg.matmul -verify-diagnostics | FileCheck %s
// RUN: not myquant-opt %s "--myquant-propagate-qparams=keep-float=linalg.matmul allow-float=false" 2>&1 | FileCheck %s --check-prefix=STRICT
// RUN: not myquant-opt %s --myquant-propagate-qparams=activation-type=int4 2>&1 | FileCheck %s --check-prefix=BADTYPE
// RUN: not myquant-opt %s --myquant-propagate-qparams=weight-granularity=per-row 2>&1 | FileCheck %s --check-prefix=BADGRAN
// RUN: not myquant-opt %s --myquant-propagate-qparams=keep-float=linalg.matmull 2>&1 | FileCheck %s --check-prefix=BADKEEP
// RUN: not myquant-opt %s --myquant-ptq=keep-float=matmul 2>&1 | FileCheck %s --check-prefix=BADKEEP-PTQ

// keep-float leaves the matmul in float between a dequantize and a quantize.
// CHECK-LABEL: func.func @kept
// CHECK:       myquant.quantize %arg0
// CHECK:       %[[M:.*]] = linalg.matmul ins(%{{.*}}, %cst :
// CHECK:       myquant.quantize %[[M]]

// STRICT: error: 'linalg.matmul' cannot be quantized and allow-float=false
// BADTYPE: for the --activation-type option: Cannot find option named 'int4'!
// BADGRAN: for the --weight-granularity option: Cannot find option named 'per-row'!
// BADKEEP: error: keep-float names 'linalg.matmull', which is neither a registered operation nor the location name of an op of this function; give full op names such as linalg.matmul, or layer names
// BADKEEP-PTQ: error: keep-float names 'matmul', which is neither a registered operation
func.func @kept(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2xf32>
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  // expected-remark@+1 {{'linalg.matmul' stays in float between dequantize and quantize}}
  %m = linalg.matmul ins(%xs, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%f : tensor<1x2xf32>) -> tensor<1x2xf32>
  %ms = myquant.stats %m {min = array<f64: -3.0>, max = array<f64: 3.0>} : tensor<1x2xf32>
  return %ms : tensor<1x2xf32>
}
