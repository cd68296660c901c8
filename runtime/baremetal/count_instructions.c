/* Counts the instructions one call of a model executes on a board under
   qemu's `-icount shift=0`, where virtual time advances 1 ns per
   instruction (benchmarks/baremetal.py --instructions). Linked with
   -Wl,--wrap=_mlir_ciface_forward, it runs the example main's call between
   two reads of a counter:
   - Cortex-M: SysTick, which counts down the board's 25 MHz processor
     clock: one tick per 40 instructions (checked on a loop of known
     length, docs/Targets.md). The 24-bit counter wraps after 671 million
     instructions; a call that long is reported as such.
   - RISC-V: minstret, which qemu counts exactly under -icount (the program
     runs in machine mode); the low 32 bits. */
#include <stdint.h>
#include <unistd.h>

void __real__mlir_ciface_forward(void *, void *, void *, void *);

/* Written without stdio, which would bring the heap (startup_cortexm.c). */
static const char prefix[] = "instructions: ";

static void print_count(uint32_t count) {
  char digits[11];
  char *first = digits + sizeof digits - 1;
  *first = '\n';
  do
    *--first = (char)('0' + count % 10);
  while ((count /= 10) != 0);
  write(1, prefix, sizeof prefix - 1);
  write(1, first, (size_t)(digits + sizeof digits - first));
}

#ifdef __riscv
static uint32_t instret(void) {
  uint32_t count;
  /* csrr count, minstret (0xB02), spelled out: the C library's -march has
     no Zicsr. */
  __asm__ volatile(".insn i 0x73, 2, %0, x0, -1278" : "=r"(count));
  return count;
}

void __wrap__mlir_ciface_forward(void *a, void *b, void *c, void *d) {
  uint32_t start = instret();
  __real__mlir_ciface_forward(a, b, c, d);
  print_count(instret() - start);
}
#else
#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)
#define COUNTFLAG (1u << 16)

/* The entry points take pointers only: passing four covers up to four
   arguments (r0-r3); a callee with fewer ignores the rest. */
void __wrap__mlir_ciface_forward(void *a, void *b, void *c, void *d) {
  SYST_RVR = 0xFFFFFF;
  SYST_CVR = 0;
  SYST_CSR = 5;   /* enabled, processor clock, no interrupt */
  (void)SYST_CSR; /* clears COUNTFLAG */
  uint32_t start = SYST_CVR;
  __real__mlir_ciface_forward(a, b, c, d);
  uint32_t end = SYST_CVR;
  if (SYST_CSR & COUNTFLAG) {
    static const char overflow[] = "instructions: overflow\n";
    write(1, overflow, sizeof overflow - 1);
    return;
  }
  print_count(((start - end) & 0xFFFFFFu) * 40u);
}
#endif
