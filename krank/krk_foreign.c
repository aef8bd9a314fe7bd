/*
 * krk_foreign.c - foreign isolates (krk_foreign.h): the attach socket and
 * its policy, the table that `krankctl ps` shows, and the Linux processes
 * KRANK starts itself (posix_spawn, or fork when it runs as another user;
 * then a pidfd that kill signals and a reaper thread waits on with
 * waitid(P_PIDFD)).  The attachments
 * themselves are krk_ctl_attach.c's; this file only admits peers and
 * keeps the books.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>

#include "krk.h"
#include "krk_ctl_int.h"
#include "krk_foreign.h"
#include "krq_server.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef KRK_PRELOAD_PATH
#define KRK_PRELOAD_PATH "/usr/local/lib/libkrank-preload.so"
#endif

#define FOREIGN_MAX_ENDED	64	/* ended entries kept for ps/wait */
#define ATT_MAX_CLIENTS		16	/* connections being served at once */
#define ATT_STACK		(256u << 10)

extern char **environ;

struct foreign {
	struct foreign *next;
	struct krk_foreign_info in;	/* counters of ended attachments */
	int pidfd;			/* spawned: -1 once reaped */
	int holder_fd;			/* attached: the connection */
	struct krq_sclient *c;		/* attached: the queue region */
	struct krs_ctx *ctx;		/* attached: its descriptors */
	uint64_t ended_ns;		/* when it ended (eviction order) */
};

/*
 * f_lock protects the table (f_head, oldest first) and every entry, the
 * policy copied at start, and att (the socket's state); f_cv signals any
 * state change (wait) and the end of a reaper or a service thread.
 */
static pthread_mutex_t f_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t f_cv = PTHREAD_COND_INITIALIZER;
static struct foreign *f_head;
static unsigned f_reapers;		/* reaper threads alive */

static struct {
	bool running;
	int stopping;			/* atomic */
	int lfd;
	int wake[2];
	pthread_t acceptor;
	bool accepting;			/* the acceptor thread was started */
	bool defer;			/* krk_foreign_defer_accept was called */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char deployment[64];
	uint32_t *uids;
	size_t nuids;
	char preload[4096];
	bool has_preload;		/* "" in KRANK_PRELOAD: none */
	unsigned fds, rings, max;
	int fds_in_service[ATT_MAX_CLIENTS];
	unsigned nservice;
} att = { .lfd = -1, .wake = { -1, -1 } };

struct krk_foreign_counters krk_foreign_stats;

#define CTR_INC(f) __atomic_add_fetch(&krk_foreign_stats.f, 1, __ATOMIC_RELAXED)

static const char *const state_names[] = {
	[KRK_FOREIGN_RUNNING] = "running",
	[KRK_FOREIGN_ATTACHED] = "attached",
	[KRK_FOREIGN_EXITED] = "exited",
	[KRK_FOREIGN_KILLED] = "killed",
	[KRK_FOREIGN_DETACHED] = "detached",
	[KRK_FOREIGN_FAILED] = "failed",
};

const char *
krk_foreign_state_name(enum krk_foreign_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ?
	    state_names[s] : "?";
}

static uint64_t
now_ns(void)
{
	return krk_ctl_now_ns(CLOCK_MONOTONIC);
}

static bool
ended(const struct foreign *f)
{
	return f->in.state != KRK_FOREIGN_RUNNING &&
	    f->in.state != KRK_FOREIGN_ATTACHED;
}

/* ---- the table (f_lock held) ---- */

static struct foreign *
f_find(int id)
{
	for (struct foreign *f = f_head; f != NULL; f = f->next)
		if (f->in.id == id)
			return f;
	return NULL;
}

static void
f_insert(struct foreign *f)
{
	struct foreign **pp = &f_head;
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = f;
}

/* Keep at most FOREIGN_MAX_ENDED ended entries: the oldest go first.
 * Entries with a reaper still to run are never ended, so never freed
 * under it. */
static void
f_evict(void)
{
	for (;;) {
		unsigned n = 0;
		struct foreign **oldest = NULL;
		for (struct foreign **pp = &f_head; *pp; pp = &(*pp)->next)
			if (ended(*pp) && (*pp)->pidfd < 0) {
				n++;
				if (oldest == NULL ||
				    (*pp)->ended_ns < (*oldest)->ended_ns)
					oldest = pp;
			}
		if (n <= FOREIGN_MAX_ENDED || oldest == NULL)
			return;
		struct foreign *f = *oldest;
		*oldest = f->next;
		free(f);
	}
}

