/*
 * rumpuser.c - initialisation, parameters, console, signals, termination
 * and daemonisation of the POSIX host of the hypercall layer.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "rumpuser_int.h"
#ifdef KRANK_HOST_DPDK
#include "dpdk_int.h"
#endif

struct rumpuser_hyperup rumpuser__hyp;
int rumpuser__inited;

int
rumpuser_init(int version, const struct rumpuser_hyperup *hyp)
{
	if (version != RUMPUSER_VERSION) {
		fprintf(stderr, "krank-hypercall: rump kernel speaks rumpuser "
		    "version %d, this library version %d\n", version,
		    RUMPUSER_VERSION);
		return NB_EINVAL;
	}
	if (hyp == NULL)
		return NB_EINVAL;
#ifdef KRANK_HOST_DPDK
	/* The DPDK host's heap and clocks exist once its EAL is up. */
	int rv = rumpuser__dpdk_init();
	if (rv != 0)
		return rv;
#endif
	rumpuser__hyp = *hyp;
	rumpuser__inited = 1;
	return 0;
}

static int
ncpu_host(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

int
rumpuser_getparam(const char *name, void *buf, size_t blen)
{
	char tmp[512];
	const char *val;

	if (name == NULL || buf == NULL)
		return NB_EINVAL;
	if (strcmp(name, RUMPUSER_PARAM_NCPU) == 0) {
		val = getenv("RUMP_NCPU");
		if (val == NULL || strcmp(val, "host") == 0) {
			/* Default: every CPU this process may use. */
			snprintf(tmp, sizeof(tmp), "%d", ncpu_host());
		} else {
			char *end;
			errno = 0;
			long n = strtol(val, &end, 10);
			if (errno != 0 || *end != '\0' || n < 1 || n > 1024)
				return NB_EINVAL;
			snprintf(tmp, sizeof(tmp), "%ld", n);
		}
		val = tmp;
	} else if (strcmp(name, RUMPUSER_PARAM_HOSTNAME) == 0) {
		/*
		 * The kernel asks with a MAXHOSTNAMELEN (256) buffer and
		 * panics on any error, so the name is cut to fit, always
		 * NUL-terminated, as NetBSD's librumpuser does.
		 */
		char host[256];
		if (blen == 0)
			return NB_ERANGE;
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(buf, blen, "rump-%05d", (int)getpid());
		else {
			host[sizeof(host) - 1] = '\0';
			snprintf(buf, blen, "rump-%05d.%s", (int)getpid(), host);
		}
		return 0;
	} else if (name[0] == '_') {
		return NB_EINVAL;
	} else {
		val = getenv(name);
		if (val == NULL)
			return NB_ENOENT;
	}
	if (strlen(val) + 1 > blen)
		return NB_ERANGE;
	memcpy(buf, val, strlen(val) + 1);
	return 0;
}

void
rumpuser_putchar(int c)
{
	putchar(c);
	if (c == '\n')
		fflush(stdout);
}

void
rumpuser_dprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int
rumpuser_kill(int64_t pid, int sig)
{
	/*
	 * The kernel signals its own host process; pid is informative.  As
	 * NetBSD's librumpuser: a signal the host lacks (SIGEMT, SIGINFO,
	 * 0, out of range) is dropped and the call still succeeds, since
	 * the kernel does not look at the result.
	 */
	int hsig = rumpuser__sig_rump2host(sig);
	if (hsig > 0)
		raise(hsig);
	return 0;
}

void
rumpuser_exit(int how)
{
	if (how == RUMPUSER_PANIC) {
		fputs("krank-hypercall: rump kernel panic, halted\n", stderr);
		abort();
	}
	fflush(stdout);
	exit(how);
}

void
rumpuser_seterrno(int err)
{
	errno = err;
}

/* daemonize: the parent waits on a pipe for the child's status. */
static int daemon_pipe[2] = { -1, -1 };

int
rumpuser_daemonize_begin(void)
{
	if (daemon_pipe[1] != -1)
		return NB_EINPROGRESS;
	if (pipe(daemon_pipe) == -1)
		return rumpuser__errtrans(errno);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == -1) {
		int e = errno;
		close(daemon_pipe[0]);
		close(daemon_pipe[1]);
		daemon_pipe[0] = daemon_pipe[1] = -1;
		return rumpuser__errtrans(e);
	}
	if (pid > 0) {
		/* Parent: exit with the status the child reports. */
		int status = 0;
		close(daemon_pipe[1]);
		ssize_t n;
		do {
			n = read(daemon_pipe[0], &status, sizeof(status));
		} while (n == -1 && errno == EINTR);
		if (n != (ssize_t)sizeof(status)) {
			int ws;
			waitpid(pid, &ws, 0);
			status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 1;
			if (status == 0)
				status = 1;
		}
		_exit(status == 0 ? 0 : 1);
	}
	close(daemon_pipe[0]);
	daemon_pipe[0] = -1;
	setsid();
	return 0;
}

int
rumpuser_daemonize_done(int error)
{
	if (daemon_pipe[1] < 0)
		return NB_ENOENT;
	if (error == 0) {
		int fd = open("/dev/null", O_RDWR);
		if (fd != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
	}
	ssize_t n = write(daemon_pipe[1], &error, sizeof(error));
	close(daemon_pipe[1]);
	daemon_pipe[1] = -2;	/* done: a second begin is refused */
	return n == (ssize_t)sizeof(error) ? 0 : NB_EIO;
}

/* The syscall proxy is an optional part of the interface. */
int rumpuser_sp_init(const char *url, const char *ostype,
    const char *osrelease, const char *machine) { return NB_ENOSYS; }
int rumpuser_sp_copyin(void *c, const void *r, void *l, size_t n) { return NB_EFAULT; }
int rumpuser_sp_copyinstr(void *c, const void *r, void *l, size_t *n) { return NB_EFAULT; }
int rumpuser_sp_copyout(void *c, const void *l, void *r, size_t n) { return NB_EFAULT; }
int rumpuser_sp_copyoutstr(void *c, const void *l, void *r, size_t *n) { return NB_EFAULT; }
int rumpuser_sp_anonmmap(void *c, size_t n, void **a) { return NB_EFAULT; }
int rumpuser_sp_raise(void *c, int sig) { return NB_ENOSYS; }
void rumpuser_sp_fini(void *c) { }
