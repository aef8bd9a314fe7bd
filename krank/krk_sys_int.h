/*
 * krk_sys_int.h - shared by the syscall shims (krk_sys*.c): the bracket
 * around a kernel call, errno delivery into the isolate, pointer checks.
 * The isolate's errno numbering is Linux's, which is also what krs_*
 * leave in the host's errno, so values pass through unchanged.
 */
#ifndef KRK_SYS_INT_H
#define KRK_SYS_INT_H

#include <errno.h>
#include <stdint.h>

#include <krank/kld.h>
#include <krank/krs.h>
#include "net/krs_net.h"

#include "krk.h"

/* The shims are reached only through the export table (by address,
 * from krk_sys_exports.def), never called by name from C, so they have
 * no prototypes in a header. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

/* Addresses below this are never valid buffers (the first page and
 * anything an isolate forms from NULL plus a small offset). */
#define KRK_SYS_LOW_ADDR 65536u
/* User space ends here on x86-64 (47-bit addresses); above is the host
 * kernel's or non-canonical. */
#define KRK_SYS_HIGH_ADDR 0x800000000000ull

/* Slice of a blocking wait between two checks for a pending kill. */
#define KRK_SYS_SLICE_MS 50

static inline int
krk_sys_fail(int e)
{
	*kld_libc_errno_location() = e;
	return -1;
}

/*
 * Around KRANK code that takes locks on an isolate thread but is not a
 * system call (the heap arena under malloc and free, the ownership check
 * of a buffer): a stop signal then only marks the thread, which unwinds
 * at the end, as at krk_sys_exit.  Unwound inside, it would keep the lock
 * (the arena's: its thread-cache destructor then waits for it forever,
 * and the supervisor's join with it).  Nests, and counts no system call.
 */
static inline int
krk_sys_nokill_begin(void)
{
	struct krk_thread *t = krk_self;
	int was;

	if (t == NULL)
		return 1;
	was = t->in_kernel;
	t->in_kernel = 1;
	atomic_signal_fence(memory_order_seq_cst);
	return was;
}

static inline void
krk_sys_nokill_end(int was)
{
	struct krk_thread *t = krk_self;

	if (t == NULL || was)
		return;
	atomic_signal_fence(memory_order_seq_cst);
	t->in_kernel = 0;
	atomic_signal_fence(memory_order_seq_cst);
	if (t->kill_pending)
		krk_thread_unwind();
}

/* p .. p+n is not a buffer of the calling isolate's: NULL, the low pages,
 * outside user space, or outside the memory the isolate owns.  n == 0
 * accepts anything, as Linux does. */
static inline int
krk_sys_badbuf(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;

	if (n == 0)
		return 0;
	if (a < KRK_SYS_LOW_ADDR || n > KRK_SYS_HIGH_ADDR ||
	    a > KRK_SYS_HIGH_ADDR - n)
		return 1;
	/* Inside an isolate: only memory it owns (its object, heap, stacks),
	 * so that a stray pointer is EFAULT here and not a fault inside
	 * KRANK, which could not be contained. */
	int was = krk_sys_nokill_begin();
	bool ok = krk_self_range_ok(p, n);
	krk_sys_nokill_end(was);
	return !ok;
}

static inline int
krk_sys_badptr(const void *p)
{
	uintptr_t a = (uintptr_t)p;

	return a < KRK_SYS_LOW_ADDR || a >= KRK_SYS_HIGH_ADDR;
}

/* Run one krs_ call inside the bracket; on -1 the host errno it left
 * becomes the isolate's errno (read before krk_sys_exit, which may
 * unwind a killed thread). */
#define KRK_SYS_CALL(type, expr) __extension__ ({			\
	krk_sys_enter();						\
	type krk_rv_ = (expr);						\
	int krk_e_ = errno;						\
	krk_sys_exit();							\
	if (krk_rv_ == (type)-1)					\
		*kld_libc_errno_location() = krk_e_;			\
	krk_rv_;							\
})

/* Memory for isolate-visible objects (DIR streams): the isolate's heap,
 * or the host's when the caller is not an isolate thread (tests). */
void *krk_sys_mem_alloc(size_t n);
void krk_sys_mem_free(void *p);

/* Epoll descriptors (krk_sys_poll.c): numbers from KRK_EPOLL_FD_BASE. */
#define KRK_EPOLL_FD_BASE 0x40000000
#define KRK_EPOLL_MAX 1024
int krk_sys_epoll_close(int epfd);
void krk_sys_epoll_forget(int fd);

#endif
