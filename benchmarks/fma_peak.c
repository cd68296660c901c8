/* The machine's f32 FMA throughput: 24 independent accumulator chains of
 * vfmadd (zmm with AVX-512, ymm with AVX2 only), operands in registers, as
 * vnni_peak.c does for vpdpbusd. */
#include <immintrin.h>
#include <stdint.h>

#ifdef __AVX512F__
typedef __m512 vec;
#define FMA(c) c = _mm512_fmadd_ps(a, b, c);
#define ZERO _mm512_setzero_ps()
#define SET1 _mm512_set1_ps
#define LANES 16
#else
typedef __m256 vec;
#define FMA(c) c = _mm256_fmadd_ps(a, b, c);
#define ZERO _mm256_setzero_ps()
#define SET1 _mm256_set1_ps
#define LANES 8
#endif

float fma_peak(int64_t iterations) {
  vec a = SET1(0.999f), b = SET1(1e-7f);
  vec c0 = ZERO, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
      c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0,
      c14 = c0, c15 = c0, c16 = c0, c17 = c0, c18 = c0, c19 = c0, c20 = c0,
      c21 = c0, c22 = c0, c23 = c0;
  for (int64_t i = 0; i < iterations; ++i) {
    /* Keep the operands opaque so the loop is not folded. */
    __asm__ volatile("" : "+v"(a), "+v"(b));
    FMA(c0) FMA(c1) FMA(c2) FMA(c3) FMA(c4) FMA(c5) FMA(c6) FMA(c7)
    FMA(c8) FMA(c9) FMA(c10) FMA(c11) FMA(c12) FMA(c13) FMA(c14) FMA(c15)
    FMA(c16) FMA(c17) FMA(c18) FMA(c19) FMA(c20) FMA(c21) FMA(c22) FMA(c23)
  }
  vec s[] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11,
             c12, c13, c14, c15, c16, c17, c18, c19, c20, c21, c22, c23};
  float total = 0;
  for (int i = 0; i < 24; ++i) {
    float lanes[LANES];
    __builtin_memcpy(lanes, &s[i], sizeof lanes);
    for (int l = 0; l < LANES; ++l)
      total += lanes[l];
  }
  return total;
}

/* Flops (multiply + add = 2) per iteration. */
int64_t fma_peak_flops_per_iteration(void) { return 24 * LANES * 2; }
