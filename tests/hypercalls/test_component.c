/*
 * test_component - the rumpuser_component(3) helpers for host-side driver
 * halves (schedule/unschedule, kthread, curlwp, switchlwp, errtrans), and
 * the optional sysproxy calls, which KRANK does not provide: each returns
 * its documented error and nothing crashes.
 */
#include <errno.h>
#include <pthread.h>
#include <krank/rumpuser_component.h>
#include "hyptest.h"

static struct lwp *seen_lwp, *seen_after;
static unsigned long lwps_before, lwps_after;

static void *
driver_thread(void *arg)
{
	/* As virtif's receive thread: become a kernel thread once. */
	lwps_before = ht_newlwps();
	rumpuser_component_kthread();
	lwps_after = ht_newlwps();
	seen_lwp = rumpuser_component_curlwp();
	rumpuser_component_kthread_release();
	seen_after = rumpuser_curlwp();
	return NULL;
}

static struct lwp *seen_sw, *switched_away, *switched_back;

static void *
switch_thread(void *arg)
{
	rumpuser_component_kthread();
	seen_sw = rumpuser_curlwp();
	rumpuser_component_switchlwp(NULL);
	switched_away = rumpuser_curlwp();
	rumpuser_component_switchlwp(seen_sw);
	switched_back = rumpuser_curlwp();
	return NULL;
}

int
main(void)
{
	pthread_t t;

	ht_init(2);
	pthread_create(&t, NULL, driver_thread, NULL);
	pthread_join(t, NULL);
	CHECK(lwps_after == lwps_before + 1 && seen_lwp != NULL,
	    "component_kthread gave the host thread a kernel lwp");
	CHECK(seen_after == NULL, "kthread_release dropped it");
	pthread_create(&t, NULL, switch_thread, NULL);
	pthread_join(t, NULL);

	ht_schedule();
	unsigned long u0 = ht_thread_unscheds(), s0 = ht_thread_scheds();
	void *cookie = rumpuser_component_unschedule();
	CHECK(!ht_has_cpu() && ht_thread_unscheds() == u0 + 1,
	    "component_unschedule released the CPU");
	rumpuser_component_schedule(cookie);
	CHECK(ht_has_cpu() && ht_thread_scheds() == s0 + 1,
	    "component_schedule took it back");
	ht_unschedule();
	CHECK(switched_away == NULL && switched_back == seen_sw && seen_sw != NULL,
	    "component_switchlwp detaches the lwp and attaches it again");

	static const struct { int host, nb; } map[] = {
		{ 0, 0 }, { EPERM, 1 }, { ENOENT, 2 }, { EIO, 5 }, { EAGAIN, 35 },
		{ EINPROGRESS, 36 }, { EOPNOTSUPP, 45 }, { ECONNRESET, 54 },
		{ ENOBUFS, 55 }, { ETIMEDOUT, 60 }, { ECONNREFUSED, 61 },
		{ ELOOP, 62 }, { ENAMETOOLONG, 63 }, { ENOTEMPTY, 66 },
		{ ENOSYS, 78 }, { EOVERFLOW, 84 }, { 4000, 22 },
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (rumpuser_component_errtrans(map[i].host) != map[i].nb) {
			printf("  errtrans(%d) = %d, want %d\n", map[i].host,
			    rumpuser_component_errtrans(map[i].host), map[i].nb);
			bad++;
		}
	CHECK(bad == 0, "errtrans maps Linux errno to NetBSD's (EAGAIN 11->35, "
	    "ETIMEDOUT 110->60, ENOSYS 38->78, unknown -> EINVAL)");

	char buf[8];
	size_t len = sizeof(buf);
	void *addr;
	CHECK(rumpuser_sp_init("unix:///tmp/x", "NetBSD", "7.99", "amd64") == 78,
	    "sp_init: the syscall proxy is not provided (ENOSYS)");
	CHECK(rumpuser_sp_copyin(NULL, buf, buf, 1) == 14 &&
	    rumpuser_sp_copyout(NULL, buf, buf, 1) == 14 &&
	    rumpuser_sp_copyinstr(NULL, buf, buf, &len) == 14 &&
	    rumpuser_sp_copyoutstr(NULL, buf, buf, &len) == 14 &&
	    rumpuser_sp_anonmmap(NULL, 4096, &addr) == 14,
	    "sp copy and mmap calls give EFAULT");
	CHECK(rumpuser_sp_raise(NULL, 2) == 78, "sp_raise gives ENOSYS");
	rumpuser_sp_fini(NULL);
	CHECK(1, "sp_fini returns");
	return ht_done("test_component");
}
