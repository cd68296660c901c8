// RUN: myquant-opt %s --myquant-flatten-constant-globals | FileCheck %s

// A 2x1x1x2 constant becomes the global of its four values in row-major
// order; its users see the same 4-d memref through expand_shape. A 1-d
// global, a non-constant, a public and a dynamic one stay as they are.

// CHECK-DAG: memref.global "private" constant @w : memref<4xf32> = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> {alignment = 64 : i64}
// CHECK-DAG: memref.global "private" constant @flat : memref<2xi32> = dense<[5, 6]>
// CHECK-DAG: memref.global "private" @state : memref<2x2xi32> = dense<0>
// CHECK-DAG: memref.global constant @public : memref<2x2xi32> = dense<8>
// CHECK-DAG: memref.global "private" constant @splat : memref<6xi8> = dense<3>
memref.global "private" constant @w : memref<2x1x1x2xf32> = dense<[[[[1.0, 2.0]]], [[[3.0, 4.0]]]]> {alignment = 64 : i64}
memref.global "private" constant @flat : memref<2xi32> = dense<[5, 6]>
memref.global "private" @state : memref<2x2xi32> = dense<0>
memref.global constant @public : memref<2x2xi32> = dense<8>
memref.global "private" constant @splat : memref<2x3xi8> = dense<3>

// CHECK-LABEL: func.func @uses
// CHECK:       %[[W:.*]] = memref.get_global @w : memref<4xf32>
// CHECK:       %[[W4:.*]] = memref.expand_shape %[[W]] {{\[\[}}0, 1, 2, 3]] output_shape [2, 1, 1, 2] : memref<4xf32> into memref<2x1x1x2xf32>
// CHECK:       %[[S:.*]] = memref.get_global @splat : memref<6xi8>
// CHECK:       %[[S2:.*]] = memref.expand_shape %[[S]] {{\[\[}}0, 1]] output_shape [2, 3] : memref<6xi8> into memref<2x3xi8>
// CHECK:       %[[F:.*]] = memref.get_global @flat : memref<2xi32>
// CHECK:       %[[T:.*]] = memref.get_global @state : memref<2x2xi32>
// CHECK:       %[[P:.*]] = memref.get_global @public : memref<2x2xi32>
// CHECK:       %[[W2:.*]] = memref.get_global @w : memref<4xf32>
// CHECK:       %[[W24:.*]] = memref.expand_shape %[[W2]]
// CHECK:       return %[[W4]], %[[S2]], %[[F]], %[[T]], %[[P]], %[[W24]]
func.func @uses() -> (memref<2x1x1x2xf32>, memref<2x3xi8>, memref<2xi32>,
                      memref<2x2xi32>, memref<2x2xi32>, memref<2x1x1x2xf32>) {
  %w = memref.get_global @w : memref<2x1x1x2xf32>
  %s = memref.get_global @splat : memref<2x3xi8>
  %f = memref.get_global @flat : memref<2xi32>
  %t = memref.get_global @state : memref<2x2xi32>
  %p = memref.get_global @public : memref<2x2xi32>
  %w2 = memref.get_global @w : memref<2x1x1x2xf32>
  return %w, %s, %f, %t, %p, %w2 : memref<2x1x1x2xf32>, memref<2x3xi8>,
      memref<2xi32>, memref<2x2xi32>, memref<2x2xi32>, memref<2x1x1x2xf32>
}
