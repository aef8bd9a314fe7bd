/*
 * krk_isolate.c - isolates: a verified ELF loaded by krank-ld and run as
 * threads in KRANK's address space, each with its own descriptor table
 * (a krs_ctx), heap arena, guarded stacks and core.  A fault in an isolate
 * thread unwinds that thread to its entry trampoline and ends the isolate
 * alone; a supervisor thread joins ended isolates, frees what they held
 * and restarts them by policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <krank/kld.h>
#include <krank/krs.h>
#include "net/krs_net.h"

#include "krk.h"
#include "krk_chan.h"
#include "krk_gate.h"
#include "krk_worker.h"

#define ISO_MAX		256
#define KILL_GRACE_NS	50000000ull	/* then blocked sockets are shut */
#define RUN_RESET_NS	30000000000ull	/* a run this long resets backoff */
#define CONSOLE_LINE	512

__thread struct krk_thread *krk_self;

static int krk_sig_kill;		/* SIGRTMIN + 3, set at init */
static pid_t krk_host_pid;		/* for sealed threads (SIGSYS) */

/*
 * One thread of an isolate, run by a worker (krk_worker.c) that owns its
 * stacks.  t must stay first: krk_self points at it.  Fields below t are
 * written by the thread itself until done is set (iso_lock), and read by
 * the supervisor only after that; the worker touches nothing of it after.
 */
struct krk_ithread {
	struct krk_thread t;
	struct krk_worker *w;		/* while !done */
	uintptr_t stack_lo, stack_hi;	/* the worker's, for range checks */
	void *(*fn)(void *);
	void *arg;
	void *ret;
	bool is_main;
	bool done;			/* iso_lock */
	bool joined;			/* by krk_self_thread_join */
	bool collected;			/* its joiner has its result */
	bool detached;
	uint64_t cpu_ns;		/* at exit */
	/* Written by the fault handler, read by the trampoline. */
	volatile sig_atomic_t faulted;
	int fault_sig;
	int fault_sysno;		/* SIGSYS: the refused system call */
	/* Hardened: the gate to its server (krk_gate.h), while sealed. */
	bool sealed;
	struct krk_gate gate;
	uintptr_t fault_addr, fault_pc;
	struct krk_ithread *next;	/* iso_lock */
};

enum iso_end { END_NONE = 0, END_EXIT, END_FAULT, END_KILL };

/*
 * An isolate.  iso_lock protects every field but cfg (immutable while the
 * isolate exists) and the per-run pointers obj, ctx and heap (set before
 * the first thread starts, cleared after the last was joined).
 */
struct krk_iso {
	int id;
	struct krk_isolate_cfg cfg;
	enum krk_iso_state state;
	enum iso_end end;
	bool user_kill;			/* no restart after this end */
	bool remove;
	int status, signo;
	uintptr_t fault_addr, fault_pc;
	char fault_sym[96], fault_what[64];
	uint64_t end_ns;		/* when the end was requested */
	bool sockets_shut;

	struct kld_object *obj;
	struct krs_ctx *ctx;
	struct krk_heap *heap;
	int (*main)(int, char **, char **);
	char **argv, **envp;

	struct krk_ithread *threads;
	unsigned nlive, nthreads;
	unsigned console;		/* bit fd: 1 and 2 are the console */
	char conbuf[3][CONSOLE_LINE];	/* partial console lines */
	size_t conlen[3];

	unsigned restarts;
	uint64_t backoff_ns, restart_at;
	uint64_t started_ns;
	uint64_t cpu_dead, sys_dead;	/* of threads already joined */
	uint64_t mem_reserved;
};

static pthread_mutex_t iso_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t iso_cv;		/* any state change */
static struct krk_iso *iso_tab[ISO_MAX];
static int iso_next_id = 1;
static pthread_t iso_super;
static bool iso_up, iso_stopping;
/* krk_isolates_defer_supervisor: the supervisor starts at
 * krk_isolates_supervisor_start, not in krk_isolates_init. */
static bool super_defer, super_running;
static struct kld_symtab *iso_exports;
static struct kld_symtab *iso_exports_hard;	/* through the gate */
static uint64_t mem_used;		/* iso_lock: budget in use */
/* iso_lock: the loader queued parking work (kld_set_park_defer) that the
 * supervisor does with kld_park_work, after publishing ends. */
static bool park_queued;

/* kld_set_park_defer's notify: from a kld_load or kld_unload, which are
 * never called with iso_lock held. */
static void
park_notify(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&iso_lock);
	park_queued = true;
	pthread_cond_broadcast(&iso_cv);
	pthread_mutex_unlock(&iso_lock);
}

/* The loader's queued reloads and twins, outside iso_lock (held on entry
 * and exit).  Not while stopping: krk_isolates_fini frees them. */
static bool
park_work(void)
{
	if (!park_queued || iso_stopping)
		return false;
	park_queued = false;
	pthread_mutex_unlock(&iso_lock);
	(void)kld_park_work();
	pthread_mutex_lock(&iso_lock);
	return true;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *
krk_iso_state_name(enum krk_iso_state s)
{
	static const char *const names[] = {
		[KRK_ISO_STARTING] = "starting", [KRK_ISO_RUNNING] = "running",
		[KRK_ISO_EXITED] = "exited", [KRK_ISO_FAULTED] = "faulted",
		[KRK_ISO_KILLED] = "killed", [KRK_ISO_FAILED] = "failed",
		[KRK_ISO_BACKOFF] = "backoff",
	};
	if ((unsigned)s < sizeof(names) / sizeof(names[0]) && names[s])
		return names[s];
	return "?";
}

/* ---- configuration copies -------------------------------------------- */

static char *
xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static char **
strv_dup(char *const *v, size_t n)
{
	char **d = calloc(n + 1, sizeof(*d));
	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((d[i] = strdup(v[i])) == NULL) {
			while (i > 0)
				free(d[--i]);
			free(d);
			return NULL;
		}
	return d;
}

static void
strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static void
cfg_free(struct krk_isolate_cfg *c)
{
	free(c->elf);
	strv_free(c->argv);
	strv_free(c->env);
	free(c->cwd);
	free(c->root);
	memset(c, 0, sizeof(*c));
}

static int
cfg_copy(struct krk_isolate_cfg *d, const struct krk_isolate_cfg *s)
{
	*d = *s;
	d->elf = xstrdup(s->elf);
	d->argv = s->argv ? strv_dup(s->argv, s->argc) : NULL;
	d->env = s->env ? strv_dup(s->env, s->envc) : NULL;
	d->cwd = xstrdup(s->cwd ? s->cwd : "/");
	d->root = xstrdup(s->root ? s->root : "/");
	if (d->elf == NULL || d->cwd == NULL || d->root == NULL ||
	    (s->argv && d->argv == NULL) || (s->env && d->env == NULL)) {
		cfg_free(d);
		return ENOMEM;
	}
	return 0;
}

/* ---- console ----------------------------------------------------------- */

bool
krk_self_console(int fd)
{
	struct krk_thread *t = krk_self;
	if (t == NULL)
		return fd == 1 || fd == 2;
	return (fd == 1 || fd == 2) && (t->iso->console & (1u << fd));
}

void
krk_self_console_drop(int fd)
{
	struct krk_thread *t = krk_self;
	if (t == NULL || (fd != 1 && fd != 2))
		return;
	pthread_mutex_lock(&iso_lock);
	t->iso->console &= ~(1u << fd);
	pthread_mutex_unlock(&iso_lock);
}

/* Whole lines go to the log as "NAME: text"; a partial line waits for
 * the rest (or is flushed when full or the isolate ends).  An empty line
 * ended by a newline is logged too (empty: the caller saw one). */
static void
console_flush(struct krk_iso *iso, int fd, bool empty)
{
	if (iso->conlen[fd] == 0 && !empty)
		return;
	krk_log(KRK_LOG_INFO, "%s%s: %.*s", iso->cfg.name,
	    fd == 2 ? " (stderr)" : "", (int)iso->conlen[fd], iso->conbuf[fd]);
	iso->conlen[fd] = 0;
}

long
krk_console_write(int fd, const void *buf, size_t len)
{
	struct krk_thread *t = krk_self;
	const char *p = buf;

	if (t == NULL)
		return write(fd, buf, len);
	struct krk_iso *iso = t->iso;
	/* A system call like any other: a stop signal that arrived while
	 * this thread held iso_lock would unwind it with the lock held and
	 * hang all of KRANK; inside the bracket the kill waits for the exit. */
	krk_sys_enter();
	pthread_mutex_lock(&iso_lock);
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' || iso->conlen[fd] == CONSOLE_LINE) {
			console_flush(iso, fd, p[i] == '\n');
			if (p[i] == '\n')
				continue;
		}
		iso->conbuf[fd][iso->conlen[fd]++] = p[i];
	}
	pthread_mutex_unlock(&iso_lock);
	krk_sys_exit();
	return (long)len;
}

