/*
 * test_krk_isolate - isolates as KRANK runs them: exit status, a NULL
 * dereference and a stack overflow contained to their isolate (with the
 * fault address and symbol), a spinning isolate killed, restart by
 * policy with backoff, the heap limit, isolate threads on reused
 * workers.  The isolates are krank-cc-built
 * programs (tests/krank/iso/); argv[1] is the folder holding them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <krank/krs.h>

#include "krk.h"
#include "krk_worker.h"
#include "../testclock.h"

static const char *isodir;
static int failures;

#define CHECK(cond, ...) do { \
	if (cond) { printf("ok: "); printf(__VA_ARGS__); printf("\n"); } \
	else { printf("FAIL: "); printf(__VA_ARGS__); printf(" (%s:%d)\n", \
	    __FILE__, __LINE__); failures++; } } while (0)

static int
spawn(const char *name, const char *prog, char **argv, size_t argc,
    uint64_t heap, enum krk_restart restart)
{
	struct krk_isolate_cfg c;
	char path[512], err[512];
	int id = -1;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s.kx", isodir, prog);
	c.elf = path;
	c.argv = argv;
	c.argc = argc;
	c.core = -1;
	c.heap = heap;
	c.fds = 64;
	c.restart = restart;
	c.backoff_ns = 10000000ull;
	c.backoff_max_ns = 40000000ull;
	if (krk_isolate_spawn(&c, &id, err, sizeof(err)) != 0) {
		printf("FAIL: spawn %s: %s\n", name, err);
		failures++;
		return -1;
	}
	return id;
}

static void
test_exit_status(void)
{
	char *argv[] = { "exitcode", "7", NULL };
	struct krk_isolate_info in;
	int id = spawn("exit7", "exitcode", argv, 2, 4 << 20, KRK_RESTART_NEVER);
	int rv = krk_isolate_wait(id, 10000000000ull, &in);
	CHECK(rv == 0 && in.state == KRK_ISO_EXITED && in.status == 7,
	    "exit(7) ends the isolate as exited with status 7 (state %s, "
	    "status %d)", krk_iso_state_name(in.state), in.status);
	CHECK(krk_isolate_remove(id) == 0, "an ended isolate can be removed");
}

static void
test_fault_contained(void)
{
	struct krk_isolate_info in;
	int spin = spawn("spinner", "spin", NULL, 0, 4 << 20,
	    KRK_RESTART_NEVER);
	int crash = spawn("crasher", "crash", NULL, 0, 4 << 20,
	    KRK_RESTART_NEVER);
	int rv = krk_isolate_wait(crash, 10000000000ull, &in);
	CHECK(rv == 0 && in.state == KRK_ISO_FAULTED,
	    "a NULL dereference ends its isolate as faulted (state %s)",
	    krk_iso_state_name(in.state));
	CHECK(in.signo == 11 && in.fault_addr < 4096 &&
	    strcmp(in.fault_what, "NULL dereference") == 0,
	    "the fault is SIGSEGV at a NULL address (signal %d, address %#"
	    PRIxPTR ", %s)", in.signo, in.fault_addr, in.fault_what);
	CHECK(strncmp(in.fault_sym, "crash_here+", 11) == 0,
	    "the faulting instruction is named by its symbol (%s)",
	    in.fault_sym);
	krk_isolate_get(spin, &in);
	CHECK(in.state == KRK_ISO_RUNNING,
	    "another isolate keeps running after the fault (state %s)",
	    krk_iso_state_name(in.state));

	uint64_t t0 = now_ns();
	CHECK(krk_isolate_kill(spin) == 0, "kill of the spinning isolate");
	rv = krk_isolate_wait(spin, 5000000000ull, &in);
	uint64_t dt = now_ns() - t0;
	CHECK(rv == 0 && in.state == KRK_ISO_KILLED,
	    "an isolate spinning in its own code is killed (state %s, in "
	    "%.2f ms)", krk_iso_state_name(in.state), (double)dt / 1e6);
	krk_isolate_remove(spin);
	krk_isolate_remove(crash);
}

static void
test_stack_overflow(void)
{
	struct krk_isolate_info in;
	int id = spawn("deep", "stackov", NULL, 0, 4 << 20, KRK_RESTART_NEVER);
	int rv = krk_isolate_wait(id, 10000000000ull, &in);
	CHECK(rv == 0 && in.state == KRK_ISO_FAULTED &&
	    strncmp(in.fault_what, "stack overflow", 14) == 0,
	    "unbounded recursion hits the guard page and is reported as a "
	    "stack overflow (state %s, %s)", krk_iso_state_name(in.state),
	    in.fault_what);
	krk_isolate_remove(id);
}

static void
test_restart_policy(void)
{
	struct krk_isolate_info in;
	int id = spawn("phoenix", "crash", NULL, 0, 4 << 20,
	    KRK_RESTART_ON_FAILURE);
	uint64_t deadline = now_ns() + 10000000000ull;
	do {
		krk_isolate_get(id, &in);
		if (in.restarts >= 3)
			break;
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);	/* polling a condition, with a deadline */
	} while (now_ns() < deadline);
	CHECK(in.restarts >= 3, "restart on-failure restarts a faulting "
	    "isolate again and again (%u restarts)", in.restarts);
	CHECK(krk_isolate_kill(id) == 0 || 1, "kill stops the restarts");
	krk_isolate_wait(id, 5000000000ull, &in);
	unsigned r = in.restarts;
	struct timespec ts = { 0, 100000000 };
	nanosleep(&ts, NULL);
	krk_isolate_get(id, &in);
	CHECK(in.restarts == r && in.state != KRK_ISO_RUNNING,
	    "after a kill no restart follows (%u restarts, state %s)",
	    in.restarts, krk_iso_state_name(in.state));
	krk_isolate_remove(id);

	char *argv[] = { "exitcode", "0", NULL };
	id = spawn("fine", "exitcode", argv, 2, 4 << 20,
	    KRK_RESTART_ON_FAILURE);
	krk_isolate_wait(id, 10000000000ull, &in);
	nanosleep(&ts, NULL);
	krk_isolate_get(id, &in);
	CHECK(in.state == KRK_ISO_EXITED && in.restarts == 0,
	    "on-failure does not restart an isolate that exits with 0 "
	    "(state %s, %u restarts)", krk_iso_state_name(in.state),
	    in.restarts);
	krk_isolate_remove(id);
}

