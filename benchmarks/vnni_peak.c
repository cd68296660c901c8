/* The machine's vpdpbusd zmm throughput: 24 independent accumulator chains
 * (more than latency x issue width), operands in registers. */
#include <immintrin.h>
#include <stdint.h>

#define DOT(c) c = _mm512_dpbusd_epi32(c, a, b);

int32_t vnni_peak(int64_t iterations) {
  __m512i a = _mm512_set1_epi32(0x01010101), b = _mm512_set1_epi32(0x01020304);
  __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0,
          c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0,
          c12 = c0, c13 = c0, c14 = c0, c15 = c0, c16 = c0, c17 = c0,
          c18 = c0, c19 = c0, c20 = c0, c21 = c0, c22 = c0, c23 = c0;
  for (int64_t i = 0; i < iterations; ++i) {
    /* Keep the operands opaque so the loop is not folded. */
    __asm__ volatile("" : "+v"(a), "+v"(b));
    DOT(c0) DOT(c1) DOT(c2) DOT(c3) DOT(c4) DOT(c5) DOT(c6) DOT(c7)
    DOT(c8) DOT(c9) DOT(c10) DOT(c11) DOT(c12) DOT(c13) DOT(c14) DOT(c15)
    DOT(c16) DOT(c17) DOT(c18) DOT(c19) DOT(c20) DOT(c21) DOT(c22) DOT(c23)
  }
  __m512i s[] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11,
                 c12, c13, c14, c15, c16, c17, c18, c19, c20, c21, c22, c23};
  __m512i total = _mm512_setzero_si512();
  for (int i = 0; i < 24; ++i)
    total = _mm512_add_epi32(total, s[i]);
  return _mm512_reduce_add_epi32(total);
}

/* int8 operations (multiply + add = 2) per call of one iteration. */
int64_t vnni_peak_ops_per_iteration(void) { return 24 * 64 * 2; }
