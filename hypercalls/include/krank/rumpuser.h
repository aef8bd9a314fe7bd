/*
 * rumpuser.h - the rumpuser(3) hypercall interface, version 17, as KRANK's
 * hypercall layer provides it.  Names, types, constants and semantics are
 * those of NetBSD's interface so that unmodified rump kernels link against
 * libkrank-hypercall.  All int-returning calls return 0 or a positive
 * NetBSD errno value.  Written for KRANK from the ABI's documentation.
 */
#ifndef KRANK_RUMPUSER_H
#define KRANK_RUMPUSER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RUMPUSER_VERSION 17

struct lwp;
struct modinfo;
struct rump_component;

/* Upcalls from the hypervisor into the rump kernel (168 bytes on LP64). */
struct rumpuser_hyperup {
	void (*hyp_schedule)(void);
	void (*hyp_unschedule)(void);
	void (*hyp_backend_unschedule)(int, int *, void *);
	void (*hyp_backend_schedule)(int, void *);
	void (*hyp_lwproc_switch)(struct lwp *);
	void (*hyp_lwproc_release)(void);
	int (*hyp_lwproc_rfork)(void *, int, const char *);
	int (*hyp_lwproc_newlwp)(pid_t);
	struct lwp *(*hyp_lwproc_curlwp)(void);
	int (*hyp_syscall)(int, void *, long *);
	void (*hyp_lwpexit)(void);
	void (*hyp_execnotify)(const char *);
	pid_t (*hyp_getpid)(void);
	void *hyp__extra[8];
};

/*
 * rumpuser_init - first hypercall.  version must be RUMPUSER_VERSION; the
 * upcall table is copied.  Returns 0, or EINVAL (version mismatch, NULL
 * table).
 */
int rumpuser_init(int version, const struct rumpuser_hyperup *hyp);

/* Parameters: "_RUMPUSER_NCPU", "_RUMPUSER_HOSTNAME", or an env variable. */
#define RUMPUSER_PARAM_NCPU "_RUMPUSER_NCPU"
#define RUMPUSER_PARAM_HOSTNAME "_RUMPUSER_HOSTNAME"
int rumpuser_getparam(const char *name, void *buf, size_t buflen);

void rumpuser_putchar(int ch);
void rumpuser_dprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define RUMPUSER_PID_SELF ((int64_t)-1)
int rumpuser_kill(int64_t pid, int sig);

#define RUMPUSER_PANIC (-1)
void rumpuser_exit(int how) __attribute__((noreturn));
void rumpuser_seterrno(int err);

int rumpuser_daemonize_begin(void);
int rumpuser_daemonize_done(int error);

/* Memory. */
int rumpuser_malloc(size_t len, int alignment, void **memp);
void rumpuser_free(void *mem, size_t len);
int rumpuser_anonmmap(void *prefaddr, size_t size, int alignbit, int exec,
    void **memp);
void rumpuser_unmap(void *addr, size_t len);

/* Host files. */
#define RUMPUSER_OPEN_RDONLY 0x0000
#define RUMPUSER_OPEN_WRONLY 0x0001
#define RUMPUSER_OPEN_RDWR 0x0002
#define RUMPUSER_OPEN_ACCMODE 0x0003
#define RUMPUSER_OPEN_CREATE 0x0004
#define RUMPUSER_OPEN_EXCL 0x0008
#define RUMPUSER_OPEN_BIO 0x0010
int rumpuser_open(const char *path, int ruflags, int *fdp);
int rumpuser_close(int fd);

#define RUMPUSER_FT_OTHER 0
#define RUMPUSER_FT_DIR 1
#define RUMPUSER_FT_REG 2
#define RUMPUSER_FT_BLK 3
#define RUMPUSER_FT_CHR 4
int rumpuser_getfileinfo(const char *path, uint64_t *sizep, int *typep);

#define RUMPUSER_BIO_READ 0x01
#define RUMPUSER_BIO_WRITE 0x02
#define RUMPUSER_BIO_SYNC 0x04
typedef void (*rump_biodone_fn)(void *arg, size_t done, int error);
void rumpuser_bio(int fd, int op, void *data, size_t dlen, int64_t off,
    rump_biodone_fn biodone, void *bioarg);

struct rumpuser_iovec {
	void *iov_base;
	size_t iov_len;
};
#define RUMPUSER_IOV_NOSEEK -1
int rumpuser_iovread(int fd, struct rumpuser_iovec *iov, size_t iovlen,
    int64_t off, size_t *retp);
int rumpuser_iovwrite(int fd, const struct rumpuser_iovec *iov, size_t iovlen,
    int64_t off, size_t *retp);

#define RUMPUSER_SYNCFD_READ 0x01
#define RUMPUSER_SYNCFD_WRITE 0x02
#define RUMPUSER_SYNCFD_BOTH (RUMPUSER_SYNCFD_READ | RUMPUSER_SYNCFD_WRITE)
#define RUMPUSER_SYNCFD_BARRIER 0x04
#define RUMPUSER_SYNCFD_SYNC 0x08
int rumpuser_syncfd(int fd, int flags, uint64_t start, uint64_t len);

