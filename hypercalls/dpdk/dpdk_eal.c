/*
 * dpdk_eal.c - how the DPDK host starts: its parameters (KRANK_DPDK_*,
 * read with rumpuser_getparam like every host parameter), checked once
 * here, and DPDK's EAL started from them in rumpuser_init.  Memory comes
 * from hugepages when a hugetlbfs with enough free pages is mounted, from
 * ordinary pages (--no-huge) otherwise or when asked; no PCI scan, no
 * telemetry, EAL logging at error level only.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sysinfo.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include "rumpuser_int.h"
#include "dpdk_int.h"

#define DPDK_MEM_MIN 16			/* MiB: DPDK's own tables need ~10 */
#define DPDK_MEM_DEFAULT 256
#define DPDK_NARGS 64

extern char **environ;

static const char *const dpdk_params[] = {
	"KRANK_DPDK_CORES",	/* EAL cores (-l): "2", "2-3", "0,2"; default
				 * the first CPU this process may use */
	"KRANK_DPDK_MEM",	/* MiB of DPDK heap (-m); default 256 */
	"KRANK_DPDK_HUGE",	/* auto (default), yes, no (--no-huge) */
	"KRANK_DPDK_EAL_ARGS",	/* more EAL arguments, space-separated,
				 * e.g. --vdev=net_ring0 */
};

static pthread_mutex_t eal_mtx = PTHREAD_MUTEX_INITIALIZER;
static int eal_state;		/* guarded by eal_mtx: 0 not tried, 1 up, or
				 * the NetBSD errno of the failed start */
static int eal_up;		/* 1 once up; read without the lock */
static int eal_tried;		/* guarded by eal_mtx: rte_eal_init called */

/* The argument vector stays allocated: the EAL keeps pointers into it. */
static char *eal_argv[DPDK_NARGS + 1];
static char eal_strs[4][64];
static char *eal_extra;

#define DPDK_ERR(...) fprintf(stderr, "krank-hypercall-dpdk: " __VA_ARGS__)

/* A parameter's value: 0, ENOENT when unset, EINVAL when too long. */
static int
param(const char *name, char *buf, size_t len)
{
	int rv = rumpuser_getparam(name, buf, len);
	if (rv == NB_ERANGE) {
		DPDK_ERR("%s: value longer than %zu bytes\n", name, len - 1);
		return NB_EINVAL;
	}
	return rv;
}

/* A KRANK_DPDK_* name in the environment that no one reads is a typo. */
static int
check_unknown_params(void)
{
	for (char **e = environ; e != NULL && *e != NULL; e++) {
		if (strncmp(*e, "KRANK_DPDK_", 11) != 0)
			continue;
		size_t n = strcspn(*e, "=");
		int known = 0;
		for (size_t i = 0; i < sizeof(dpdk_params) / sizeof(dpdk_params[0]); i++)
			known |= strlen(dpdk_params[i]) == n &&
			    strncmp(dpdk_params[i], *e, n) == 0;
		if (known)
			continue;
		if (n == 14 && strncmp(*e, "KRANK_DPDK_EAL", n) == 0)
			DPDK_ERR("KRANK_DPDK_EAL is the EAL command line of the "
			    "POSIX host's dpdk: packet backend; this host builds "
			    "its own: set KRANK_DPDK_CORES, _MEM, _HUGE and "
			    "_EAL_ARGS instead\n");
		else
			DPDK_ERR("unknown parameter %.*s (known: KRANK_DPDK_CORES, "
			    "KRANK_DPDK_MEM, KRANK_DPDK_HUGE, KRANK_DPDK_EAL_ARGS)\n",
			    (int)(n > 64 ? 64 : n), *e);
		return NB_EINVAL;
	}
	return 0;
}

/* "0-1,3" for the CPUs in set, into buf. */
static void
cpuset_str(const cpu_set_t *set, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE && o < len; c++) {
		if (!CPU_ISSET(c, set))
			continue;
		int e = c;
		while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, set))
			e++;
		o += (size_t)snprintf(buf + o, len - o, "%s%d", o ? "," : "", c);
		if (e > c && o < len)
			o += (size_t)snprintf(buf + o, len - o, "-%d", e);
		c = e;
	}
}

