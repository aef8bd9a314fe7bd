/*
 * krk_gate.c - hardened isolate threads (krk_gate.h): the seccomp filter,
 * the gate that carries a sealed thread's KRANK calls to its server, the
 * stubs hardened isolates bind instead of the system-call shims, and the
 * wrapped libc hooks.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "krk_gate.h"

enum { KRK_GATE_IDLE, KRK_GATE_CALL, KRK_GATE_DONE, KRK_GATE_QUIT,
    KRK_GATE_GONE };

typedef long krk_gate_fn(long, long, long, long, long, long);

/* What a server may run: the shims, then the libc hooks, by index (a
 * thread asks for a number, never for an address, so memory an isolate
 * forged cannot make its unfiltered server call anything else). */
static void (*gate_target(unsigned idx))(void);

static __thread struct krk_gate *gate_self;	/* on a sealed thread */
static __thread struct krk_gate *gate_serving;	/* on its server */
static __thread volatile sig_atomic_t gate_wait;
static uint64_t gate_nrefused;			/* atomic */
static int gate_lastnr;				/* atomic */

/*
 * Wait while *p == v, on the futex at once.  Spinning first was measured
 * on the shared 2-core build VM: 25-46 us per call without, 317-377 us
 * with 2000 pauses (the spinner took the time slice its server needed);
 * on a deployment's own core the thread and its server share one CPU,
 * where a spin can only delay the server.
 */
static uint32_t
gate_wait_while(_Atomic uint32_t *p, uint32_t v)
{
	uint32_t s;
	while ((s = atomic_load_explicit(p, memory_order_acquire)) == v)
		syscall(SYS_futex, p, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
	return s;
}

static void
futex_wait(_Atomic uint32_t *p, uint32_t v)
{
	syscall(SYS_futex, p, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void
futex_wake(_Atomic uint32_t *p)
{
	syscall(SYS_futex, p, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* ---- the filter --------------------------------------------------------- */

/*
 * What a sealed thread may ask of Linux: futex (its gate, and the locks
 * KRANK's code takes after the isolate's code ended), rt_sigprocmask and
 * rt_sigreturn (a fault or stop unwinds it with siglongjmp), sigaltstack
 * (its own signal stack: the worker's checks, and ASan's signal wrapper,
 * which asks on every signal - a SIGSYS from inside it recursed), exit (the
 * worker ends after the job), clock_gettime (its CPU time at the end),
 * sched_yield, and rt_tgsigqueueinfo with KRANK's stop signal only (a
 * thread that faults stops its isolate's other threads; the getpid that
 * pthread_sigqueue makes first is answered by the SIGSYS handler).
 * Anything else, another ABI (int 0x80) or x32 numbers: SIGSYS.
 */
static int
gate_seal(int stopsig)
{
	static const int allow[] = { SYS_futex, SYS_rt_sigprocmask,
	    SYS_rt_sigreturn, SYS_sigaltstack, SYS_exit, SYS_clock_gettime,
	    SYS_sched_yield, SYS_restart_syscall,
#if defined(__SANITIZE_ADDRESS__)
	    /* Sanitizer builds only (krk_sys_run_san): ASan's runtime maps
	     * shadow, allocator caches and fake stacks lazily on whichever
	     * thread needs them, and dies when it cannot; its siglongjmp
	     * interceptor asks for the CPU set.  Never mprotect. */
	    SYS_mmap, SYS_munmap, SYS_madvise, SYS_sched_getaffinity,
#endif
	};
	enum { NALLOW = sizeof(allow) / sizeof(allow[0]) };
	struct sock_filter f[16 + 2 * NALLOW];
	unsigned n = 0;

#define STMT(c, k) (f[n++] = (struct sock_filter)BPF_STMT((c), (k)))
#define JUMP(c, k, jt, jf) \
	(f[n++] = (struct sock_filter)BPF_JUMP((c), (k), (jt), (jf)))
	STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);	/* x32 */
	STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	for (unsigned i = 0; i < NALLOW; i++) {
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)allow[i], 0, 1);
		STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	}
	/* rt_tgsigqueueinfo(tgid, tid, sig, info): sig must be KRANK's. */
	JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_tgsigqueueinfo, 0, 3);
	STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2]));
	JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)stopsig, 0, 1);
	STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
#undef STMT
#undef JUMP
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return errno;
	/* No SECCOMP_FILTER_FLAG_TSYNC: this thread only. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
		return errno;
	return 0;
}

void
krk_gate_note_refused(int nr)
{
	__atomic_fetch_add(&gate_nrefused, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&gate_lastnr, nr, __ATOMIC_RELAXED);
}

uint64_t
krk_gate_refused(int *lastnr)
{
	if (lastnr != NULL)
		*lastnr = __atomic_load_n(&gate_lastnr, __ATOMIC_RELAXED);
	return __atomic_load_n(&gate_nrefused, __ATOMIC_RELAXED);
}

/* ---- the server --------------------------------------------------------- */