/* The entry's figures now: the live attachment's added to the past ones. */
static void
f_snapshot(const struct foreign *f, struct krk_foreign_info *out)
{
	*out = f->in;
	if (f->c != NULL) {
		struct krq_sclient_stats st;
		krq_sclient_stats(f->c, &st);
		out->calls += st.requests;
		out->rejected += st.rejected;
	}
	if (f->ctx != NULL)
		krs_ctx_fdinfo(f->ctx, &out->fds_open, &out->fds_limit);
}

static void
name_of_pid(pid_t pid, char *name, size_t len)
{
	char path[64], buf[KRK_NAME_MAX];
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		snprintf(name, len, "pid-%d", (int)pid);
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(name, len, "%s", buf);
}

/* ---- attachments (called by krk_ctl_attach.c) ---- */

void
krk_foreign_attached(pid_t pid, uint32_t uid, unsigned nrings,
    struct krq_sclient *c, struct krs_ctx *ctx, int holder_fd, int *idp)
{
	struct foreign *f = NULL;
	CTR_INC(attached);
	pthread_mutex_lock(&f_lock);
	/* A process KRANK spawned joins its entry (the first attachment;
	 * later ones of the same process get entries of their own). */
	for (struct foreign *g = f_head; g != NULL && f == NULL; g = g->next)
		if (g->in.spawned && g->in.pid == pid && g->c == NULL &&
		    g->in.state == KRK_FOREIGN_RUNNING)
			f = g;
	if (f == NULL) {
		pthread_mutex_unlock(&f_lock);
		struct foreign *n = calloc(1, sizeof(*n));
		char name[KRK_NAME_MAX];
		name_of_pid(pid, name, sizeof(name));
		pthread_mutex_lock(&f_lock);
		if (n == NULL) {
			pthread_mutex_unlock(&f_lock);
			*idp = 0;
			return;		/* served, just not listed */
		}
		f = n;
		f->pidfd = -1;
		f->in.id = krk_isolate_new_id();
		f->in.pid = pid;
		f->in.state = KRK_FOREIGN_ATTACHED;
		f->in.started_ns = now_ns();
		snprintf(f->in.name, sizeof(f->in.name), "%s", name);
		f_insert(f);
	}
	f->in.uid = uid;
	f->in.attached = true;
	f->in.attachments++;
	f->in.rings = nrings;
	f->in.note[0] = '\0';
	f->c = c;
	f->ctx = ctx;
	f->holder_fd = holder_fd;
	*idp = f->in.id;
	pthread_cond_broadcast(&f_cv);
	pthread_mutex_unlock(&f_lock);
}

void
krk_foreign_detached(int id, const char *why, bool cut)
{
	if (cut)
		CTR_INC(cut);
	pthread_mutex_lock(&f_lock);
	struct foreign *f = id > 0 ? f_find(id) : NULL;
	if (f != NULL && f->c != NULL) {
		struct krk_foreign_info now;
		f_snapshot(f, &now);
		f->in.calls = now.calls;
		f->in.rejected = now.rejected;
		f->in.fds_open = 0;
		f->in.attached = false;
		f->c = NULL;
		f->ctx = NULL;
		f->holder_fd = -1;
		snprintf(f->in.note, sizeof(f->in.note), "attachment ended: %s",
		    why);
		if (!f->in.spawned) {
			f->in.state = KRK_FOREIGN_DETACHED;
			f->ended_ns = now_ns();
			f_evict();
		}
		pthread_cond_broadcast(&f_cv);
	}
	pthread_mutex_unlock(&f_lock);
}

/* ---- processes KRANK starts ---- */

