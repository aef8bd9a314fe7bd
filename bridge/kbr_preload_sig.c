/*
 * kbr_preload_sig.c - signal handlers that interrupt waits on KRANK's
 * descriptors.
 *
 * Linux ends poll, select and epoll_wait with EINTR when a signal handler
 * runs on the waiting thread, whatever SA_RESTART says.  A wait on KRANK's
 * descriptors is a call to KRANK over the ring, and the thread sleeps on
 * the ring's futex; the kernel runs the handler there and resumes the
 * futex wait, so the wait would go on.  So the program's handlers are
 * wrapped: the wrapper counts, per thread, that a handler ran, then calls
 * the program's handler.  Once the program has installed a handler, the
 * waits cut their time on KRANK's side into slices of KBR_INTR_SLICE_MS and
 * look at the count between slices (kbr_preload_poll.c): a handler that
 * ran during the wait ends it with EINTR within one slice.  A program that
 * installs no handler pays nothing.
 *
 * Covered: sigaction, signal, bsd_signal, sysv_signal.  A query
 * (sigaction with act NULL) answers the program's own handler, not the
 * wrapper.  Without KRANK_ATTACH, everything is Linux's unchanged.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "kbr_preload_int.h"

#define KBR_EXPORT __attribute__((visibility("default")))

/* The program's handler per signal: the function and sa_flags.  Written
 * by sigaction before the wrapper is installed, read by the wrapper. */
static _Atomic(void *) kbr_sig_fn[NSIG];
static _Atomic int kbr_sig_flags[NSIG];

_Atomic bool kbr_intr_armed;
__thread uint64_t kbr_intr_count;

static int (*kbr_real_sigaction)(int, const struct sigaction *,
    struct sigaction *);

static int
real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (kbr_real_sigaction == NULL)
		kbr_real_sigaction = dlsym(RTLD_NEXT, "sigaction");
	return kbr_real_sigaction(sig, act, old);
}

static void
kbr_sigwrap(int sig, siginfo_t *si, void *uc)
{
	void *fn = atomic_load_explicit(&kbr_sig_fn[sig], memory_order_acquire);
	int flags = atomic_load_explicit(&kbr_sig_flags[sig],
	    memory_order_relaxed);

	kbr_intr_count++;
	if (fn == NULL)
		return;
	/* SA_RESETHAND: the kernel has put SIG_DFL back already. */
	if (flags & SA_RESETHAND)
		atomic_store_explicit(&kbr_sig_fn[sig], NULL,
		    memory_order_relaxed);
	if (flags & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))fn)(sig, si, uc);
	else
		((void (*)(int))fn)(sig);
}

/* The program's view of what the kernel holds: the wrapper is shown as
 * the handler it wraps. */
static void
kbr_sig_unwrap(int sig, struct sigaction *old)
{
	if (old == NULL || !(old->sa_flags & SA_SIGINFO) ||
	    old->sa_sigaction != kbr_sigwrap)
		return;
	void *fn = atomic_load_explicit(&kbr_sig_fn[sig], memory_order_acquire);
	int flags = atomic_load_explicit(&kbr_sig_flags[sig],
	    memory_order_relaxed);
	old->sa_flags = flags;
	if (flags & SA_SIGINFO)
		old->sa_sigaction = (void (*)(int, siginfo_t *, void *))fn;
	else
		old->sa_handler = (void (*)(int))fn;
}

KBR_EXPORT int
sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!kbr_enabled() || sig <= 0 || sig >= NSIG)
		return real_sigaction(sig, act, old);
	if (act == NULL || (!(act->sa_flags & SA_SIGINFO) &&
	    (act->sa_handler == SIG_IGN || act->sa_handler == SIG_DFL))) {
		/* No handler to wrap: the kernel's answer, unwrapped; the
		 * kept function stays until a handler replaces it, so that a
		 * signal already on its way still reaches it. */
		int v = real_sigaction(sig, act, old);
		if (v == 0)
			kbr_sig_unwrap(sig, old);
		return v;
	}
	struct sigaction w = *act;
	void *fn = (act->sa_flags & SA_SIGINFO) ?
	    (void *)act->sa_sigaction : (void *)act->sa_handler;
	w.sa_sigaction = kbr_sigwrap;
	w.sa_flags = act->sa_flags | SA_SIGINFO;
	/* The old action is read before the new function is kept, so that
	 * the program sees its previous handler, not the new one. */
	struct sigaction prev;
	if (real_sigaction(sig, NULL, &prev) != 0)
		return -1;
	kbr_sig_unwrap(sig, &prev);
	atomic_store_explicit(&kbr_sig_flags[sig], act->sa_flags,
	    memory_order_relaxed);
	atomic_store_explicit(&kbr_sig_fn[sig], fn, memory_order_release);
	if (real_sigaction(sig, &w, NULL) != 0)
		return -1;
	atomic_store_explicit(&kbr_intr_armed, true, memory_order_relaxed);
	if (old != NULL)
		*old = prev;
	return 0;
}

/* signal(3) with glibc's BSD semantics: SA_RESTART, the signal blocked
 * while its handler runs. */
static sighandler_t
kbr_signal(int sig, sighandler_t h, int flags)
{
	struct sigaction act, old;

	memset(&act, 0, sizeof(act));
	act.sa_handler = h;
	act.sa_flags = flags;
	sigemptyset(&act.sa_mask);
	if (!(flags & SA_NODEFER) && sig > 0 && sig < NSIG)
		sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old) != 0)
		return SIG_ERR;
	return old.sa_handler;
}

KBR_EXPORT sighandler_t
signal(int sig, sighandler_t h)
{
	return kbr_signal(sig, h, SA_RESTART);
}

KBR_EXPORT sighandler_t
bsd_signal(int sig, sighandler_t h)
{
	return kbr_signal(sig, h, SA_RESTART);
}

/* System V: the handler is reset on delivery and the signal not
 * blocked while it runs. */
KBR_EXPORT sighandler_t
sysv_signal(int sig, sighandler_t h)
{
	return kbr_signal(sig, h, SA_RESETHAND | SA_NODEFER);
}