/* Isolate threads run on parked workers: reused, never hit by a stop
 * meant for an earlier isolate, not reused after a fault. */
static void
test_worker_pool(void)
{
	struct krk_isolate_info in;
	struct krk_worker_stats w0, w1;
	char *argv[] = { "exitcode", "7", NULL };
	int ok = 0;

	krk_worker_stats(&w0);
	for (int i = 0; i < 20; i++) {
		char name[32];
		snprintf(name, sizeof(name), "again%d", i);
		int id = spawn(name, "exitcode", argv, 2, 4 << 20,
		    KRK_RESTART_NEVER);
		if (krk_isolate_wait(id, 10000000000ull, &in) == 0 &&
		    in.state == KRK_ISO_EXITED && in.status == 7)
			ok++;
		krk_isolate_remove(id);
	}
	krk_worker_stats(&w1);
	CHECK(ok == 20 && w1.created - w0.created <= 3 && w1.parked >= 1,
	    "20 isolates one after another run on reused workers (%d exited "
	    "with 7, %u threads created, %u parked)", ok,
	    w1.created - w0.created, w1.parked);

	/* Stops are queued to the worker of the killed isolate (and sent
	 * again after the grace period): the next isolates on it live. */
	int spin = spawn("spin2", "spin", NULL, 0, 4 << 20, KRK_RESTART_NEVER);
	struct timespec ts = { 0, 20000000 };
	nanosleep(&ts, NULL);		/* let it spin in its own code */
	krk_isolate_kill(spin);
	krk_isolate_wait(spin, 5000000000ull, &in);
	CHECK(in.state == KRK_ISO_KILLED, "the spinner is killed (%s)",
	    krk_iso_state_name(in.state));
	krk_isolate_remove(spin);
	ok = 0;
	for (int i = 0; i < 5; i++) {
		char name[32];
		snprintf(name, sizeof(name), "after%d", i);
		int id = spawn(name, "exitcode", argv, 2, 4 << 20,
		    KRK_RESTART_NEVER);
		if (krk_isolate_wait(id, 10000000000ull, &in) == 0 &&
		    in.state == KRK_ISO_EXITED && in.status == 7)
			ok++;
		krk_isolate_remove(id);
	}
	CHECK(ok == 5, "isolates on the killed one's worker exit normally "
	    "(%d of 5 with status 7): a stale stop does not reach them", ok);

	krk_worker_stats(&w0);
	int crash = spawn("crash2", "crash", NULL, 0, 4 << 20,
	    KRK_RESTART_NEVER);
	krk_isolate_wait(crash, 10000000000ull, &in);
	krk_isolate_remove(crash);
	uint64_t deadline = now_ns() + 5000000000ull;
	do {
		krk_worker_stats(&w1);
		nanosleep(&ts, NULL);	/* polling a condition, with a deadline */
	} while (w1.retired == w0.retired && now_ns() < deadline);
	CHECK(in.state == KRK_ISO_FAULTED && w1.retired == w0.retired + 1,
	    "the worker of a faulted isolate is not reused (%u retired)",
	    w1.retired - w0.retired);
}

