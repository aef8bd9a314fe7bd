/*
 * kern.h - the kernel base every rumpdrv component builds on: errno values,
 * kmem, locks, condition variables, kernel threads, callouts, workqueues,
 * time, randomness, per-CPU data, the kernel log, panic, process contexts
 * and component registration.  Built only on the rumpuser(3) hypercalls.
 * Functions return 0 or a positive NetBSD errno value and never touch the
 * host's errno.  Include as "kern/kern.h" (-I rumpdrv).
 */
#ifndef RUMPDRV_KERN_H
#define RUMPDRV_KERN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <krank/rumpuser.h>
#include <krank/hyp_relax.h>
#include <krank/krs.h>
#include "kern/kern_errno.h"

#define __hidden __attribute__((visibility("hidden")))

/* ---- kernel log, panic, assertions ---- */

#define LOG_ERR		3
#define LOG_WARNING	4
#define LOG_NOTICE	5
#define LOG_INFO	6
#define LOG_DEBUG	7

/*
 * klog - format one line into the kernel log ring (readable with
 * klog_read) and, at LOG_NOTICE or more urgent, to the host console.
 */
void klog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vklog(int level, const char *fmt, va_list ap);
/* klog_read - copy the ring's text (oldest first) into buf; returns length. */
size_t klog_read(char *buf, size_t len);
/* klog_console - print log lines of level <= lvl to the host console. */
void klog_console(int lvl);

void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#define KASSERT(e) do { if (__builtin_expect(!(e), 0)) \
	panic("assertion \"%s\" failed: %s:%d", #e, __FILE__, __LINE__); } while (0)
#define KASSERTMSG(e, ...) do { if (__builtin_expect(!(e), 0)) \
	panic(__VA_ARGS__); } while (0)

/*
 * kspin - a test-and-test-and-set spinlock for sections of a few
 * instructions that never block (descriptor slots, offsets, counters).
 */
typedef struct { unsigned char locked; } kspin_t;
static inline void
kspin_enter(kspin_t *s)
{
	while (__atomic_exchange_n(&s->locked, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&s->locked, __ATOMIC_RELAXED))
			hyp_cpu_relax();
	}
}
static inline void
kspin_exit(kspin_t *s)
{
	__atomic_store_n(&s->locked, 0, __ATOMIC_RELEASE);
}

/* ---- memory ---- */

#define KM_SLEEP	0x1	/* wait for memory (up to KMEM_WAIT_MAX bytes) */
#define KM_NOSLEEP	0x2	/* may return NULL */

/*
 * Bounds on what kmem gives.  Nothing in the kernel needs more than
 * KMEM_SIZE_MAX at once (the largest are a channel's rings of
 * KRS_CHAN_DEPTH_MAX entries and a full descriptor table), so a larger
 * size is a caller's or the wire's mistake and fails at once.  Above
 * KMEM_WAIT_MAX, KM_SLEEP tries once and does not wait: a size a caller
 * chose must not park a kernel thread forever while the host is short of
 * memory.  Callers that may ask that much handle NULL (ENOMEM, ENOBUFS).
 */
#define KMEM_SIZE_MAX	((size_t)64 << 20)
#define KMEM_WAIT_MAX	((size_t)256 << 10)

/*
 * kmem_alloc - len bytes, 16-byte aligned (64 for len >= 64).  Small sizes
 * come from per-CPU caches over hypercall memory.  kmem_free needs the
 * same len.  With KM_SLEEP it waits for memory and never returns NULL for
 * len <= KMEM_WAIT_MAX; above that it returns NULL when the host has no
 * memory, and above KMEM_SIZE_MAX always (counted, see kmem_refused).
 * Thread-safe.
 */
void *kmem_alloc(size_t len, int flags);
void *kmem_zalloc(size_t len, int flags);
void kmem_free(void *p, size_t len);
char *kmem_strdup(const char *s, int flags);
char *kmem_strndup(const char *s, size_t n, int flags);
void kmem_strfree(char *s);		/* for kmem_strdup/strndup results */
/* kmem_refused - how many requests kmem refused for their size or found
 * no memory for without waiting (since boot). */
uint64_t kmem_refused(void);
/*
 * kmem_alloc_aligned - len bytes aligned to align (a power of two, up to
 * 64 KiB), straight from the host (never from the per-CPU caches): for
 * buffers that direct I/O hands to the host's disk.  NULL when the host
 * has no memory or align is not a power of two.  Free with
 * kmem_free_aligned and the same len.  Thread-safe.
 */
void *kmem_alloc_aligned(size_t len, size_t align);
void kmem_free_aligned(void *p, size_t len);