static int
parse_cores(const cpu_set_t *allowed, char *out, size_t outlen)
{
	char val[64], allowed_s[128];
	int rv = param("KRANK_DPDK_CORES", val, sizeof(val));

	cpuset_str(allowed, allowed_s, sizeof(allowed_s));
	if (rv == NB_ENOENT) {
		for (int c = 0; c < CPU_SETSIZE; c++) {
			if (CPU_ISSET(c, allowed) && c < RTE_MAX_LCORE) {
				snprintf(out, outlen, "%d", c);
				return 0;
			}
		}
		DPDK_ERR("no CPU below %d among this process's CPUs (%s) for "
		    "the EAL: set KRANK_DPDK_CORES\n", RTE_MAX_LCORE, allowed_s);
		return NB_EINVAL;
	}
	if (rv != 0)
		return rv;
	/* A list of N or N-M, each CPU one this process may use. */
	const char *s = val;
	int n = 0;
	for (;;) {
		char *end;
		long lo, hi;
		errno = 0;
		lo = strtol(s, &end, 10);
		if (end == s || errno != 0 || lo < 0 || *s == '-' || *s == '+')
			goto syntax;
		hi = lo;
		if (*end == '-') {
			s = end + 1;
			hi = strtol(s, &end, 10);
			if (end == s || errno != 0 || *s == '-' || *s == '+' || hi < lo)
				goto syntax;
		}
		for (long c = lo; c <= hi; c++, n++) {
			if (c >= RTE_MAX_LCORE || c >= CPU_SETSIZE ||
			    !CPU_ISSET(c, allowed)) {
				DPDK_ERR("KRANK_DPDK_CORES=\"%s\": core %ld is not "
				    "one this process may use (allowed: %s)\n",
				    val, c, allowed_s);
				return NB_EINVAL;
			}
		}
		if (*end == '\0')
			break;
		if (*end != ',')
			goto syntax;
		s = end + 1;
	}
	snprintf(out, outlen, "%s", val);
	return n > 0 ? 0 : NB_EINVAL;
syntax:
	DPDK_ERR("KRANK_DPDK_CORES=\"%s\": not a core list (as \"2\", "
	    "\"2-3\" or \"0,2\"; allowed: %s)\n", val, allowed_s);
	return NB_EINVAL;
}

static int
parse_mem(long *mib)
{
	char val[32];
	struct sysinfo si;
	long max = 1L << 24;		/* 16 TiB when sysinfo fails */
	int rv = param("KRANK_DPDK_MEM", val, sizeof(val));

	if (sysinfo(&si) == 0)
		max = (long)((unsigned long long)si.totalram * si.mem_unit >> 20);
	if (rv == NB_ENOENT) {
		*mib = DPDK_MEM_DEFAULT < max ? DPDK_MEM_DEFAULT : max;
		return 0;
	}
	if (rv != 0)
		return rv;
	char *end;
	errno = 0;
	long v = strtol(val, &end, 10);
	if (end == val || *end != '\0' || errno != 0 || val[0] == '-' ||
	    val[0] == '+') {
		DPDK_ERR("KRANK_DPDK_MEM=\"%s\": not a number of MiB\n", val);
		return NB_EINVAL;
	}
	if (v < DPDK_MEM_MIN || v > max) {
		DPDK_ERR("KRANK_DPDK_MEM=%s: out of range (%d to %ld MiB, the "
		    "machine's memory)\n", val, DPDK_MEM_MIN, max);
		return NB_EINVAL;
	}
	*mib = v;
	return 0;
}

/* Free hugepage memory in MiB of a mounted hugetlbfs, 0 if none. */
static long
huge_free_mib(void)
{
	char line[256];
	long nfree = 0, kb = 0;
	int mounted = 0;
	FILE *f = fopen("/proc/mounts", "r");

	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			mounted |= strstr(line, " hugetlbfs ") != NULL;
		fclose(f);
	}
	if (!mounted || (f = fopen("/proc/meminfo", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "HugePages_Free: %ld", &nfree);
		sscanf(line, "Hugepagesize: %ld kB", &kb);
	}
	fclose(f);
	return nfree * kb / 1024;
}

/* 1 for hugepages, 0 for --no-huge, or -NetBSD errno. */
static int
parse_huge(long mib)
{
	char val[16];
	int rv = param("KRANK_DPDK_HUGE", val, sizeof(val));

	if (rv == NB_ENOENT)
		snprintf(val, sizeof(val), "auto");
	else if (rv != 0)
		return -rv;
	if (strcmp(val, "no") == 0)
		return 0;
	if (strcmp(val, "auto") != 0 && strcmp(val, "yes") != 0) {
		DPDK_ERR("KRANK_DPDK_HUGE=\"%s\": not auto, yes or no\n", val);
		return -NB_EINVAL;
	}
	long have = huge_free_mib();
	if (have >= mib)
		return 1;
	if (strcmp(val, "yes") == 0) {
		DPDK_ERR("KRANK_DPDK_HUGE=yes: %ld MiB of free hugepages in a "
		    "mounted hugetlbfs, %ld MiB asked (KRANK_DPDK_MEM)\n", have, mib);
		return -NB_ENXIO;
	}
	return 0;
}

