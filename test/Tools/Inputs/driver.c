/* Calls the compiled @model through the generated header (and @pair, whose
   declaration comes from a second header), then checks the ownership rules
   the header states: inputs untouched, results freed with free(). */
#include "model.h"
#include "pair.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const float kInput[32] = {
    0.1f,  0.2f,  -0.3f, 0.4f,  1.0f, -1.0f, 0.5f,  0.25f, 0.0f,  0.7f,  -0.8f,
    0.9f,  1.5f,  2.5f,  -2.5f, 3.0f, 0.3f,  0.2f,  0.1f,  0.0f,  -0.1f, -0.2f,
    -0.3f, -0.4f, 1.1f,  1.2f,  1.3f, 1.4f,  -5.0f, 5.0f,  12.0f, -13.0f};

int main(void) {
  float input[32];
  memcpy(input, kInput, sizeof(input));
  myquant_memref_f32_4d x = {input, input, 0, {1, 2, 4, 4}, {32, 16, 4, 1}};
  myquant_memref_f32_4d y;
  _mlir_ciface_model(&y, &x);

  printf("inputs %d results %d\n", model_NUM_INPUTS, model_NUM_RESULTS);
  printf("input qparams %g %d\n", model_input_qparams[0].scale,
         (int)model_input_qparams[0].zero_point);
  printf("output qparams %g %d\n", model_output_qparams[0].scale,
         (int)model_output_qparams[0].zero_point);
  printf("sizes %lld %lld %lld %lld\n", (long long)y.sizes[0],
         (long long)y.sizes[1], (long long)y.sizes[2], (long long)y.sizes[3]);
  for (int64_t c = 0; c < y.sizes[1]; ++c)
    for (int64_t h = 0; h < y.sizes[2]; ++h) {
      for (int64_t w = 0; w < y.sizes[3]; ++w)
        printf("%s%g", w ? " " : "",
               y.aligned[y.offset + c * y.strides[1] + h * y.strides[2] +
                         w * y.strides[3]]);
      printf("\n");
    }
  printf("input %s\n",
         memcmp(input, kInput, sizeof(input)) ? "changed" : "unchanged");
  free(y.allocated);

  int32_t values[3] = {7, -8, 9};
  myquant_memref_i32_1d a = {values, values, 0, {3}, {1}};
  pair_results r;
  _mlir_ciface_pair(&r, &a);
  printf("pair %d %d %d (copy: %s) %lld\n", r.result0.aligned[0],
         r.result0.aligned[1], r.result0.aligned[2],
         r.result0.aligned == values ? "no" : "yes",
         (long long)r.result1.aligned[r.result1.offset]);
  free(r.result0.allocated);
  free(r.result1.allocated);
  return 0;
}
