// RUN: myquant-opt %s --split-input-file --myquant-lower-vnni-dot | FileCheck %s

// CHECK-LABEL: func.func @zmm(
// CHECK-SAME:    %[[ACC:.*]]: vector<16xi32>, %[[A:.*]]: vector<64xi8>, %[[W:.*]]: vector<64xi8>
// CHECK-NEXT:    %[[R:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[ACC]], %[[A]], %[[W]]) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK-NEXT:    return %[[R]]
func.func @zmm(%acc: vector<16xi32>, %a: vector<64xi8>, %w: vector<64xi8>) -> vector<16xi32> attributes {target_features = #llvm.target_features<["+avx512f", "+avx512vnni"]>} {
  %ua = arith.extui %a : vector<64xi8> to vector<64xi32>
  %sw = arith.extsi %w : vector<64xi8> to vector<64xi32>
  %p = arith.muli %sw, %ua : vector<64xi32>
  %g = vector.shape_cast %p : vector<64xi32> to vector<16x4xi32>
  %r = vector.multi_reduction <add>, %g, %acc [1] : vector<16x4xi32> to vector<16xi32>
  return %r : vector<16xi32>
}

// -----

// CHECK-LABEL: func.func @ymm(
// CHECK:         llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
func.func @ymm(%acc: vector<8xi32>, %a: vector<32xi8>, %w: vector<32xi8>) -> vector<8xi32> attributes {target_features = #llvm.target_features<["+avx2", "+avxvnni"]>} {
  %ua = arith.extui %a : vector<32xi8> to vector<32xi32>
  %sw = arith.extsi %w : vector<32xi8> to vector<32xi32>
  %p = arith.muli %ua, %sw : vector<32xi32>
  %g = vector.shape_cast %p : vector<32xi32> to vector<8x4xi32>
  %r = vector.multi_reduction <add>, %g, %acc [1] : vector<8x4xi32> to vector<8xi32>
  return %r : vector<8xi32>
}

// -----

// Without the target features, or with both operands signed, the pattern
// stays (it is exact on any target).
// CHECK-LABEL: func.func @no_features(
// CHECK-NOT:     llvm.call_intrinsic
// CHECK:         vector.multi_reduction
func.func @no_features(%acc: vector<16xi32>, %a: vector<64xi8>, %w: vector<64xi8>) -> vector<16xi32> {
  %ua = arith.extui %a : vector<64xi8> to vector<64xi32>
  %sw = arith.extsi %w : vector<64xi8> to vector<64xi32>
  %p = arith.muli %ua, %sw : vector<64xi32>
  %g = vector.shape_cast %p : vector<64xi32> to vector<16x4xi32>
  %r = vector.multi_reduction <add>, %g, %acc [1] : vector<16x4xi32> to vector<16xi32>
  return %r : vector<16xi32>
}

// CHECK-LABEL: func.func @signed_signed(
// CHECK-NOT:     llvm.call_intrinsic
// CHECK:         vector.multi_reduction
func.func @signed_signed(%acc: vector<16xi32>, %a: vector<64xi8>, %w: vector<64xi8>) -> vector<16xi32> attributes {target_features = #llvm.target_features<["+avx512f", "+avx512vnni"]>} {
  %ua = arith.extsi %a : vector<64xi8> to vector<64xi32>
  %sw = arith.extsi %w : vector<64xi8> to vector<64xi32>
  %p = arith.muli %ua, %sw : vector<64xi32>
  %g = vector.shape_cast %p : vector<64xi32> to vector<16x4xi32>
  %r = vector.multi_reduction <add>, %g, %acc [1] : vector<16x4xi32> to vector<16xi32>
  return %r : vector<16xi32>
}

// -----

