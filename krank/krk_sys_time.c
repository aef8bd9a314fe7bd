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

/* Sleep until the monotonic deadline, a slice at a time, checking for a
 * kill between slices; EINTR never happens (isolates get no signals). */
int
krk_sys_nanosleep(const struct timespec *req, struct timespec *rem)
{
	struct timespec end, now;

	if (krk_sys_badbuf(req, sizeof(*req)) || req == NULL ||
	    (rem != NULL && krk_sys_badbuf(rem, sizeof(*rem))))
		return krk_sys_fail(EFAULT);
	if (req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= 1000000000)
		return krk_sys_fail(EINVAL);
	krk_sys_enter();
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += req->tv_sec;
	end.tv_nsec += req->tv_nsec;
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t left = (int64_t)(end.tv_sec - now.tv_sec) * 1000000000 +
		    (end.tv_nsec - now.tv_nsec);
		if (left <= 0)
			break;
		int64_t slice = (int64_t)KRK_SYS_SLICE_MS * 1000000;
		struct timespec until = now;
		int64_t step = left < slice ? left : slice;
		until.tv_sec += step / 1000000000;
		until.tv_nsec += step % 1000000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
		krk_sys_exit();		/* unwinds here when killed */
		krk_sys_enter();
	}
	krk_sys_exit();
	if (rem != NULL)
		rem->tv_sec = rem->tv_nsec = 0;
	return 0;
}

int
krk_sys_usleep(unsigned us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	return krk_sys_nanosleep(&ts, NULL);
}

unsigned
krk_sys_sleep(unsigned s)
{
	struct timespec ts = { s, 0 };

	krk_sys_nanosleep(&ts, NULL);
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