/* ---- the calling isolate ---------------------------------------------- */

struct krk_heap *
krk_self_heap(void)
{
	struct krk_thread *t = krk_self;
	return t ? t->iso->heap : NULL;
}

int
krk_self_id(void)
{
	struct krk_thread *t = krk_self;
	return t ? t->iso->id : 0;
}

char **
krk_self_environ(void)
{
	struct krk_thread *t = krk_self;
	return t ? t->iso->envp : NULL;
}

unsigned
krk_self_fd_limit(void)
{
	struct krk_thread *t = krk_self;
	return t ? t->iso->cfg.fds : 65536;
}

static bool
range_in(uintptr_t lo, uintptr_t hi, uintptr_t p, size_t n)
{
	return p >= lo && p <= hi && n <= hi - p;
}

bool
krk_self_range_ok(const void *ptr, size_t n)
{
	struct krk_thread *t = krk_self;
	struct krk_ithread *me = (struct krk_ithread *)t;
	uintptr_t p = (uintptr_t)ptr;
	bool ok = false;

	if (t == NULL)
		return ptr != NULL || n == 0;
	if (n == 0)
		return true;
	if (p < 4096 || p + n < p)
		return false;
	struct krk_iso *iso = t->iso;
	if (range_in(me->stack_lo, me->stack_hi, p, n))
		return true;
	uintptr_t ob = kld_base(iso->obj);
	if (range_in(ob, ob + kld_span(iso->obj), p, n))
		return true;
	if (krk_heap_contains(iso->heap, ptr, n))
		return true;
	if (krk_chan_range_held((uint32_t)krk_self_id(), ptr, n))
		return true;		/* a channel buffer it holds */
	pthread_mutex_lock(&iso_lock);
	for (struct krk_ithread *th = iso->threads; th && !ok; th = th->next)
		ok = range_in(th->stack_lo, th->stack_hi, p, n);
	pthread_mutex_unlock(&iso_lock);
	return ok;
}

/* ---- signals ----------------------------------------------------------- */

void
krk_thread_unwind(void)
{
	struct krk_thread *t = krk_self;
	siglongjmp(t->exit_jmp, 1);
}

/* Stop request: unwind now unless inside a system call (then at its end). */
static void
kill_handler(int sig, siginfo_t *si, void *uc)
{
	struct krk_thread *t = krk_self;
	(void)sig; (void)uc;
	/* A worker runs one isolate thread after another: a stop queued
	 * for an earlier one (its value names it) is not for this one. */
	if (t == NULL || (si->si_code == SI_QUEUE &&
	    si->si_value.sival_ptr != (void *)t))
		return;
	t->kill_pending = 1;
	if (!t->in_kernel && !krk_gate_waiting())
		krk_thread_unwind();
}

static void
fault_handler(int sig, siginfo_t *si, void *ucv)
{
	struct krk_ithread *th = (struct krk_ithread *)krk_self;
	ucontext_t *uc = ucv;

	if (sig == SIGSYS && (th == NULL || th->t.in_kernel ||
	    krk_gate_waiting())) {
		/*
		 * KRANK's own code on a sealed thread (the end of its job,
		 * unwinding) asked for a call the filter refuses: it gets
		 * EPERM, as from a failed call, and is counted.
		 */
		if (si->si_syscall == SYS_getpid) {
			/* pthread_sigqueue asks for it (stopping the other
			 * threads of a faulted isolate): the answer is known,
			 * and isolate code never gets the host's pid. */
			uc->uc_mcontext.gregs[REG_RAX] = krk_host_pid;
			return;
		}
		uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
		krk_gate_note_refused(si->si_syscall);
		return;
	}
	if (th == NULL || th->t.in_kernel) {
		/*
		 * KRANK's own code faulted (on its own behalf or inside a
		 * system call, where locks may be held): that cannot be
		 * contained.  Die with the signal, for a core dump.
		 */
		static const char msg[] = "krank: fatal fault in KRANK itself "
		    "(not in an isolate's code)\n";
		ssize_t r = write(2, msg, sizeof(msg) - 1);
		(void)r;
		signal(sig, SIG_DFL);
		return;
	}
	th->fault_sig = sig;
	th->fault_addr = (uintptr_t)si->si_addr;
	if (sig == SIGSYS) {
		th->fault_sysno = si->si_syscall;
		th->fault_addr = (uintptr_t)si->si_call_addr;
	}
	th->fault_pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	th->faulted = 1;
	krk_thread_unwind();
}

/* ---- ending an isolate ------------------------------------------------ */

/* Ask every live thread but `except` to stop.  iso_lock held. */
static void
iso_stop_threads(struct krk_iso *iso, struct krk_ithread *except)
{
	for (struct krk_ithread *th = iso->threads; th; th = th->next) {
		if (th == except || th->done)
			continue;
		th->t.kill_pending = 1;
		pthread_sigqueue(th->w->pt, krk_sig_kill,
		    (union sigval){ .sival_ptr = &th->t });
	}
}

/* Record the first cause of the end, and stop the others.  iso_lock. */
static void
iso_end_locked(struct krk_iso *iso, enum iso_end why, struct krk_ithread *by)
{
	if (iso->end != END_NONE)
		return;
	iso->end = why;
	iso->end_ns = now_ns();
	iso_stop_threads(iso, by);
	pthread_cond_broadcast(&iso_cv);
}

static void
describe_fault(struct krk_iso *iso, struct krk_ithread *th)
{
	iso->signo = th->fault_sig;
	iso->fault_addr = th->fault_addr;
	iso->fault_pc = th->fault_pc;
	if (kld_addr_sym(iso->obj, th->fault_pc, iso->fault_sym,
	    sizeof(iso->fault_sym)) != 0)
		snprintf(iso->fault_sym, sizeof(iso->fault_sym),
		    "outside the isolate (%#" PRIxPTR ")", th->fault_pc);
	const char *what;
	uintptr_t a = th->fault_addr;
	if (th->fault_sig == SIGSEGV && a < 4096)
		what = "NULL dereference";
	else if (th->fault_sig == SIGSEGV &&
	    a >= th->stack_lo - KRK_GUARD_SIZE && a < th->stack_lo)
		what = "stack overflow (guard page)";
	else if (th->fault_sig == SIGSEGV)
		what = "invalid memory access";
	else if (th->fault_sig == SIGBUS)
		what = "bus error";
	else if (th->fault_sig == SIGILL)
		what = "illegal instruction";
	else if (th->fault_sig == SIGFPE)
		what = "arithmetic fault";
	else if (th->fault_sig == SIGSYS) {
		snprintf(iso->fault_what, sizeof(iso->fault_what), "host "
		    "system call %d refused (hardened)", th->fault_sysno);
		return;
	} else
		what = "fault";
	snprintf(iso->fault_what, sizeof(iso->fault_what), "%s", what);
}

