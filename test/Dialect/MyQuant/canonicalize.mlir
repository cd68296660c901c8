// RUN: myquant-opt %s -canonicalize -split-input-file | FileCheck %s

// Folders of identities: they change no value.

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>

// CHECK-LABEL: func.func @quantize_of_dequantize
// CHECK-SAME: (%[[X:.*]]: tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-4>>)
// CHECK-NEXT: return %[[X]]
func.func @quantize_of_dequantize(%x: tensor<4x!q>) -> tensor<4x!q> {
  %f = myquant.dequantize %x : tensor<4x!q> -> tensor<4xf32>
  %q = myquant.quantize %f : tensor<4xf32> -> tensor<4x!q>
  return %q : tensor<4x!q>
}

// A different type is a requantization, not an identity.
// CHECK-LABEL: func.func @quantize_of_dequantize_other_type
// CHECK: myquant.dequantize
// CHECK: myquant.quantize
func.func @quantize_of_dequantize_other_type(%x: tensor<4x!q>) -> tensor<4x!r> {
  %f = myquant.dequantize %x : tensor<4x!q> -> tensor<4xf32>
  %q = myquant.quantize %f : tensor<4xf32> -> tensor<4x!r>
  return %q : tensor<4x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.2:-4>

// CHECK-LABEL: func.func @identity_requantize
// CHECK-SAME: (%[[X:.*]]: tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-4>>)
// CHECK-NEXT: return %[[X]], %[[X]]
func.func @identity_requantize(%x: tensor<4x!q>) -> (tensor<4x!q>, tensor<4x!q>) {
  %a = myquant.requantize %x : tensor<4x!q> -> tensor<4x!q>
  %b = myquant.requantize %x {rescale = #myquant.rescale<multiplier = [1073741824], shift = [30], rounding = gemmlowp>,
                              clamp = #myquant.clamp<-128, 127>} : tensor<4x!q> -> tensor<4x!q>
  return %a, %b : tensor<4x!q>, tensor<4x!q>
}

// A clamp inside the storage range, a multiplier other than one, or another
// type keep the requantization.
// CHECK-LABEL: func.func @requantize_kept
// CHECK-COUNT-3: myquant.requantize
func.func @requantize_kept(%x: tensor<4x!q>) -> (tensor<4x!q>, tensor<4x!q>, tensor<4x!r>) {
  %a = myquant.requantize %x {clamp = #myquant.clamp<-4, 127>} : tensor<4x!q> -> tensor<4x!q>
  %b = myquant.requantize %x {rescale = #myquant.rescale<multiplier = [1073741825], shift = [30], rounding = single>}
      : tensor<4x!q> -> tensor<4x!q>
  %c = myquant.requantize %x : tensor<4x!q> -> tensor<4x!r>
  return %a, %b, %c : tensor<4x!q>, tensor<4x!q>, tensor<4x!r>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:-4>

// CHECK-LABEL: func.func @clamp
// CHECK-SAME: (%[[X:.*]]: tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-4>>)
// CHECK-NEXT: %[[R:.*]] = myquant.clamp %[[X]] <-4, 127>
// CHECK-NEXT: return %[[X]], %[[R]]
func.func @clamp(%x: tensor<4x!q>) -> (tensor<4x!q>, tensor<4x!q>) {
  %full = myquant.clamp %x <-128, 127> : tensor<4x!q>
  %relu = myquant.clamp %x <-4, 127> : tensor<4x!q>
  return %full, %relu : tensor<4x!q>, tensor<4x!q>
}