/* Check every parameter and build the EAL's argument vector. */
static int
build_args(int *argcp)
{
	cpu_set_t allowed;
	char extra[1024];
	long mib;
	int argc = 0, huge, rv;

	if ((rv = check_unknown_params()) != 0)
		return rv;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		return rumpuser__errtrans(errno);
	if ((rv = parse_cores(&allowed, eal_strs[0], sizeof(eal_strs[0]))) != 0 ||
	    (rv = parse_mem(&mib)) != 0)
		return rv;
	if ((huge = parse_huge(mib)) < 0)
		return -huge;
	rv = param("KRANK_DPDK_EAL_ARGS", extra, sizeof(extra));
	if (rv != 0 && rv != NB_ENOENT)
		return rv;
	if (rv == NB_ENOENT)
		extra[0] = '\0';

	snprintf(eal_strs[1], sizeof(eal_strs[1]), "%ld", mib);
	eal_argv[argc++] = (char *)"krank-hypercall-dpdk";
	eal_argv[argc++] = (char *)"-l";
	eal_argv[argc++] = eal_strs[0];
	eal_argv[argc++] = (char *)"-m";
	eal_argv[argc++] = eal_strs[1];
	if (huge) {
		/* No hugepage files left behind, nothing shared. */
		eal_argv[argc++] = (char *)"--in-memory";
	} else {
		/* --in-memory is refused with --no-huge (DPDK 22.11). */
		eal_argv[argc++] = (char *)"--no-huge";
		eal_argv[argc++] = (char *)"--no-shconf";
	}
	eal_argv[argc++] = (char *)"--no-pci";
	eal_argv[argc++] = (char *)"--no-telemetry";
	eal_argv[argc++] = (char *)"--log-level=error";
	free(eal_extra);
	if ((eal_extra = strdup(extra)) == NULL)
		return NB_ENOMEM;
	char *save = NULL;
	for (char *t = strtok_r(eal_extra, " \t", &save); t != NULL;
	    t = strtok_r(NULL, " \t", &save)) {
		if (argc == DPDK_NARGS) {
			DPDK_ERR("KRANK_DPDK_EAL_ARGS: too many arguments (the "
			    "EAL takes %d in all)\n", DPDK_NARGS);
			return NB_EINVAL;
		}
		eal_argv[argc++] = t;
	}
	eal_argv[argc] = NULL;
	*argcp = argc;
	return 0;
}

static int
eal_start(void)
{
	char cmd[1200];
	pthread_t self = pthread_self();
	cpu_set_t aff;
	size_t o = 0;
	int argc = 0, rv;

	if ((rv = build_args(&argc)) != 0)
		return rv;
	for (int i = 0; i < argc && o < sizeof(cmd); i++)
		o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, "%s%s",
		    i ? " " : "", eal_argv[i]);
	int have_aff = pthread_getaffinity_np(self, sizeof(aff), &aff) == 0;
	/* The EAL's getopt must start at the first argument. */
	optind = 1;
	eal_tried = 1;
	if (rte_eal_init(argc, eal_argv) < 0) {
		int e = rte_errno;
		if (e == EALREADY) {
			/* The application started the EAL itself: use it. */
			return 0;
		}
		DPDK_ERR("DPDK's EAL did not start (%s): %s\n", cmd,
		    rte_strerror(e));
		/* EINVAL: its arguments; anything else: this machine. */
		return e == EINVAL ? NB_EINVAL : NB_ENXIO;
	}
	/*
	 * The EAL pinned this thread to the main lcore's CPU.  Threads are
	 * not bound to lcores yet (threads made by rumpuser_thread_create
	 * would all inherit the one CPU), so the caller keeps its CPUs.
	 */
	if (have_aff)
		(void)pthread_setaffinity_np(self, sizeof(aff), &aff);
	return 0;
}

int
rumpuser__dpdk_init(void)
{
	int rv;

	pthread_mutex_lock(&eal_mtx);
	if (eal_state == 1) {
		rv = 0;
	} else if (eal_state != 0) {
		DPDK_ERR("DPDK's EAL failed to start earlier in this process "
		    "and cannot be started twice\n");
		rv = eal_state;
	} else {
		rv = eal_start();
		if (rv == 0 && (rv = rumpuser__dpdk_clock_init()) != 0)
			DPDK_ERR("DPDK does not know the TSC's rate: no clock\n");
		/* Bad parameters may be corrected; a tried EAL is final. */
		if (eal_tried)
			eal_state = rv == 0 ? 1 : rv;
		__atomic_store_n(&eal_up, eal_state == 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&eal_mtx);
	return rv;
}

int
rumpuser__dpdk_up(void)
{
	return __atomic_load_n(&eal_up, __ATOMIC_ACQUIRE);
}

int
rumpuser__dpdk_lcore_cpu(int idx)
{
	unsigned n = 0, lc;

	if (!eal_up || idx < 0)
		return -1;
	RTE_LCORE_FOREACH(lc)
		n++;
	if (n == 0)
		return -1;
	unsigned want = (unsigned)idx % n, i = 0;
	RTE_LCORE_FOREACH(lc) {
		if (i++ == want)
			return (int)rte_lcore_to_cpu_id((int)lc);
	}
	return -1;
}

static __thread int thread_registered;

void
rumpuser__dpdk_thread_enter(void)
{
	/* Best effort: the EAL has RTE_MAX_LCORE ids; a thread beyond them
	 * runs without one (rte_lcore_id() is LCORE_ID_ANY, as for any
	 * unregistered thread). */
	if (eal_up && rte_thread_register() == 0)
		thread_registered = 1;
}

void
rumpuser__dpdk_thread_leave(void)
{
	if (thread_registered) {
		thread_registered = 0;
		rte_thread_unregister();
	}
}