/* ---- CPUs and per-CPU data ---- */

#define MAXCPUS 64
extern int ncpu;
/* cpu_index - the virtual CPU the calling thread is bound to. */
unsigned cpu_index_cur(void);

/*
 * percpu - one zeroed copy of a size-byte object per CPU.  percpu_getref
 * returns the calling CPU's copy; the caller protects it against other
 * threads on the same CPU (threads are not pinned to a CPU exclusively).
 */
typedef struct percpu percpu_t;
/* percpu_alloc returns NULL for size 0, a size whose copies exceed
 * KMEM_SIZE_MAX, or no memory. */
percpu_t *percpu_alloc(size_t size);
void percpu_free(percpu_t *pc, size_t size);
void *percpu_getref(percpu_t *pc);
void percpu_putref(percpu_t *pc);
void percpu_foreach(percpu_t *pc, void (*fn)(void *p, void *arg, unsigned ci),
    void *arg);

/* ---- mutexes, rwlocks, condition variables ---- */

typedef enum { MUTEX_DEFAULT, MUTEX_SPIN } kmutex_type_t;
#define IPL_NONE 0
struct kmutex_hooks;
typedef struct kmutex {
	struct rumpuser_mtx *mtx;
	const struct kmutex_hooks *hooks;	/* NULL: none */
	bool defer_wakes;			/* mutex_defer_wakes */
} kmutex_t;
void mutex_init(kmutex_t *m, kmutex_type_t type, int ipl);
void mutex_destroy(kmutex_t *m);
void mutex_enter(kmutex_t *m);
int mutex_tryenter(kmutex_t *m);	/* 1 when taken */
void mutex_exit(kmutex_t *m);
bool mutex_owned(kmutex_t *m);		/* the calling lwp holds it */

/*
 * Lock hooks, for a component that defers work while a thread holds some
 * of its locks and runs it when the thread lets go of the last one (the
 * network stack runs a peer stack's input only once the sending thread
 * holds no stack lock, see docs/net.md).  Attach a table with
 * mutex_sethooks before the mutex is shared.  mh_enter runs in the calling
 * thread after the mutex is taken (also by mutex_tryenter); mh_exit after
 * it is released, and may then take locks and run the deferred work.
 * Condition variables waited on with such a mutex must be adaptive
 * (cv_init_adaptive), whose waits release it through mutex_exit.
 */
struct kmutex_hooks {
	void (*mh_enter)(kmutex_t *m);
	void (*mh_exit)(kmutex_t *m);
};
void mutex_sethooks(kmutex_t *m, const struct kmutex_hooks *h);
/*
 * mutex_defer_wakes - wakeups of adaptive condition variables that a
 * thread makes while it holds m (or any other such mutex) reach the host
 * only when it lets go of the last one, before m's mh_exit hook runs.  For
 * an interlock that every woken waiter must take next (a stack lock): woken
 * at once, a waiter on the same CPU would preempt the waker only to sleep
 * again on the mutex the waker still holds.  Set before m is shared.
 */
void mutex_defer_wakes(kmutex_t *m);

typedef enum { RW_READER, RW_WRITER } krw_t;
typedef struct krwlock {
	struct rumpuser_rw *rw;
} krwlock_t;
void rw_init(krwlock_t *rw);
void rw_destroy(krwlock_t *rw);
void rw_enter(krwlock_t *rw, krw_t op);
int rw_tryenter(krwlock_t *rw, krw_t op);	/* 1 when taken */
void rw_exit(krwlock_t *rw);
void rw_downgrade(krwlock_t *rw);
int rw_tryupgrade(krwlock_t *rw);
bool rw_write_held(krwlock_t *rw);
bool rw_lock_held(krwlock_t *rw);

typedef struct kcondvar {
	struct rumpuser_cv *cv;		/* not adaptive */
	uint32_t cv_gen;		/* adaptive: atomic, bumped by wakeups;
					 * blocked waiters sleep on it
					 * (hyp_word_wait) */
	unsigned cv_sleepers;		/* adaptive: atomic; blocked waiters */
	int cv_wakecpu;			/* adaptive: atomic; CPU of last wakeup */
	bool cv_adaptive;
} kcondvar_t;
void cv_init(kcondvar_t *cv, const char *wmesg);
/*
 * cv_init_adaptive - a condition variable whose waiters spin first: a
 * waiter releases the interlock (with mutex_exit, so the mutex's hooks
 * run) and watches for a wakeup for up to cv_spin_ns before it blocks in
 * the host, so a wakeup that comes within the budget costs no host call
 * on either side; cv_signal and cv_broadcast make a host call only when a
 * waiter blocks (and wake every waiter).  A thread does not spin when the
 * thread that last woke it ran on its own CPU (the waker would then wait
 * for the spinner's CPU).  For waits that are usually short (socket data, buffer
 * space) on a machine whose cores KRANK owns.  A wait on a mutex with
 * hooks must use one.
 */
