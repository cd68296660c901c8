/* The K loop of the int8 GEMM kernel's register tile, written by hand:
 * what the kernel's steady state can reach on this CPU (benchmarks/
 * README.md, "What limits the K loop of the big-K kernels on Zen 5").
 *
 * A tile of P pixels x B blocks of 16 output channels, as
 * KernelBuilder::accumulateTile builds it: for each of KH x KH taps, a loop
 * of CS K steps (input channels / 4), each step loading B zmm of packed
 * weights and broadcasting one dword of each pixel (vpbroadcastd from
 * memory) into P x B vpdpbusd. The accumulators are stored after the taps
 * (no requantization), and the tile is repeated over the same input rows
 * and weights (L1 or L2, whichever holds KH * KH * CS * B * 64 bytes).
 * Prints the tile's GOP/s next to vnni_peak.c's, measured in the same run
 * (CPU time of the thread, fastest of 7):
 *
 *   cc -O3 -march=native -DP=14 -DB=2 -DCS=16 benchmarks/vnni_tile.c \
 *      benchmarks/vnni_peak.c -o /tmp/vnni_tile && /tmp/vnni_tile
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef P
#define P 14
#endif
#ifndef B
#define B 2
#endif
#ifndef CS
#define CS 16
#endif
#ifndef KH
#define KH 3
#endif
/* Input channels and the padded input row's pixels of one tile. */
#define C (4 * CS)
#define W (P + KH - 1)

int32_t vnni_peak(int64_t iterations);
int64_t vnni_peak_ops_per_iteration(void);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

__attribute__((noinline)) static void tiles(const uint8_t *in, const int8_t *w,
                                            int32_t *out, int64_t count) {
  for (int64_t t = 0; t < count; ++t) {
    __m512i acc[P * B];
    for (int i = 0; i < P * B; ++i)
      acc[i] = _mm512_setzero_si512();
    const int8_t *wp = w;
    for (int ky = 0; ky < KH; ++ky)
      for (int kx = 0; kx < KH; ++kx) {
        const uint8_t *x = in + (ky * W + kx) * C;
        for (int k = 0; k < CS; ++k) {
          __m512i wv[B];
          for (int j = 0; j < B; ++j)
            wv[j] = _mm512_load_si512((const void *)(wp + 64 * j));
          for (int i = 0; i < P; ++i) {
            __m512i a = _mm512_set1_epi32(*(const int32_t *)(x + i * C));
            for (int j = 0; j < B; ++j)
              acc[i * B + j] = _mm512_dpbusd_epi32(acc[i * B + j], a, wv[j]);
          }
          x += 4;
          wp += 64 * B;
        }
      }
    for (int i = 0; i < P * B; ++i)
      _mm512_store_si512((void *)(out + 16 * i), acc[i]);
    __asm__ volatile("" ::: "memory");
  }
}

int main(void) {
  size_t inBytes = (size_t)KH * W * C + 64;
  size_t wBytes = (size_t)KH * KH * CS * 64 * B;
  uint8_t *in = aligned_alloc(64, (inBytes + 63) / 64 * 64);
  int8_t *w = aligned_alloc(64, wBytes);
  int32_t *out = aligned_alloc(64, (size_t)P * B * 64);
  for (size_t i = 0; i < inBytes; ++i)
    in[i] = (uint8_t)(i * 7);
  for (size_t i = 0; i < wBytes; ++i)
    w[i] = (int8_t)(i * 13);
  /* About 0.1 s of dot products per timing at 800 GOP/s. */
  double perTile = 2.0 * 64 * P * B * KH * KH * CS;
  int64_t count = (int64_t)(8e10 / perTile) + 1, iterations = 2000000;
  double tile = 1e9, peak = 1e9;
  volatile int32_t sink = 0;
  for (int r = 0; r < 7; ++r) {
    double t0 = now();
    tiles(in, w, out, count);
    double t1 = now();
    sink = sink + vnni_peak(iterations);
    double t2 = now();
    tile = t1 - t0 < tile ? t1 - t0 : tile;
    peak = t2 - t1 < peak ? t2 - t1 : peak;
  }
  double tileOps = perTile * (double)count / tile / 1e9;
  double peakOps =
      (double)vnni_peak_ops_per_iteration() * (double)iterations / peak / 1e9;
  printf("tile %d pixels x %d blocks, %d x %d taps of %d K steps "
         "(weights %zu KiB): %.0f GOP/s, vpdpbusd peak %.0f GOP/s: %.1f%%\n",
         P, B, KH, KH, CS, wBytes / 1024, tileOps, peakOps,
         100 * tileOps / peakOps);
  return out[0] & sink & 0;
}