// Pairs of int16 products: vpdpwssd.
// CHECK-LABEL: func.func @pairs(
// CHECK-SAME:    %[[ACC:.*]]: vector<16xi32>, %[[A:.*]]: vector<32xi16>, %[[W:.*]]: vector<32xi16>
// CHECK-NEXT:    %[[R:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpwssd.512"(%[[ACC]], %[[A]], %[[W]]) : (vector<16xi32>, vector<32xi16>, vector<32xi16>) -> vector<16xi32>
// CHECK-NEXT:    return %[[R]]
func.func @pairs(%acc: vector<16xi32>, %a: vector<32xi16>, %w: vector<32xi16>) -> vector<16xi32> attributes {target_features = #llvm.target_features<["+avx512f", "+avx512vnni"]>} {
  %sa = arith.extsi %a : vector<32xi16> to vector<32xi32>
  %sw = arith.extsi %w : vector<32xi16> to vector<32xi32>
  %p = arith.muli %sa, %sw : vector<32xi32>
  %g = vector.shape_cast %p : vector<32xi32> to vector<16x2xi32>
  %r = vector.multi_reduction <add>, %g, %acc [1] : vector<16x2xi32> to vector<16xi32>
  return %r : vector<16xi32>
}

// -----

// Bytes widened straight to i32 (extsi/extui of an int16 widening fold into
// one extension) are widened to int16 for the intrinsic, and so are signed
// byte weights (the int8 weights of a 16-bit input); the weights are
// sign-extended.
// CHECK-LABEL: func.func @pairs_from_bytes(
// CHECK-SAME:    %[[ACC:.*]]: vector<8xi32>, %[[A:.*]]: vector<16xi8>, %[[B:.*]]: vector<16xi8>, %[[W:.*]]: vector<16xi16>, %[[V:.*]]: vector<16xi8>
// CHECK:         %[[UA:.*]] = arith.extui %[[A]] : vector<16xi8> to vector<16xi16>
// CHECK:         %[[R:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpwssd.256"(%[[ACC]], %[[UA]], %[[W]])
// CHECK:         %[[SB:.*]] = arith.extsi %[[B]] : vector<16xi8> to vector<16xi16>
// Signed by signed: either operand may be the weights.
// CHECK:         %[[S:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpwssd.256"(%[[R]], %[[W]], %[[SB]])
// CHECK:         %[[SB2:.*]] = arith.extsi %[[B]] : vector<16xi8> to vector<16xi16>
// CHECK:         %[[SV:.*]] = arith.extsi %[[V]] : vector<16xi8> to vector<16xi16>
// CHECK:         llvm.call_intrinsic "llvm.x86.avx512.vpdpwssd.256"(%[[S]], %[[SB2]], %[[SV]])
// CHECK:         vector.multi_reduction
func.func @pairs_from_bytes(%acc: vector<8xi32>, %a: vector<16xi8>, %b: vector<16xi8>, %w: vector<16xi16>, %v: vector<16xi8>) -> vector<8xi32> attributes {target_features = #llvm.target_features<["+avx2", "+avxvnni"]>} {
  %ua = arith.extui %a : vector<16xi8> to vector<16xi32>
  %sw = arith.extsi %w : vector<16xi16> to vector<16xi32>
  %p = arith.muli %ua, %sw : vector<16xi32>
  %g = vector.shape_cast %p : vector<16xi32> to vector<8x2xi32>
  %r = vector.multi_reduction <add>, %g, %acc [1] : vector<8x2xi32> to vector<8xi32>
  %sb = arith.extsi %b : vector<16xi8> to vector<16xi32>
  %q = arith.muli %sw, %sb : vector<16xi32>
  %h = vector.shape_cast %q : vector<16xi32> to vector<8x2xi32>
  %s = vector.multi_reduction <add>, %h, %r [1] : vector<8x2xi32> to vector<8xi32>
  // Signed byte weights.
  %sv = arith.extsi %v : vector<16xi8> to vector<16xi32>
  %o = arith.muli %sb, %sv : vector<16xi32>
  %k = vector.shape_cast %o : vector<16xi32> to vector<8x2xi32>
  %t = vector.multi_reduction <add>, %k, %s [1] : vector<8x2xi32> to vector<8xi32>
  // Unsigned by unsigned: no operand is signed weights, not the pattern.
  %uv = arith.extui %v : vector<16xi8> to vector<16xi32>
  %o2 = arith.muli %ua, %uv : vector<16xi32>
  %k2 = vector.shape_cast %o2 : vector<16xi32> to vector<8x2xi32>
  %t2 = vector.multi_reduction <add>, %k2, %t [1] : vector<8x2xi32> to vector<8xi32>
  return %t2 : vector<8xi32>
}
