// The machine code of each kernel target, from llc for a generic x86-64 CPU
// (each kernel function carries its target's features). avx-vnni must use
// only what AVX-VNNI CPUs without AVX-512 have: the VEX encodings of
// vpdpbusd / vpdpwssd, ymm0-15, no zmm, no mask registers. (On AVX-512 hosts
// without AVX-VNNI, the Python tests run the avx-vnni kernels with their
// features widened so that LLVM encodes them with EVEX: `executable` in
// python/tests/test_end_to_end.py.)
// RUN: myquant-compile %s --function=model --target=avx-vnni --emit-llvm -o - | llc -O3 | FileCheck %s --check-prefix=AVX --implicit-check-not=zmm --implicit-check-not=%%k --implicit-check-not='{{ymm(1[6-9]|2[0-9]|3[01])}}'
// RUN: myquant-compile %s --function=model --target=avx512-vnni --emit-llvm -o - | llc -O3 | FileCheck %s --check-prefix=ZMM --implicit-check-not='{vex}'

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

// AVX-LABEL: model_kernel:
// AVX:         {vex} vpdpbusd %ymm{{[0-9]+}}, %ymm{{[0-9]+}}, %ymm{{[0-9]+}}
// AVX-LABEL: model_kernel_0:
// AVX:         {vex} vpdpwssd %ymm{{[0-9]+}}, %ymm{{[0-9]+}}, %ymm{{[0-9]+}}
// AVX-LABEL: model:

// ZMM-LABEL: model_kernel:
// ZMM:         vpdpbusd %zmm{{[0-9]+}}, %zmm{{[0-9]+}}, %zmm{{[0-9]+}}
// ZMM-LABEL: model_kernel_0:
// ZMM:         vpdpwssd %zmm{{[0-9]+}}, %zmm{{[0-9]+}}, %zmm{{[0-9]+}}
// ZMM-LABEL: model:
func.func @model(%xf: tensor<1x16x10x10xf32>) -> tensor<1x16x8x8xf32> {
  %x = myquant.quantize %xf : tensor<1x16x10x10xf32> -> tensor<1x16x10x10x!qx>
  %wi = arith.constant dense<1> : tensor<16x16x3x3xi8>
  %w = quant.scast %wi : tensor<16x16x3x3xi8> to tensor<16x16x3x3x!qw>
  %c = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>} : (tensor<1x16x10x10x!qx>, tensor<16x16x3x3x!qw>) -> tensor<1x16x8x8x!qx>
  %di = arith.constant dense<1> : tensor<16x1x3x3xi8>
  %d = quant.scast %di : tensor<16x1x3x3xi8> to tensor<16x1x3x3x!qw>
  %dw = myquant.conv2d %c, %d {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 16 : i64, layout = #myquant.layout<nchw>} : (tensor<1x16x8x8x!qx>, tensor<16x1x3x3x!qw>) -> tensor<1x16x8x8x!qy>
  %y = myquant.dequantize %dw : tensor<1x16x8x8x!qy> -> tensor<1x16x8x8xf32>
  return %y : tensor<1x16x8x8xf32>
}
