/*
 * krk_sys_time.c - clocks, sleeping, randomness and the process calls of
 * isolates.  Clocks are read from the host's vDSO (no kernel entry);
 * sleeps are cut into slices so a killed isolate ends within one.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>

#include "krk_sys_int.h"

int
krk_sys_clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (krk_sys_badbuf(ts, sizeof(*ts)) || ts == NULL)
		return krk_sys_fail(EFAULT);
	return KRK_SYS_CALL(int, clock_gettime(clk, ts));
}

int
krk_sys_gettimeofday(struct timeval *tv, void *tz)
{
	struct timespec ts;

	(void)tz;
	if (tv == NULL)
		return 0;
	if (krk_sys_badbuf(tv, sizeof(*tv)))
		return krk_sys_fail(EFAULT);
	int rv = KRK_SYS_CALL(int, clock_gettime(CLOCK_REALTIME, &ts));
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return rv;
}

time_t
krk_sys_time(time_t *t)
{
	struct timespec ts;

	if (t != NULL && krk_sys_badbuf(t, sizeof(*t)))
		return krk_sys_fail(EFAULT);
	KRK_SYS_CALL(int, clock_gettime(CLOCK_REALTIME, &ts));
	if (t != NULL)
		*t = ts.tv_sec;
	return ts.tv_sec;
}

/*
 * Sleep until the deadline end on clock clk, a slice at a time, checking
 * for a kill between slices; EINTR never happens (isolates get no
 * signals).  The last slice ends exactly at end, so a periodic isolate
 * wakes as precisely as the host lets a thread wake.
 */
static void
krk_sleep_until(clockid_t clk, const struct timespec *end)
{
	struct timespec now;
	/*
	 * An isolate owns its core: it sleeps until `spin` before the
	 * deadline and spins the rest, so a periodic thread wakes on time
	 * rather than when the host's timer and scheduler get round to it
	 * (krs_spin_us, KRANK_SPIN_US; 0 turns this off).
	 */
	int64_t spin = krk_self != NULL ? (int64_t)krs_spin_us(-1) * 1000 : 0;

	krk_sys_enter();
	for (;;) {
		clock_gettime(clk, &now);
		int64_t left = (int64_t)(end->tv_sec - now.tv_sec) * 1000000000 +
		    (end->tv_nsec - now.tv_nsec);
		if (left <= 0)
			break;
		if (left <= spin) {
			krk_sys_exit();		/* a kill ends the spin too */
			krk_sys_enter();
			continue;
		}
		int64_t slice = (int64_t)KRK_SYS_SLICE_MS * 1000000;
		struct timespec until = *end;
		if (left - spin <= slice) {
			int64_t e = (int64_t)end->tv_nsec - spin;
			until.tv_sec = end->tv_sec + (e < 0 ? -1 : 0);
			until.tv_nsec = e < 0 ? e + 1000000000 : e;
		} else {
			until = now;
			until.tv_sec += slice / 1000000000;
			until.tv_nsec += slice % 1000000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
		}
		clock_nanosleep(clk, TIMER_ABSTIME, &until, NULL);
		krk_sys_exit();		/* unwinds here when killed */
		krk_sys_enter();
	}
	krk_sys_exit();
}

/* *end = now on clk + rel (rel already checked: 0 <= tv_nsec < 1e9). */
static void
krk_deadline(clockid_t clk, const struct timespec *rel, struct timespec *end)
{
	clock_gettime(clk, end);
	end->tv_sec += rel->tv_sec;
	end->tv_nsec += rel->tv_nsec;
	if (end->tv_nsec >= 1000000000) {
		end->tv_sec++;
		end->tv_nsec -= 1000000000;
	}
}

/* A checked relative sleep on CLOCK_MONOTONIC.  usleep and sleep come
 * here directly: their timespec is on KRANK's side (for a hardened
 * isolate, its gate server's stack), not in the isolate's memory. */
static void
sys_sleep_rel(const struct timespec *req)
{
	struct timespec end;

	krk_deadline(CLOCK_MONOTONIC, req, &end);
	krk_sleep_until(CLOCK_MONOTONIC, &end);
}

int
krk_sys_nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (krk_sys_badbuf(req, sizeof(*req)) || req == NULL ||
	    (rem != NULL && krk_sys_badbuf(rem, sizeof(*rem))))
		return krk_sys_fail(EFAULT);
	if (req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= 1000000000)
		return krk_sys_fail(EINVAL);
	sys_sleep_rel(req);
	if (rem != NULL)
		rem->tv_sec = rem->tv_nsec = 0;
	return 0;
}

/* clock_nanosleep(2): returns the error number itself, as POSIX says. */
int
krk_sys_clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
    struct timespec *rem)
{
	struct timespec end;

	if (krk_sys_badbuf(req, sizeof(*req)) || req == NULL ||
	    (rem != NULL && krk_sys_badbuf(rem, sizeof(*rem))))
		return EFAULT;
	if (clk != CLOCK_MONOTONIC && clk != CLOCK_REALTIME)
		return EINVAL;
	if (req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= 1000000000)
		return EINVAL;
	if (flags & TIMER_ABSTIME)
		end = *req;
	else
		krk_deadline(clk, req, &end);
	krk_sleep_until(clk, &end);
	if (rem != NULL)
		rem->tv_sec = rem->tv_nsec = 0;
	return 0;
}

int
krk_sys_usleep(unsigned us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	sys_sleep_rel(&ts);
	return 0;
}

unsigned
krk_sys_sleep(unsigned s)
{
	struct timespec ts = { s, 0 };

	sys_sleep_rel(&ts);
	return 0;
}

ssize_t
krk_sys_getrandom(void *buf, size_t n, unsigned flags)
{
	if (krk_sys_badbuf(buf, n))
		return krk_sys_fail(EFAULT);
	if (flags & ~(unsigned)(GRND_NONBLOCK | GRND_RANDOM))
		return krk_sys_fail(EINVAL);
	return KRK_SYS_CALL(ssize_t, getrandom(buf, n, flags));
}

int
krk_sys_getpid(void)
{
	krk_sys_enter();
	int id = krk_self_id();
	krk_sys_exit();
	return id;
}

/* getenv reads the isolate's own environment (its main's envp). */
char *
krk_sys_getenv(const char *name)
{
	char **env = krk_self_environ();
	size_t n;

	if (krk_sys_badptr(name) || env == NULL)
		return NULL;
	n = strlen(name);
	for (; *env != NULL; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

void
krk_sys__exit(int status)
{
	krk_self_exit(status);
}
