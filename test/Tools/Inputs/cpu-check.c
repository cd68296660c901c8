/* Asks the library compiled from model.mlir whether this CPU runs it, then
   calls it: on a CPU without the kernels' features, the call must print the
   documented message and abort instead of dying of SIGILL. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>

int main(void) {
  printf("supported %d\n", model_cpu_supported());
  fflush(stdout);
  float input[32] = {0};
  myquant_memref_f32_4d x = {input, input, 0, {1, 2, 4, 4}, {32, 16, 4, 1}};
  myquant_memref_f32_4d y;
  _mlir_ciface_model(&y, &x);
  printf("called\n");
  free(y.allocated);
  return 0;
}
