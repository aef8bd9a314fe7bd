/*
 * bench_krq_direct.c - the null call of krank.proto by the direct path
 * (krq_call: the generated structures, no encoding), by the queue path
 * without rings (encode the Request, krq_dispatch: decode, call, encode,
 * then decode the Response, all in process, with krq_wire.c's envelopes
 * as libkrank and KRANK use them, and with protobuf-c's generic ones for
 * comparison), against Linux getppid(),
 * same process, thread and run, pinned to one CPU.  Issue 12's goal:
 * direct >= 20x faster than getppid.  Also fcntl(F_GETFD) of a tmpfs
 * file by krq_call, with the caller's context entered per call and held
 * (krq_enter), to show what a context switch costs.  Not in make check.
 *
 * Usage: bench_krq_direct [calls]   (default 2000000 per run)
 * Each figure is the median of 7 runs, in nanoseconds per call.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>

#include "krq_call.h"

#include "bench_point.h"
#include "../testclock.h"

#define RUNS 7

static long iters = 2000000;
static struct krq_caller C;
static Krank__Request nullreq, fcntlreq;
static Krank__Null nullarg = KRANK__NULL__INIT;
static Krank__Fcntl fcntlarg = KRANK__FCNTL__INIT;
static uint8_t reqbuf[64], respbuf[256];
static size_t reqlen;
static uint8_t arena[4096];
static size_t arena_used;

static long
direct_null(void)
{
	Krank__Response r;
	krank__response__init(&r);
	krq_call(&C, &nullreq, &r);
	return r.value;
}

static void *
bump(void *arg, size_t n)
{
	(void)arg;
	if (n > sizeof(arena) - arena_used)
		return NULL;
	void *p = arena + arena_used;
	arena_used += (n + 15) & ~(size_t)15;
	return p;
}

static void
nofree(void *arg, void *p)
{
	(void)arg;
	(void)p;
}

static long
queue_null(void)
{
	size_t rl;
	ProtobufCAllocator a = { .alloc = bump, .free = nofree };

	Krank__Response r;

	nullreq.tag++;
	if (krq_request_encode(&nullreq, reqbuf, sizeof(reqbuf), &reqlen) != 0 ||
	    krq_dispatch(&C, reqbuf, reqlen, respbuf, sizeof(respbuf), &rl) != 0)
		return -1;
	arena_used = 0;
	if (krq_response_decode(respbuf, rl, &a, &r) != 0)
		return -1;
	return r.tag == nullreq.tag ? r.value : -1;
}

/* The same with protobuf-c's generic pack and unpack of the envelopes
 * (what krq_wire.c replaces). */
static long
queue_null_generic(void)
{
	size_t rl;
	ProtobufCAllocator a = { .alloc = bump, .free = nofree };

	nullreq.tag++;
	reqlen = krank__request__pack(&nullreq, reqbuf);
	if (krq_dispatch(&C, reqbuf, reqlen, respbuf, sizeof(respbuf), &rl) != 0)
		return -1;
	arena_used = 0;
	Krank__Response *r = krank__response__unpack(&a, rl, respbuf);
	return r != NULL && r->tag == nullreq.tag ? r->value : -1;
}

static long
linux_getppid(void)
{
	return syscall(SYS_getppid) > 0;
}

static long
direct_fcntl(void)
{
	Krank__Response r;
	krank__response__init(&r);
	krq_call(&C, &fcntlreq, &r);
	return r.value == 0 && r.error == 0;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
measure(long (*volatile fn)(void), long expect)
{
	double v[RUNS];

	for (int r = 0; r < RUNS; r++) {
		long ok = 0;
		uint64_t t0 = now_ns();
		for (long i = 0; i < iters; i++)
			ok += fn() == expect;
		v[r] = (double)(now_ns() - t0) / (double)iters;
		if (ok != iters) {
			fprintf(stderr, "bench_krq_direct: %ld of %ld calls "
			    "failed\n", iters - ok, iters);
			exit(1);
		}
	}
	qsort(v, RUNS, sizeof(v[0]), cmpd);
	return v[RUNS / 2];
}

int
main(int argc, char **argv)
{
	char err[256];
	struct krs_ctx *ctx;

	if (argc > 1)
		iters = atol(argv[1]);
	if (iters <= 0)
		iters = 2000000;
	bench_machine_costs();
	int cpu = sched_getcpu();
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		fprintf(stderr, "bench_krq_direct: pinning to CPU %d: %s\n", cpu,
		    strerror(errno));
	if (krs_boot("vfs,tmpfs", err, sizeof(err)) != 0 ||
	    krs_mount("t", "/", "tmpfs", 0, NULL, 0) != 0 ||
	    krs_ctx_create(0, 0, &ctx) != 0) {
		fprintf(stderr, "bench_krq_direct: boot: %s\n", err);
		return 1;
	}
	C.ctx = ctx;
	krank__request__init(&nullreq);
	nullreq.call_case = KRANK__REQUEST__CALL_NULL;
	nullreq.null = &nullarg;
	nullarg.version = KRANK__VERSION__VERSION_CURRENT;

	if (krq_enter(&C) != 0 ||
	    krs_open("/bench", KRS_O_RDWR | KRS_O_CREAT, 0644) != 0) {
		fprintf(stderr, "bench_krq_direct: /bench: %s\n", strerror(errno));
		return 1;
	}
	krq_leave();
	krank__request__init(&fcntlreq);
	fcntlreq.call_case = KRANK__REQUEST__CALL_FCNTL;
	fcntlreq.fcntl = &fcntlarg;
	fcntlarg.fd = 0;
	fcntlarg.cmd = KRS_F_GETFD;

	printf("bench_krq_direct: krank.proto null call, direct and encoded, "
	    "vs Linux getppid; pinned to CPU %d\n", cpu);
	printf("%ld calls per run, median of %d runs, ns per call\n\n", iters,
	    RUNS);
	double d = measure(direct_null, 1);
	double q = measure(queue_null, 1);
	double g = measure(queue_null_generic, 1);
	double l = measure(linux_getppid, 1);
	double fe = measure(direct_fcntl, 1);
	krq_enter(&C);
	double fh = measure(direct_fcntl, 1);
	krq_leave();
	printf("%-58s %8.1f\n", "null call, direct (krq_call, no encoding)", d);
	printf("%-58s %8.1f\n", "null call, encode + krq_dispatch + decode", q);
	printf("%-58s %8.1f\n", "null call, the same with protobuf-c's generic "
	    "envelopes", g);
	printf("%-58s %8.1f\n", "Linux syscall(SYS_getppid)", l);
	printf("%-58s %8.1f\n", "fcntl(F_GETFD) by krq_call, context entered "
	    "per call", fe);
	printf("%-58s %8.1f\n", "fcntl(F_GETFD) by krq_call, context held "
	    "(krq_enter)", fh);
	printf("\nratio getppid / direct null:  %6.1fx (goal >= 20x)\n", l / d);
	bench_point("krq.direct_null", d, l, "ns", 1, 20, "krank.proto null "
	    "call by krq_call (no encoding) vs Linux getppid, one thread");
	bench_point("krq.encoded_null", q, l, "ns", 1, 0, "krank.proto null "
	    "call encoded + krq_dispatch + decoded vs Linux getppid");
	printf("ratio getppid / encoded null: %6.1fx\n", l / q);
	printf("ratio encoded / direct null:  %6.1fx (the cost of the encoding)\n",
	    q / d);
	krs_ctx_destroy(ctx);
	krs_shutdown();
	return 0;
}
