// RUN: myquant-opt %s --split-input-file --verify-diagnostics --myquant-plan-static-memory | FileCheck %s
// RUN: myquant-opt %s --split-input-file --verify-diagnostics --myquant-plan-static-memory=alignment=16 | FileCheck %s --check-prefix=ALIGN16
// RUN: not myquant-opt %s --split-input-file --myquant-plan-static-memory=alignment=48 2>&1 | FileCheck %s --check-prefix=BADALIGN
// BADALIGN: error: myquant-plan-static-memory: alignment 48 is not a power of two

func.func private @use(memref<256xi8>, memref<256xi8>)

// %a dies at the first call, so %c takes its place; %b (alive across both
// calls) gets its own slot. Deallocs are gone and the arena (512 bytes) is
// the peak of live buffers (two of 256 bytes at a time).
// CHECK-LABEL: func.func @reuse(
// CHECK-SAME:      %[[X:.*]]: memref<256xi8>, %[[ARENA:.*]]: memref<512xi8>)
// CHECK-SAME:      myquant.static_memory = {alignment = 64 : i64, arena_size = 512 : i64, peak_live = 512 : i64, weights_size = 0 : i64}
// CHECK:         %[[AL:.*]] = memref.assume_alignment %[[ARENA]], 64
// CHECK:         %[[C0:.*]] = arith.constant 0 : index
// CHECK:         %[[A:.*]] = memref.view %[[AL]][%[[C0]]][] : memref<512xi8> to memref<256xi8>
// CHECK:         %[[C256:.*]] = arith.constant 256 : index
// CHECK:         %[[B:.*]] = memref.view %[[AL]][%[[C256]]][] : memref<512xi8> to memref<256xi8>
// CHECK:         call @use(%[[A]], %[[B]])
// CHECK:         %[[C0B:.*]] = arith.constant 0 : index
// CHECK:         %[[C:.*]] = memref.view %[[AL]][%[[C0B]]][] : memref<512xi8> to memref<256xi8>
// CHECK:         call @use(%[[C]], %[[B]])
// CHECK-NOT:     memref.dealloc
// CHECK:         return
// ALIGN16-LABEL: func.func @reuse(
// ALIGN16-SAME:      alignment = 16 : i64, arena_size = 512 : i64
func.func @reuse(%x: memref<256xi8>) {
  %a = memref.alloc() : memref<256xi8>
  %b = memref.alloc() : memref<256xi8>
  call @use(%a, %b) : (memref<256xi8>, memref<256xi8>) -> ()
  memref.dealloc %a : memref<256xi8>
  %c = memref.alloc() : memref<256xi8>
  call @use(%c, %b) : (memref<256xi8>, memref<256xi8>) -> ()
  memref.dealloc %b : memref<256xi8>
  memref.dealloc %c : memref<256xi8>
  return
}

// -----

// A buffer is live from its first to its last use, views included: %big
// (400 bytes) is read through a view in the loop, so %small (100 bytes,
// used in the loop) cannot share its slot; after the loop, %late (300
// bytes) fits in %big's slot. Offsets are multiples of the alignment: with
// 16, the arena is the bound, 500 bytes (%big at 0, %small at 400); with
// 64 the best is 528 (%small at 0, %big at 128), the greedy orders give
// 548 (%big at 0, %small at 448) and the random ones find 528.
// CHECK-LABEL: func.func @views_and_loops(
// CHECK-SAME:      memref<528xi8>
// CHECK-SAME:      arena_size = 528 : i64, peak_live = 500 : i64
// CHECK:         %[[C128:.*]] = arith.constant 128 : index
// CHECK:         %[[BIG:.*]] = memref.view %{{.*}}[%[[C128]]][] : memref<528xi8> to memref<400xi8>
// CHECK:         %[[C0:.*]] = arith.constant 0 : index
// CHECK:         %[[SMALL:.*]] = memref.view %{{.*}}[%[[C0]]][] : memref<528xi8> to memref<100xi8>
// CHECK:         scf.for
// CHECK:           memref.load %[[SMALL]]
// CHECK:         }
// CHECK:         %[[C128B:.*]] = arith.constant 128 : index
// CHECK:         memref.view %{{.*}}[%[[C128B]]][] : memref<528xi8> to memref<300xi8>
// ALIGN16-LABEL: func.func @views_and_loops(
// ALIGN16-SAME:      arena_size = 500 : i64, peak_live = 500 : i64
// ALIGN16:         arith.constant 0 : index
// ALIGN16-NEXT:    memref.view %{{.*}} to memref<400xi8>
// ALIGN16:         arith.constant 400 : index
// ALIGN16-NEXT:    memref.view %{{.*}} to memref<100xi8>
func.func @views_and_loops(%out: memref<10xi8>) {
  %big = memref.alloc() : memref<400xi8>
  %small = memref.alloc() : memref<100xi8>
  %v = memref.expand_shape %big [[0, 1]] output_shape [20, 20] : memref<400xi8> into memref<20x20xi8>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  scf.for %i = %c0 to %c10 step %c1 {
    %e = memref.load %v[%i, %i] : memref<20x20xi8>
    %f = memref.load %small[%i] : memref<100xi8>
    %g = arith.addi %e, %f : i8
    memref.store %g, %out[%i] : memref<10xi8>
  }
  %late = memref.alloc() : memref<300xi8>
  %w = memref.subview %late[0] [100] [1] : memref<300xi8> to memref<100xi8, strided<[1]>>
  memref.copy %w, %small : memref<100xi8, strided<[1]>> to memref<100xi8>
  return
}

// -----

