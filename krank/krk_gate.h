/*
 * krk_gate.h - hardened isolate threads (internal to krank/, between
 * krk_isolate.c, krk_sys_mem.c and krk_gate.c).  A hardened thread runs
 * under a seccomp filter that lets through only futex and what unwinding
 * needs; every KRANK call it makes (the system-call exports and the libc's
 * host hooks) is carried out by a gate server, an unfiltered KRANK thread
 * of its own, woken through one futex word.  Code that finds a host
 * system-call instruction, or the host libc through a leaked pointer,
 * gets SIGSYS and its isolate ends.
 */
#ifndef KRK_GATE_H
#define KRK_GATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <krank/kld.h>
#include <krank/krs.h>

#include "krk.h"

/*
 * One hardened thread's gate.  state is the futex word both sides wait
 * on; the call fields belong to the thread while state is IDLE and to the
 * server while it is CALL.
 */
struct krk_gate {
	_Atomic uint32_t state;		/* KRK_GATE_* */
	unsigned idx;			/* what to run (krk_gate.c's table) */
	long a[6];
	long ret;
	int err;			/* the isolate's errno, in and out */
	bool unwound;			/* the call ended the thread */
	bool fini;			/* ... after the isolate's finalisers */
	struct krk_thread *t;		/* the isolate thread it serves */
	struct krs_ctx *ctx;
	pthread_t server;
};

/*
 * krk_gate_begin - on a new isolate thread t, before any isolate code:
 * start its gate server (pinned to core, -1: anywhere) and seal the
 * calling thread with the seccomp filter (which lets it send KRANK's stop
 * signal stopsig, and no other).  Irreversible: the worker must
 * end after this job.  0, or pthread_create's, prctl's or seccomp's error
 * (the thread is then not sealed and the server not running).
 */
int krk_gate_begin(struct krk_gate *g, struct krk_thread *t,
    struct krs_ctx *ctx, int core, int stopsig);
/* krk_gate_end - on the sealed thread, after the isolate's code: stop its
 * server and wait until it touches g no more. */
void krk_gate_end(struct krk_gate *g);
/* krk_gate_waiting - the calling thread waits for its server: a stop
 * signal must only mark it (async-signal-safe). */
bool krk_gate_waiting(void);
/* krk_gate_defer_fini - on a gate server inside exit(): true when the
 * isolate's own thread is to run its finalisers (they are isolate code,
 * which never runs unfiltered); the call then unwinds. */
bool krk_gate_defer_fini(void);
/* krk_gate_exports - the system-call exports as hardened isolates bind
 * them: each a stub that carries the call through the gate. */
int krk_gate_exports(struct kld_symtab *tab);
/* krk_gate_hooks - wrap the libc host hooks so a hardened thread's
 * malloc, free, realloc, write and exit go through its gate. */
void krk_gate_hooks(struct kld_libc_host *hk);
/* krk_gate_refused - system calls of KRANK's own code refused (EPERM) on
 * sealed threads since start: what the filter would need to allow. */
uint64_t krk_gate_refused(int *lastnr);
/* Called by the SIGSYS handler for KRANK's own code. */
void krk_gate_note_refused(int nr);

/* krk_self_run_fini - krk_isolate.c: run the isolate's finalisers on the
 * calling (isolate) thread and unwind it. */
void krk_self_run_fini(void) __attribute__((noreturn));

#endif