static void *
gate_main(void *arg)
{
	struct krk_gate *g = arg;
	struct krk_thread *t = g->t;
	sigset_t all;

	/* Stop signals are for the isolate's thread, not its server. */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGFPE);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	prctl(PR_SET_NAME, (unsigned long)"krank-gate", 0, 0, 0);
	krk_self = t;
	gate_serving = g;
	krs_ctx_enter(g->ctx);
	for (;;) {
		uint32_t s;
		while ((s = atomic_load_explicit(&g->state,
		    memory_order_acquire)) == KRK_GATE_IDLE ||
		    s == KRK_GATE_DONE)
			futex_wait(&g->state, s);
		if (s == KRK_GATE_QUIT)
			break;
		/*
		 * The call runs as if on the isolate's thread: its krk_self,
		 * context and errno.  A call that ends the thread (exit, a
		 * stop at krk_sys_exit) unwinds to here instead of the
		 * thread's trampoline, which is on another stack; the thread
		 * then unwinds itself.
		 */
		sigjmp_buf saved;
		void (*fn)(void) = gate_target(g->idx);
		memcpy(saved, t->exit_jmp, sizeof(saved));
		*kld_libc_errno_location() = g->err;
		g->unwound = g->fini = false;
		if (fn == NULL) {
			g->ret = -1;
			*kld_libc_errno_location() = ENOSYS;
		} else if (sigsetjmp(t->exit_jmp, 1) == 0)
			g->ret = ((krk_gate_fn *)fn)(g->a[0], g->a[1],
			    g->a[2], g->a[3], g->a[4], g->a[5]);
		else
			g->unwound = true;
		memcpy(t->exit_jmp, saved, sizeof(saved));
		g->err = *kld_libc_errno_location();
		atomic_store_explicit(&g->state, KRK_GATE_DONE,
		    memory_order_release);
		futex_wake(&g->state);
	}
	krs_ctx_leave();
	krk_self = NULL;
	gate_serving = NULL;
	/* The last touch of g: the thread may free it once it sees GONE. */
	atomic_store_explicit(&g->state, KRK_GATE_GONE, memory_order_release);
	futex_wake(&g->state);
	return NULL;
}

bool
krk_gate_defer_fini(void)
{
	struct krk_gate *g = gate_serving;
	if (g == NULL)
		return false;
	g->fini = true;
	return true;
}

bool
krk_gate_waiting(void)
{
	return gate_wait != 0;
}

int
krk_gate_begin(struct krk_gate *g, struct krk_thread *t, struct krs_ctx *ctx,
    int core, int stopsig)
{
	pthread_attr_t attr;
	int rv;

	memset(g, 0, sizeof(*g));
	g->t = t;
	g->ctx = ctx;
	atomic_init(&g->state, KRK_GATE_IDLE);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (core >= 0) {
		/* On the isolate's core: the thread sleeps while its server
		 * works, so the two share the core as one thread would. */
		cpu_set_t cpus;
		CPU_ZERO(&cpus);
		CPU_SET(core, &cpus);
		pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	}
	rv = pthread_create(&g->server, &attr, gate_main, g);
	pthread_attr_destroy(&attr);
	if (rv != 0)
		return rv;
	/*
	 * SIGSYS must reach this thread: one the filter raises while it is
	 * blocked kills the whole process.  A thread of a hardened isolate
	 * is created by its creator's gate server, which blocks everything
	 * but faults, and inherits that mask.
	 */
	sigset_t sys;
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	if ((rv = gate_seal(stopsig)) != 0) {
		krk_gate_end(g);
		return rv;
	}
	gate_self = g;
	return 0;
}

void
krk_gate_end(struct krk_gate *g)
{
	uint32_t s;
	gate_self = NULL;
	atomic_store_explicit(&g->state, KRK_GATE_QUIT, memory_order_release);
	futex_wake(&g->state);
	while ((s = atomic_load_explicit(&g->state, memory_order_acquire)) !=
	    KRK_GATE_GONE)
		futex_wait(&g->state, s);
}

/* ---- calls through the gate ---------------------------------------------- */

/*
 * On a sealed thread: hand fn and its six integer arguments to the server
 * and sleep until it is done (every export takes at most six integer or
 * pointer arguments and returns an integer or pointer; a variadic one
 * such as open or fcntl reads its extra argument from the same
 * registers).  Elsewhere: call fn.
 */
