// RUN: myquant-opt %s -split-input-file --myquant-normalize | FileCheck %s --check-prefix=NORM
// RUN: myquant-opt %s -split-input-file --myquant-ptq="allow-float=false" \
// RUN:   -verify-diagnostics | FileCheck %s

// A chain of tensor.insert_slice ops that tiles a tensor.empty along one
// dimension is the concatenation it computes: myquant-normalize writes it
// as tensor.concat, which quantizes like the exporter's (operands
// requantized into the concatenation's parameters where needed).

// torch-mlir's torch.cat along channels (after decomposing tensor.concat).
// NORM-LABEL: func.func @torch_cat
// NORM: %[[CAT:.*]] = tensor.concat dim(1) %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x2x3x3xf32>, tensor<1x3x3x3xf32>, tensor<1x2x3x3xf32>) -> tensor<1x7x3x3xf32>
// NORM-NOT: tensor.insert_slice
// CHECK-LABEL: func.func @torch_cat
// CHECK: myquant.concat %{{.*}}, %{{.*}}, %{{.*}} {dim = 1 : i64}
// CHECK-NOT: tensor.insert_slice
func.func @torch_cat(%a: tensor<1x2x3x3xf32>, %b: tensor<1x3x3x3xf32>, %c: tensor<1x2x3x3xf32>) -> tensor<1x7x3x3xf32> {
  %as = myquant.stats %a {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x3x3xf32>
  %bs = myquant.stats %b {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x3x3x3xf32>
  %cs = myquant.stats %c {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<1x2x3x3xf32>
  %e = tensor.empty() : tensor<1x7x3x3xf32>
  %0 = tensor.insert_slice %as into %e[0, 0, 0, 0] [1, 2, 3, 3] [1, 1, 1, 1] : tensor<1x2x3x3xf32> into tensor<1x7x3x3xf32>
  %1 = tensor.insert_slice %bs into %0[0, 2, 0, 0] [1, 3, 3, 3] [1, 1, 1, 1] : tensor<1x3x3x3xf32> into tensor<1x7x3x3xf32>
  // The operands with other parameters are requantized into the
  // concatenation's.
  // expected-remark@+2 {{operand #0 is requantized from scale 7.843137e-03, zero point 0 to scale 1.568627e-02, zero point 0}}
  // expected-remark@+1 {{operand #2 is requantized from scale 3.921569e-03, zero point -128 to scale 1.568627e-02, zero point 0}}
  %2 = tensor.insert_slice %cs into %1[0, 5, 0, 0] [1, 2, 3, 3] [1, 1, 1, 1] : tensor<1x2x3x3xf32> into tensor<1x7x3x3xf32>
  %r = myquant.stats %2 {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x7x3x3xf32>
  return %r : tensor<1x7x3x3xf32>
}

// -----

// Inserted in any order (the last dimension, offsets 3 then 0): the
// operands follow their offsets.
// NORM-LABEL: func.func @out_of_order
// NORM: tensor.concat dim(1) %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<2x2xf32>) -> tensor<2x5xf32>
// CHECK-LABEL: func.func @out_of_order
// CHECK: myquant.concat
func.func @out_of_order(%a: tensor<2x3xf32>, %b: tensor<2x2xf32>) -> tensor<2x5xf32> {
  %as = myquant.stats %a {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<2x3xf32>
  %bs = myquant.stats %b {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<2x2xf32>
  %e = tensor.empty() : tensor<2x5xf32>
  %0 = tensor.insert_slice %bs into %e[0, 3] [2, 2] [1, 1] : tensor<2x2xf32> into tensor<2x5xf32>
  %1 = tensor.insert_slice %as into %0[0, 0] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<2x5xf32>
  %r = myquant.stats %1 {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<2x5xf32>
  return %r : tensor<2x5xf32>
}

// -----

// Not a concatenation: a gap (offsets 2 to 4 of 6 left unwritten), an
// insert partial along two dimensions, and strided inserts stay as they are
// (and in float).
// NORM-LABEL: func.func @not_tiling
// NORM-NOT: tensor.concat
func.func @not_tiling(%a: tensor<2x2xf32>, %b: tensor<1x2xf32>) -> (tensor<2x6xf32>, tensor<3x4xf32>, tensor<2x4xf32>) {
  %e = tensor.empty() : tensor<2x6xf32>
  // expected-error@+1 {{'tensor.insert_slice' cannot be quantized and allow-float=false}}
  %0 = tensor.insert_slice %a into %e[0, 0] [2, 2] [1, 1] : tensor<2x2xf32> into tensor<2x6xf32>
  // expected-error@+1 {{'tensor.insert_slice' cannot be quantized and allow-float=false}}
  %1 = tensor.insert_slice %a into %0[0, 4] [2, 2] [1, 1] : tensor<2x2xf32> into tensor<2x6xf32>
  %f = tensor.empty() : tensor<3x4xf32>
  // expected-error@+1 {{'tensor.insert_slice' cannot be quantized and allow-float=false}}
  %2 = tensor.insert_slice %a into %f[0, 0] [2, 2] [1, 1] : tensor<2x2xf32> into tensor<3x4xf32>
  // expected-error@+1 {{'tensor.insert_slice' cannot be quantized and allow-float=false}}
  %3 = tensor.insert_slice %b into %2[2, 2] [1, 2] [1, 1] : tensor<1x2xf32> into tensor<3x4xf32>
  %g = tensor.empty() : tensor<2x4xf32>
  // expected-error@+1 {{'tensor.insert_slice' cannot be quantized and allow-float=false}}
  %4 = tensor.insert_slice %a into %g[0, 0] [2, 2] [1, 2] : tensor<2x2xf32> into tensor<2x4xf32>
  // expected-error@+1 {{'tensor.insert_slice' cannot be quantized and allow-float=false}}
  %5 = tensor.insert_slice %a into %4[0, 1] [2, 2] [1, 2] : tensor<2x2xf32> into tensor<2x4xf32>
  return %1, %3, %5 : tensor<2x6xf32>, tensor<3x4xf32>, tensor<2x4xf32>
}

