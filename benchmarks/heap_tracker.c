/* Peak heap bytes (and all bytes allocated) between heap_track_start() and
 * heap_track_stop(),
 * preloaded (LD_PRELOAD) by peak_heap.py: glibc's allocation functions are
 * interposed and forward to the __libc_ entry points. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static int tracking;
static long long live, peak, total;

static void allocated(void *p) {
  if (tracking && p) {
    long long n = (long long)malloc_usable_size(p);
    live += n;
    total += n;
    if (live > peak)
      peak = live;
  }
}

static void released(void *p) {
  if (tracking && p)
    live -= (long long)malloc_usable_size(p);
}

void *malloc(size_t n) {
  void *p = __libc_malloc(n);
  allocated(p);
  return p;
}

void free(void *p) {
  released(p);
  __libc_free(p);
}

void *calloc(size_t count, size_t n) {
  void *p = __libc_calloc(count, n);
  allocated(p);
  return p;
}

void *realloc(void *old, size_t n) {
  released(old);
  void *p = __libc_realloc(old, n);
  allocated(p);
  return p;
}

void *aligned_alloc(size_t alignment, size_t n) {
  void *p = __libc_memalign(alignment, n);
  allocated(p);
  return p;
}

int posix_memalign(void **result, size_t alignment, size_t n) {
  *result = __libc_memalign(alignment, n);
  allocated(*result);
  return *result ? 0 : 12; /* ENOMEM */
}

void heap_track_start(void) {
  live = peak = total = 0;
  tracking = 1;
}

long long heap_track_stop(void) {
  tracking = 0;
  return peak;
}

long long heap_track_total(void) { return total; }
