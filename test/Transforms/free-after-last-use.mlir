// RUN: myquant-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(myquant-free-after-last-use))' | FileCheck %s

func.func private @use(memref<16xi8>, memref<16xi8>)

// Each free moves right after the last use of its buffer or of a view of
// it, here a loop that reads the view.
// CHECK-LABEL: func.func @straight_line(
// CHECK:         %[[A:.*]] = memref.alloc()
// CHECK:         %[[B:.*]] = memref.alloc()
// CHECK:         call @use(%[[A]], %[[B]])
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK:         %[[C:.*]] = memref.alloc()
// CHECK:         %[[V:.*]] = memref.subview %[[B]]
// CHECK:         scf.for
// CHECK:           memref.load %[[V]]
// CHECK:         }
// CHECK-NEXT:    memref.dealloc %[[B]]
// CHECK:         call @use(%[[C]], %[[C]])
// CHECK-NEXT:    memref.dealloc %[[C]]
// CHECK-NEXT:    return
func.func @straight_line(%x: memref<16xi8>) {
  %a = memref.alloc() : memref<16xi8>
  %b = memref.alloc() : memref<16xi8>
  call @use(%a, %b) : (memref<16xi8>, memref<16xi8>) -> ()
  %c = memref.alloc() : memref<16xi8>
  %v = memref.subview %b[0] [8] [1] : memref<16xi8> to memref<8xi8, strided<[1]>>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c8 step %c1 {
    %e = memref.load %v[%i] : memref<8xi8, strided<[1]>>
    memref.store %e, %x[%i] : memref<16xi8>
  }
  call @use(%c, %c) : (memref<16xi8>, memref<16xi8>) -> ()
  memref.dealloc %a : memref<16xi8>
  memref.dealloc %b : memref<16xi8>
  memref.dealloc %c : memref<16xi8>
  return
}

// -----

func.func private @use(memref<16xi8>, memref<16xi8>)

// Left in place: an alias reaches the terminator, the address is taken as
// an integer, the free is in another block than the allocation.
// CHECK-LABEL: func.func @kept(
// CHECK:         %[[A:.*]] = memref.alloc()
// CHECK:         %[[B:.*]] = memref.alloc()
// CHECK:         %[[C:.*]] = memref.alloc()
// CHECK:         memref.extract_aligned_pointer_as_index %[[B]]
// CHECK:         call @use
// CHECK:         scf.if
// CHECK-NEXT:      memref.dealloc %[[C]]
// CHECK:         memref.dealloc %[[A]]
// CHECK-NEXT:    memref.dealloc %[[B]]
// CHECK-NEXT:    return
func.func @kept(%flag: i1) -> (memref<16xi8>, index) {
  %a = memref.alloc() : memref<16xi8>
  %cast = memref.cast %a : memref<16xi8> to memref<16xi8>
  %b = memref.alloc() : memref<16xi8>
  %c = memref.alloc() : memref<16xi8>
  %p = memref.extract_aligned_pointer_as_index %b : memref<16xi8> -> index
  call @use(%b, %c) : (memref<16xi8>, memref<16xi8>) -> ()
  scf.if %flag {
    memref.dealloc %c : memref<16xi8>
  }
  memref.dealloc %a : memref<16xi8>
  memref.dealloc %b : memref<16xi8>
  return %cast, %p : memref<16xi8>, index
}