static long
gate_call(unsigned idx, long a0, long a1, long a2, long a3, long a4, long a5)
{
	struct krk_gate *g = gate_self;
	if (g == NULL)
		return ((krk_gate_fn *)gate_target(idx))(a0, a1, a2, a3, a4,
		    a5);

	struct krk_thread *t = g->t;
	int was = t->in_kernel;
	t->in_kernel = 1;
	gate_wait = 1;
	atomic_signal_fence(memory_order_seq_cst);
	g->idx = idx;
	g->a[0] = a0; g->a[1] = a1; g->a[2] = a2;
	g->a[3] = a3; g->a[4] = a4; g->a[5] = a5;
	g->err = *kld_libc_errno_location();
	atomic_store_explicit(&g->state, KRK_GATE_CALL, memory_order_release);
	futex_wake(&g->state);
	(void)gate_wait_while(&g->state, KRK_GATE_CALL);
	long ret = g->ret;
	bool unwound = g->unwound, fini = g->fini;
	*kld_libc_errno_location() = g->err;
	atomic_store_explicit(&g->state, KRK_GATE_IDLE, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	gate_wait = 0;
	if (fini)
		krk_self_run_fini();
	if (unwound)
		krk_thread_unwind();
	t->in_kernel = was;
	atomic_signal_fence(memory_order_seq_cst);
	if (!was && t->kill_pending)
		krk_thread_unwind();
	return ret;
}

/*
 * pthread_once runs the caller's function: on a server that would be
 * isolate code without the filter.  Hardened isolates get this one, on
 * their own thread: 0 not run, 1 running, 2 done (their pthread_once_t).
 */
static int
once_local(pthread_once_t *o, void (*fn)(void))
{
	_Atomic int *st = (_Atomic int *)o;
	int v = 0;

	if (fn == NULL)
		return EINVAL;
	if (atomic_compare_exchange_strong(st, &v, 1)) {
		fn();
		atomic_store(st, 2);
		syscall(SYS_futex, st, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL,
		    NULL, 0);
		return 0;
	}
	while ((v = atomic_load(st)) == 1)
		syscall(SYS_futex, st, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
	return 0;
}

/* The shims, as krk_sys_exports.c declares them (addresses only). */
#define KLD_EXPORT(name, fn) void fn(void);
#include "krk_sys_exports.def"
#undef KLD_EXPORT

enum {
#define KLD_EXPORT(name, fn) GATE_##name,
#include "krk_sys_exports.def"
#undef KLD_EXPORT
	GATE_HOOK_WRITE, GATE_HOOK_MALLOC, GATE_HOOK_FREE, GATE_HOOK_REALLOC,
	GATE_HOOK_EXIT, GATE_NTARGETS
};

static struct kld_libc_host gate_inner;

static void (*
gate_target(unsigned idx))(void)
{
	static void (*const shims[])(void) = {
#define KLD_EXPORT(name, fn) fn,
#include "krk_sys_exports.def"
#undef KLD_EXPORT
	};
	switch (idx) {
	case GATE_HOOK_WRITE: return (void (*)(void))gate_inner.write;
	case GATE_HOOK_MALLOC: return (void (*)(void))gate_inner.malloc;
	case GATE_HOOK_FREE: return (void (*)(void))gate_inner.free;
	case GATE_HOOK_REALLOC: return (void (*)(void))gate_inner.realloc;
	case GATE_HOOK_EXIT: return (void (*)(void))gate_inner.exit;
	default:
		return idx < GATE_HOOK_WRITE ? shims[idx] : NULL;
	}
}

#define KLD_EXPORT(name, fn)						\
static long								\
gate_##name(long a0, long a1, long a2, long a3, long a4, long a5)	\
{									\
	return gate_call(GATE_##name, a0, a1, a2, a3, a4, a5);		\
}
#include "krk_sys_exports.def"
#undef KLD_EXPORT

static struct kld_export gate_table[] = {
#define KLD_EXPORT(name, fn) { #name, (void *)gate_##name },
#include "krk_sys_exports.def"
#undef KLD_EXPORT
};

int
krk_gate_exports(struct kld_symtab *tab)
{
	size_t n = sizeof(gate_table) / sizeof(gate_table[0]);
	for (size_t i = 0; i < n; i++)
		if (strcmp(gate_table[i].name, "pthread_once") == 0)
			gate_table[i].addr = (void *)once_local;
	return kld_symtab_add(tab, gate_table, n);
}

/* ---- the libc's host hooks ------------------------------------------------ */

static long
hook_write(int fd, const void *buf, size_t len)
{
	return gate_call(GATE_HOOK_WRITE, fd, (long)buf, (long)len, 0, 0, 0);
}

static void *
hook_malloc(size_t n)
{
	return (void *)gate_call(GATE_HOOK_MALLOC, (long)n, 0, 0, 0, 0, 0);
}

static void
hook_free(void *p)
{
	gate_call(GATE_HOOK_FREE, (long)p, 0, 0, 0, 0, 0);
}

static void *
hook_realloc(void *p, size_t n)
{
	return (void *)gate_call(GATE_HOOK_REALLOC, (long)p, (long)n, 0, 0,
	    0, 0);
}

static void
hook_exit(int status)
{
	gate_call(GATE_HOOK_EXIT, status, 0, 0, 0, 0, 0);
	__builtin_trap();		/* exit never returns */
}

void
krk_gate_hooks(struct kld_libc_host *hk)
{
	gate_inner = *hk;
	if (hk->write != NULL)
		hk->write = hook_write;
	if (hk->malloc != NULL)
		hk->malloc = hook_malloc;
	if (hk->free != NULL)
		hk->free = hook_free;
	if (hk->realloc != NULL)
		hk->realloc = hook_realloc;
	if (hk->exit != NULL)
		hk->exit = hook_exit;
}
