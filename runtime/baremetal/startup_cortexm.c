/* Start-up code of the Cortex-M boards (runtime/baremetal/mps2.ld): the
   vector table, copying .data and zeroing .bss, semihosting set up for
   newlib's librdimon (printf, exit), then main(). A fault exits with status
   128 + its exception number instead of hanging the emulator. */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start__[], __bss_end__[], __stack_top[];
extern int main(void);
extern void initialise_monitor_handles(void);

void myquant_reset(void) {
  uint32_t *src = __data_load;
  for (uint32_t *dst = __data_start; dst < __data_end;)
    *dst++ = *src++;
  for (uint32_t *dst = __bss_start__; dst < __bss_end__;)
    *dst++ = 0;
  initialise_monitor_handles();
  exit(main());
}

static void myquant_fault(void) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  _Exit(128 + (int)(ipsr & 0x1ff));
}

__attribute__((section(".vectors"),
               used)) static void (*const vectors[16])(void) = {
    (void (*)(void))__stack_top,
    myquant_reset,
    myquant_fault,
    myquant_fault,
    myquant_fault,
    myquant_fault,
    myquant_fault,
    0,
    0,
    0,
    0,
    myquant_fault,
    myquant_fault,
    0,
    myquant_fault,
    myquant_fault,
};

/* exit() runs __libc_fini_array, which calls _fini (crti.o's, which
   -nostartfiles leaves out); there is nothing to finalize. */
void _fini(void) {}