static void *
reaper_main(void *arg)
{
	struct foreign *f = arg;
	siginfo_t si;
	pthread_setname_np(pthread_self(), "krank-reap");
	pthread_mutex_lock(&f_lock);
	int pidfd = f->pidfd;
	pthread_mutex_unlock(&f_lock);
	memset(&si, 0, sizeof(si));
	int rv;
	do
		rv = waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED);
	while (rv < 0 && errno == EINTR);
	pthread_mutex_lock(&f_lock);
	if (rv == 0 && si.si_code == CLD_EXITED) {
		f->in.state = KRK_FOREIGN_EXITED;
		f->in.status = si.si_status;
	} else {
		f->in.state = KRK_FOREIGN_KILLED;
		f->in.signo = rv == 0 ? si.si_status : 0;
	}
	krk_log(KRK_LOG_INFO, "foreign: %d (%s, pid %d): %s %d", f->in.id,
	    f->in.name, (int)f->in.pid, f->in.state == KRK_FOREIGN_EXITED ?
	    "exited with status" : "killed by signal",
	    f->in.state == KRK_FOREIGN_EXITED ? f->in.status : f->in.signo);
	close(f->pidfd);
	f->pidfd = -1;
	f->ended_ns = now_ns();
	f_reapers--;
	f_evict();
	pthread_cond_broadcast(&f_cv);
	pthread_mutex_unlock(&f_lock);
	return NULL;
}

/* environ without LD_PRELOAD and KRANK_ATTACH, then ours (malloc'd). */
static char **
spawn_env(const char *preload, const char *sock)
{
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	char **v = calloc(n + 3, sizeof(char *));
	if (v == NULL)
		return NULL;
	size_t k = 0;
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11) != 0 &&
		    strncmp(*e, "KRANK_ATTACH=", 13) != 0)
			v[k++] = *e;
	char *a = NULL, *b = NULL;
	if (asprintf(&a, "KRANK_ATTACH=%s", sock) < 0 ||
	    (preload != NULL && asprintf(&b, "LD_PRELOAD=%s", preload) < 0)) {
		free(a);
		free(v);
		return NULL;
	}
	v[k++] = a;
	if (b != NULL)
		v[k++] = b;
	v[k] = NULL;
	return v;
}

static void
spawn_env_free(char **v, bool preload)
{
	size_t n = 0;
	while (v[n] != NULL)
		n++;
	/* Ours are the last one or two. */
	free(v[n - 1]);
	if (preload)
		free(v[n - 2]);
	free(v);
}

static bool uid_allowed(uint32_t uid);

/* Who a spawned process runs as (--user): resolved before the fork. */
struct spawn_cred {
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[64];
	char name[64];
};

/*
 * Resolve user (a name or a number) and check it against attach.users: a
 * process KRANK starts as a user that may not attach would only be
 * refused at its first call.  0, or an errno with a reason in err.
 */
static int
spawn_cred_get(const char *user, struct spawn_cred *cr, char *err,
    size_t errlen)
{
	struct passwd pw, *pp = NULL;
	char buf[4096], *end;
	unsigned long n = strtoul(user, &end, 10);
	int e;
	if (user[0] >= '0' && user[0] <= '9' && *end == '\0' && n < UINT32_MAX)
		e = getpwuid_r((uid_t)n, &pw, buf, sizeof(buf), &pp);
	else
		e = getpwnam_r(user, &pw, buf, sizeof(buf), &pp);
	if (e != 0 || pp == NULL) {
		snprintf(err, errlen, "spawn --foreign --user %s: no such user%s%s",
		    user, e ? ": " : "", e ? strerror(e) : "");
		return e ? e : ENOENT;
	}
	if (!uid_allowed(pw.pw_uid)) {
		snprintf(err, errlen, "spawn --foreign --user %s: uid %u (%s) may "
		    "not attach to deployment %s: not in attach.users", user,
		    (unsigned)pw.pw_uid, pw.pw_name, att.deployment);
		return EACCES;
	}
	cr->uid = pw.pw_uid;
	cr->gid = pw.pw_gid;
	cr->ngroups = (int)(sizeof(cr->groups) / sizeof(cr->groups[0]));
	if (getgrouplist(pw.pw_name, pw.pw_gid, cr->groups, &cr->ngroups) < 0) {
		snprintf(err, errlen, "spawn --foreign --user %s: more than %zu "
		    "groups", user, sizeof(cr->groups) / sizeof(cr->groups[0]));
		return E2BIG;
	}
	snprintf(cr->name, sizeof(cr->name), "%s", pw.pw_name);
	return 0;
}

