/*
 * iso_escape.c - an isolate that tries to reach a host system call, for
 * test_krk_hardened.sh.  KRANK has no control-flow integrity, so bytes
 * inside one instruction can be jumped into: here `mov $0x90c3050f, %ecx`
 * holds 0f 05 c3 (syscall; ret) in its immediate, and the program calls
 * one byte into it with rax = SYS_getpid (39).  The loader accepts it
 * only --lax (strict mode refuses such bytes).  Without hardening the
 * call reaches Linux and returns KRANK's host pid; a hardened isolate
 * gets SIGSYS and ends as faulted.
 */
#include <stdio.h>
#include <unistd.h>

static long __attribute__((noinline))
hidden_getpid(void)
{
	long r;
	__asm__ volatile(
	    "lea 1f(%%rip), %%rdx\n\t"
	    "add $1, %%rdx\n\t"
	    "mov $39, %%eax\n\t"
	    "call *%%rdx\n\t"
	    "jmp 2f\n"
	    "1:\tmov $0x90c3050f, %%ecx\n"
	    "2:\n"
	    : "=a"(r) : : "rdx", "rcx", "r11", "memory");
	return r;
}

int
main(void)
{
	/* Ordinary work first: the gate carries it. */
	printf("escape: isolate pid %d\n", (int)getpid());
	fflush(stdout);
	long r = hidden_getpid();
	/* Reached only when the call was not stopped. */
	printf("escape: host system call returned %ld\n", r);
	return r > 0 ? 3 : 4;
}
