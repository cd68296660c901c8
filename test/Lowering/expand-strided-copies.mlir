// RUN: myquant-opt %s --myquant-expand-strided-copies --split-input-file | FileCheck %s

// A copy into a channel slice (an NHWC concatenation): each 32-byte row
// moves as one vector.
// CHECK-LABEL: func.func @concat_slice(
// CHECK-NOT:     memref.copy
// CHECK:         scf.for %{{.*}} = %c0{{.*}} to %c2{{.*}} step %c1
// CHECK:           scf.for %{{.*}} = %c0{{.*}} to %c4{{.*}} step %c1
// CHECK:             scf.for %{{.*}} = %c0{{.*}} to %c32{{.*}} step %c32
// CHECK:               %[[ROW:.*]] = vector.transfer_read %{{.*}} {in_bounds = [true]} : memref<2x4x32xi8>, vector<32xi8>
// CHECK:               vector.transfer_write %[[ROW]], %{{.*}} {in_bounds = [true]} : vector<32xi8>, memref<2x4x32xi8, strided<[256, 64, 1], offset: 32>>
func.func @concat_slice(%src: memref<2x4x32xi8>, %dst: memref<2x4x64xi8>) {
  %slice = memref.subview %dst[0, 0, 32] [2, 4, 32] [1, 1, 1] : memref<2x4x64xi8> to memref<2x4x32xi8, strided<[256, 64, 1], offset: 32>>
  memref.copy %src, %slice : memref<2x4x32xi8> to memref<2x4x32xi8, strided<[256, 64, 1], offset: 32>>
  return
}

// -----

// Long rows move in the widest vectors of at most 64 bytes that divide
// them: 48 floats as 3 x 16.
// CHECK-LABEL: func.func @long_rows(
// CHECK:         scf.for %{{.*}} = %c0{{.*}} to %c48{{.*}} step %c16
// CHECK:           vector.transfer_read {{.*}} : memref<3x48xf32, strided<[96, 1]>>, vector<16xf32>
func.func @long_rows(%src: memref<3x48xf32, strided<[96, 1]>>, %dst: memref<3x48xf32>) {
  memref.copy %src, %dst : memref<3x48xf32, strided<[96, 1]>> to memref<3x48xf32>
  return
}

// -----

// Rows that are not contiguous, rows too short for a vector, dynamic
// shapes and elements whose size is not a power-of-two number of bytes
// (i1 and i24: packed tightly in LLVM vectors, not in memory) stay
// copies, as linalg.copy (later loops).
// CHECK-LABEL: func.func @fallbacks(
// CHECK-NOT:     vector.transfer
// CHECK-COUNT-5: linalg.copy
func.func @fallbacks(%a: memref<4x8xi8, strided<[1, 4]>>, %b: memref<4x8xi8>,
                     %c: memref<8x3xi8, strided<[6, 1]>>, %d: memref<8x3xi8>,
                     %e: memref<?x16xi8, strided<[32, 1]>>, %f: memref<?x16xi8>,
                     %g: memref<2x64xi1, strided<[128, 1]>>, %h: memref<2x64xi1>,
                     %i: memref<2x16xi24, strided<[32, 1]>>, %j: memref<2x16xi24>) {
  memref.copy %a, %b : memref<4x8xi8, strided<[1, 4]>> to memref<4x8xi8>
  memref.copy %c, %d : memref<8x3xi8, strided<[6, 1]>> to memref<8x3xi8>
  memref.copy %e, %f : memref<?x16xi8, strided<[32, 1]>> to memref<?x16xi8>
  memref.copy %g, %h : memref<2x64xi1, strided<[128, 1]>> to memref<2x64xi1>
  memref.copy %i, %j : memref<2x16xi24, strided<[32, 1]>> to memref<2x16xi24>
  return
}

// -----

// Copies between identity layouts stay memref.copy (llvm.memcpy later).
// CHECK-LABEL: func.func @contiguous(
// CHECK:         memref.copy
// CHECK-NOT:     vector.transfer
func.func @contiguous(%a: memref<4x8xi8>, %b: memref<4x8xi8>) {
  memref.copy %a, %b : memref<4x8xi8> to memref<4x8xi8>
  return
}

// -----

// A copy between two identical views of one buffer (a kernel's slice of a
// concatenation inserted back where it was taken from) moves nothing: it
// is erased with its now unused view. A view of another offset is copied.
// CHECK-LABEL: func.func @same_view(
// CHECK-SAME:    %[[BUF:.*]]: memref<2x4x64xi8>)
// CHECK:         %[[A:.*]] = memref.subview %[[BUF]][0, 0, 32]
// CHECK-NOT:     memref.subview %[[BUF]][0, 0, 32]
// CHECK:         %[[B:.*]] = memref.subview %[[BUF]][0, 0, 0]
// CHECK:         scf.for
// CHECK:           vector.transfer_read %[[A]]
// CHECK:           vector.transfer_write %{{.*}}, %[[B]]
// CHECK-NOT:     memref.copy
func.func @same_view(%buf: memref<2x4x64xi8>) {
  %a = memref.subview %buf[0, 0, 32] [2, 4, 32] [1, 1, 1] : memref<2x4x64xi8> to memref<2x4x32xi8, strided<[256, 64, 1], offset: 32>>
  %a2 = memref.subview %buf[0, 0, 32] [2, 4, 32] [1, 1, 1] : memref<2x4x64xi8> to memref<2x4x32xi8, strided<[256, 64, 1], offset: 32>>
  memref.copy %a, %a2 : memref<2x4x32xi8, strided<[256, 64, 1], offset: 32>> to memref<2x4x32xi8, strided<[256, 64, 1], offset: 32>>
  %b = memref.subview %buf[0, 0, 0] [2, 4, 32] [1, 1, 1] : memref<2x4x64xi8> to memref<2x4x32xi8, strided<[256, 64, 1]>>
  memref.copy %a, %b : memref<2x4x32xi8, strided<[256, 64, 1], offset: 32>> to memref<2x4x32xi8, strided<[256, 64, 1]>>
  return
}