/* argv0 as execvp would find it in KRANK's PATH, into path. */
static int
spawn_lookup(const char *argv0, char *path, size_t len)
{
	if (strchr(argv0, '/') != NULL) {
		snprintf(path, len, "%s", argv0);
		return 0;
	}
	const char *p = getenv("PATH");
	if (p == NULL || *p == '\0')
		p = "/usr/local/bin:/usr/bin:/bin";
	int e = ENOENT;
	while (*p != '\0') {
		size_t dl = strcspn(p, ":");
		if ((size_t)snprintf(path, len, "%.*s%s%s", (int)dl, p,
		    dl ? "/" : "", argv0) < len) {
			if (access(path, X_OK) == 0)
				return 0;
			if (errno == EACCES)
				e = EACCES;
		}
		p += dl;
		if (*p == ':')
			p++;
	}
	return e;
}

/*
 * Start path as cr's user with fork: posix_spawn cannot change
 * credentials.  The child of a threaded process only makes raw system
 * calls (glibc's setuid family would signal KRANK's threads, which the
 * child does not have), and reports a failed exec through a close-on-exec
 * pipe.  Signal mask, dispositions, stdin, descriptors and process group
 * as the posix_spawn path sets them.
 */
static int
spawn_as(const char *path, char *const argv[], char *const env[],
    const struct spawn_cred *cr, pid_t *pidp)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(pfd[0]);
		close(pfd[1]);
		return e;
	}
	if (pid == 0) {
		int e;
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		for (int sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				sigaction(sig, &dfl, NULL);
		setpgid(0, 0);
		int nul = open("/dev/null", O_RDONLY);
		if (nul < 0 || dup2(nul, 0) < 0)
			goto fail;
		if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0)
			goto fail;
		if (syscall(SYS_setgroups, (size_t)cr->ngroups, cr->groups) != 0 ||
		    syscall(SYS_setresgid, cr->gid, cr->gid, cr->gid) != 0 ||
		    syscall(SYS_setresuid, cr->uid, cr->uid, cr->uid) != 0)
			goto fail;
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(path, argv, env);
fail:
		e = errno;
		if (write(pfd[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pfd[1]);
	int e = 0;
	ssize_t n;
	do
		n = read(pfd[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == (ssize_t)sizeof(e)) {
		waitpid(pid, NULL, 0);	/* it exits at once */
		return e ? e : EIO;
	}
	*pidp = pid;
	return 0;
}

int
krk_foreign_spawn(char *const argv[], const char *name, const char *user,
    int *idp, char *err, size_t errlen)
{
	pthread_mutex_lock(&f_lock);
	bool up = att.running;
	char sock[sizeof(att.path)], preload[sizeof(att.preload)];
	snprintf(sock, sizeof(sock), "%s", att.path);
	snprintf(preload, sizeof(preload), "%s", att.preload);
	bool has_preload = att.has_preload;
	pthread_mutex_unlock(&f_lock);
	if (!up) {
		snprintf(err, errlen, "spawn --foreign %s: this KRANK has no "
		    "attach socket", argv[0]);
		return ENOTSUP;
	}
	if (has_preload && access(preload, R_OK) != 0) {
		int e = errno;
		snprintf(err, errlen, "spawn --foreign %s: preload library %s: "
		    "%s (attach.preload or KRANK_PRELOAD)", argv[0], preload,
		    strerror(e));
		return e;
	}
	struct spawn_cred cr;
	char path[PATH_MAX];
	if (user != NULL) {
		int e = spawn_cred_get(user, &cr, err, errlen);
		if (e != 0)
			return e;
		if ((e = spawn_lookup(argv[0], path, sizeof(path))) != 0) {
			snprintf(err, errlen, "spawn --foreign %s: %s", argv[0],
			    strerror(e));
			return e;
		}
	}
	char **env = spawn_env(has_preload ? preload : NULL, sock);
	struct foreign *f = calloc(1, sizeof(*f));
	if (env == NULL || f == NULL) {
		if (env != NULL)
			spawn_env_free(env, has_preload);
		free(f);
		snprintf(err, errlen, "spawn --foreign %s: out of memory",
		    argv[0]);
		return ENOMEM;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	/* Nothing of KRANK's but stdout and stderr (descriptors without
	 * close-on-exec would otherwise leak into the program). */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&sa);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setsigdefault(&sa, &all);
	posix_spawnattr_setpgroup(&sa, 0);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	pid_t pid;
	int e = user != NULL ? spawn_as(path, argv, env, &cr, &pid) :
	    posix_spawnp(&pid, argv[0], &fa, &sa, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	spawn_env_free(env, has_preload);
	if (e != 0) {
		free(f);
		snprintf(err, errlen, "spawn --foreign %s: %s", argv[0],
		    strerror(e));
		return e;
	}
	/* The child is ours and not yet reaped, so its pid cannot have been
	 * reused: the pidfd names exactly it. */
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		e = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		free(f);
		snprintf(err, errlen, "spawn --foreign %s: pidfd_open: %s",
		    argv[0], strerror(e));
		return e;
	}
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	f->pidfd = pidfd;
	f->holder_fd = -1;
	f->in.id = krk_isolate_new_id();
	f->in.pid = pid;
	f->in.uid = user != NULL ? (uint32_t)cr.uid : (uint32_t)geteuid();
	f->in.spawned = true;
	f->in.state = KRK_FOREIGN_RUNNING;
	f->in.started_ns = now_ns();
	const char *base = strrchr(argv[0], '/');
	snprintf(f->in.name, sizeof(f->in.name), "%s", name != NULL ? name :
	    base != NULL ? base + 1 : argv[0]);
	size_t off = 0;
	for (int i = 0; argv[i] != NULL && off < sizeof(f->in.cmd) - 1; i++)
		off += (size_t)snprintf(f->in.cmd + off, sizeof(f->in.cmd) - off,
		    "%s%s", i ? " " : "", argv[i]);
	pthread_mutex_lock(&f_lock);
	f_insert(f);
	f_reapers++;
	e = krk_ctl_thread(NULL, 64u << 10, true, reaper_main, f);
	if (e != 0) {
		/* No reaper: end it here, as the reaper would have. */
		f_reapers--;
		pthread_mutex_unlock(&f_lock);
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		siginfo_t si;
		waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED);
		pthread_mutex_lock(&f_lock);
		close(f->pidfd);
		f->pidfd = -1;
		f->in.state = KRK_FOREIGN_FAILED;
		f->ended_ns = now_ns();
		pthread_mutex_unlock(&f_lock);
		snprintf(err, errlen, "spawn --foreign %s: no reaper thread: %s",
		    argv[0], strerror(e));
		return e;
	}
	pthread_mutex_unlock(&f_lock);
	CTR_INC(spawned);
	*idp = f->in.id;
	krk_log(KRK_LOG_INFO, "foreign: %d (%s): started pid %d: %s",
	    f->in.id, f->in.name, (int)pid, f->in.cmd);
	return 0;
}

int
krk_foreign_kill(int id, int sig)
{
	pthread_mutex_lock(&f_lock);
	struct foreign *f = f_find(id);
	int e = 0;
	if (f == NULL)
		e = ESRCH;
	else if (f->in.spawned) {
		if (f->pidfd < 0 || syscall(SYS_pidfd_send_signal, f->pidfd,
		    sig, NULL, 0) != 0)
			e = f->pidfd < 0 ? ESRCH : errno;
	} else if (f->holder_fd >= 0)
		/* Not our child: end its attachment, which frees everything
		 * it held in KRANK; the process itself is left alone. */
		shutdown(f->holder_fd, SHUT_RDWR);
	else
		e = ESRCH;
	pthread_mutex_unlock(&f_lock);
	return e;
}

int
krk_foreign_get(int id, struct krk_foreign_info *info)
{
	pthread_mutex_lock(&f_lock);
	struct foreign *f = f_find(id);
	if (f != NULL)
		f_snapshot(f, info);
	pthread_mutex_unlock(&f_lock);
	return f != NULL ? 0 : ESRCH;
}

int
krk_foreign_find(const char *name, int *idp)
{
	pthread_mutex_lock(&f_lock);
	struct foreign *f = f_head;
	while (f != NULL && strcmp(f->in.name, name) != 0)
		f = f->next;
	if (f != NULL)
		*idp = f->in.id;
	pthread_mutex_unlock(&f_lock);
	return f != NULL ? 0 : ESRCH;
}

int
krk_foreign_wait(int id, uint64_t timeout_ns, struct krk_foreign_info *info)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	if (timeout_ns != UINT64_MAX) {
		uint64_t ns = (uint64_t)dl.tv_nsec + timeout_ns % 1000000000u;
		dl.tv_sec += (time_t)(timeout_ns / 1000000000u + ns / 1000000000u);
		dl.tv_nsec = (long)(ns % 1000000000u);
	}
	pthread_mutex_lock(&f_lock);
	for (;;) {
		struct foreign *f = f_find(id);
		if (f == NULL) {
			pthread_mutex_unlock(&f_lock);
			return ESRCH;
		}
		f_snapshot(f, info);
		if (ended(f) && f->pidfd < 0)
			break;
		if (timeout_ns == UINT64_MAX)
			pthread_cond_wait(&f_cv, &f_lock);
		else if (pthread_cond_timedwait(&f_cv, &f_lock, &dl) ==
		    ETIMEDOUT) {
			f_snapshot(f, info);
			pthread_mutex_unlock(&f_lock);
			return ETIMEDOUT;
		}
	}
	pthread_mutex_unlock(&f_lock);
	return 0;
}

int
krk_foreign_list(struct krk_foreign_info **vp, size_t *np)
{
	pthread_mutex_lock(&f_lock);
	size_t n = 0;
	for (struct foreign *f = f_head; f != NULL; f = f->next)
		n++;
	struct krk_foreign_info *v = calloc(n ? n : 1, sizeof(*v));
	if (v == NULL) {
		pthread_mutex_unlock(&f_lock);
		return ENOMEM;
	}
	size_t i = 0;
	for (struct foreign *f = f_head; f != NULL; f = f->next)
		f_snapshot(f, &v[i++]);
	pthread_mutex_unlock(&f_lock);
	*vp = v;
	*np = n;
	return 0;
}

/* ---- the attach socket ---- */

static bool
att_stopping(void)
{
	return __atomic_load_n(&att.stopping, __ATOMIC_ACQUIRE) != 0;
}

/* root, or a uid of attach.users (f_lock not needed: fixed after start). */
static bool
uid_allowed(uint32_t uid)
{
	if (uid == 0)
		return true;
	for (size_t i = 0; i < att.nuids; i++)
		if (att.uids[i] == uid)
			return true;
	return false;
}

static void
refuse(int fd, const char *msg)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "error: %s\n", msg);
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1;
	struct timeval t = { 0, 200000 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof(t));
	krk_ctl_send_all(fd, line, (size_t)n);
	shutdown(fd, SHUT_WR);
	close(fd);
}

