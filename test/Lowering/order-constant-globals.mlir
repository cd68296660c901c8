// RUN: myquant-opt %s --myquant-order-constant-globals | FileCheck %s

// Bufferization numbered and placed these globals in an order that varies
// run to run; the pass names and places them by first use instead. A
// global the user wrote, a non-constant one and a public one are left as
// they are; an unused constant disappears.

// CHECK:      memref.global "private" constant @__constant_2xi32_0 : memref<2xi32> = dense<[5, 6]>
// CHECK-NEXT: memref.global "private" constant @__constant_4xi8_0 : memref<4xi8> = dense<1>
// CHECK-NEXT: memref.global "private" constant @__constant_2xi32_1 : memref<2xi32> = dense<[1, 2]>
// CHECK-NEXT: memref.global "private" constant @__constant_2xi32_2 : memref<2xi32> = dense<[3, 4]>
// CHECK-NOT:  dense<9>
// CHECK-DAG:  memref.global "private" constant @table : memref<2xi32> = dense<7>
// CHECK-DAG:  memref.global "private" @__constant_state : memref<2xi32> = dense<0>
// CHECK-DAG:  memref.global constant @__constant_public : memref<2xi32> = dense<8>
memref.global "private" constant @__constant_2xi32 : memref<2xi32> = dense<[1, 2]>
memref.global "private" constant @table : memref<2xi32> = dense<7>
memref.global "private" constant @__constant_2xi32_0 : memref<2xi32> = dense<[3, 4]>
memref.global "private" @__constant_state : memref<2xi32> = dense<0>
memref.global constant @__constant_public : memref<2xi32> = dense<8>
memref.global "private" constant @__constant_4xi8 : memref<4xi8> = dense<1>
memref.global "private" constant @__constant_2xi32_3 : memref<2xi32> = dense<9>
memref.global "private" constant @__constant_2xi32_1 : memref<2xi32> = dense<[5, 6]>

// CHECK-LABEL: func.func @first
// CHECK:       memref.get_global @__constant_2xi32_0
// CHECK:       memref.get_global @__constant_4xi8_0
// CHECK:       memref.get_global @table
func.func @first() -> (memref<2xi32>, memref<4xi8>, memref<2xi32>) {
  %a = memref.get_global @__constant_2xi32_1 : memref<2xi32>
  %b = memref.get_global @__constant_4xi8 : memref<4xi8>
  %t = memref.get_global @table : memref<2xi32>
  return %a, %b, %t : memref<2xi32>, memref<4xi8>, memref<2xi32>
}

// CHECK-LABEL: func.func @second
// CHECK:       memref.get_global @__constant_2xi32_1
// CHECK:       memref.get_global @__constant_2xi32_2
// CHECK:       memref.get_global @__constant_2xi32_0
func.func @second() -> (memref<2xi32>, memref<2xi32>, memref<2xi32>) {
  %a = memref.get_global @__constant_2xi32 : memref<2xi32>
  %b = memref.get_global @__constant_2xi32_0 : memref<2xi32>
  %c = memref.get_global @__constant_2xi32_1 : memref<2xi32>
  return %a, %b, %c : memref<2xi32>, memref<2xi32>, memref<2xi32>
}