void
krk_self_exit(int status)
{
	struct krk_ithread *th = (struct krk_ithread *)krk_self;
	if (th == NULL) {
		krk_log(KRK_LOG_ERR, "exit(%d) outside an isolate", status);
		abort();
	}
	struct krk_iso *iso = th->t.iso;
	bool first;
	th->t.in_kernel = 1;		/* no stop signal unwinds us now */
	pthread_mutex_lock(&iso_lock);
	first = iso->end == END_NONE;
	if (first)
		iso->status = status & 0xff;
	iso_end_locked(iso, END_EXIT, th);
	pthread_mutex_unlock(&iso_lock);
	if (first) {
		/* The program's finalisers, in its own thread, like exit(3):
		 * for a hardened thread that is not this gate server. */
		if (krk_gate_defer_fini())
			krk_thread_unwind();
		th->t.in_kernel = 0;
		kld_run_fini(iso->obj);
		th->t.in_kernel = 1;
	}
	krk_thread_unwind();
}

void
krk_self_run_fini(void)
{
	struct krk_ithread *th = (struct krk_ithread *)krk_self;
	th->t.in_kernel = 0;
	kld_run_fini(th->t.iso->obj);
	th->t.in_kernel = 1;
	krk_thread_unwind();
}

/* ---- threads ----------------------------------------------------------- */

/* The job a worker runs for one isolate thread (krk_worker.h). */
static void
trampoline(struct krk_worker *w, void *arg)
{
	struct krk_ithread *th = arg;
	struct krk_iso *iso = th->t.iso;

	krs_ctx_enter(iso->ctx);
	th->t.in_kernel = 1;
	krk_self = &th->t;
	if (!w->kill_ready) {
		/* KRANK's threads block the stop signal; a worker takes it
		 * from its first job on (siglongjmp restores this mask). */
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, krk_sig_kill);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		w->kill_ready = true;
	}

	if (iso->cfg.hardened) {
		/*
		 * Sealed before any of the isolate's code runs (its
		 * initialisers too); the worker cannot shed the filter, so
		 * it ends after this job.
		 */
		int rv = krk_gate_begin(&th->gate, &th->t, iso->ctx,
		    w->core, krk_sig_kill);
		w->unclean = true;
		if (rv != 0) {
			pthread_mutex_lock(&iso_lock);
			snprintf(iso->fault_what, sizeof(iso->fault_what),
			    "hardened: cannot seal the thread (%s)",
			    strerror(rv));
			iso->status = 126;
			iso_end_locked(iso, END_EXIT, th);
			pthread_mutex_unlock(&iso_lock);
		} else
			th->sealed = true;
	}
	if (sigsetjmp(th->t.exit_jmp, 1) == 0 && !th->t.kill_pending &&
	    iso->end == END_NONE) {
		th->t.in_kernel = 0;
		if (th->is_main) {
			kld_run_init(iso->obj);
			int argc = 0;
			while (iso->argv[argc] != NULL)
				argc++;
			int st = iso->main(argc, iso->argv, iso->envp);
			krk_self_exit(st);	/* does not return */
		}
		th->ret = th->fn(th->arg);
	}
	/* Unwound (fault, stop, exit) or returned.  Never unwind again. */
	th->t.in_kernel = 1;
	if (th->sealed) {
		krk_gate_end(&th->gate);
		th->sealed = false;
	}
	th->cpu_ns = krk_worker_cpu_end(w);
	krs_ctx_leave();
	/* A thread that faulted is not reused; one that was stopped is,
	 * once its signal stack is clean. */
	if (th->faulted)
		w->unclean = true;
	krk_worker_scrub(w, th->faulted || th->t.kill_pending);
	krk_worker_release(w);
	krk_self = NULL;

	pthread_mutex_lock(&iso_lock);
	if (th->faulted && iso->end == END_NONE) {
		describe_fault(iso, th);
		iso_end_locked(iso, END_FAULT, th);
	} else if (th->is_main && iso->end == END_NONE) {
		iso_end_locked(iso, END_EXIT, th);
	}
	th->done = true;
	th->w = NULL;
	iso->nlive--;
	pthread_cond_broadcast(&iso_cv);
	pthread_mutex_unlock(&iso_lock);
}

/* Start a thread of iso on its core, on a parked worker or a new one.
 * iso_lock held. */
static int
thread_start(struct krk_iso *iso, bool is_main, void *(*fn)(void *),
    void *arg, struct krk_ithread **thp)
{
	struct krk_ithread *th = calloc(1, sizeof(*th));
	struct krk_worker *w;
	int prio = 0, rv;

	if (th == NULL)
		return ENOMEM;
	th->t.iso = iso;
	th->is_main = is_main;
	th->fn = fn;
	th->arg = arg;
	if (krk_node.cfg && krk_node.cfg->sched_fifo)
		prio = krk_node.cfg->fifo_priority;
	if ((rv = krk_worker_get(iso->cfg.core, prio, &w)) != 0) {
		free(th);
		return rv;
	}
	th->w = w;
	th->stack_lo = w->stack_lo;
	th->stack_hi = w->stack_hi;
	th->next = iso->threads;
	iso->threads = th;
	iso->nlive++;
	iso->nthreads++;
	if ((rv = krk_worker_go(w, trampoline, th)) != 0) {
		iso->threads = th->next;
		iso->nlive--;
		iso->nthreads--;
		free(th);
		return rv;
	}
	if (thp)
		*thp = th;
	return 0;
}

int
krk_self_thread_create(void *(*fn)(void *), void *arg, void **handlep)
{
	struct krk_thread *t = krk_self;
	struct krk_ithread *th;
	int rv;

	if (t == NULL)
		return EPERM;
	pthread_mutex_lock(&iso_lock);
	if (t->iso->end != END_NONE)
		rv = EAGAIN;
	else
		rv = thread_start(t->iso, false, fn, arg, &th);
	pthread_mutex_unlock(&iso_lock);
	if (rv == 0 && handlep)
		*handlep = th;
	return rv;
}

int
krk_self_thread_join(void *handle, void **retp)
{
	struct krk_thread *t = krk_self;
	struct krk_ithread *th = handle, *p;
	int rv = 0;

	if (t == NULL)
		return EPERM;
	if (th == (struct krk_ithread *)t)
		return EDEADLK;
	pthread_mutex_lock(&iso_lock);
	for (p = t->iso->threads; p && p != th; p = p->next)
		;
	if (p == NULL || th->joined || th->detached)
		rv = p == NULL ? ESRCH : EINVAL;
	else {
		th->joined = true;
		/* Timed slices, so a stop request still ends this thread. */
		while (!th->done && !t->kill_pending) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&iso_cv, &iso_lock, &ts);
		}
		if (!th->done)
			rv = EINTR;
		else {
			if (retp)
				*retp = th->ret;
			th->collected = true;	/* the supervisor may free it */
			pthread_cond_broadcast(&iso_cv);
		}
	}
	pthread_mutex_unlock(&iso_lock);
	return rv;
}