void cv_init_adaptive(kcondvar_t *cv, const char *wmesg);
/*
 * cv_spin_ns - the spin budget of adaptive condition variables, in
 * nanoseconds; 0 turns spinning off.  Set at boot from the host
 * environment variable KRANK_SPIN_US (microseconds; default 50, and 0 on
 * a single CPU), and at run time with krs_spin_us.
 */
extern uint64_t cv_spin_ns;
/* kern_poll_ns - how long a socket wait polls the network before it
 * sleeps (kern_poll_set): KRANK_SPIN_US and krs_spin_us set it with
 * cv_spin_ns, but it stays 50 us on a single CPU. */
extern uint64_t kern_poll_ns;
/*
 * Run to completion.  kern_poll_set - the network's poll: fn receives
 * what waits on pollable ports (DPDK) in the calling thread and returns
 * the frames it handed up.  A thread with l_poll set (a socket wait)
 * spends the spin of an adaptive wait calling fn, when it holds no
 * mutex_defer_wakes mutex once the interlock is released, for up to
 * kern_poll_ns even where it would not spin otherwise: the wakeup it
 * waits for usually comes from the input it receives itself.
 * kern_poll_beat - the word such a thread bumps as it starts polling and
 * wakes (hyp_word_wake) when it stops to sleep: ports' receive threads
 * stand aside while it moves (hyp_pkt_rx_park).
 */
void kern_poll_set(int (*fn)(void));
const uint32_t *kern_poll_beat(void);
/*
 * kern_poll_forever - run to completion on dedicated cores
 * (KRANK_SPIN_US=forever at boot; docs/net.md): a poller spins until its
 * wakeup or deadline, never sleeping in the host; the clock thread spins
 * on the clock instead of sleeping and watches the pollers (kern_poll_watch):
 * when none polls and none started for KERN_POLL_WATCH_NS it ends their
 * beat as a poller going to sleep would, so ports' receive threads, which
 * then park on the beat without a timeout (hyp_pkt_rx_park_ns), take
 * their ports back.  The steady state makes no host call.
 */
extern bool kern_poll_forever;
#define KERN_POLL_WATCH_NS 10000000u	/* 10 ms, one TCP tick */
void kern_poll_watch(uint64_t now);
/*
 * mutex_enter_clock - mutex_enter for a callout that takes a lock its
 * pollers hold often (a stack's ns_lock): with kern_poll_forever the
 * clock thread, which has a core of its own, spins until it gets m
 * rather than sleep in the host; else mutex_enter.
 */
void mutex_enter_clock(kmutex_t *m);
/*
 * kern_poll_spin - the same outside a condvar: until done(arg), poll for
 * up to kern_poll_ns or the deadline (kern_uptime_ns; 0: none).  Returns
 * done(arg) at the end; at once when nothing is pollable, spinning is
 * off or the thread holds a mutex_defer_wakes mutex.
 */
bool kern_poll_spin(bool (*done)(void *), void *arg, uint64_t deadline);
void cv_destroy(kcondvar_t *cv);
void cv_wait(kcondvar_t *cv, kmutex_t *m);
/* cv_timedwait_ns - 0 when signalled, EWOULDBLOCK after ns nanoseconds. */
int cv_timedwait_ns(kcondvar_t *cv, kmutex_t *m, uint64_t ns);
void cv_signal(kcondvar_t *cv);
void cv_broadcast(kcondvar_t *cv);
bool cv_has_waiters(kcondvar_t *cv);

/* ---- time and randomness ---- */

struct timespec;
void getnanotime(struct timespec *ts);		/* wall clock */
void getnanouptime(struct timespec *ts);	/* monotonic since boot */
uint64_t kern_uptime_ns(void);
/* kpause_ns - sleep for ns nanoseconds of wall time (polling loops that
 * wait for another thread without a condition to wait on). */
void kpause_ns(uint64_t ns);

uint32_t cprng_fast32(void);			/* per-CPU xorshift, seeded */
uint64_t cprng_fast64(void);
int cprng_strong(void *buf, size_t len);	/* host randomness; 0 or errno */

/* ---- lwps, process contexts, credentials ---- */

struct proc;
struct filedesc;
struct vnode;