struct att_client {
	int fd;
	int slot;
	bool allowed;
	char msg[256];			/* why not, when not */
};

/* Take the refused peer's request (up to 500 ms and 4 KiB) before the
 * answer: closing on an unread request would make the client's send
 * fail with EPIPE before it could read why. */
static void
drain_request(int fd)
{
	char buf[4096];
	size_t got = 0;
	uint64_t end = now_ns() + 500000000u;
	while (got < sizeof(buf) && now_ns() < end && !att_stopping()) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		ssize_t n = recv(fd, buf + got, sizeof(buf) - got, MSG_DONTWAIT);
		if (n <= 0)
			break;
		got += (size_t)n;
		/* The request ends with an empty string: two NULs. */
		if (got >= 2 && buf[got - 1] == '\0' && buf[got - 2] == '\0')
			break;
	}
}

static void *
att_client_main(void *arg)
{
	static const char *const only[] = { "attach", "chanpool", NULL };
	struct att_client *c = arg;
	pthread_setname_np(pthread_self(), "krank-att-cli");
	if (c->allowed)
		krk_ctl_serve_only(c->fd, only);
	else {
		drain_request(c->fd);
		char line[300];
		int n = snprintf(line, sizeof(line), "error: %s\n", c->msg);
		krk_ctl_send_all(c->fd, line, (size_t)n);
	}
	pthread_mutex_lock(&f_lock);
	att.fds_in_service[c->slot] = -1;
	att.nservice--;
	pthread_cond_broadcast(&f_cv);
	pthread_mutex_unlock(&f_lock);
	shutdown(c->fd, SHUT_WR);
	close(c->fd);
	free(c);
	return NULL;
}

