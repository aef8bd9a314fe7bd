/*
 * hyp_relax.h - hyp_cpu_relax, the one spin-wait hint every layer uses in
 * its busy loops: tells the CPU the loop is waiting (saves power, frees
 * the sibling hyperthread, avoids the memory-order flush on exit).
 */
#ifndef KRANK_HYP_RELAX_H
#define KRANK_HYP_RELAX_H

/*
 * hyp_cpu_relax - one iteration's pause in a spin-wait loop: PAUSE on
 * x86, YIELD on arm64, elsewhere only a compiler barrier (the loop still
 * re-reads memory).  Never blocks, never enters the host kernel.
 */
static inline void
hyp_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

#endif