int
krk_self_thread_detach(void *handle)
{
	struct krk_thread *t = krk_self;
	struct krk_ithread *th = handle, *p;
	int rv = 0;

	if (t == NULL)
		return EPERM;
	pthread_mutex_lock(&iso_lock);
	for (p = t->iso->threads; p && p != th; p = p->next)
		;
	if (p == NULL)
		rv = ESRCH;
	else if (th->joined || th->detached)
		rv = EINVAL;
	else {
		th->detached = true;
		pthread_cond_broadcast(&iso_cv);
	}
	pthread_mutex_unlock(&iso_lock);
	return rv;
}

void *
krk_self_thread_handle(void)
{
	return krk_self;
}

void
krk_self_thread_exit(void *ret)
{
	struct krk_ithread *th = (struct krk_ithread *)krk_self;
	if (th == NULL)
		abort();
	th->t.in_kernel = 1;
	if (th->is_main) {
		/* pthread_exit from main: the isolate lives on with its other
		 * threads, as on Linux; it ends when the last one does. */
		th->is_main = false;
	}
	th->ret = ret;
	krk_thread_unwind();
}

/* ---- starting and finishing ------------------------------------------- */

static char **
heap_strv(struct krk_heap *h, char *const *v, const char *first)
{
	size_t n = 0;
	if (v)
		while (v[n])
			n++;
	if (n == 0 && first)
		n = 1;
	char **d = krk_heap_calloc(h, n + 1, sizeof(*d));
	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *s = v && v[0] ? v[i] : first;
		size_t l = strlen(s) + 1;
		if ((d[i] = krk_heap_alloc(h, l)) == NULL)
			return NULL;
		memcpy(d[i], s, l);
	}
	return d;
}

/* The per-run resources, released in reverse.  iso_lock NOT held: the
 * pointers are taken from the isolate under it, then released. */
static void
iso_release(struct krk_iso *iso)
{
	pthread_mutex_lock(&iso_lock);
	struct krs_ctx *ctx = iso->ctx;
	struct kld_object *obj = iso->obj;
	struct krk_heap *heap = iso->heap;
	bool fini = iso->end == END_EXIT;
	iso->ctx = NULL;
	iso->obj = NULL;
	iso->heap = NULL;
	iso->argv = iso->envp = NULL;
	iso->main = NULL;
	pthread_mutex_unlock(&iso_lock);
	if (ctx && krs_ctx_destroy(ctx) != 0)
		krk_log(KRK_LOG_WARN, "isolate %s: its context is still in use "
		    "(%s); leaking it", iso->cfg.name, strerror(errno));
	if (obj) {
		if (!fini)
			kld_forget_fini(obj);
		kld_unload(obj);
	}
	if (heap)
		krk_heap_destroy(heap);
	krk_sys_release(iso);
}

struct diag_buf {
	char *err;
	size_t len;
};

static void
diag_line(void *arg, enum kld_severity sev, const char *line)
{
	struct diag_buf *d = arg;
	if (sev == KLD_ERROR && d->err[0] == '\0')
		snprintf(d->err, d->len, "%s", line);
	krk_log(sev == KLD_ERROR ? KRK_LOG_ERR : KRK_LOG_WARN, "%s", line);
}

/* Give the context descriptors 0-2 (the console) and its directories. */
static int
ctx_setup(struct krk_iso *iso, char *err, size_t errlen)
{
	int rv = 0;
	krs_ctx_enter(iso->ctx);
	for (int fd = 0; fd < 3 && rv == 0; fd++) {
		int got = krs_open("/", KRS_O_RDONLY | KRS_O_DIRECTORY);
		if (got < 0) {
			rv = errno;
			snprintf(err, errlen, "isolate %s: cannot open the "
			    "root directory for its descriptors 0-2: %s (is a "
			    "file system mounted at /?)", iso->cfg.name,
			    strerror(rv));
		} else if (got != fd) {
			rv = EBUSY;
			snprintf(err, errlen, "isolate %s: descriptor %d "
			    "came out as %d", iso->cfg.name, fd, got);
		}
	}
	if (rv == 0 && strcmp(iso->cfg.root, "/") != 0 &&
	    krs_chroot(iso->cfg.root) != 0) {
		rv = errno;
		snprintf(err, errlen, "isolate %s: root %s: %s", iso->cfg.name,
		    iso->cfg.root, strerror(rv));
	}
	if (rv == 0 && krs_chdir(iso->cfg.cwd) != 0) {
		rv = errno;
		snprintf(err, errlen, "isolate %s: cwd %s: %s", iso->cfg.name,
		    iso->cfg.cwd, strerror(rv));
	}
	if (rv == 0 && krs_ctx_set_fdlimit(iso->ctx, iso->cfg.fds) != 0) {
		rv = errno;
		snprintf(err, errlen, "isolate %s: descriptor limit %u: %s",
		    iso->cfg.name, iso->cfg.fds, strerror(rv));
	}
	krs_ctx_leave();
	return rv;
}

/*
 * ELF images as read from their files, kept by path: a restart, or
 * another spawn of the same program, gets a copy after one stat that
 * finds the file unchanged (device, inode, size, modification and change
 * times) instead of open, read and close.  The copy is verified by
 * krank-ld like any image.  img_lock protects the table.
 */
#define IMG_CACHE	8
#define IMG_MAX		(4u << 20)	/* larger images are not kept */
static pthread_mutex_t img_lock = PTHREAD_MUTEX_INITIALIZER;
static struct img {
	char *path;
	struct stat st;
	void *data;
	size_t len;
	uint64_t used;			/* img_clock at the last hit */
} img_tab[IMG_CACHE];
static uint64_t img_clock;

static bool
img_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* kld_read_file, through the cache. */
static int
img_read(const char *path, void **datap, size_t *lenp, struct kld_diag *diag)
{
	struct stat st;
	struct img *e = NULL, *victim = &img_tab[0];
	int rv;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		pthread_mutex_lock(&img_lock);
		for (int i = 0; i < IMG_CACHE; i++) {
			struct img *c = &img_tab[i];
			if (c->path && strcmp(c->path, path) == 0) {
				if (img_same(&c->st, &st))
					e = c;
				else
					victim = c;	/* stale: replace it */
				break;
			}
			if (c->used < victim->used)
				victim = c;
		}
		if (e != NULL && (*datap = malloc(e->len ? e->len : 1)) != NULL) {
			memcpy(*datap, e->data, e->len);
			*lenp = e->len;
			e->used = ++img_clock;
			pthread_mutex_unlock(&img_lock);
			return 0;
		}
		pthread_mutex_unlock(&img_lock);
	}
	if ((rv = kld_read_file(path, datap, lenp, diag)) != 0)
		return rv;
	/* Kept with the identity seen before the read: a file changed
	 * since has other times, and is read again next time. */
	void *copy = *lenp <= IMG_MAX ? malloc(*lenp ? *lenp : 1) : NULL;
	char *pcopy = copy ? strdup(path) : NULL;
	if (copy == NULL || pcopy == NULL || !S_ISREG(st.st_mode)) {
		free(copy);
		free(pcopy);
		return 0;
	}
	memcpy(copy, *datap, *lenp);
	pthread_mutex_lock(&img_lock);
	free(victim->path);
	free(victim->data);
	victim->path = pcopy;
	victim->st = st;
	victim->data = copy;
	victim->len = *lenp;
	victim->used = ++img_clock;
	pthread_mutex_unlock(&img_lock);
	return 0;
}

static void
img_flush(void)
{
	pthread_mutex_lock(&img_lock);
	for (int i = 0; i < IMG_CACHE; i++) {
		free(img_tab[i].path);
		free(img_tab[i].data);
		memset(&img_tab[i], 0, sizeof(img_tab[i]));
	}
	pthread_mutex_unlock(&img_lock);
}

