/* Checks what the generated headers promise (header-contract.test):
   - integer-io: inputs quantized as the header says give the results of
     the float-io model, bit for bit;
   - threads: concurrent calls give the results of sequential ones;
   - memory: every result is a buffer of its own that the caller frees. */
#include "float_io.h"
#include "int_io.h"
#include "repeated.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 16, THREADS = 4, CALLS = 200 };

/* x / 0.03125 = k + 0.5 for the first six: ties. */
static const float kInput[N] = {0.015625f, -0.015625f, 0.078125f, -0.078125f,
                                0.046875f, -0.046875f, 3.984375f, 10.0f,
                                -10.0f,    1.0f,       -1.0f,     0.1f,
                                -0.3f,     2.2f,       -3.7f,     0.0f};

/* The header's rule; `round` is rint (ties to even) or lround's rule. */
static int8_t quantize(float x, myquant_qparams p, double (*round)(double)) {
  double q = round((double)x / p.scale) + (double)p.zero_point;
  return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

static double roundHalfAway(double v) { return (double)lround(v); }

static void runFloat(const float *x, float *y) {
  myquant_memref_f32_2d in = {(float *)x, (float *)x, 0, {2, 8}, {8, 1}};
  myquant_memref_f32_2d out;
  _mlir_ciface_f_model(&out, &in);
  memcpy(y, out.aligned + out.offset, N * sizeof(float));
  free(out.allocated);
}

/* Quantizes with `round`, calls the integer-io model, dequantizes. */
static void runInt(const float *x, float *y, double (*round)(double)) {
  int8_t q[N];
  for (int i = 0; i < N; ++i)
    q[i] = quantize(x[i], i_model_input_qparams[0], round);
  myquant_memref_i8_2d in = {q, q, 0, {2, 8}, {8, 1}};
  myquant_memref_i8_2d out;
  _mlir_ciface_i_model(&out, &in);
  myquant_qparams p = i_model_output_qparams[0];
  for (int i = 0; i < N; ++i)
    y[i] = (float)((double)(out.aligned[out.offset + i] - p.zero_point) *
                   p.scale);
  free(out.allocated);
}

static float expected[THREADS][N];

static void inputOf(int thread, float *x) {
  for (int i = 0; i < N; ++i)
    x[i] = kInput[i] * (float)(thread + 1);
}

static void *hammer(void *arg) {
  int thread = (int)(intptr_t)arg;
  float x[N], y[N], z[N];
  inputOf(thread, x);
  long mismatches = 0;
  for (int call = 0; call < CALLS; ++call) {
    runFloat(x, y);
    runInt(x, z, rint);
    mismatches += memcmp(y, expected[thread], sizeof(y)) != 0;
    mismatches += memcmp(z, expected[thread], sizeof(z)) != 0;
  }
  return (void *)(intptr_t)mismatches;
}

int main(void) {
  float y[N], z[N], w[N];
  runFloat(kInput, y);
  runInt(kInput, z, rint);
  runInt(kInput, w, roundHalfAway);
  printf("integer-io with rint: %s\n",
         memcmp(y, z, sizeof(y)) ? "differs" : "identical");
  printf("integer-io with lround: %s\n",
         memcmp(y, w, sizeof(y)) ? "differs" : "identical");

  for (int t = 0; t < THREADS; ++t) {
    float x[N];
    inputOf(t, x);
    runFloat(x, expected[t]);
  }
  pthread_t threads[THREADS];
  for (int t = 0; t < THREADS; ++t)
    pthread_create(&threads[t], NULL, hammer, (void *)(intptr_t)t);
  long mismatches = 0;
  for (int t = 0; t < THREADS; ++t) {
    void *result;
    pthread_join(threads[t], &result);
    mismatches += (long)(intptr_t)result;
  }
  printf("threads: %d x %d calls, %ld mismatches\n", THREADS, CALLS,
         mismatches);

  int32_t values[3] = {1, 2, 3};
  myquant_memref_i32_1d a = {values, values, 0, {3}, {1}};
  r_repeated_results r;
  _mlir_ciface_r_repeated(&r, &a);
  int32_t *buffers[5] = {r.result0.allocated, r.result1.allocated,
                         r.result2.allocated, r.result3.allocated, values};
  int distinct = 1;
  for (int i = 0; i < 5; ++i)
    for (int j = i + 1; j < 5; ++j)
      distinct &= buffers[i] != buffers[j];
  printf("repeated: %d %d %d %d, distinct buffers %s\n", r.result0.aligned[0],
         r.result1.aligned[2], r.result2.aligned[0], r.result3.aligned[2],
         distinct ? "yes" : "no");
  for (int i = 0; i < 4; ++i)
    free(buffers[i]);
  return 0;
}
