/*
 * hyptest.h - harness for the hypercall conformance suite: CHECK macros
 * that print what they check, and a test scheduler installed as the
 * rumpuser upcall table.  The scheduler has a fixed number of virtual CPUs
 * and counts, per host thread, every release and re-acquisition, and every
 * violation (releasing a CPU not held, taking one twice).  A hypercall
 * that blocks without releasing its CPU starves the other threads, so
 * tests with more threads than virtual CPUs also catch missing wrapping.
 */
#ifndef HYPTEST_H
#define HYPTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <krank/rumpuser.h>

extern int ht_failures;

#define CHECK(cond, ...)                                                \
	do {                                                            \
		if (cond) {                                             \
			printf("ok: ");                                 \
		} else {                                                \
			printf("FAIL (%s:%d, %s): ", __FILE__, __LINE__, #cond); \
			ht_failures++;                                  \
		}                                                       \
		printf(__VA_ARGS__);                                    \
		printf("\n");                                           \
		fflush(stdout);                                         \
	} while (0)

/* Quiet check for loops: prints only on failure. */
#define QCHECK(cond, ...)                                               \
	do {                                                            \
		if (!(cond)) {                                          \
			printf("FAIL (%s:%d, %s): ", __FILE__, __LINE__, #cond); \
			printf(__VA_ARGS__);                            \
			printf("\n");                                   \
			fflush(stdout);                                 \
			__atomic_add_fetch(&ht_failures, 1, __ATOMIC_SEQ_CST); \
		}                                                       \
	} while (0)

/* CLOCK_MONOTONIC in milliseconds, for tests' deadlines. */
unsigned long long ht_now_ms(void);
/* Install the test scheduler with ncpu virtual CPUs; calls rumpuser_init. */
void ht_init(int ncpu);
/* Take / release a virtual CPU for the calling thread (rump_schedule). */
void ht_schedule(void);
void ht_unschedule(void);
/* Does the calling thread hold a virtual CPU? */
int ht_has_cpu(void);
/* Per-thread counts of backend releases and re-acquisitions. */
unsigned long ht_thread_unscheds(void);
unsigned long ht_thread_scheds(void);
/* Process-wide violations of the scheduling protocol. */
unsigned long ht_violations(void);
/* The calling thread's lwp (NULL if none). */
struct lwp *ht_curlwp(void);
/* Give the calling thread a permanent lwp (as a kernel thread has). */
void ht_newlwp(void);
/* Number of lwps created through hyp_lwproc_newlwp. */
unsigned long ht_newlwps(void);

/*
 * The calling thread's count of the kernel's big lock: set it before a
 * blocking hypercall and read it after; a host that does not give the
 * count from rumpkern_unsched back to rumpkern_sched loses it.
 */
void ht_set_biglocks(int n);
int ht_biglocks(void);
/* The interlock of the thread's last backend unschedule (0) / schedule (1). */
void *ht_last_interlock(int sched);

/* Exit status for automake: 0 pass, 1 fail. */
int ht_done(const char *name);

#endif