/* Load and start one run of iso.  iso_lock NOT held; iso is not running. */
static int
iso_start(struct krk_iso *iso, char *err, size_t errlen)
{
	struct diag_buf db = { err, errlen };
	struct kld_diag diag = { .fn = diag_line, .arg = &db };
	void *image = NULL;
	size_t len = 0;
	int rv;

	err[0] = '\0';
	/* iso->end was reset by the caller; a kill may have set it since. */
	iso->sockets_shut = false;
	iso->signo = 0;
	iso->status = 0;
	iso->fault_sym[0] = iso->fault_what[0] = '\0';
	iso->fault_addr = iso->fault_pc = 0;
	iso->console = (1u << 1) | (1u << 2);
	iso->conlen[1] = iso->conlen[2] = 0;

	if ((rv = img_read(iso->cfg.elf, &image, &len, &diag)) != 0)
		goto fail;
	/* Strict unless the deployment vouches for the code (lax): without
	 * control-flow integrity a syscall encoding at any byte offset is
	 * reachable by a stray jump. */
	rv = kld_load(image, len, iso->cfg.elf, iso->cfg.hardened ?
	    iso_exports_hard : iso_exports, KLD_DEFER_INIT |
	    (iso->cfg.lax ? 0 : KLD_STRICT), &diag, &iso->obj);
	free(image);
	if (rv != 0)
		goto fail;
	iso->main = (int (*)(int, char **, char **))kld_entry(iso->obj, "main");
	if (iso->main == NULL) {
		rv = ENOENT;
		snprintf(err, errlen, "isolate %s: %s %s", iso->cfg.name,
		    iso->cfg.elf, kld_sym(iso->obj, "main") != NULL ? "has a main "
		    "that is not a function in its verified code" : "defines no "
		    "main function (build it with krank-cc)");
		goto fail;
	}
	if ((rv = krk_heap_create(iso->cfg.heap,
	    krk_node.huge, &iso->heap)) != 0) {
		snprintf(err, errlen, "isolate %s: heap of %" PRIu64 " bytes: %s",
		    iso->cfg.name, iso->cfg.heap, strerror(rv));
		goto fail;
	}
	iso->argv = heap_strv(iso->heap, iso->cfg.argv, iso->cfg.name);
	iso->envp = heap_strv(iso->heap, iso->cfg.env, NULL);
	if (iso->argv == NULL || iso->envp == NULL) {
		rv = ENOMEM;
		snprintf(err, errlen, "isolate %s: its heap of %" PRIu64 " bytes "
		    "cannot hold its arguments", iso->cfg.name, iso->cfg.heap);
		goto fail;
	}
	if (krs_ctx_create(iso->cfg.uid, iso->cfg.gid, &iso->ctx) != 0) {
		rv = errno;
		snprintf(err, errlen, "isolate %s: context: %s", iso->cfg.name,
		    strerror(rv));
		goto fail;
	}
	if ((rv = ctx_setup(iso, err, errlen)) != 0)
		goto fail;

	pthread_mutex_lock(&iso_lock);
	iso->state = KRK_ISO_RUNNING;
	iso->started_ns = now_ns();
	rv = thread_start(iso, true, NULL, NULL, NULL);
	/* Killed while loading: the thread sees iso->end and ends at once. */
	if (rv != 0)
		iso->state = KRK_ISO_FAILED;
	pthread_cond_broadcast(&iso_cv);
	pthread_mutex_unlock(&iso_lock);
	if (rv != 0) {
		snprintf(err, errlen, "isolate %s: thread: %s", iso->cfg.name,
		    strerror(rv));
		goto fail;
	}
	krk_log(KRK_LOG_INFO, "isolate %s (id %d) started on core %d: %s",
	    iso->cfg.name, iso->id, iso->cfg.core, iso->cfg.elf);
	return 0;
fail:
	if (err[0] == '\0')
		snprintf(err, errlen, "isolate %s: %s: %s", iso->cfg.name,
		    iso->cfg.elf, strerror(rv));
	iso_release(iso);
	pthread_mutex_lock(&iso_lock);
	iso->state = KRK_ISO_FAILED;
	pthread_cond_broadcast(&iso_cv);
	pthread_mutex_unlock(&iso_lock);
	return rv;
}

/*
 * Threads of iso blocked inside KRANK (accept, recv, poll without a
 * timeout) do not see a stop signal until their call returns: shut its
 * sockets down so that it does.  Called without iso_lock, from the
 * supervisor, while the isolate's threads are still alive.
 */
static void
iso_shut_sockets(struct krk_iso *iso)
{
	unsigned open = 0, limit = 0;
	if (krs_ctx_enter(iso->ctx) != 0)
		return;
	krs_ctx_fdinfo(NULL, &open, &limit);
	for (unsigned fd = 3; fd < limit && fd < 65536; fd++)
		krs_sock_shutdown((int)fd, 2);
	krs_ctx_leave();
}

/* Everything of a run whose threads are all done.  iso_lock held on
 * entry and exit; dropped while resources are released. */
static void
iso_finish(struct krk_iso *iso)
{
	struct krk_ithread *list = iso->threads;
	iso->threads = NULL;
	console_flush(iso, 1, false);
	console_flush(iso, 2, false);
	pthread_mutex_unlock(&iso_lock);
	uint64_t cpu = 0, sys = 0;
	while (list) {
		struct krk_ithread *th = list;
		list = th->next;
		cpu += th->cpu_ns;
		sys += th->t.nsyscalls;
		free(th);
	}
	iso_release(iso);
	pthread_mutex_lock(&iso_lock);
	iso->cpu_dead += cpu;
	iso->sys_dead += sys;
	iso->nthreads = 0;
	uint64_t ran = now_ns() - iso->started_ns;
	switch (iso->end) {
	case END_FAULT:
		iso->state = KRK_ISO_FAULTED;
		krk_log(KRK_LOG_ERR, "isolate %s (id %d) faulted: %s: signal %d "
		    "(%s) at address %#" PRIxPTR ", pc %#" PRIxPTR " in %s",
		    iso->cfg.name, iso->id, iso->fault_what, iso->signo,
		    strsignal(iso->signo), iso->fault_addr, iso->fault_pc,
		    iso->fault_sym);
		break;
	case END_KILL:
		iso->state = KRK_ISO_KILLED;
		krk_log(KRK_LOG_INFO, "isolate %s (id %d) killed", iso->cfg.name,
		    iso->id);
		break;
	default:
		iso->state = KRK_ISO_EXITED;
		krk_log(iso->status ? KRK_LOG_WARN : KRK_LOG_INFO,
		    "isolate %s (id %d) exited with status %d", iso->cfg.name,
		    iso->id, iso->status);
		break;
	}
	bool again = false;
	if (!iso->user_kill && !iso_stopping) {
		if (iso->cfg.restart == KRK_RESTART_ALWAYS)
			again = true;
		else if (iso->cfg.restart == KRK_RESTART_ON_FAILURE)
			again = iso->state == KRK_ISO_FAULTED ||
			    (iso->state == KRK_ISO_EXITED && iso->status != 0);
	}
	if (again) {
		if (ran > RUN_RESET_NS || iso->backoff_ns == 0)
			iso->backoff_ns = iso->cfg.backoff_ns;
		else if (iso->backoff_ns < iso->cfg.backoff_max_ns / 2)
			iso->backoff_ns *= 2;
		else
			iso->backoff_ns = iso->cfg.backoff_max_ns;
		iso->restart_at = now_ns() + iso->backoff_ns;
		iso->state = KRK_ISO_BACKOFF;
		krk_log(KRK_LOG_INFO, "isolate %s: restart in %" PRIu64 " ms "
		    "(policy %s)", iso->cfg.name, iso->backoff_ns / 1000000,
		    iso->cfg.restart == KRK_RESTART_ALWAYS ? "always" :
		    "on-failure");
	}
	pthread_cond_broadcast(&iso_cv);
}

