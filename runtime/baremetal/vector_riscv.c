/* Start-up addition of the RV32 board with vectors: turns the vector unit
   on (mstatus.VS = Initial) before main, as picolibc's crt0 for rv32imac
   does not; a vector instruction traps while VS is Off. */
__attribute__((constructor)) static void myquant_enable_vector(void) {
  /* csrs mstatus, VS (0x300, bit 9), spelled out: the C library's -march
     has no Zicsr. */
  __asm__ volatile(".insn i 0x73, 2, x0, %0, 0x300" ::"r"(1u << 9));
}
