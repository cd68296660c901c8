// NaN and infinities in the activations are counted, reported at the value
// and left out of its statistics. Inputs/x_nonfinite.npy is Inputs/x.npy
// with a NaN in sample 0 and +inf in sample 1.
// RUN: rm -rf %t && mkdir -p %t
// RUN: myquant-opt %s -split-input-file --myquant-calibrate="data=%S/Inputs/x_nonfinite.npy" -verify-diagnostics | FileCheck %s

// The counts and the ranges of the finite values, against numpy.
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x_nonfinite.npy function=mlp stats-out=%t/mlp.json" -o /dev/null 2> %t/warnings.txt
// RUN: %python %S/Inputs/calibration_data.py nonfinite %S/Inputs %t/mlp.json
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs mlp-nonfinite %t/mlp.json
// RUN: FileCheck %s --check-prefix=WARN < %t/warnings.txt
// WARN: warning: loc("input"): calibration saw 2 NaN or infinite values here; they are left out of the statistics
// WARN: warning: loc("fc"): calibration saw 6 NaN or infinite values here
// WARN: warning: loc("fc"): calibration saw 6 NaN or infinite values here
// WARN: warning: loc("relu"): calibration saw 5 NaN or infinite values here

// The first finite sample of the argument is sample 2; the relu's NaN and
// inf are gone.
// CHECK-LABEL: func.func @act(
// CHECK:         myquant.stats %arg0 {max = array<f64: 4.000000e+00>, min = array<f64: -4.000000e+00>}
// CHECK:         linalg.generic
// CHECK:         myquant.stats %{{.*}} {max = array<f64: 4.000000e+00>, min = array<f64: 0.000000e+00>}

// expected-warning@+1 {{calibration saw 2 NaN or infinite values here; they are left out of the statistics}}
func.func @act(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%n) : tensor<?x4xf32>
  // expected-warning@+1 {{calibration saw 2 NaN or infinite values here; they are left out of the statistics}}
  %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<?x4xf32>) outs(%e : tensor<?x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<?x4xf32>
  return %relu : tensor<?x4xf32>
}

// -----

// x * inf is never finite: the value gets no statistics.
// CHECK-LABEL: func.func @allnan(
// CHECK:         myquant.stats %arg0
// CHECK-NOT:     myquant.stats
// expected-warning@+1 {{calibration saw 2 NaN or infinite values here}}
func.func @allnan(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %inf = arith.constant 0x7F800000 : f32
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%n) : tensor<?x4xf32>
  // expected-warning@+1 {{calibration saw no finite value here (40 NaN or infinite); it gets no statistics}}
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<?x4xf32>) outs(%e : tensor<?x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %inf : f32
    linalg.yield %m : f32
  } -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
