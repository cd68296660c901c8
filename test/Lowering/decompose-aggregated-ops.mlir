// linalg.softmax (kept in float by the dry run) has no loop lowering of its
// own: it is decomposed into linalg.generic ops first, and a model using it
// compiles and runs.
// RUN: myquant-opt %s --myquant-decompose-aggregated-ops | FileCheck %s
// RUN: myquant-opt %s --myquant-lower-to-llvm -o /dev/null
// RUN: myquant-run %s --function=softmax | FileCheck %s --check-prefix=OUT

// CHECK-LABEL: func.func @softmax
// CHECK-NOT:   linalg.softmax
// CHECK:       math.exp
// CHECK:       arith.divf
// CHECK-NOT:   linalg.softmax

// OUT: 0.0900{{[0-9]*}}, 0.2447{{[0-9]*}}, 0.6652{{[0-9]*}}
func.func @softmax() -> tensor<1x3xf32> {
  %x = arith.constant dense<[[1.0, 2.0, 3.0]]> : tensor<1x3xf32>
  %e = tensor.empty() : tensor<1x3xf32>
  %s = linalg.softmax dimension(1) ins(%x : tensor<1x3xf32>) outs(%e : tensor<1x3xf32>) -> tensor<1x3xf32>
  return %s : tensor<1x3xf32>
}
