// RUN: myquant-opt %s -split-input-file --myquant-normalize | FileCheck %s
// RUN: myquant-opt %s -split-input-file --myquant-decompose-aggregated-ops --myquant-normalize | FileCheck %s --check-prefix=ROUNDTRIP

// Softmax written out, exp(x - max(x)) / sum(exp(x - max(x))) over the last
// dimension, becomes the linalg.softmax it computes (which the dry run
// makes myquant.softmax). The bodies are checked by evaluating them, so
// the forms of the ops may vary.

// aten.softmax's decomposition written with keepdim reductions (their row
// values [2, 1] read at (d0, 0)), a subtraction with alpha = 1, a separate
// exponential, max from -inf with maximumf.
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func.func @keepdim_form
// CHECK-SAME:    (%[[X:.+]]: tensor<2x8xf32>)
// CHECK:         %[[S:.+]] = linalg.softmax dimension(1) ins(%[[X]] : tensor<2x8xf32>)
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[S]]
// ROUNDTRIP-LABEL: func.func @keepdim_form
// ROUNDTRIP:       linalg.softmax dimension(1)
// ROUNDTRIP-NOT:   linalg.generic
func.func @keepdim_form(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %er = tensor.empty() : tensor<2x1xf32>
  %mi = linalg.fill ins(%ninf : f32) outs(%er : tensor<2x1xf32>) -> tensor<2x1xf32>
  %m = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<2x8xf32>) outs(%mi : tensor<2x1xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.maximumf %in, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x1xf32>
  %e = tensor.empty() : tensor<2x8xf32>
  %d = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %m : tensor<2x8xf32>, tensor<2x1xf32>) outs(%e : tensor<2x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.mulf %b, %one : f32
    %r = arith.subf %a, %s : f32
    linalg.yield %r : f32
  } -> tensor<2x8xf32>
  %ex = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%d : tensor<2x8xf32>) outs(%e : tensor<2x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<2x8xf32>
  %si = linalg.fill ins(%zero : f32) outs(%er : tensor<2x1xf32>) -> tensor<2x1xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%ex : tensor<2x8xf32>) outs(%si : tensor<2x1xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.addf %in, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x1xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%ex, %sum : tensor<2x8xf32>, tensor<2x1xf32>) outs(%e : tensor<2x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Dividing by a sum that does not start at 0 is not a softmax.
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @sum_from_one
// CHECK-NOT:     linalg.softmax
// ROUNDTRIP-LABEL: func.func @sum_from_one
// ROUNDTRIP-NOT:   linalg.softmax
func.func @sum_from_one(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %one = arith.constant 1.0 : f32
  %er = tensor.empty() : tensor<2xf32>
  %mi = linalg.fill ins(%ninf : f32) outs(%er : tensor<2xf32>) -> tensor<2xf32>
  %m = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<2x8xf32>) outs(%mi : tensor<2xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.maximumf %in, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2xf32>
  %e = tensor.empty() : tensor<2x8xf32>
  %ex = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %m : tensor<2x8xf32>, tensor<2xf32>) outs(%e : tensor<2x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.subf %a, %b : f32
    %r = math.exp %s : f32
    linalg.yield %r : f32
  } -> tensor<2x8xf32>
  %si = linalg.fill ins(%one : f32) outs(%er : tensor<2xf32>) -> tensor<2xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%ex : tensor<2x8xf32>) outs(%si : tensor<2xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.addf %in, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%ex, %sum : tensor<2x8xf32>, tensor<2xf32>) outs(%e : tensor<2x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// upstream's decomposition of linalg.softmax (the second RUN line
// decomposes it first), on a 3-D input.
// CHECK-LABEL: func.func @upstream
// CHECK:         linalg.softmax dimension(2)
// ROUNDTRIP-LABEL: func.func @upstream
// ROUNDTRIP:       linalg.softmax dimension(2)
// ROUNDTRIP-NOT:   linalg.generic
func.func @upstream(%x: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %e = tensor.empty() : tensor<2x3x8xf32>
  %s = linalg.softmax dimension(2) ins(%x : tensor<2x3x8xf32>) outs(%e : tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  return %s : tensor<2x3x8xf32>
}