static void
att_admit(int fd)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);
	struct timeval snd = { KRK_CTL_SEND_TIMEOUT_MS / 1000,
	    (KRK_CTL_SEND_TIMEOUT_MS % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) != 0) {
		refuse(fd, "attach: cannot read the peer's credentials");
		return;
	}
	char msg[256] = "";
	bool allowed = uid_allowed(cr.uid);
	if (!allowed) {
		char who[64];
		struct passwd pw, *pp = NULL;
		char pwbuf[2048];
		if (getpwuid_r(cr.uid, &pw, pwbuf, sizeof(pwbuf), &pp) == 0 &&
		    pp != NULL)
			snprintf(who, sizeof(who), "%s", pw.pw_name);
		else
			snprintf(who, sizeof(who), "no name");
		snprintf(msg, sizeof(msg), "attach: uid %u (%s) may not attach "
		    "to deployment %s: not in attach.users", (unsigned)cr.uid,
		    who, att.deployment);
		CTR_INC(refused);
		/* Rate-limited: a refused user could fill the log. */
		static uint64_t last_ns;
		static unsigned burst;
		uint64_t t = now_ns();
		if (t - last_ns > 1000000000u) {
			last_ns = t;
			burst = 0;
		}
		if (burst++ < 10)
			krk_log(KRK_LOG_WARN, "%s (pid %d)", msg, (int)cr.pid);
	}
	pthread_mutex_lock(&f_lock);
	int slot = -1;
	for (int i = 0; i < ATT_MAX_CLIENTS && slot < 0; i++)
		if (att.fds_in_service[i] < 0)
			slot = i;
	struct att_client *c = slot >= 0 ? malloc(sizeof(*c)) : NULL;
	if (c != NULL) {
		c->fd = fd;
		c->slot = slot;
		c->allowed = allowed;
		snprintf(c->msg, sizeof(c->msg), "%s", msg);
		att.fds_in_service[slot] = fd;
		att.nservice++;
		if (krk_ctl_thread(NULL, ATT_STACK, true, att_client_main,
		    c) != 0) {
			att.fds_in_service[slot] = -1;
			att.nservice--;
			free(c);
			c = NULL;
		}
	}
	pthread_mutex_unlock(&f_lock);
	if (c == NULL)
		refuse(fd, allowed ? "attach: busy: too many connections at "
		    "once, try again" : msg);
}

