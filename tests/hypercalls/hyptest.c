/*
 * hyptest.c - the conformance suite's test scheduler (see hyptest.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include "hyptest.h"

unsigned long long
ht_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned long long)t.tv_sec * 1000 +
	    (unsigned long long)t.tv_nsec / 1000000;
}

int ht_failures;

struct lwp {
	int temp;			/* made by schedule, freed by unschedule */
	int release;			/* drop at next unschedule */
};

static pthread_mutex_t cpu_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cpu_cv = PTHREAD_COND_INITIALIZER;
static int cpus_free;
static atomic_ulong violations, newlwps;

static __thread int has_cpu;
static __thread unsigned long t_unscheds, t_scheds;
/*
 * The kernel's big lock as NetBSD's scheduler keeps it: unschedule gives
 * back how many times the thread held it (*countp), and the host must hand
 * that same count to schedule, with the interlock it was given.
 */
static __thread int t_biglocks;
static __thread void *t_unsched_il, *t_sched_il;

static void
cpu_take(void)
{
	if (has_cpu)
		atomic_fetch_add(&violations, 1);
	pthread_mutex_lock(&cpu_mtx);
	while (cpus_free == 0)
		pthread_cond_wait(&cpu_cv, &cpu_mtx);
	cpus_free--;
	pthread_mutex_unlock(&cpu_mtx);
	has_cpu = 1;
}

static void
cpu_give(void)
{
	if (!has_cpu) {
		atomic_fetch_add(&violations, 1);
		return;
	}
	has_cpu = 0;
	pthread_mutex_lock(&cpu_mtx);
	cpus_free++;
	pthread_cond_signal(&cpu_cv);
	pthread_mutex_unlock(&cpu_mtx);
}

void
ht_schedule(void)
{
	cpu_take();
	if (rumpuser_curlwp() == NULL) {
		struct lwp *l = calloc(1, sizeof(*l));
		l->temp = 1;
		rumpuser_curlwpop(RUMPUSER_LWP_CREATE, l);
		rumpuser_curlwpop(RUMPUSER_LWP_SET, l);
	}
}

void
ht_unschedule(void)
{
	struct lwp *l = rumpuser_curlwp();
	if (l != NULL && (l->temp || l->release)) {
		rumpuser_curlwpop(RUMPUSER_LWP_CLEAR, l);
		rumpuser_curlwpop(RUMPUSER_LWP_DESTROY, l);
		free(l);
	}
	cpu_give();
}

static void
ht_backend_unschedule(int nlocks, int *countp, void *interlock)
{
	t_unscheds++;
	*countp = t_biglocks;
	t_biglocks = 0;
	t_unsched_il = interlock;
	cpu_give();
}

static void
ht_backend_schedule(int nlocks, void *interlock)
{
	t_scheds++;
	cpu_take();
	t_biglocks = nlocks;
	t_sched_il = interlock;
}

static int
ht_lwproc_newlwp(pid_t pid)
{
	struct lwp *old = rumpuser_curlwp();
	if (old != NULL) {
		rumpuser_curlwpop(RUMPUSER_LWP_CLEAR, old);
		if (old->temp)
			free(old);
	}
	struct lwp *l = calloc(1, sizeof(*l));
	rumpuser_curlwpop(RUMPUSER_LWP_CREATE, l);
	rumpuser_curlwpop(RUMPUSER_LWP_SET, l);
	atomic_fetch_add(&newlwps, 1);
	return 0;
}

static void
ht_lwproc_release(void)
{
	struct lwp *l = rumpuser_curlwp();
	if (l != NULL)
		l->release = 1;
}

static struct lwp *
ht_lwproc_curlwp(void)
{
	return rumpuser_curlwp();
}

static void
ht_lwproc_switch(struct lwp *l)
{
	struct lwp *old = rumpuser_curlwp();
	if (old != NULL)
		rumpuser_curlwpop(RUMPUSER_LWP_CLEAR, old);
	if (l != NULL)
		rumpuser_curlwpop(RUMPUSER_LWP_SET, l);
}

void
ht_init(int ncpu)
{
	static const struct rumpuser_hyperup hyp = {
		.hyp_schedule = ht_schedule,
		.hyp_unschedule = ht_unschedule,
		.hyp_backend_unschedule = ht_backend_unschedule,
		.hyp_backend_schedule = ht_backend_schedule,
		.hyp_lwproc_switch = ht_lwproc_switch,
		.hyp_lwproc_release = ht_lwproc_release,
		.hyp_lwproc_newlwp = ht_lwproc_newlwp,
		.hyp_lwproc_curlwp = ht_lwproc_curlwp,
	};
	cpus_free = ncpu;
	int rv = rumpuser_init(RUMPUSER_VERSION, &hyp);
#ifdef HYPTEST_HOST_DPDK
	/* The DPDK host's ENXIO: its EAL cannot start on this machine. */
	if (rv == 6) {
		printf("SKIP: DPDK's EAL cannot start on this machine "
		    "(rumpuser_init: ENXIO; stderr says why)\n");
		exit(77);
	}
#endif
	if (rv != 0) {
		printf("FAIL: rumpuser_init: %d\n", rv);
		exit(1);
	}
}

int ht_has_cpu(void) { return has_cpu; }
unsigned long ht_thread_unscheds(void) { return t_unscheds; }
unsigned long ht_thread_scheds(void) { return t_scheds; }
unsigned long ht_violations(void) { return atomic_load(&violations); }
unsigned long ht_newlwps(void) { return atomic_load(&newlwps); }
struct lwp *ht_curlwp(void) { return rumpuser_curlwp(); }

void
ht_newlwp(void)
{
	ht_schedule();
	ht_lwproc_newlwp(0);
	ht_unschedule();
}

int
ht_done(const char *name)
{
	if (ht_violations() != 0) {
		printf("FAIL: %lu violations of the scheduling protocol\n",
		    ht_violations());
		ht_failures++;
	}
	printf("%s: %s (%d failed checks)\n", name,
	    ht_failures ? "FAILED" : "passed", ht_failures);
	return ht_failures ? 1 : 0;
}

void ht_set_biglocks(int n) { t_biglocks = n; }
int ht_biglocks(void) { return t_biglocks; }
void *ht_last_interlock(int sched) { return sched ? t_sched_il : t_unsched_il; }