/* ---- the supervisor ---------------------------------------------------- */

/*
 * Free the finished threads of a running isolate that nobody will join
 * again (joined and collected, or detached), so that an isolate making
 * short-lived threads does not accumulate their stacks.  iso_lock held;
 * returns true if it dropped the lock.
 */
static bool
iso_reap_threads(struct krk_iso *iso)
{
	struct krk_ithread **pp = &iso->threads, *dead = NULL;
	while (*pp) {
		struct krk_ithread *th = *pp;
		if (th->done && !th->is_main && (th->collected || th->detached)) {
			*pp = th->next;
			th->next = dead;
			dead = th;
		} else
			pp = &th->next;
	}
	if (dead == NULL)
		return false;
	pthread_mutex_unlock(&iso_lock);
	uint64_t cpu = 0, sys = 0;
	while (dead) {
		struct krk_ithread *th = dead;
		dead = th->next;
		cpu += th->cpu_ns;
		sys += th->t.nsyscalls;
		free(th);
	}
	pthread_mutex_lock(&iso_lock);
	iso->cpu_dead += cpu;
	iso->sys_dead += sys;
	return true;
}

static void *
supervisor(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&iso_lock);
	for (;;) {
		uint64_t now = now_ns(), wake = now + 1000000000ull;
		bool busy = false;

		for (int i = 0; i < ISO_MAX; i++) {
			struct krk_iso *iso = iso_tab[i];
			if (iso == NULL)
				continue;
			if (iso->state == KRK_ISO_RUNNING && iso->nlive == 0 &&
			    iso->threads != NULL) {
				iso_finish(iso);
				/* Its end is published (iso_finish's
				 * broadcast): now its object's reload. */
				park_work();
				busy = true;
				break;	/* the table may have changed */
			}
			if (iso->state == KRK_ISO_RUNNING && iso->nlive > 0 &&
			    iso_reap_threads(iso)) {
				busy = true;
				break;
			}
			if (iso->state == KRK_ISO_RUNNING && iso->end != END_NONE &&
			    !iso->sockets_shut) {
				if (now >= iso->end_ns + KILL_GRACE_NS) {
					iso->sockets_shut = true;
					iso_stop_threads(iso, NULL);
					pthread_mutex_unlock(&iso_lock);
					iso_shut_sockets(iso);
					pthread_mutex_lock(&iso_lock);
					busy = true;
					break;
				}
				if (iso->end_ns + KILL_GRACE_NS < wake)
					wake = iso->end_ns + KILL_GRACE_NS;
			}
			if (iso->state == KRK_ISO_BACKOFF && !iso_stopping) {
				if (now >= iso->restart_at) {
					char err[256];
					iso->restarts++;
					iso->state = KRK_ISO_STARTING;
					iso->end = END_NONE;
					iso->end_ns = 0;
					pthread_mutex_unlock(&iso_lock);
					if (iso_start(iso, err, sizeof(err)) != 0)
						krk_log(KRK_LOG_ERR, "restart: %s",
						    err);
					pthread_mutex_lock(&iso_lock);
					busy = true;
					break;
				}
				if (iso->restart_at < wake)
					wake = iso->restart_at;
			}
		}
		if (busy || park_work())
			continue;
		if (!iso_stopping) {
			/* Outside iso_lock: it may create threads. */
			pthread_mutex_unlock(&iso_lock);
			uint64_t due = krk_worker_tend(now);
			pthread_mutex_lock(&iso_lock);
			if (due < wake)
				wake = due;
		}
		if (iso_stopping) {
			bool live = false;
			for (int i = 0; i < ISO_MAX; i++)
				if (iso_tab[i] && iso_tab[i]->threads)
					live = true;
			if (!live)
				break;
		}
		struct timespec ts;
		uint64_t rt;
		clock_gettime(CLOCK_REALTIME, &ts);
		rt = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec +
		    (wake > now ? wake - now : 0);
		ts.tv_sec = (time_t)(rt / 1000000000ull);
		ts.tv_nsec = (long)(rt % 1000000000ull);
		pthread_cond_timedwait(&iso_cv, &iso_lock, &ts);
	}
	pthread_mutex_unlock(&iso_lock);
	return NULL;
}

/* ---- the public calls -------------------------------------------------- */

static struct krk_iso *
iso_by_id(int id)
{
	for (int i = 0; i < ISO_MAX; i++)
		if (iso_tab[i] && iso_tab[i]->id == id)
			return iso_tab[i];
	return NULL;
}

static bool
iso_active(const struct krk_iso *iso)
{
	return iso->state == KRK_ISO_STARTING || iso->state == KRK_ISO_RUNNING;
}

int
krk_isolate_spawn(const struct krk_isolate_cfg *cfg, int *idp, char *err,
    size_t errlen)
{
	struct krk_iso *iso;
	int slot = -1, rv;
	uint64_t need;

	if (!iso_up) {
		snprintf(err, errlen, "isolates are not initialised");
		return ENXIO;
	}
	if ((iso = calloc(1, sizeof(*iso))) == NULL ||
	    cfg_copy(&iso->cfg, cfg) != 0) {
		free(iso);
		snprintf(err, errlen, "isolate %s: out of memory", cfg->name);
		return ENOMEM;
	}
	if (iso->cfg.fds == 0)
		iso->cfg.fds = 1024;
	if (iso->cfg.heap == 0)
		iso->cfg.heap = 64ull << 20;
	if (iso->cfg.core < 0)
		iso->cfg.core = krk_node.cfg && krk_node.cfg->ncores ?
		    krk_node.cfg->cores[0] : 0;
	if (iso->cfg.backoff_ns == 0)
		iso->cfg.backoff_ns = 100000000ull;
	if (iso->cfg.backoff_max_ns < iso->cfg.backoff_ns)
		iso->cfg.backoff_max_ns = 10000000000ull;
	need = iso->cfg.heap + 4 * (uint64_t)(KRK_STACK_SIZE + KRK_ALT_SIZE);

	pthread_mutex_lock(&iso_lock);
	for (int i = 0; i < ISO_MAX; i++) {
		if (iso_tab[i] == NULL) {
			if (slot < 0)
				slot = i;
		} else if (strcmp(iso_tab[i]->cfg.name, iso->cfg.name) == 0) {
			pthread_mutex_unlock(&iso_lock);
			snprintf(err, errlen, "isolate %s: the name is taken "
			    "(id %d)", iso->cfg.name, iso_tab[i]->id);
			cfg_free(&iso->cfg);
			free(iso);
			return EEXIST;
		}
	}
	uint64_t budget = krk_node.cfg ? krk_node.cfg->mem_size : 0;
	if (slot < 0 || (budget && mem_used + need > budget)) {
		pthread_mutex_unlock(&iso_lock);
		if (slot < 0)
			snprintf(err, errlen, "isolate %s: too many isolates "
			    "(%d)", iso->cfg.name, ISO_MAX);
		else
			snprintf(err, errlen, "isolate %s: memory budget: needs "
			    "%" PRIu64 " MiB (heap and stacks), %" PRIu64 " of "
			    "%" PRIu64 " MiB left", iso->cfg.name, need >> 20,
			    (budget - mem_used) >> 20, budget >> 20);
		cfg_free(&iso->cfg);
		free(iso);
		return slot < 0 ? EAGAIN : ENOMEM;
	}
	iso->id = iso_next_id++;
	iso->state = KRK_ISO_STARTING;
	iso->mem_reserved = need;
	mem_used += need;
	iso_tab[slot] = iso;
	pthread_mutex_unlock(&iso_lock);

	if (idp)
		*idp = iso->id;
	rv = iso_start(iso, err, errlen);
	return rv;
}