memref.global "private" constant @weights : memref<3x5xi32> = dense<1>
memref.global "private" constant @unread : memref<100xi8> = dense<1>

// A callee that needs scratch memory takes an arena of its own as its last
// argument; each call passes it a view of the caller's arena, live during
// the call (the larger buffer first: the scratch at 0, %t at 128). Constant globals stay as they are and count as weights
// (3 x 5 x 4 bytes); one the code does not read (repacked weights'
// originals) does not.
// CHECK-LABEL: func.func private @kernel(
// CHECK-SAME:      %{{.*}}: memref<8xi32>, %[[SCRATCH:.*]]: memref<128xi8>)
// CHECK-NOT:     myquant.static_memory
// CHECK:         %[[AL:.*]] = memref.assume_alignment %[[SCRATCH]], 64
// CHECK:         memref.view %[[AL]][%{{.*}}][] : memref<128xi8> to memref<32xi32>
// CHECK-LABEL: func.func @caller(
// CHECK-SAME:      %{{.*}}: memref<8xi32>, %[[ARENA:.*]]: memref<160xi8>)
// CHECK-SAME:      arena_size = 160 : i64, peak_live = 160 : i64, weights_size = 60 : i64
// CHECK:         %[[AL:.*]] = memref.assume_alignment %[[ARENA]], 64
// CHECK:         %[[C128:.*]] = arith.constant 128 : index
// CHECK:         %[[T:.*]] = memref.view %[[AL]][%[[C128]]][] : memref<160xi8> to memref<8xi32>
// CHECK:         memref.get_global @weights
// CHECK:         %[[S:.*]] = memref.view %[[AL]][%{{.*}}][] : memref<160xi8> to memref<128xi8>
// CHECK:         call @kernel(%[[T]], %[[S]]) : (memref<8xi32>, memref<128xi8>) -> ()
// CHECK:         memref.copy %[[T]], %{{.*}}
func.func private @kernel(%x: memref<8xi32>) {
  %tmp = memref.alloc() {alignment = 64 : i64} : memref<32xi32>
  %c0 = arith.constant 0 : index
  %e = memref.load %x[%c0] : memref<8xi32>
  memref.store %e, %tmp[%c0] : memref<32xi32>
  %f = memref.load %tmp[%c0] : memref<32xi32>
  memref.store %f, %x[%c0] : memref<8xi32>
  return
}
func.func @caller(%out: memref<8xi32>) {
  %t = memref.alloc() : memref<8xi32>
  %w = memref.get_global @weights : memref<3x5xi32>
  call @kernel(%t) : (memref<8xi32>) -> ()
  memref.copy %t, %out : memref<8xi32> to memref<8xi32>
  return
}

// -----

// A public function without buffers still takes an (empty) arena: one ABI
// for every entry point.
// CHECK-LABEL: func.func @no_buffers(
// CHECK-SAME:      %{{.*}}: memref<4xf32>, %{{.*}}: memref<0xi8>)
// CHECK-SAME:      arena_size = 0 : i64, peak_live = 0 : i64
func.func @no_buffers(%x: memref<4xf32>) {
  return
}

// -----

// What cannot be planned is refused at the op that needs the memory.

func.func @dynamic_size(%n: index) {
  // expected-error @below {{'memref.alloc' op allocates 'memref<?xi8>', whose size is only known at run time: static memory plans buffers of static shapes only}}
  %a = memref.alloc(%n) : memref<?xi8>
  return
}

// -----

// expected-error @below {{'func.func' op returns buffers: static memory needs caller-provided output buffers (run buffer-results-to-out-params{modify-public-functions} first)}}
func.func @returns_a_buffer() -> memref<4xi8> {
  %a = memref.alloc() : memref<4xi8>
  return %a : memref<4xi8>
}

// -----

func.func private @helper() -> memref<4xi8> {
  // expected-error @below {{'memref.alloc' op is returned by its function}}
  %a = memref.alloc() : memref<4xi8>
  return %a : memref<4xi8>
}

// -----

func.func @yielded(%init: memref<4xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %init) -> memref<4xi8> {
    // expected-error @below {{'memref.alloc' op is yielded out of the region that allocates it (scf.yield): each execution of the region would need a buffer of its own}}
    %a = memref.alloc() : memref<4xi8>
    scf.yield %a : memref<4xi8>
  }
  return
}

// -----

func.func @parallel(%out: memref<4xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    // expected-error @below {{'memref.alloc' op needs memory in a parallel loop, whose iterations would share it}}
    %a = memref.alloc() : memref<4xi8>
    memref.copy %a, %out : memref<4xi8> to memref<4xi8>
    scf.reduce
  }
  return
}

// -----

func.func private @recurse(%x: memref<4xi8>) {
  %a = memref.alloc() : memref<4xi8>
  // expected-error @below {{'func.call' op is a recursive call of @recurse: static memory needs a bound on the buffers of each function}}
  call @recurse(%a) : (memref<4xi8>) -> ()
  return
}

// -----

func.func @address_taken(%x: memref<4xi8>) -> index {
  // expected-error @below {{'memref.alloc' op has its address taken as an integer (memref.extract_aligned_pointer_as_index)}}
  %a = memref.alloc() : memref<4xi8>
  %p = memref.extract_aligned_pointer_as_index %a : memref<4xi8> -> index
  return %p : index
}

// -----

func.func @resized(%x: memref<4xi8>) {
  %a = memref.alloc() : memref<4xi8>
  // expected-error @below {{'memref.realloc' op resizes a buffer, which static memory cannot plan}}
  %b = memref.realloc %a : memref<4xi8> to memref<8xi8>
  return
}
