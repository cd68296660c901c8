/* Calls three models compiled with different --symbol-prefix into one
   program: model.mlir twice (host and generic kernels) and affine.mlir,
   all three with a function @model. */
#include "affine.h"
#include "conv.h"
#include "conv_generic.h"

#include <stdio.h>
#include <stdlib.h>

/* The input of driver.c, whose expected results myquant-compile.test
   checks. */
static const float input[32] = {
    0.1f,  0.2f,  -0.3f, 0.4f,  1.0f, -1.0f, 0.5f,  0.25f, 0.0f,  0.7f,  -0.8f,
    0.9f,  1.5f,  2.5f,  -2.5f, 3.0f, 0.3f,  0.2f,  0.1f,  0.0f,  -0.1f, -0.2f,
    -0.3f, -0.4f, 1.1f,  1.2f,  1.3f, 1.4f,  -5.0f, 5.0f,  12.0f, -13.0f};

static void print(const char *name, myquant_memref_f32_4d *y) {
  printf("%s", name);
  for (int64_t i = 0; i < 32; ++i)
    printf(" %g", y->aligned[y->offset + i]);
  printf("\n");
  free(y->allocated);
}

int main(void) {
  /* Inputs are only read (the header says so). */
  myquant_memref_f32_4d x = {
      (float *)input, (float *)input, 0, {1, 2, 4, 4}, {32, 16, 4, 1}};
  myquant_memref_f32_4d y;
  printf("supported %d %d %d\n", conv_model_cpu_supported(),
         conv_generic_model_cpu_supported(), affine_model_cpu_supported());
  printf("qparams %g %g\n", conv_model_input_qparams[0].scale,
         conv_generic_model_output_qparams[0].scale);
  _mlir_ciface_conv_model(&y, &x);
  print("conv", &y);
  _mlir_ciface_conv_generic_model(&y, &x);
  print("conv_generic", &y);
  _mlir_ciface_affine_model(&y, &x);
  print("affine", &y);
  return 0;
}
