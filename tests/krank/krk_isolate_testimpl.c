/*
 * TEST-ONLY: a stand-in for krank/krk_isolate.c, linked into
 * tests/krank/ctl_server only and never into krank.  It keeps a table of
 * pretend isolates so the control commands have data: spawn of an ELF
 * whose name contains "fault" gives a faulted isolate, "exit" one that
 * exits with status 3; running ones gain CPU time and system calls as
 * time passes.  Replace with the real krk_isolate.c when it lands.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "krk.h"

#define TI_MAX 64

static pthread_mutex_t ti_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ti_cv = PTHREAD_COND_INITIALIZER;
static struct krk_isolate_info ti[TI_MAX];	/* ti_lock */
static int ti_n;

const char *
krk_iso_state_name(enum krk_iso_state s)
{
	static const char *const n[] = { "starting", "running", "exited",
	    "faulted", "killed", "failed", "backoff" };
	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

static uint64_t
mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Running isolates "use" half a CPU and 1000 calls per second. ti_lock. */
static void
advance(struct krk_isolate_info *in)
{
	if (in->state == KRK_ISO_RUNNING) {
		uint64_t el = mono() - in->started_ns;
		in->cpu_ns = el / 2;
		in->syscalls = el / 1000000;
	}
}

static struct krk_isolate_info *
byid(int id)
{
	for (int i = 0; i < ti_n; i++)
		if (ti[i].id == id)
			return &ti[i];
	return NULL;
}

int
krk_isolate_spawn(const struct krk_isolate_cfg *cfg, int *idp, char *err,
    size_t errlen)
{
	if (access(cfg->elf, R_OK) != 0) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot read: %s", cfg->elf, strerror(e));
		return e;
	}
	pthread_mutex_lock(&ti_lock);
	for (int i = 0; i < ti_n; i++)
		if (strcmp(ti[i].name, cfg->name) == 0) {
			pthread_mutex_unlock(&ti_lock);
			snprintf(err, errlen, "an isolate named %s exists",
			    cfg->name);
			return EEXIST;
		}
	if (ti_n == TI_MAX) {
		pthread_mutex_unlock(&ti_lock);
		snprintf(err, errlen, "too many isolates");
		return ENOSPC;
	}
	struct krk_isolate_info *in = &ti[ti_n];
	memset(in, 0, sizeof(*in));
	in->id = ti_n + 1;
	snprintf(in->name, sizeof(in->name), "%s", cfg->name);
	snprintf(in->elf, sizeof(in->elf), "%s", cfg->elf);
	in->core = cfg->core < 0 ? 0 : cfg->core;
	in->nthreads = 1;
	in->heap_limit = cfg->heap;
	in->heap_in_use = 123456;
	in->fds_limit = cfg->fds;
	in->fds_open = 3;
	in->started_ns = mono();
	in->state = KRK_ISO_RUNNING;
	if (strstr(cfg->elf, "fault") != NULL) {
		in->state = KRK_ISO_FAULTED;
		in->signo = 11;
		in->fault_addr = 0;
		in->fault_pc = 0x401136;
		snprintf(in->fault_sym, sizeof(in->fault_sym), "main+0x12");
		snprintf(in->fault_what, sizeof(in->fault_what),
		    "NULL dereference");
	} else if (strstr(cfg->elf, "exit") != NULL) {
		in->state = KRK_ISO_EXITED;
		in->status = 3;
	}
	*idp = in->id;
	ti_n++;
	pthread_cond_broadcast(&ti_cv);
	pthread_mutex_unlock(&ti_lock);
	return 0;
}

int
krk_isolate_kill(int id)
{
	pthread_mutex_lock(&ti_lock);
	struct krk_isolate_info *in = byid(id);
	int e = in == NULL ? ESRCH : 0;
	if (in != NULL && (in->state == KRK_ISO_RUNNING ||
	    in->state == KRK_ISO_STARTING)) {
		advance(in);
		in->state = KRK_ISO_KILLED;
		pthread_cond_broadcast(&ti_cv);
	}
	pthread_mutex_unlock(&ti_lock);
	return e;
}

int
krk_isolate_wait(int id, uint64_t timeout_ns, struct krk_isolate_info *info)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	uint64_t t = (uint64_t)dl.tv_nsec + (timeout_ns > 100000000000u ?
	    100000000000u : timeout_ns);
	dl.tv_sec += (time_t)(t / 1000000000u);
	dl.tv_nsec = (long)(t % 1000000000u);
	pthread_mutex_lock(&ti_lock);
	for (;;) {
		struct krk_isolate_info *in = byid(id);
		if (in == NULL) {
			pthread_mutex_unlock(&ti_lock);
			return ESRCH;
		}
		advance(in);
		if (info != NULL)
			*info = *in;
		if (in->state != KRK_ISO_RUNNING && in->state != KRK_ISO_STARTING)
			break;
		if (pthread_cond_timedwait(&ti_cv, &ti_lock, &dl) == ETIMEDOUT) {
			pthread_mutex_unlock(&ti_lock);
			return ETIMEDOUT;
		}
	}
	pthread_mutex_unlock(&ti_lock);
	return 0;
}

int
krk_isolate_restart(int id)
{
	pthread_mutex_lock(&ti_lock);
	struct krk_isolate_info *in = byid(id);
	if (in != NULL) {
		in->state = KRK_ISO_RUNNING;
		in->restarts++;
		in->started_ns = mono();
		pthread_cond_broadcast(&ti_cv);
	}
	pthread_mutex_unlock(&ti_lock);
	return in == NULL ? ESRCH : 0;
}

int
krk_isolate_remove(int id)
{
	(void)id;
	return EBUSY;
}

int
krk_isolate_find(const char *name, int *idp)
{
	pthread_mutex_lock(&ti_lock);
	for (int i = 0; i < ti_n; i++)
		if (strcmp(ti[i].name, name) == 0) {
			*idp = ti[i].id;
			pthread_mutex_unlock(&ti_lock);
			return 0;
		}
	pthread_mutex_unlock(&ti_lock);
	return ESRCH;
}

int
krk_isolate_list(struct krk_isolate_info **infop, size_t *np)
{
	pthread_mutex_lock(&ti_lock);
	struct krk_isolate_info *v = malloc(sizeof(*v) * (size_t)(ti_n + 1));
	if (v == NULL) {
		pthread_mutex_unlock(&ti_lock);
		return ENOMEM;
	}
	for (int i = 0; i < ti_n; i++) {
		advance(&ti[i]);
		v[i] = ti[i];
	}
	*np = (size_t)ti_n;
	*infop = v;
	pthread_mutex_unlock(&ti_lock);
	return 0;
}

int
krk_isolate_get(int id, struct krk_isolate_info *info)
{
	pthread_mutex_lock(&ti_lock);
	struct krk_isolate_info *in = byid(id);
	if (in != NULL) {
		advance(in);
		*info = *in;
	}
	pthread_mutex_unlock(&ti_lock);
	return in == NULL ? ESRCH : 0;
}
