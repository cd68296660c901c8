// symbol-prefix renames the public functions (and their uses), so that two
// models with the same function names link into one program; private
// functions become internal instead.
// RUN: myquant-opt %s --split-input-file --verify-diagnostics --myquant-annotate-entry-points=symbol-prefix=net1_ | FileCheck %s
// RUN: myquant-opt %s --split-input-file --verify-diagnostics --myquant-lower-to-llvm=symbol-prefix=net1_ | FileCheck %s --check-prefix=LLVM

// CHECK-LABEL: func.func @net1_forward(
// CHECK-SAME:    attributes {llvm.emit_c_interface
// CHECK:         call @net1_scale(
// CHECK:         call @helper(
// CHECK-LABEL: func.func @net1_scale(
// CHECK-LABEL: func.func private @helper(
// CHECK-SAME:    attributes {llvm.linkage = #llvm.linkage<internal>}
// CHECK-LABEL: func.func private @declared(
// CHECK-NOT:     llvm.linkage
// LLVM-LABEL: llvm.func @net1_forward(
// LLVM-LABEL: llvm.func @_mlir_ciface_net1_forward(
// LLVM-LABEL: llvm.func @net1_scale(
// LLVM-LABEL: llvm.func @_mlir_ciface_net1_scale(
// LLVM-LABEL: llvm.func internal @helper(
func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = call @scale(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %z = call @helper(%y) : (tensor<4xf32>) -> tensor<4xf32>
  return %z : tensor<4xf32>
}
func.func @scale(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %y = linalg.add ins(%x, %x : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
func.func private @declared(%x: f32) -> f32

// -----

// A renamed function may not take the name of another.
// expected-error @below {{cannot rename @forward to @net1_forward (symbol-prefix): the module already has a @net1_forward}}
func.func @forward() {
  return
}
func.func @net1_forward() {
  return
}

// The prefix must be a C identifier (the C header names use it).
// RUN: not myquant-opt %s --split-input-file --myquant-lower-to-llvm=symbol-prefix=9lives 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not myquant-opt %s --split-input-file --myquant-lower-to-llvm=symbol-prefix=a.b 2>&1 | FileCheck %s --check-prefix=BAD-DOT
// BAD: error: symbol-prefix '9lives' is not a C identifier (letters, digits and '_', not starting with a digit)
// BAD-DOT: error: symbol-prefix 'a.b' is not a C identifier