struct kauth_cred {
	uint32_t cr_uid;
	uint32_t cr_gid;
	uint32_t cr_ngroups;
	uint32_t cr_groups[16];
};
typedef const struct kauth_cred *kauth_cred_t;

/* An lwp is the kernel's view of one host thread (curlwp). */
struct lwp {
	struct proc *l_proc;		/* context; written only by its thread */
	unsigned l_cpu;			/* virtual CPU index */
	unsigned l_flags;
	char l_name[24];
	/* kthread bookkeeping, see kern_kthread.c */
	void *l_cookie;
	void (*l_func)(void *);
	void *l_arg;
	/* Network input and output deferred in this thread until it holds
	 * no stack lock (owned by rumpdrv/net/core/net_if.c; only this
	 * thread touches them). */
	unsigned l_nslocks;		/* stack locks held */
	bool l_nsdraining;
	unsigned l_nspend_head, l_nspend_n;
	void *l_nspend[16];		/* struct netstack *, a ring */
	int l_wakercpu;			/* CPU + 1 of the thread that last
					 * woke us from an adaptive condvar */
	/* Adaptive condvar wakeups held back while this thread holds a
	 * mutex_defer_wakes mutex (kern_lock.c; only this thread). */
	unsigned l_wdefer;		/* such mutexes held */
	unsigned l_wpend_n;
	const uint32_t *l_wpend[8];	/* cv_gen words to wake */
	unsigned l_poll;		/* this thread's adaptive waits may poll
					 * the network (kern_poll_set) */
};
#define LW_SYSTEM	0x1	/* kernel thread */
#define LW_AUTO		0x2	/* created implicitly for a foreign thread */

/*
 * struct proc - a process context.  p_lock protects p_cwd, p_root,
 * p_umask and p_cred; p_fd has its own lock.  p_refcnt (atomic) counts the
 * lwps inside and the creator's handle.
 */
struct proc {
	kmutex_t p_lock;
	unsigned p_refcnt;
	struct vnode *p_cwd;
	struct vnode *p_root;
	uint32_t p_umask;
	struct kauth_cred p_cred;
	struct filedesc *p_fd;
	int p_pid;
};

struct lwp *curlwp_get(void);	/* creates an LW_AUTO lwp if none */
#define curlwp (curlwp_get())
struct proc *curproc_get(void);
#define curproc (curproc_get())
extern struct proc proc0;
kauth_cred_t kauth_cred_get(void);	/* the calling context's credentials */

/*
 * Hooks the vfs component installs so that contexts can hold vnodes and
 * descriptor tables without kern depending on vfs.  Set once at vfs init.
 */
struct proc_vfs_hooks {
	int (*ph_fork)(struct proc *parent, struct proc *child);
	void (*ph_exit)(struct proc *p);
};
void proc_set_vfs_hooks(const struct proc_vfs_hooks *h);

/* ---- kernel threads ---- */

#define KTHREAD_MUSTJOIN 0x1
/*
 * kthread_create - run func(arg) on a new host thread with its own lwp in
 * proc0.  With KTHREAD_MUSTJOIN the lwp is returned and must be joined.
 */
int kthread_create(void (*func)(void *), void *arg, int flags,
    struct lwp **lp, const char *name);
void kthread_exit(int ecode) __attribute__((noreturn));
int kthread_join(struct lwp *l);

/* ---- callouts: timers run by the clock thread ---- */

extern const int hz;			/* 1000 ticks per second */
typedef void (*callout_func_t)(void *);
struct callout {
	struct callout *c_next;		/* callout_lock */
	uint64_t c_when;		/* uptime ns; callout_lock */
	callout_func_t c_func;
	void *c_arg;
	unsigned c_flags;		/* callout_lock */
};
typedef struct callout callout_t;
void callout_init(callout_t *c, unsigned flags);
void callout_destroy(callout_t *c);
void callout_setfunc(callout_t *c, callout_func_t fn, void *arg);
/* callout_reset - (re)arm to run fn(arg) after ticks (1 ms) from now. */
void callout_reset(callout_t *c, int ticks, callout_func_t fn, void *arg);
void callout_schedule(callout_t *c, int ticks);
void callout_schedule_ns(callout_t *c, uint64_t ns);
bool callout_stop(callout_t *c);	/* true if it was pending */
bool callout_halt(callout_t *c);	/* stop and wait for a running fn */
bool callout_pending(callout_t *c);

/* ---- workqueues ---- */

struct work {
	struct work *wk_next;
};
struct workqueue;
int workqueue_create(struct workqueue **wqp, const char *name,
    void (*fn)(struct work *, void *), void *arg, int pri, int ipl, int flags);