int
krk_isolate_kill(int id)
{
	struct krk_iso *iso;
	int rv = 0;

	pthread_mutex_lock(&iso_lock);
	if ((iso = iso_by_id(id)) == NULL)
		rv = ESRCH;
	else {
		iso->user_kill = true;
		if (iso->state == KRK_ISO_BACKOFF) {
			iso->state = KRK_ISO_KILLED;
			pthread_cond_broadcast(&iso_cv);
		} else if (iso_active(iso)) {
			iso_end_locked(iso, END_KILL, NULL);
		} else
			rv = ESRCH;
	}
	pthread_mutex_unlock(&iso_lock);
	return rv;
}

static void
info_fill(const struct krk_iso *iso, struct krk_isolate_info *in)
{
	memset(in, 0, sizeof(*in));
	in->id = iso->id;
	snprintf(in->name, sizeof(in->name), "%s", iso->cfg.name);
	snprintf(in->elf, sizeof(in->elf), "%s", iso->cfg.elf);
	in->state = iso->state;
	in->core = iso->cfg.core;
	in->status = iso->status;
	in->signo = iso->signo;
	in->fault_addr = iso->fault_addr;
	in->fault_pc = iso->fault_pc;
	snprintf(in->fault_sym, sizeof(in->fault_sym), "%s", iso->fault_sym);
	snprintf(in->fault_what, sizeof(in->fault_what), "%s", iso->fault_what);
	in->restarts = iso->restarts;
	in->nthreads = iso->nlive;
	in->cpu_ns = iso->cpu_dead;
	in->syscalls = iso->sys_dead;
	for (const struct krk_ithread *th = iso->threads; th; th = th->next) {
		in->syscalls += th->t.nsyscalls;
		if (th->done) {
			in->cpu_ns += th->cpu_ns;
		} else {
			in->cpu_ns += krk_worker_cpu(th->w);
		}
	}
	in->heap_limit = iso->cfg.heap;
	if (iso->heap) {
		struct krk_heap_stats hs;
		krk_heap_stats(iso->heap, &hs);
		in->heap_in_use = hs.in_use;
	}
	in->fds_limit = iso->cfg.fds;
	if (iso->ctx && iso->state == KRK_ISO_RUNNING)
		krs_ctx_fdinfo(iso->ctx, &in->fds_open, NULL);
	in->started_ns = iso->started_ns;
}

int
krk_isolate_get(int id, struct krk_isolate_info *info)
{
	struct krk_iso *iso;
	int rv = 0;
	pthread_mutex_lock(&iso_lock);
	if ((iso = iso_by_id(id)) == NULL)
		rv = ESRCH;
	else
		info_fill(iso, info);
	pthread_mutex_unlock(&iso_lock);
	return rv;
}

