/*
 * test_params - rumpuser_init, getparam, console, errno, kill, exit and
 * daemonize behave as rumpuser(3) says.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
#include "hyptest.h"

static volatile sig_atomic_t got_usr1;
static void on_usr1(int s) { got_usr1 = 1; }

static void *
errno_thread(void *arg)
{
	int want = (int)(intptr_t)arg;
	for (int i = 0; i < 10000; i++) {
		rumpuser_seterrno(want);
		if (errno != want)
			return (void *)1;
		sched_yield();
	}
	return NULL;
}

/* Run fn in a child; return its wait status. */
static int
in_child(void (*fn)(int), int arg)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		fn(arg);
		_exit(99);
	}
	int st;
	waitpid(pid, &st, 0);
	return st;
}

static void child_exit(int how) { rumpuser_exit(how); }

static void
child_daemon(int status)
{
	/* The process that calls begin exits with what done reports. */
	if (rumpuser_daemonize_begin() != 0)
		_exit(98);
	if (rumpuser_daemonize_begin() != 36)	/* EINPROGRESS */
		_exit(97);
	rumpuser_daemonize_done(status);
	_exit(0);
}

int
main(void)
{
	char buf[256];
	struct rumpuser_hyperup empty;

	memset(&empty, 0, sizeof(empty));
	CHECK(sizeof(struct rumpuser_hyperup) == 168,
	    "struct rumpuser_hyperup is 168 bytes (ABI)");
	CHECK(rumpuser_init(16, &empty) == 22, "init refuses version 16 with EINVAL");
	CHECK(rumpuser_init(RUMPUSER_VERSION, NULL) == 22, "init refuses a NULL upcall table");
	ht_init(2);

	unsetenv("RUMP_NCPU");
	CHECK(rumpuser_getparam(RUMPUSER_PARAM_NCPU, buf, sizeof(buf)) == 0 &&
	    atoi(buf) >= 1, "_RUMPUSER_NCPU defaults to the host's CPUs (%s)", buf);
	setenv("RUMP_NCPU", "3", 1);
	CHECK(rumpuser_getparam(RUMPUSER_PARAM_NCPU, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "3") == 0, "_RUMPUSER_NCPU follows RUMP_NCPU=3");
	setenv("RUMP_NCPU", "lots", 1);
	CHECK(rumpuser_getparam(RUMPUSER_PARAM_NCPU, buf, sizeof(buf)) == 22,
	    "RUMP_NCPU=lots is refused with EINVAL");
	unsetenv("RUMP_NCPU");
	/*
	 * As NetBSD's rump_init consumes them: NCPU through strtoll (any
	 * error panics, fewer than 1 CPU panics), HOSTNAME into a
	 * MAXHOSTNAMELEN (256) buffer whose strlen it takes, panicking on
	 * any error, so a long host name must be cut, not refused.
	 */
	setenv("RUMP_NCPU", "host", 1);
	memset(buf, 'x', sizeof(buf));
	CHECK(rumpuser_getparam(RUMPUSER_PARAM_NCPU, buf, sizeof(buf)) == 0 &&
	    memchr(buf, '\0', sizeof(buf)) != NULL &&
	    strtoll(buf, NULL, 10) >= 1, "RUMP_NCPU=host: strtoll gives %lld CPUs",
	    memchr(buf, '\0', sizeof(buf)) ? strtoll(buf, NULL, 10) : -1LL);
	unsetenv("RUMP_NCPU");
	char host[256];			/* MAXHOSTNAMELEN */
	memset(host, 'x', sizeof(host));
	CHECK(rumpuser_getparam(RUMPUSER_PARAM_HOSTNAME, host, sizeof(host)) == 0 &&
	    memchr(host, '\0', sizeof(host)) != NULL &&
	    strncmp(host, "rump-", 5) == 0, "_RUMPUSER_HOSTNAME is %.64s", host);
	char small[12];
	memset(small, 'x', sizeof(small));
	CHECK(rumpuser_getparam(RUMPUSER_PARAM_HOSTNAME, small, sizeof(small)) == 0 &&
	    small[sizeof(small) - 1] == '\0' && strlen(small) == sizeof(small) - 1 &&
	    strncmp(small, host, sizeof(small) - 1) == 0,
	    "HOSTNAME in a 12-byte buffer is cut to \"%s\" (no ERANGE: the "
	    "kernel would panic)", small);
	CHECK(rumpuser_getparam("_RUMPUSER_BOGUS", buf, sizeof(buf)) == 22,
	    "unknown _ parameter gives EINVAL");
	setenv("KRANK_TEST_PARAM", "value", 1);
	CHECK(rumpuser_getparam("KRANK_TEST_PARAM", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "value") == 0, "environment parameters are read");
	CHECK(rumpuser_getparam("KRANK_TEST_PARAM", buf, 5) == 34,
	    "too small a buffer gives ERANGE");
	CHECK(rumpuser_getparam("KRANK_NO_SUCH_PARAM", buf, sizeof(buf)) == 2,
	    "unset parameter gives ENOENT");
	CHECK(rumpuser_getparam(NULL, buf, sizeof(buf)) == 22, "NULL name gives EINVAL");

	rumpuser_putchar('o');
	rumpuser_putchar('k');
	rumpuser_putchar('\n');
	rumpuser_dprintf("dprintf reaches stderr: %d\n", 42);

	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, errno_thread, (void *)(intptr_t)(30 + i));
	int bad = 0;
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += r != NULL;
	}
	CHECK(bad == 0, "seterrno is per thread (4 threads, 10000 sets each)");

	signal(SIGUSR1, on_usr1);
	CHECK(rumpuser_kill(RUMPUSER_PID_SELF, 30) == 0 && got_usr1,
	    "kill with NetBSD SIGUSR1 (30) raises the host's SIGUSR1");
	got_usr1 = 0;
	CHECK(rumpuser_kill(RUMPUSER_PID_SELF, 0) == 0 &&
	    rumpuser_kill(RUMPUSER_PID_SELF, 99) == 0 &&
	    rumpuser_kill(RUMPUSER_PID_SELF, 29) == 0 && !got_usr1,
	    "kill with 0, 99 or SIGINFO (no host equivalent) is dropped and "
	    "returns 0, as NetBSD's librumpuser");

	int st = in_child(child_exit, 3);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3, "exit(3) exits with status 3");
	st = in_child(child_exit, RUMPUSER_PANIC);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
	    "exit(RUMPUSER_PANIC) aborts");
	CHECK(rumpuser_daemonize_done(0) == 2, "daemonize_done before begin gives ENOENT");
	st = in_child(child_daemon, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "daemonize: parent exits 0 when the child reports success");
	st = in_child(child_daemon, 5);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1,
	    "daemonize: parent exits 1 when the child reports an error");
	return ht_done("test_params");
}
