/* Calls models compiled with --static-memory as a bare-metal program would
   (static-memory.test): result buffers and the arena are static arrays of
   the sizes the header states, no malloc; the arena's contents on entry do
   not matter. */
#include "heap.h"
#include "pair.h"
#include "static.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 32 };

static _Alignas(s_model_ARENA_ALIGNMENT) unsigned char
    arena[s_model_ARENA_SIZE];
/* The pair has no temporaries: a zero-byte arena (one byte for C). */
static _Alignas(p_pair_ARENA_ALIGNMENT) unsigned char
    pairArena[p_pair_ARENA_SIZE + 1];

int main(void) {
  float x[N], want[N], got[N];
  for (int i = 0; i < N; ++i)
    x[i] = (float)((i * 37) % 23 - 11) * 0.125f;
  myquant_memref_f32_4d in = {x, x, 0, {1, 2, 4, 4}, {32, 16, 4, 1}};

  myquant_memref_f32_4d heapOut;
  _mlir_ciface_h_model(&heapOut, &in);
  memcpy(want, heapOut.aligned + heapOut.offset, sizeof want);
  free(heapOut.allocated);

  int same = 1;
  for (int fill = 0; fill < 2; ++fill) {
    memset(arena, fill ? 0xa5 : 0x00, sizeof arena);
    memset(got, 0xff, sizeof got);
    myquant_memref_f32_4d out = {got, got, 0, {1, 2, 4, 4}, {32, 16, 4, 1}};
    myquant_memref_i8_1d scratch = {(int8_t *)arena, (int8_t *)arena, 0,
                                    {s_model_ARENA_SIZE}, {1}};
    _mlir_ciface_s_model(&in, &out, &scratch);
    same &= memcmp(got, want, sizeof got) == 0;
  }
  printf("model: static equals heap: %s\n", same ? "yes" : "no");

  int32_t a[3] = {7, -8, 9}, r0[3] = {0, 0, 0};
  int64_t r1 = 0;
  myquant_memref_i32_1d pairIn = {a, a, 0, {3}, {1}};
  myquant_memref_i32_1d out0 = {r0, r0, 0, {3}, {1}};
  myquant_memref_i64_0d out1 = {&r1, &r1, 0};
  myquant_memref_i8_1d none = {(int8_t *)pairArena, (int8_t *)pairArena, 0,
                               {p_pair_ARENA_SIZE}, {1}};
  _mlir_ciface_p_pair(&pairIn, &out0, &out1, &none);
  printf("pair: %d %d %d %lld\n", r0[0], r0[1], r0[2], (long long)r1);
  return 0;
}
