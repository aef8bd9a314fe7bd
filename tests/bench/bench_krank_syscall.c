/*
 * bench_krank_syscall.c - a system call by direct call into KRANK's
 * syscall layer (krs_*) against the same request as a Linux system call,
 * same process, same thread, pinned to one CPU (issue 11: null call goal
 * >= 20x, 64-byte read >= 4x).  KRANK's calls are also timed inside the
 * isolate shims' krk_sys_enter/krk_sys_exit bracket, which every isolate
 * call will pay.  Not part of make check.
 *
 * Usage: bench_krank_syscall [calls]   (default 1000000 per run)
 * Each figure is the median of 7 runs, in nanoseconds per call.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>

#include "krk.h"
#include "bench_krs_io.h"
#include "bench_point.h"
#include "../testclock.h"

#define RUNS	7
#define FILESZ	(64 * 1024)
#define RDSZ	64

/* What krk_isolate.c will provide; here one isolate thread's record so
 * krk_sys_enter/exit take their isolate path. */
__thread struct krk_thread *krk_self;
void
krk_thread_unwind(void)
{
	abort();
}

static long iters = 1000000;
static int kfd, lfd;
static char buf[RDSZ];
static volatile long sink;

static long k_fcntl(long i) { (void)i; return krs_fcntl(kfd, KRS_F_GETFD); }
static long k_fcntl_shim(long i)
{
	(void)i;
	krk_sys_enter();
	long r = krs_fcntl(kfd, KRS_F_GETFD);
	krk_sys_exit();
	return r;
}
static long k_pread(long i)
{
	return krs_pread(kfd, buf, RDSZ, (int64_t)(i % (FILESZ / RDSZ)) * RDSZ);
}
static long k_pread_shim(long i)
{
	krk_sys_enter();
	long r = krs_pread(kfd, buf, RDSZ, (int64_t)(i % (FILESZ / RDSZ)) * RDSZ);
	krk_sys_exit();
	return r;
}
static long l_getppid(long i) { (void)i; return syscall(SYS_getppid); }
static long l_fcntl(long i) { (void)i; return fcntl(lfd, F_GETFD); }
static long l_pread(long i)
{
	return pread(lfd, buf, RDSZ, (off_t)(i % (FILESZ / RDSZ)) * RDSZ);
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* measure - median ns per call of fn; each result must be expect. */
static double
measure(long (*volatile fn)(long), long expect)
{
	double v[RUNS];

	for (int r = 0; r < RUNS; r++) {
		long acc = 0;
		uint64_t t0 = now_ns();
		for (long i = 0; i < iters; i++)
			acc += fn(i) == expect;
		v[r] = (double)(now_ns() - t0) / (double)iters;
		if (acc != iters) {
			fprintf(stderr, "bench: %ld of %ld calls did not return "
			    "%ld\n", iters - acc, iters, expect);
			exit(1);
		}
		sink += acc;
	}
	qsort(v, RUNS, sizeof(v[0]), cmpd);
	return v[RUNS / 2];
}

static void
row(const char *what, const char *krank, double k, const char *linux_,
    double l)
{
	printf("%-10s %-48s %8.1f\n%-10s %-48s %8.1f   ratio %6.1fx\n",
	    what, krank, k, "", linux_, l, l / k);
}

int
main(int argc, char **argv)
{
	char lpath[64];
	static struct krk_thread self;

	if (argc > 1)
		iters = atol(argv[1]);
	if (iters <= 0)
		iters = 1000000;
	bench_machine_costs();
	int cpu = sched_getcpu();
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		fprintf(stderr, "bench: pinning to CPU %d: %s\n", cpu,
		    strerror(errno));
	if (bench_krs_tmpfs_boot() != 0)
		return 1;
	kfd = krs_open("/bench", KRS_O_RDWR | KRS_O_CREAT, 0644);
	snprintf(lpath, sizeof(lpath), "/dev/shm/krank-bench-sys.%d",
	    (int)getpid());
	lfd = open(lpath, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (kfd < 0 || lfd < 0) {
		fprintf(stderr, "bench: cannot create /bench in KRANK's tmpfs "
		    "or %s\n", lpath);
		return 1;
	}
	unlink(lpath);
	static char fillbuf[FILESZ];
	memset(fillbuf, 'k', sizeof(fillbuf));
	if (krs_pwrite(kfd, fillbuf, FILESZ, 0) != FILESZ ||
	    pwrite(lfd, fillbuf, FILESZ, 0) != FILESZ) {
		fprintf(stderr, "bench: filling the files failed\n");
		return 1;
	}

	printf("bench_krank_syscall: KRANK system call by direct call vs Linux "
	    "system call, same process and thread, pinned to CPU %d\n", cpu);
	printf("%ld calls per run, median of %d runs, ns per call; ratio = "
	    "Linux ns / KRANK ns\n", iters, RUNS);
	/* A Linux system call costs far more under a hypervisor; say so. */
	struct utsname u;
	bool hv = false;
	char line[4096];
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "flags", 5) == 0) {
			hv = strstr(line, " hypervisor") != NULL;
			break;
		}
	if (f != NULL)
		fclose(f);
	uname(&u);
	printf("host: Linux %s, %s\n\n", u.release, hv ? "virtual machine "
	    "(cpuinfo flag hypervisor)" : "no hypervisor flag");
	double kf = measure(k_fcntl, 0), lg = measure(l_getppid, getppid());
	double lf = measure(l_fcntl, 0);
	krk_self = &self;
	double kfs = measure(k_fcntl_shim, 0);
	krk_self = NULL;
	row("null call", "KRANK krs_fcntl(fd, F_GETFD), tmpfs file", kf,
	    "Linux syscall(SYS_getppid)", lg);
	bench_point("sys.null", kf, lg, "ns", 1, 20, "null call: KRANK "
	    "krs_fcntl(F_GETFD) by direct call vs Linux getppid, one thread");
	row("", "KRANK krs_fcntl(F_GETFD) in krk_sys_enter/exit", kfs,
	    "Linux syscall(SYS_getppid)", lg);
	row("", "KRANK krs_fcntl(fd, F_GETFD), tmpfs file", kf,
	    "Linux fcntl(fd, F_GETFD), /dev/shm file", lf);

	double kp = measure(k_pread, RDSZ), lp = measure(l_pread, RDSZ);
	krk_self = &self;
	double kps = measure(k_pread_shim, RDSZ);
	krk_self = NULL;
	row("64 B read", "KRANK krs_pread(fd, 64 B), tmpfs, warm", kp,
	    "Linux pread(fd, 64 B), /dev/shm file, warm", lp);
	bench_point("sys.pread64", kp, lp, "ns", 1, 4, "64 B pread: KRANK "
	    "tmpfs by direct call vs Linux /dev/shm, warm, one thread");
	row("", "KRANK krs_pread(64 B) in krk_sys_enter/exit", kps,
	    "Linux pread(fd, 64 B), /dev/shm file, warm", lp);
	printf("\ngoals (issue 11): null call >= 20x, 64 B read >= 4x; "
	    "offsets cycle through a %d KiB file\n", FILESZ / 1024);
	close(lfd);
	krs_close(kfd);
	krs_shutdown();
	return 0;
}
