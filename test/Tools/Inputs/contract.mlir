// The model of header-contract.test: its input scale is a power of two, so
// float inputs halfway between two steps exist, and the rounding rule the
// header states decides them. The test also compiles it with int8 arguments
// and results (myquant-integer-signature).
!qx = !quant.uniform<i8:f32, 0.03125:-3>
!qy = !quant.uniform<i8:f32, 0.0625:5>
func.func @model(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %q = myquant.quantize %x : tensor<2x8xf32> -> tensor<2x8x!qx>
  %r = myquant.requantize %q : tensor<2x8x!qx> -> tensor<2x8x!qy>
  %y = myquant.dequantize %r : tensor<2x8x!qy> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}