void workqueue_enqueue(struct workqueue *wq, struct work *wk, void *ci);
void workqueue_wait(struct workqueue *wq, struct work *wk);	/* until run */
void workqueue_destroy(struct workqueue *wq);

/* ---- read-mostly tables ---- */

/*
 * rmtable - a small read-mostly table of pointers keyed by string, for
 * registries such as file system types.  Readers run concurrently; writers
 * are serialised.  See docs/rumpdrv.md for why this is not liburcu.
 */
struct rmtable;
int rmtable_create(struct rmtable **tp);
void rmtable_destroy(struct rmtable *t);
int rmtable_insert(struct rmtable *t, const char *key, void *val);	/* EEXIST */
int rmtable_remove(struct rmtable *t, const char *key);			/* ENOENT */
/* rmtable_lookup - returns val or NULL; fn (if any) runs under the read side. */
void *rmtable_lookup(struct rmtable *t, const char *key,
    void (*fn)(void *val, void *arg), void *arg);

/* ---- components ---- */

/*
 * A component: a name, the names of the components it needs (commas), and
 * init/fini.  Register with RUMPDRV_COMPONENT in any one .c file of the
 * component; the entry lands in a linker set, so static archives must be
 * linked with --whole-archive.  init returns 0 or an errno; a failing init
 * stops the boot and finalises what was initialised.
 */
struct rumpdrv_component {
	const char *rc_name;
	const char *rc_needs;
	int (*rc_init)(void);
	void (*rc_fini)(void);
};
#define RUMPDRV_COMPONENT(ident, name, needs, init, fini)		\
	static const struct rumpdrv_component rumpdrv_comp_##ident = {	\
		name, needs, init, fini };				\
	static const struct rumpdrv_component *const			\
	    rumpdrv_compp_##ident					\
	    __attribute__((used, section("krank_components")))		\
	    = &rumpdrv_comp_##ident

/* component_boot - see krs_boot; err gets a one-line message on failure. */
int component_boot(const char *list, char *err, size_t errlen);
void component_shutdown(void);
bool component_is_up(const char *name);

/*
 * krs_fail - for the krs_ layer: store the host errno matching NetBSD
 * errno nberr (rumpuser_seterrno) and return -1.
 */
int krs_fail(int nberr);
/*
 * krs_errno_host - the host's value of NetBSD errno nberr, for values
 * handed back in memory (SO_ERROR) rather than as a return value; the same
 * table krs_fail uses, so the two cannot disagree.  EINVAL when unknown.
 */
int krs_errno_host(int nberr);

/* ---- host disks (kern_hostdisk.c) ---- */

/*
 * The host half of a disk driver (dev/blk) reaches the host's file or
 * block device only through these: kern is the one caller of rumpuser_*.
 * All return 0 or a positive NetBSD errno, as the hypercalls do.
 * hostdisk_info - size in bytes and RUMPUSER_FT_* type of path.
 * hostdisk_open - open path for block I/O (RUMPUSER_OPEN_* flags).
 * hostdisk_close - make the data durable and close (the host's error).
 * hostdisk_sync - RUMPUSER_SYNCFD_* on the whole file.
 * hostdisk_direct - O_DIRECT on or off; *alignp the alignment it needs
 *   (hyp_bio_direct).
 * hostdisk_bio - start a transfer (RUMPUSER_BIO_READ or _WRITE, maybe
 *   _SYNC) of len bytes at byte off; done(arg, bytes, error) runs once,
 *   maybe before hostdisk_bio returns (call it without locks done takes),
 *   else on a host thread that holds an lwp and a virtual CPU, so done
 *   may take kern mutexes, cv_broadcast and kmem_free (not sleep long).
 * hostdisk_bio_async - the same for a transfer nobody waits for yet
 *   (read-ahead): never done on the caller of a direct descriptor.
 */
typedef void (*hostdisk_done_fn)(void *arg, size_t bytes, int error);
int hostdisk_info(const char *path, uint64_t *sizep, int *typep);
int hostdisk_open(const char *path, int flags, int *fdp);
int hostdisk_close(int fd);
int hostdisk_sync(int fd, int flags);
int hostdisk_direct(int fd, int on, unsigned *alignp);
void hostdisk_bio(int fd, int op, void *data, size_t len, int64_t off,
    hostdisk_done_fn done, void *arg);
void hostdisk_bio_async(int fd, int op, void *data, size_t len, int64_t off,
    hostdisk_done_fn done, void *arg);

/* ---- string helpers (pure; no host calls) ---- */
size_t strlcpy_k(char *dst, const char *src, size_t size);

#endif /* RUMPDRV_KERN_H */