static void *
att_acceptor_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "krank-attach");
	krk_ctl_accept_loop(att.lfd, att.wake[0], att_stopping, att_admit,
	    att.path);
	return NULL;
}

/* Start the acceptor thread (under f_lock). */
static int
att_serve_locked(void)
{
	if (att.accepting)
		return 0;
	int e = krk_ctl_thread(&att.acceptor, ATT_STACK, false,
	    att_acceptor_main, NULL);
	if (e == 0)
		att.accepting = true;
	return e;
}

void
krk_foreign_defer_accept(void)
{
	att.defer = true;
}

int
krk_foreign_accept_start(void)
{
	pthread_mutex_lock(&f_lock);
	int e = att.running ? att_serve_locked() : 0;
	pthread_mutex_unlock(&f_lock);
	return e;
}

int
krk_foreign_start(const struct krk_config *cfg, char *err, size_t errlen)
{
	const char *path = cfg->attach_socket;
	int fd, e;

	if (path == NULL || strlen(path) >= sizeof(att.path)) {
		snprintf(err, errlen, "attach socket %s: path empty or too long",
		    path ? path : "(none)");
		return ENAMETOOLONG;
	}
	/* Anyone may connect: SO_PEERCRED and attach.users decide, and a
	 * refused user learns why (a mode would only say "permission
	 * denied"). */
	if ((e = krk_ctl_listen("attach socket", path, 0666, (gid_t)-1, &fd,
	    err, errlen)) != 0)
		return e;
	if (pipe2(att.wake, O_CLOEXEC) != 0) {
		e = errno;
		snprintf(err, errlen, "attach socket %s: pipe: %s", path,
		    strerror(e));
		close(fd);
		unlink(path);
		return e;
	}
	pthread_mutex_lock(&f_lock);
	snprintf(att.path, sizeof(att.path), "%s", path);
	snprintf(att.deployment, sizeof(att.deployment), "%s", cfg->name);
	free(att.uids);
	att.uids = NULL;
	att.nuids = 0;
	if (cfg->nattach_uids > 0 && (att.uids = calloc(cfg->nattach_uids,
	    sizeof(uint32_t))) != NULL) {
		memcpy(att.uids, cfg->attach_uids, cfg->nattach_uids *
		    sizeof(uint32_t));
		att.nuids = cfg->nattach_uids;
	}
	const char *env = getenv("KRANK_PRELOAD");
	const char *pre = cfg->attach_preload != NULL ? cfg->attach_preload :
	    env != NULL ? env : KRK_PRELOAD_PATH;
	att.has_preload = pre[0] != '\0';
	snprintf(att.preload, sizeof(att.preload), "%s", pre);
	att.fds = cfg->attach_fds;
	att.rings = cfg->attach_rings;
	att.max = cfg->attach_max;
	for (int i = 0; i < ATT_MAX_CLIENTS; i++)
		att.fds_in_service[i] = -1;
	att.nservice = 0;
	att.lfd = fd;
	__atomic_store_n(&att.stopping, 0, __ATOMIC_RELEASE);
	att.accepting = false;
	e = att.defer ? 0 : att_serve_locked();
	if (e != 0) {
		pthread_mutex_unlock(&f_lock);
		close(fd);
		close(att.wake[0]);
		close(att.wake[1]);
		unlink(path);
		snprintf(err, errlen, "attach socket %s: no thread: %s", path,
		    strerror(e));
		return e;
	}
	att.running = true;
	pthread_mutex_unlock(&f_lock);
	krk_log(KRK_LOG_INFO, "attach: listening on %s", path);
	return 0;
}