int
krk_isolate_wait(int id, uint64_t timeout_ns, struct krk_isolate_info *info)
{
	struct krk_iso *iso;
	uint64_t deadline = timeout_ns == UINT64_MAX ? UINT64_MAX :
	    now_ns() + timeout_ns;
	int rv = 0;

	pthread_mutex_lock(&iso_lock);
	for (;;) {
		if ((iso = iso_by_id(id)) == NULL) {
			rv = ESRCH;
			break;
		}
		if (!iso_active(iso) && iso->threads == NULL)
			break;
		uint64_t now = now_ns();
		if (now >= deadline) {
			rv = ETIMEDOUT;
			break;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t step = deadline - now < 100000000ull ?
		    deadline - now : 100000000ull;
		uint64_t rt = (uint64_t)ts.tv_sec * 1000000000ull +
		    (uint64_t)ts.tv_nsec + step;
		ts.tv_sec = (time_t)(rt / 1000000000ull);
		ts.tv_nsec = (long)(rt % 1000000000ull);
		pthread_cond_timedwait(&iso_cv, &iso_lock, &ts);
	}
	if (iso && info)
		info_fill(iso, info);
	pthread_mutex_unlock(&iso_lock);
	return rv;
}

int
krk_isolate_restart_now(int id, char *err, size_t errlen)
{
	struct krk_iso *iso;
	int rv;

	err[0] = '\0';
	pthread_mutex_lock(&iso_lock);
	if ((iso = iso_by_id(id)) == NULL) {
		pthread_mutex_unlock(&iso_lock);
		snprintf(err, errlen, "no such isolate");
		return ESRCH;
	}
	iso->user_kill = true;		/* this end is ours: no policy restart */
	if (iso_active(iso))
		iso_end_locked(iso, END_KILL, NULL);
	pthread_mutex_unlock(&iso_lock);
	if ((rv = krk_isolate_wait(id, 5000000000ull, NULL)) != 0) {
		snprintf(err, errlen, "%s", rv == ETIMEDOUT ? "its threads did "
		    "not stop within 5 s" : "no such isolate");
		return rv;
	}
	/* Start it here, as the supervisor would after a backoff, so that
	 * the caller learns whether it runs again and, if not, why. */
	pthread_mutex_lock(&iso_lock);
	if ((iso = iso_by_id(id)) == NULL || iso_active(iso) ||
	    iso->threads != NULL || iso_stopping) {
		rv = iso == NULL ? ESRCH : EBUSY;
		pthread_mutex_unlock(&iso_lock);
		snprintf(err, errlen, "%s", rv == ESRCH ? "no such isolate" :
		    "it is being started or stopped by someone else");
		return rv;
	}
	iso->user_kill = false;
	iso->backoff_ns = 0;
	iso->restart_at = 0;
	iso->restarts++;
	iso->state = KRK_ISO_STARTING;
	iso->end = END_NONE;
	iso->end_ns = 0;
	pthread_mutex_unlock(&iso_lock);
	return iso_start(iso, err, errlen);
}

int
krk_isolate_restart(int id)
{
	char err[256];
	return krk_isolate_restart_now(id, err, sizeof(err));
}

int
krk_isolate_remove(int id)
{
	int rv = ESRCH;
	pthread_mutex_lock(&iso_lock);
	for (int i = 0; i < ISO_MAX; i++) {
		struct krk_iso *iso = iso_tab[i];
		if (iso == NULL || iso->id != id)
			continue;
		if (iso_active(iso) || iso->threads || iso->state ==
		    KRK_ISO_BACKOFF) {
			rv = EBUSY;
			break;
		}
		iso_tab[i] = NULL;
		mem_used -= iso->mem_reserved;
		cfg_free(&iso->cfg);
		free(iso);
		rv = 0;
		break;
	}
	pthread_mutex_unlock(&iso_lock);
	return rv;
}

int
krk_isolate_find(const char *name, int *idp)
{
	int rv = ESRCH;
	char *end;
	long n = strtol(name, &end, 10);

	pthread_mutex_lock(&iso_lock);
	for (int i = 0; i < ISO_MAX; i++) {
		struct krk_iso *iso = iso_tab[i];
		if (iso && (strcmp(iso->cfg.name, name) == 0 ||
		    (*end == '\0' && end != name && iso->id == n))) {
			*idp = iso->id;
			rv = 0;
			break;
		}
	}
	pthread_mutex_unlock(&iso_lock);
	return rv;
}

int
krk_isolate_list(struct krk_isolate_info **infop, size_t *np)
{
	size_t n = 0, k = 0;
	pthread_mutex_lock(&iso_lock);
	for (int i = 0; i < ISO_MAX; i++)
		n += iso_tab[i] != NULL;
	struct krk_isolate_info *v = calloc(n ? n : 1, sizeof(*v));
	if (v == NULL) {
		pthread_mutex_unlock(&iso_lock);
		return ENOMEM;
	}
	for (int i = 0; i < ISO_MAX; i++)
		if (iso_tab[i])
			info_fill(iso_tab[i], &v[k++]);
	pthread_mutex_unlock(&iso_lock);
	*infop = v;
	*np = k;
	return 0;
}

/* ---- the libc's host hooks -------------------------------------------- */

/* The libc's own output (printf, puts) goes where write(1) goes. */
static long
host_write(int fd, const void *buf, size_t len)
{
	long r;
	if (krk_self_console(fd))
		return krk_console_write(fd, buf, len);
	krk_sys_enter();
	r = krs_write(fd, buf, len);
	krk_sys_exit();
	return r;
}

int
krk_isolates_init(void)
{
	static struct kld_libc_host hooks = { .write = host_write };
	struct sigaction sa;
	pthread_condattr_t ca;
	sigset_t set;
	int rv;

	if (iso_up)
		return 0;
	krk_sig_kill = SIGRTMIN + 3;
	krk_host_pid = getpid();
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_REALTIME);
	pthread_cond_init(&iso_cv, &ca);
	pthread_condattr_destroy(&ca);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGSYS, &sa, NULL);	/* hardened threads' filter */
	sa.sa_sigaction = kill_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaction(krk_sig_kill, &sa, NULL);
	/* Only isolate threads take the stop signal. */
	sigemptyset(&set);
	sigaddset(&set, krk_sig_kill);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	krk_sys_libc_hooks(&hooks);
	krk_gate_hooks(&hooks);
	kld_libc_set_host(&hooks);
	/* Verified code is not decoded again at its next start: verdicts
	 * are cached by the hash of the code (kld_vcache_enable), in
	 * memory, and in KRANK_VERDICT_CACHE (a 0700 directory of KRANK's
	 * user) across restarts.  A refused directory is logged (diag_line)
	 * and leaves the memory cache on. */
	{
		char vc_err[256] = "";
		struct diag_buf db = { vc_err, sizeof(vc_err) };
		struct kld_diag diag = { .fn = diag_line, .arg = &db };
		const char *dir = getenv("KRANK_VERDICT_CACHE");

		(void)kld_vcache_enable(dir != NULL && *dir != '\0' ? dir :
		    NULL, &diag);
	}
	/* KRANK_ISOLATE_PARK=N (default 4): keep up to N stopped
	 * isolates' objects ready for a restart of the same program
	 * (kld_set_park): no mapping, protection change or fault at that
	 * start.  KRANK_ISOLATE_PARK_PLACE=fresh (default): the object is
	 * loaded again at a new random place when the run before stops
	 * (kld_set_park_fresh), so no run starts where another ran; same:
	 * the restart runs at its previous base, and the stop is cheaper. */
	{
		const char *pk = getenv("KRANK_ISOLATE_PARK");
		const char *pp = getenv("KRANK_ISOLATE_PARK_PLACE");
		char *end;
		unsigned long n = pk != NULL ? strtoul(pk, &end, 10) : 4;
		bool ok = pk == NULL || (*pk != '\0' && *end == '\0' &&
		    n <= 64);
		bool same = pp != NULL && strcmp(pp, "same") == 0;

		if (!ok)
			krk_log(KRK_LOG_WARN, "krank: KRANK_ISOLATE_PARK=%s: "
			    "expected a number of objects from 0 to 64; "
			    "parking is off", pk);
		if (pp != NULL && !same && strcmp(pp, "fresh") != 0)
			krk_log(KRK_LOG_WARN, "krank: "
			    "KRANK_ISOLATE_PARK_PLACE=%s: expected fresh or "
			    "same; fresh", pp);
		kld_set_park_fresh(!same);
		kld_set_park(ok ? (unsigned)n : 0);
		/* Fresh: the reload is not done in kld_unload, before the
		 * end is published, but by the supervisor after it
		 * (park_work); a program run by one isolate at a time keeps
		 * two objects, one of them ready while the other reloads. */
		if (!same)
			kld_set_park_defer(park_notify, NULL);
	}
	if ((rv = kld_symtab_create(&iso_exports)) != 0)
		return rv;
	if ((rv = kld_symtab_create(&iso_exports_hard)) != 0 ||
	    (rv = kld_symtab_add(iso_exports, kld_libc_exports,
	    kld_libc_nexports)) != 0 ||
	    (rv = krk_sys_exports(iso_exports)) != 0 ||
	    (rv = kld_symtab_add(iso_exports_hard, kld_libc_exports,
	    kld_libc_nexports)) != 0 ||
	    (rv = krk_gate_exports(iso_exports_hard)) != 0) {
		kld_symtab_destroy(iso_exports);
		kld_symtab_destroy(iso_exports_hard);
		iso_exports = iso_exports_hard = NULL;
		return rv;
	}
	if (!super_defer && (rv = krk_isolates_supervisor_start()) != 0) {
		kld_symtab_destroy(iso_exports);
		kld_symtab_destroy(iso_exports_hard);
		iso_exports = iso_exports_hard = NULL;
		return rv;
	}
	iso_up = true;
	return 0;
}

void
krk_isolates_defer_supervisor(void)
{
	super_defer = true;
}

int
krk_isolates_supervisor_start(void)
{
	int rv;

	if (super_running)
		return 0;
	if ((rv = pthread_create(&iso_super, NULL, supervisor, NULL)) != 0)
		return rv;
	pthread_setname_np(iso_super, "krank-super");
	super_running = true;
	return 0;
}

/* Kill every isolate, wait for them, stop the supervisor. */
void
krk_isolates_fini(void)
{
	if (!iso_up)
		return;
	pthread_mutex_lock(&iso_lock);
	iso_stopping = true;
	for (int i = 0; i < ISO_MAX; i++) {
		struct krk_iso *iso = iso_tab[i];
		if (iso && iso_active(iso)) {
			iso->user_kill = true;
			iso_end_locked(iso, END_KILL, NULL);
		}
	}
	pthread_cond_broadcast(&iso_cv);
	pthread_mutex_unlock(&iso_lock);
	if (super_running) {
		pthread_join(iso_super, NULL);
		super_running = false;
	}
	krk_workers_fini();
	img_flush();
	kld_set_park_defer(NULL, NULL);
	/* Parked objects give their pool runs back; queued reloads are
	 * freed (kld_set_park(0) settles the queue). */
	kld_set_park(0);
	for (int i = 0; i < ISO_MAX; i++) {
		if (iso_tab[i]) {
			cfg_free(&iso_tab[i]->cfg);
			free(iso_tab[i]);
			iso_tab[i] = NULL;
		}
	}
	kld_symtab_destroy(iso_exports);
	kld_symtab_destroy(iso_exports_hard);
	iso_exports = iso_exports_hard = NULL;
	iso_up = false;
}

/* krk_isolate_new_id - the next id of the isolates' sequence, for a
 * foreign isolate (krk_foreign.c): one id never names two isolates. */
int
krk_isolate_new_id(void)
{
	pthread_mutex_lock(&iso_lock);
	int id = iso_next_id++;
	pthread_mutex_unlock(&iso_lock);
	return id;
}