static void
test_fd_limit(void)
{
	struct krk_isolate_info in;
	char *argv[] = { "fdfill", "64", NULL };
	int id = spawn("fdhog", "fdfill", argv, 2, 4 << 20, KRK_RESTART_NEVER);
	int rv = krk_isolate_wait(id, 20000000000ull, &in);
	CHECK(rv == 0 && in.state == KRK_ISO_EXITED && in.status == 0,
	    "open beyond the descriptor limit (64) fails with EMFILE at "
	    "descriptor 64 (state %s, status %d)",
	    krk_iso_state_name(in.state), in.status);
	krk_isolate_remove(id);
}

static void
test_heap_limit(void)
{
	struct krk_isolate_info in;
	int id = spawn("hog", "heapfill", NULL, 0, 8 << 20, KRK_RESTART_NEVER);
	int rv = krk_isolate_wait(id, 20000000000ull, &in);
	CHECK(rv == 0 && in.state == KRK_ISO_EXITED && in.status == 0,
	    "malloc beyond the heap limit fails with ENOMEM inside the "
	    "isolate, which goes on (state %s, status %d)",
	    krk_iso_state_name(in.state), in.status);
	krk_isolate_remove(id);
}

int
main(int argc, char **argv)
{
	char err[256];

	if (argc != 2) {
		fprintf(stderr, "usage: test_krk_isolate ISOLATE_DIR\n");
		return 2;
	}
	isodir = argv[1];
	krk_log_init(1 << 20, 0);
	if (krs_boot("vfs,tmpfs", err, sizeof(err)) != 0 ||
	    krs_mount("tmpfs", "/", "tmpfs", 0, NULL, 0) != 0) {
		printf("FAIL: boot: %s\n", err);
		return 1;
	}
	if (krk_isolates_init() != 0) {
		printf("FAIL: krk_isolates_init\n");
		return 1;
	}
	test_exit_status();
	test_fault_contained();
	test_stack_overflow();
	test_restart_policy();
	test_heap_limit();
	test_fd_limit();
	test_worker_pool();
	krk_isolates_fini();
	krs_shutdown();
	printf("%s: %d failures\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
