/*
 * test_dpdk_params - the DPDK host refuses bad parameters (core ids out of
 * range or not this process's, memory sizes out of range or not numbers,
 * an unknown hugepage mode, an unknown KRANK_DPDK_* name, EAL arguments
 * the EAL rejects) with EINVAL and one line on stderr naming the parameter
 * and the reason, never a crash; memory asked before rumpuser_init is
 * ENOMEM; then, with good parameters, the host starts once.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <unistd.h>
#include <time.h>
#include <sys/wait.h>
#include <rte_memory.h>
#include "hyptest.h"

/* |a - b| in ms, of a rumpuser clock and a host clock. */
static double
clock_gap_ms(int rclk, clockid_t hclk)
{
	struct timespec h;
	int64_t s;
	long ns;

	rumpuser_clock_gettime(rclk, &s, &ns);
	clock_gettime(hclk, &h);
	double d = ((double)h.tv_sec - (double)s) * 1e3 +
	    ((double)h.tv_nsec - (double)ns) / 1e6;
	return d < 0 ? -d : d;
}

static const char *const params[] = {
	"KRANK_DPDK_CORES", "KRANK_DPDK_MEM", "KRANK_DPDK_HUGE",
	"KRANK_DPDK_EAL_ARGS", "KRANK_DPDK_EAL", "KRANK_DPDK_COREZ",
};

static void
clear_params(void)
{
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		unsetenv(params[i]);
}

/* Run init with stderr captured into msg; returns init's result. */
static int
init_capture(char *msg, size_t len)
{
	static const struct rumpuser_hyperup none;
	char path[] = "/tmp/krank-dpdk-params.XXXXXX";
	int fd = mkstemp(path), saved = dup(2), rv;

	unlink(path);
	fflush(stderr);
	dup2(fd, 2);
	rv = rumpuser_init(RUMPUSER_VERSION, &none);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(fd, msg, len - 1, 0);
	msg[n > 0 ? n : 0] = '\0';
	close(fd);
	return rv;
}

/* name=value gives EINVAL and one line naming name and containing why. */
static void
refused(const char *name, const char *value, const char *why)
{
	char msg[2048];

	clear_params();
	setenv(name, value, 1);
	int rv = init_capture(msg, sizeof(msg));
	char *nl = strchr(msg, '\n');
	CHECK(rv == 22 && strncmp(msg, "krank-hypercall-dpdk: ", 22) == 0 &&
	    strstr(msg, name) != NULL && strstr(msg, why) != NULL &&
	    nl != NULL && nl[1] == '\0', "%s=\"%.40s%s\" is refused with EINVAL: %.*s",
	    name, value, strlen(value) > 40 ? "..." : "",
	    nl ? (int)(nl - msg) : (int)strlen(msg), msg);
	clear_params();
}

/* In a child: EAL arguments the EAL rejects, then a second start. */
static int
bad_eal_args_child(void)
{
	char msg[4096];
	int null = open("/dev/null", O_WRONLY);

	dup2(null, 1);			/* the EAL prints its usage there */
	setenv("KRANK_DPDK_EAL_ARGS", "--no-such-eal-option", 1);
	int rv1 = init_capture(msg, sizeof(msg));
	int said = strstr(msg, "DPDK's EAL did not start") != NULL &&
	    strstr(msg, "--no-such-eal-option") != NULL;
	unsetenv("KRANK_DPDK_EAL_ARGS");
	int rv2 = init_capture(msg, sizeof(msg));
	int twice = strstr(msg, "cannot be started twice") != NULL;
	return (rv1 == 22 && said ? 0 : 1) | (rv2 == 22 && twice ? 0 : 2);
}