/* Clocks. */
enum rumpclock { RUMPUSER_CLOCK_RELWALL, RUMPUSER_CLOCK_ABSMONO };
int rumpuser_clock_gettime(int clk, int64_t *sec, long *nsec);
int rumpuser_clock_sleep(int clk, int64_t sec, long nsec);

/* Randomness. */
#define RUMPUSER_RANDOM_HARD 0x01
#define RUMPUSER_RANDOM_NOWAIT 0x02
int rumpuser_getrandom(void *buf, size_t buflen, int flags, size_t *retp);

/* Threads. */
int rumpuser_thread_create(void *(*f)(void *), void *arg, const char *name,
    int joinable, int pri, int cpuidx, void **cookie);
void rumpuser_thread_exit(void) __attribute__((noreturn));
int rumpuser_thread_join(void *cookie);

enum rumplwpop {
	RUMPUSER_LWP_CREATE, RUMPUSER_LWP_DESTROY,
	RUMPUSER_LWP_SET, RUMPUSER_LWP_CLEAR
};
void rumpuser_curlwpop(int op, struct lwp *l);
struct lwp *rumpuser_curlwp(void);

/* Mutexes. */
struct rumpuser_mtx;
#define RUMPUSER_MTX_SPIN 0x01
#define RUMPUSER_MTX_KMUTEX 0x02
void rumpuser_mutex_init(struct rumpuser_mtx **mtxp, int flags);
void rumpuser_mutex_enter(struct rumpuser_mtx *mtx);
void rumpuser_mutex_enter_nowrap(struct rumpuser_mtx *mtx);
int rumpuser_mutex_tryenter(struct rumpuser_mtx *mtx);
void rumpuser_mutex_exit(struct rumpuser_mtx *mtx);
void rumpuser_mutex_destroy(struct rumpuser_mtx *mtx);
void rumpuser_mutex_owner(struct rumpuser_mtx *mtx, struct lwp **lp);

/* Reader/writer locks. */
struct rumpuser_rw;
enum rumprwlock { RUMPUSER_RW_READER, RUMPUSER_RW_WRITER };
void rumpuser_rw_init(struct rumpuser_rw **rwp);
void rumpuser_rw_enter(int enum_rumprwlock, struct rumpuser_rw *rw);
int rumpuser_rw_tryenter(int enum_rumprwlock, struct rumpuser_rw *rw);
int rumpuser_rw_tryupgrade(struct rumpuser_rw *rw);
void rumpuser_rw_downgrade(struct rumpuser_rw *rw);
void rumpuser_rw_exit(struct rumpuser_rw *rw);
void rumpuser_rw_destroy(struct rumpuser_rw *rw);
void rumpuser_rw_held(int enum_rumprwlock, struct rumpuser_rw *rw, int *heldp);

/* Condition variables. */
struct rumpuser_cv;
void rumpuser_cv_init(struct rumpuser_cv **cvp);
void rumpuser_cv_destroy(struct rumpuser_cv *cv);
void rumpuser_cv_wait(struct rumpuser_cv *cv, struct rumpuser_mtx *mtx);
void rumpuser_cv_wait_nowrap(struct rumpuser_cv *cv, struct rumpuser_mtx *mtx);
int rumpuser_cv_timedwait(struct rumpuser_cv *cv, struct rumpuser_mtx *mtx,
    int64_t sec, int64_t nsec);
void rumpuser_cv_signal(struct rumpuser_cv *cv);
void rumpuser_cv_broadcast(struct rumpuser_cv *cv);
void rumpuser_cv_has_waiters(struct rumpuser_cv *cv, int *waitersp);

/* Dynamic linking: hand the kernel symbols, modules and components. */
typedef void (*rump_modinit_fn)(const struct modinfo *const *, size_t);
typedef int (*rump_symload_fn)(void *, uint64_t, char *, uint64_t);
typedef void (*rump_compload_fn)(const struct rump_component *);
void rumpuser_dl_bootstrap(rump_modinit_fn domodinit, rump_symload_fn dosymload,
    rump_compload_fn docompload);

/* Syscall proxy (optional part of the interface; KRANK reports ENOSYS). */
int rumpuser_sp_init(const char *url, const char *ostype,
    const char *osrelease, const char *machine);
int rumpuser_sp_copyin(void *client, const void *raddr, void *laddr, size_t len);
int rumpuser_sp_copyinstr(void *client, const void *raddr, void *laddr, size_t *lenp);
int rumpuser_sp_copyout(void *client, const void *laddr, void *raddr, size_t len);
int rumpuser_sp_copyoutstr(void *client, const void *laddr, void *raddr, size_t *lenp);
int rumpuser_sp_anonmmap(void *client, size_t len, void **addrp);
int rumpuser_sp_raise(void *client, int sig);
void rumpuser_sp_fini(void *client);

#ifdef __cplusplus
}
#endif
#endif /* KRANK_RUMPUSER_H */