void
krk_foreign_describe(char *buf, size_t len)
{
	pthread_mutex_lock(&f_lock);
	size_t off = (size_t)snprintf(buf, len, "%s (mode 0666; root", att.path);
	for (size_t i = 0; i < att.nuids && off < len; i++) {
		if (att.uids[i] == 0)
			continue;		/* root always may */
		struct passwd pw, *pp = NULL;
		char pwbuf[1024];
		if (getpwuid_r(att.uids[i], &pw, pwbuf, sizeof(pwbuf), &pp) == 0 &&
		    pp != NULL)
			off += (size_t)snprintf(buf + off, len - off, ", %s",
			    pw.pw_name);
		else
			off += (size_t)snprintf(buf + off, len - off, ", uid %u",
			    (unsigned)att.uids[i]);
	}
	if (off < len) {
		char rings[32] = "";
		if (att.rings)
			snprintf(rings, sizeof(rings), ", %u ring pairs",
			    att.rings);
		snprintf(buf + off, len - off, " may attach; each at most %u "
		    "descriptors%s; %u at once)", att.fds, rings, att.max);
	}
	pthread_mutex_unlock(&f_lock);
}

void
krk_foreign_stop(void)
{
	pthread_mutex_lock(&f_lock);
	bool running = att.running;
	pthread_mutex_unlock(&f_lock);
	if (running) {
		__atomic_store_n(&att.stopping, 1, __ATOMIC_RELEASE);
		if (write(att.wake[1], "x", 1) < 0) {
			/* the acceptor checks stopping after each poll */
		}
		if (att.accepting)
			pthread_join(att.acceptor, NULL);
		pthread_mutex_lock(&f_lock);
		att.accepting = false;
		for (int i = 0; i < ATT_MAX_CLIENTS; i++)
			if (att.fds_in_service[i] >= 0)
				shutdown(att.fds_in_service[i], SHUT_RDWR);
		while (att.nservice > 0)
			pthread_cond_wait(&f_cv, &f_lock);
		att.running = false;
		pthread_mutex_unlock(&f_lock);
		close(att.lfd);
		close(att.wake[0]);
		close(att.wake[1]);
		att.lfd = att.wake[0] = att.wake[1] = -1;
		unlink(att.path);
	}
	/* The processes KRANK started end with it: SIGTERM, then SIGKILL
	 * after 2 s for those that did not listen. */
	pthread_mutex_lock(&f_lock);
	for (int round = 0; round < 2 && f_reapers > 0; round++) {
		for (struct foreign *f = f_head; f != NULL; f = f->next)
			if (f->pidfd >= 0)
				syscall(SYS_pidfd_send_signal, f->pidfd,
				    round ? SIGKILL : SIGTERM, NULL, 0);
		struct timespec dl;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += round ? 10 : 2;
		while (f_reapers > 0 && pthread_cond_timedwait(&f_cv, &f_lock,
		    &dl) != ETIMEDOUT)
			;
	}
	while (f_head != NULL) {
		struct foreign *f = f_head;
		if (f->pidfd >= 0 || f->c != NULL)
			break;		/* still in use: leave it (and say so) */
		f_head = f->next;
		free(f);
	}
	if (f_head != NULL)
		krk_log(KRK_LOG_WARN, "foreign: isolate %d (%s) still running "
		    "as KRANK stops", f_head->in.id, f_head->in.name);
	free(att.uids);
	att.uids = NULL;
	att.nuids = 0;
	pthread_mutex_unlock(&f_lock);
}