int
main(void)
{
	char big[2048], buf[64];
	cpu_set_t set;
	void *p = NULL;

	clear_params();
	fflush(stderr);
	int saved = dup(2), null = open("/dev/null", O_WRONLY);
	dup2(null, 2);
	int rv = rumpuser_malloc(64, 0, &p);
	dup2(saved, 2);
	CHECK(rv == 12, "malloc before rumpuser_init is ENOMEM, not a crash");

	/* A CPU this process may not use, if the machine has one. */
	sched_getaffinity(0, sizeof(set), &set);
	int notmine = -1;
	for (int c = 0; c < 128 && notmine < 0; c++)
		if (!CPU_ISSET(c, &set))
			notmine = c;
	refused("KRANK_DPDK_CORES", "999", "core 999 is not one this process may use");
	refused("KRANK_DPDK_CORES", "100000", "core 100000 is not one");
	if (notmine >= 0) {
		snprintf(buf, sizeof(buf), "%d", notmine);
		refused("KRANK_DPDK_CORES", buf, "is not one this process may use");
	}
	refused("KRANK_DPDK_CORES", "-1", "not a core list");
	refused("KRANK_DPDK_CORES", "1-0", "not a core list");
	refused("KRANK_DPDK_CORES", "0,,1", "not a core list");
	refused("KRANK_DPDK_CORES", "", "not a core list");
	refused("KRANK_DPDK_CORES", "0x1", "not a core list");
	refused("KRANK_DPDK_CORES", "99999999999999999999999", "not a core list");
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refused("KRANK_DPDK_CORES", big, "longer than");
	refused("KRANK_DPDK_MEM", "0", "out of range");
	refused("KRANK_DPDK_MEM", "15", "out of range");
	refused("KRANK_DPDK_MEM", "1000000000", "out of range");
	refused("KRANK_DPDK_MEM", "-64", "not a number");
	refused("KRANK_DPDK_MEM", "lots", "not a number");
	refused("KRANK_DPDK_MEM", "64M", "not a number");
	refused("KRANK_DPDK_HUGE", "maybe", "not auto, yes or no");
	refused("KRANK_DPDK_COREZ", "1", "unknown parameter");
	refused("KRANK_DPDK_EAL", "--no-huge", "POSIX host");

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(bad_eal_args_child());
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && (WEXITSTATUS(st) & 1) == 0,
	    "EAL arguments the EAL rejects (KRANK_DPDK_EAL_ARGS) give EINVAL "
	    "and a line with the EAL command line");
	CHECK(WIFEXITED(st) && (WEXITSTATUS(st) & 2) == 0,
	    "after a failed EAL start, a second rumpuser_init says the EAL "
	    "cannot be started twice (EINVAL), no crash");

	/* Good parameters: the host starts (or the harness skips with 77). */
	clear_params();
	setenv("KRANK_DPDK_MEM", "64", 1);
	setenv("KRANK_DPDK_HUGE", "no", 1);
	cpu_set_t before, after;
	sched_getaffinity(0, sizeof(before), &before);
	ht_init(1);
	sched_getaffinity(0, sizeof(after), &after);
	CHECK(CPU_EQUAL(&before, &after), "the thread that started the EAL keeps "
	    "its %d CPUs (the EAL's pinning to the main lcore is undone: kernel "
	    "threads inherit it)", CPU_COUNT(&before));
	CHECK(rumpuser_malloc(1 << 20, 4096, &p) == 0 &&
	    ((uintptr_t)p & 4095) == 0, "after init, 1 MiB page-aligned from DPDK's heap");
	if (p != NULL)
		memset(p, 0x5a, 1 << 20);
	CHECK(p != NULL && rte_mem_virt2memseg_list(p) != NULL,
	    "rumpuser_malloc's memory lies in DPDK's memory segments");
	rumpuser_free(p, 1 << 20);
	/* The TSC clocks start at the host's and keep its pace. */
	double gm = clock_gap_ms(RUMPUSER_CLOCK_ABSMONO, CLOCK_MONOTONIC);
	double gw = clock_gap_ms(RUMPUSER_CLOCK_RELWALL, CLOCK_REALTIME);
	CHECK(gm < 50 && gw < 50, "TSC clocks agree with CLOCK_MONOTONIC "
	    "(%.3f ms apart) and CLOCK_REALTIME (%.3f ms)", gm, gw);
	void *q = NULL;
	CHECK(rumpuser_malloc(128 << 20, 0, &q) == 12,
	    "128 MiB from a 64 MiB heap (KRANK_DPDK_MEM=64) is ENOMEM");
	static const struct rumpuser_hyperup none;
	CHECK(rumpuser_init(RUMPUSER_VERSION, &none) == 0,
	    "a second rumpuser_init succeeds without restarting the EAL");
	ht_init(1);
	clear_params();
	return ht_done("test_dpdk_params");
}
