// RUN: myquant-opt %s --myquant-lower-to-llvm | FileCheck %s --implicit-check-not=linalg. --implicit-check-not=tensor. --implicit-check-not=memref. --implicit-check-not=bufferization. --implicit-check-not=scf. --implicit-check-not=cf. --implicit-check-not=affine. --implicit-check-not=arith. --implicit-check-not=math. --implicit-check-not=func. --implicit-check-not=unrealized_conversion_cast --implicit-check-not=memrefCopy
// RUN: myquant-opt %s --myquant-lower-to-llvm=emit-c-interface=false | FileCheck %s --check-prefix=NO-CIFACE
// RUN: myquant-opt %s --myquant-annotate-entry-points | FileCheck %s --check-prefix=ANNOTATE
// RUN: myquant-opt %s --pass-pipeline='builtin.module(convert-myquant-to-linalg, myquant-annotate-entry-points, one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map})' | FileCheck %s --check-prefix=READONLY
// The plugin registers the pipeline in stock mlir-opt too.
// RUN: mlir-opt %s --load-dialect-plugin=%myquant_plugin --load-pass-plugin=%myquant_plugin --pass-pipeline="builtin.module(myquant-lower-to-llvm)" | FileCheck %s --check-prefix=PLUGIN

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8:f32:0, {0.01, 0.02}>
!qy = !quant.uniform<i8:f32, 0.05:3>

// CHECK-LABEL: llvm.func @model(
// CHECK-SAME:    myquant.signature = (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
// Temporaries are freed.
// CHECK:         llvm.call @free
// CHECK-LABEL: llvm.func @_mlir_ciface_model(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// NO-CIFACE-NOT: _mlir_ciface_
// PLUGIN: llvm.func @_mlir_ciface_model
func.func @model(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %wi = arith.constant dense<[[[[1, -2, 3], [4, 5, -6], [7, 8, 9]], [[-1, 2, -3], [4, -5, 6], [-7, 8, -9]]], [[[10, 20, 30], [-40, 50, 60], [70, -80, 90]], [[1, 1, 1], [1, 1, 1], [1, 1, -127]]]]> : tensor<2x2x3x3xi8>
  %w = quant.scast %wi : tensor<2x2x3x3xi8> to tensor<2x2x3x3x!qw>
  %b = arith.constant dense<[100, -200]> : tensor<2xi32>
  %q = myquant.quantize %x : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!qx>
  %y = myquant.conv2d %q, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>} : (tensor<1x2x4x4x!qx>, tensor<2x2x3x3x!qw>, tensor<2xi32>) -> tensor<1x2x4x4x!qy>
  %d = myquant.dequantize %y : tensor<1x2x4x4x!qy> -> tensor<1x2x4x4xf32>
  return %d : tensor<1x2x4x4xf32>
}

// Quantized types in the signature become their storage type.
// CHECK-LABEL: llvm.func @requantize(
// CHECK-SAME:    myquant.signature = (tensor<4xi8>) -> tensor<4xi8>
// CHECK-LABEL: llvm.func @_mlir_ciface_requantize(
// ANNOTATE-LABEL: func.func @requantize(
// ANNOTATE-SAME:    %{{.*}}: tensor<4x!quant.uniform<i8:f32, 1.000000e-01>> {bufferization.writable = false}
// ANNOTATE-SAME:    attributes {llvm.emit_c_interface, myquant.signature = (tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>) -> tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>}
func.func @requantize(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  return %x : tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// A function writing into its argument gets a copy: the caller's buffer is
// read-only.
// READONLY-LABEL: func.func @fill_in_place(
// READONLY:         %[[ALLOC:.*]] = memref.alloc()
// READONLY:         linalg.fill ins(%{{.*}} : f32) outs(%[[ALLOC]] : memref<4xf32>)
// CHECK-LABEL: llvm.func @fill_in_place(
func.func @fill_in_place(%a: tensor<4xf32>) -> tensor<4xf32> {
  %c = arith.constant 1.0 : f32
  %r = linalg.fill ins(%c : f32) outs(%a : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// A value returned twice comes back in two buffers: the caller frees each.
// ANNOTATE-LABEL: func.func @repeated(
// ANNOTATE:         %[[COPY:.*]] = bufferization.alloc_tensor() copy(%arg0) : tensor<4xf32>
// ANNOTATE:         return %arg0, %[[COPY]] : tensor<4xf32>, tensor<4xf32>
// CHECK-LABEL: llvm.func @repeated(
func.func @repeated(%a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  return %a, %a : tensor<4xf32>, tensor<4xf32>
}

// Private functions get no C interface and no signature, and internal
// linkage: they export no symbol.
// CHECK-LABEL: llvm.func internal @helper(
// CHECK-NOT:     myquant.signature
// CHECK-NOT:   llvm.func @_mlir_ciface_helper
// ANNOTATE-LABEL: func.func private @helper(%{{.*}}: tensor<4xf32>) -> tensor<4xf32> attributes {llvm.linkage = #llvm.linkage<internal>} {
func.func private @helper(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
