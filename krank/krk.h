/*
 * krk.h - the KRANK process's internal interfaces, shared by its files:
 * the node (deployment, booted resources), isolates and their threads,
 * the heap arenas, the syscall shims, the log ring and the control socket.
 * Functions return 0 or a positive errno value (NetBSD kernel style)
 * unless they say otherwise; the host's errno is never the result.
 */
#ifndef KRK_H
#define KRK_H

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "krk_config.h"

struct krs_ctx;
struct kld_object;
struct kld_symtab;

/* ---- log ring (krk_log.c) --------------------------------------------- */
enum krk_loglevel { KRK_LOG_ERR = 0, KRK_LOG_WARN, KRK_LOG_INFO,
	KRK_LOG_DEBUG };
/* krk_log - one line "krank: ..." to stderr (when level <= the verbosity)
 * and into the log ring that `krankctl log` reads.  Thread-safe; never
 * blocks on the control socket. */
void krk_log(enum krk_loglevel lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int krk_log_init(size_t ringbytes, int verbosity);
/* krk_log_read - copy the ring's text (oldest first) into a malloc'd,
 * NUL-terminated buffer; NULL on ENOMEM. */
char *krk_log_read(size_t *lenp);

/* ---- heap arenas (krk_heap.c) ----------------------------------------- */
/*
 * One arena per isolate: a reservation of `limit` bytes of address space
 * (from hugetlbfs-backed memory when `huge`), carved by a size-class
 * allocator.  Allocation beyond the limit fails (NULL, ENOMEM).  Every
 * function is thread-safe for one arena (the isolate's threads share it).
 * krk_heap_destroy releases all of it at once, whatever is still
 * allocated; a small arena (at most 64 pages ever handed out) is zeroed
 * and kept for the next create of the same limit instead (up to 4 are
 * kept), which makes a spawn cheaper.
 */
struct krk_heap;
int krk_heap_create(uint64_t limit, bool huge, struct krk_heap **hp);
void krk_heap_destroy(struct krk_heap *h);
void *krk_heap_alloc(struct krk_heap *h, size_t n);
void *krk_heap_calloc(struct krk_heap *h, size_t nmemb, size_t n);
void *krk_heap_realloc(struct krk_heap *h, void *p, size_t n);
void *krk_heap_memalign(struct krk_heap *h, size_t align, size_t n);
void krk_heap_free(struct krk_heap *h, void *p);
size_t krk_heap_usable(struct krk_heap *h, void *p);
/* krk_heap_contains - p lies inside memory this arena handed out. */
bool krk_heap_contains(const struct krk_heap *h, const void *p, size_t n);
struct krk_heap_stats {
	uint64_t limit;			/* the budget */
	uint64_t in_use;		/* bytes handed out, with rounding */
	uint64_t peak;
	uint64_t mapped;		/* bytes of address space touched */
	uint64_t failures;		/* allocations refused at the limit */
	bool huge;			/* backed by huge pages */
	uint64_t bad_frees;		/* free/realloc pointers refused */
};
void krk_heap_stats(const struct krk_heap *h, struct krk_heap_stats *st);
/*
 * Details of the arena functions (krk_heap.c):
 * - The limit bounds the bytes handed out (in_use, counted after rounding
 *   to the size class or to pages).  The arena reserves limit + limit/8 +
 *   256 KiB of address space (rounded up to 2 MiB when huge) for
 *   fragmentation; mapped never exceeds that.  Descriptors (96 bytes per
 *   4 KiB page, committed with the pages) live outside, in normal pages.
 * - Each thread caches freed small blocks (per size class up to 32, and
 *   up to 16 KiB or one block) for the arena it last used; they go back
 *   when it uses another arena, exits, or meets the limit, and destroy
 *   drops them.  Cached blocks are not in in_use but still count against
 *   the limit for other threads, and peak includes them.
 * - A NULL from alloc, calloc (also on nmemb * n overflow), realloc (p
 *   untouched) and memalign always means ENOMEM; the host errno is left
 *   alone and the caller sets the isolate's.  failures counts each one.
 *   alloc(0) returns a unique 16-byte block; realloc(p, 0) frees p and
 *   returns NULL; realloc(NULL, n) is alloc(n) (all as glibc).  memalign
 *   rounds an align that is not a power of two up to one (glibc memalign);
 *   posix_memalign's EINVAL checks are the caller's.  Every block is 16-byte
 *   aligned; memalign takes any power of two up to the arena's size.
 * - krk_heap_create: EINVAL (limit 0 or > 8 TiB), ENOMEM (no address
 *   space).  huge asks for MAP_HUGETLB 2 MiB pages; when they cannot be had
 *   the arena uses 4 KiB pages, stats.huge is false and krk_heap_note says
 *   why.  It never fails for want of huge pages.
 * - free and realloc check the pointer against the arena's own records:
 *   one outside the arena (EFAULT), not the start of a live block (EINVAL),
 *   or already free (EALREADY) is refused without touching the arena,
 *   counted in bad_frees and reported to the fault hook (below); realloc
 *   then returns NULL.  usable returns 0 for such a pointer (no report).
 *   krk_heap_contains is true when [p, p+n) lies inside one live block.
 * - Locking: a free of a cached class, and an allocation the thread's
 *   cache holds, take no lock (one atomic operation on the block's claim
 *   bit); the rest take the arena's mutex.  Commit of more pages (mprotect,
 *   once per 256 KiB or 2 MiB) is the only host call after create, besides
 *   one calloc per thread for its cache.  A thread unwound (siglongjmp)
 *   inside an arena call may leave the arena locked or its cache torn:
 *   call these inside krk_sys_enter/exit so kills wait for the return.
 */
/* krk_heap_fault_fn - told of a pointer free or realloc refused: op is
 * "free" or "realloc", err EFAULT/EINVAL/EALREADY, why a phrase for a log
 * line.  Called without the arena's lock held; it may end the isolate.
 * Without a hook the first eight are printed on stderr. */
typedef void krk_heap_fault_fn(void *arg, const char *op, const void *p,
    int err, const char *why);
void krk_heap_set_fault(struct krk_heap *h, krk_heap_fault_fn *fn, void *arg);
/* krk_heap_note - how the arena is backed, and why not by huge pages when
 * they were asked for ("4 KiB pages: ... not available (...)"). */
const char *krk_heap_note(const struct krk_heap *h);

/* ---- the isolate memory pool (krk_pool.c) ----------------------------- */
/*
 * krk_pool_init - set size bytes (memory.isolate_pool, rounded up to
 * 16 KiB) aside and fault them in (the first 512 KiB now, the rest in a
 * thread; only present memory is handed out), with transparent huge
 * pages advised when huge; from then on krank-ld places isolate objects there
 * (kld_set_mem), zeroes them when they are unloaded and reuses them.  An
 * object that does not fit gets fresh pages and counts a fallback.  size
 * 0: no pool (0).  EBUSY (already set up), EINVAL (size not 0 and not
 * 64 KiB..1 GiB), ENOMEM; without a pool KRANK runs as before.  Call
 * before the first isolate starts.  krk_pool_fini - give the region back
 * once no object lives in it (else it stays).  krk_pool_note - one line
 * for the boot report: the size and the page kind, or why it is off.
 */
int krk_pool_init(uint64_t size, bool huge);
void krk_pool_fini(void);
/* krk_pool_defer_fill - with true, before krk_pool_init: fault in only
 * the first 512 KiB at init, the rest once krk_pool_fill is called (krank
 * calls it after ready, so boot does not share its core with the
 * filler).  krk_pool_fill - start faulting in the rest (in a thread;
 * without one, in the caller); no-op when done or under way. */
void krk_pool_defer_fill(bool defer);
/* krk_pool_sync_hint - before krk_pool_init: the isolates started at
 * boot are nobjects files of bytes in all; with it, init faults in only
 * what they need (twice their runs, at most 512 KiB), not 512 KiB. */
void krk_pool_sync_hint(uint64_t bytes, unsigned nobjects);
void krk_pool_fill(void);
/* krk_pool_use - later loads take pool memory (true, the default after
 * init) or fresh pages (false); objects already loaded go back to where
 * they came from.  For benchmarks and tests; call between loads. */
void krk_pool_use(bool on);
const char *krk_pool_note(void);
struct krk_pool_stats {
	uint64_t size;			/* bytes set aside (0: no pool) */
	uint64_t ready;			/* ... faulted in so far (the first
					 * 512 KiB by init, the rest by a
					 * thread it starts) */
	uint64_t in_use, peak;		/* bytes held by loaded objects */
	uint64_t takes;			/* objects placed in the pool */
	uint64_t returns;		/* ... given back, zeroed */
	uint64_t fallbacks;		/* objects that got fresh pages */
	uint64_t lost;			/* bytes not reusable (mprotect failed) */
	bool thp;			/* transparent huge pages advised */
};
void krk_pool_stats(struct krk_pool_stats *st);

/* ---- isolates (krk_isolate.c) ----------------------------------------- */
enum krk_iso_state {
	KRK_ISO_STARTING = 0,
	KRK_ISO_RUNNING,
	KRK_ISO_EXITED,			/* exit status in status */
	KRK_ISO_FAULTED,		/* signal, fault address, symbol */
	KRK_ISO_KILLED,
	KRK_ISO_FAILED,			/* could not be loaded */
	KRK_ISO_BACKOFF,		/* waiting to be restarted */
};
const char *krk_iso_state_name(enum krk_iso_state s);

struct krk_thread;

struct krk_isolate_info {
	int id;				/* stable across restarts */
	char name[KRK_NAME_MAX];
	char elf[256];
	enum krk_iso_state state;
	int core;
	int status;			/* exit status (EXITED) */
	int signo;			/* FAULTED: SIGSEGV ... */
	uintptr_t fault_addr;		/* FAULTED: si_addr */
	uintptr_t fault_pc;		/* FAULTED: instruction pointer */
	char fault_sym[96];		/* "main+0x12" or "?" */
	char fault_what[64];		/* "NULL dereference", "stack overflow" */
	unsigned restarts;
	unsigned nthreads;
	uint64_t cpu_ns;		/* CPU time of its threads, summed */
	uint64_t syscalls;		/* system calls made, all threads */
	uint64_t heap_in_use, heap_limit;
	unsigned fds_open, fds_limit;
	uint64_t started_ns;		/* CLOCK_MONOTONIC of the last start */
};

/*
 * krk_isolate_spawn - load cfg->elf with krank-ld, give it a context
 * (descriptor table, cwd, root, credentials), a heap arena, and one thread
 * pinned to its core that runs main(argc, argv, envp).  Returns 0 and the
 * isolate's id, or an errno value with a one-line reason in err.  The
 * configuration is copied.
 */
int krk_isolate_spawn(const struct krk_isolate_cfg *cfg, int *idp,
    char *err, size_t errlen);
/* krk_isolate_kill - end a running isolate: its threads are stopped
 * (within 100 ms even when they spin in their own code), its descriptors
 * closed, its memory freed.  No restart follows a kill.  ESRCH. */
int krk_isolate_kill(int id);
/* krk_isolate_wait - wait until the isolate is no longer starting or
 * running, up to timeout_ns (UINT64_MAX: no limit).  ESRCH, ETIMEDOUT. */
int krk_isolate_wait(int id, uint64_t timeout_ns,
    struct krk_isolate_info *info);
/* krk_isolate_restart - kill (if running) and start again now, in the
 * caller's thread: returns once the isolate runs again (0) or its start
 * failed (the errno value; state failed). */
int krk_isolate_restart(int id);
/* krk_isolate_restart_now - the same, with a one-line reason in err when
 * it fails: ESRCH, ETIMEDOUT (its threads did not stop), EBUSY (another
 * caller is starting or stopping it), or the start's error. */
int krk_isolate_restart_now(int id, char *err, size_t errlen);
/* krk_isolate_remove - forget an isolate that has ended. EBUSY, ESRCH. */
int krk_isolate_remove(int id);
/* krk_isolate_find - id by name; ESRCH. */
int krk_isolate_find(const char *name, int *idp);
/* krk_isolate_list - snapshot of every isolate (malloc'd array). */
int krk_isolate_list(struct krk_isolate_info **infop, size_t *np);
int krk_isolate_get(int id, struct krk_isolate_info *info);
/* krk_isolate_new_id - take the next isolate id without an isolate (for
 * a foreign isolate, krk_foreign.h), so ids never collide. */
int krk_isolate_new_id(void);
/* krk_isolates_init/fini - the signal handlers, the restart thread. */
int krk_isolates_init(void);
void krk_isolates_fini(void);
/*
 * krk_isolates_defer_supervisor - before krk_isolates_init: start the
 * supervisor (ends, restarts, parked workers) only at
 * krk_isolates_supervisor_start, which krank's boot calls after "ready":
 * an isolate that ends before then is finished and restarted from that
 * moment.  krk_isolates_supervisor_start: 0 (also when running), or
 * pthread_create's error.
 */
void krk_isolates_defer_supervisor(void);
int krk_isolates_supervisor_start(void);

/*
 * The calling thread's isolate side.  Every isolate thread has a
 * struct krk_thread in thread-local krk_self; KRANK's own threads have
 * NULL.  The syscall shims bracket each call with krk_sys_enter and
 * krk_sys_exit: a kill that arrives inside a call is deferred to its exit
 * (a thread is never unwound while it holds kernel locks).
 */
struct krk_iso;				/* internal to krk_isolate.c */
struct krk_thread {
	struct krk_iso *iso;
	volatile sig_atomic_t in_kernel;
	volatile sig_atomic_t kill_pending;
	uint64_t nsyscalls;
	sigjmp_buf exit_jmp;		/* the thread's entry trampoline */
};
extern __thread struct krk_thread *krk_self;

void krk_thread_unwind(void) __attribute__((noreturn));

static inline void
krk_sys_enter(void)
{
	struct krk_thread *t = krk_self;
	if (t != NULL) {
		t->in_kernel = 1;
		t->nsyscalls++;
		atomic_signal_fence(memory_order_seq_cst);
	}
}

static inline void
krk_sys_exit(void)
{
	struct krk_thread *t = krk_self;
	if (t != NULL) {
		atomic_signal_fence(memory_order_seq_cst);
		t->in_kernel = 0;
		atomic_signal_fence(memory_order_seq_cst);
		if (t->kill_pending)
			krk_thread_unwind();
	}
}

/* The isolate the caller belongs to: heap, limits, its exit. */
struct krk_heap *krk_self_heap(void);
/* krk_self_id - the isolate's id (its getpid); 0 outside isolates. */
int krk_self_id(void);
/* krk_self_range_ok - [p, p+n) lies in memory the calling isolate owns
 * (its object, heap, or a stack of one of its threads); true outside
 * isolates.  The shims check buffers with it so that a bad pointer is
 * EFAULT, not a fault inside KRANK, which could not be contained. */
bool krk_self_range_ok(const void *p, size_t n);
/* Console: an isolate's descriptors 1 and 2 start as KRANK's console
 * (its log, each line prefixed with the isolate's name) until the isolate
 * closes or replaces them (krk_self_console_drop from close/dup2).
 * krk_self_console - fd still is the console.  krk_console_write -
 * len bytes to it; returns len. */
bool krk_self_console(int fd);
void krk_self_console_drop(int fd);
long krk_console_write(int fd, const void *buf, size_t len);
/* krk_self_environ - its environment (NULL-terminated, owned by the
 * isolate, read by getenv).  Outside an isolate: NULL. */
char **krk_self_environ(void);
unsigned krk_self_fd_limit(void);
/* krk_self_exit - exit(status) from an isolate thread: ends the whole
 * isolate with that status.  Never returns. */
void krk_self_exit(int status) __attribute__((noreturn));
/* Isolate threads (pthread_create inside an isolate): a thread of the
 * caller's isolate on its core, with a guarded stack.  The handle must be
 * the new thread's struct krk_thread (its krk_self): the shims' pthread_self
 * returns krk_self, and pthread_equal(pthread_self(), t) must hold. */
int krk_self_thread_create(void *(*fn)(void *), void *arg, void **handlep);
int krk_self_thread_join(void *handle, void **retp);
/* krk_self_thread_detach - the thread's resources go when it ends; it can
 * no longer be joined (pthread_detach).  EINVAL when already detached or
 * joined. */
int krk_self_thread_detach(void *handle);
/* krk_self_thread_handle - the caller's handle (pthread_self). */
void *krk_self_thread_handle(void);
void krk_self_thread_exit(void *ret) __attribute__((noreturn));

/* ---- the syscall shims (krk_sys*.c) ------------------------------------ */
/* krk_sys_exports - add the isolate-visible system-call names (open,
 * read, socket, poll, epoll_*, pthread_*, clock_gettime ...) to tab. */
int krk_sys_exports(struct kld_symtab *tab);
/* krk_sys_libc_hooks - the isolate libc's host hooks (malloc, free,
 * realloc on the caller's heap arena or, outside an isolate, the host's;
 * exit to krk_self_exit).  write is left as the caller set it. */
struct kld_libc_host;
void krk_sys_libc_hooks(struct kld_libc_host *h);
/* krk_sys_release - free what the shims keep for an isolate that ended
 * (its epoll instances).  Call after its threads are gone. */
void krk_sys_release(const struct krk_iso *iso);

/* ---- the node (krk_boot.c) ------------------------------------------- */
struct krk_node {
	struct krk_config *cfg;
	uint64_t boot_ns;		/* time from start to ready */
	bool cores_isolated;		/* cpuset partition took */
	char cores_note[512];		/* why not, when not */
	bool mem_locked;
	bool huge;			/* huge pages in use */
	uint64_t huge_heap;		/* bytes of the huge-page heap */
	uint64_t huge_want;		/* bytes it should have had */
	char cgroup[256];		/* our cpuset partition, if any */
};
extern struct krk_node krk_node;
/* When the krank process started (CLOCK_MONOTONIC, ns; set by the krank
 * command before main), or 0: "time to ready" is counted from it, else
 * from krk_run's start. */
extern uint64_t krk_start_ns;

/* krk_run - `krank run`: boot the node for cfg, print the boot report and
 * "ready", serve until SIGTERM/SIGINT, tear down.  Returns the exit
 * status.  verbosity: 0 errors, 1 +warnings, 2 +info, 3 +debug. */
int krk_run(struct krk_config *cfg, int verbosity);
/* krk_queues_register - serve krank.proto to processes that attach over
 * the control socket, with cfg's queues settings (krk_queues.c; only in
 * the krank command).  Call before krk_run. */
void krk_queues_register(const struct krk_config *cfg);
/* krk_check_components - cfg's component list against the linked-in
 * registry (krs_boot_check): boot order, or "FILE:LINE:COL: components:
 * why" in err.  0 or an errno value. */
int krk_check_components(const struct krk_config *cfg, char *order,
    size_t orderlen, char *err, size_t errlen);

/* ---- control socket (krk_ctl.c) --------------------------------------- */
int krk_ctl_start(const char *path, const char *group, char *err,
    size_t errlen);
void krk_ctl_stop(void);
/*
 * krk_ctl_defer_accept - before krk_ctl_start: bind and listen then, but
 * start the acceptor thread only at krk_ctl_accept_start (krank's boot does it
 * after "ready", which a thread start would delay; a client that
 * connects before waits in the listen backlog).  krk_ctl_accept_start: 0, or
 * pthread_create's error; a no-op once the acceptor runs.
 */
void krk_ctl_defer_accept(void);
int krk_ctl_accept_start(void);

#endif
