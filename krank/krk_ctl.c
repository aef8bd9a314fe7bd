/*
 * krk_ctl.c - the control socket that krankctl talks to (protocol in
 * krk_ctl_proto.h).  One thread accepts; each admitted client gets a
 * service thread of its own (at most CTL_MAX_CLIENTS at once), so a long
 * `wait` or `capture` and a client that never sends or never reads stall
 * nobody else: requests must arrive whole within KRK_CTL_RECV_TIMEOUT_MS
 * and replies drain within KRK_CTL_SEND_TIMEOUT_MS per write.  Peers are
 * checked with SO_PEERCRED: root, KRANK's own user, or the socket's group.
 * The commands live in krk_ctl_cmd.c and krk_ctl_capture.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>
#include "net/krs_net.h"

#include "krk.h"
#include "krk_ctl_proto.h"
#include "krk_ctl_int.h"
#include "krk_attach.h"

#define CTL_MAX_CLIENTS	16
/* Service threads' stacks: KRANK may mlockall, so 16 default 8 MiB stacks
 * would pin 128 MiB; the deepest command frame needs some 16 KiB. */
#ifdef __SANITIZE_ADDRESS__
#define CTL_STACK	(1u << 20)
#else
#define CTL_STACK	(256u << 10)
#endif

/*
 * ctl.lock protects the client table (fds, nclients) and running;
 * stopping is read without it (atomic).  The counters are atomic.
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t idle;		/* nclients fell */
	bool running;
	int stopping;			/* atomic */
	int lfd;
	int wake[2];			/* pipe: stop wakes the acceptor */
	pthread_t acceptor;
	bool accepting;			/* the acceptor thread was started */
	bool defer;			/* krk_ctl_defer_accept was called */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool has_group;
	gid_t gid;
	int fds[CTL_MAX_CLIENTS];	/* -1: free slot */
	int nclients;
} ctl = { .lock = PTHREAD_MUTEX_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER, .lfd = -1, .wake = { -1, -1 } };

struct krk_ctl_counters krk_ctl_stats;

#define CTR_INC(f) __atomic_add_fetch(&krk_ctl_stats.f, 1, __ATOMIC_RELAXED)

bool
krk_ctl_stopping(void)
{
	return __atomic_load_n(&ctl.stopping, __ATOMIC_ACQUIRE) != 0;
}

/* ---- output to one client ---- */

/* Write all of buf; false when the client is gone or stopped reading
 * (SO_SNDTIMEO bounds each write). */
bool
krk_ctl_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				CTR_INC(send_timeouts);
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void
send_error(int fd, const char *msg)
{
	char line[600];
	int n = snprintf(line, sizeof(line), "error: %s\n", msg);
	if (n > (int)sizeof(line) - 1) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	krk_ctl_send_all(fd, line, (size_t)n);
}

/* ---- requests ---- */

/*
 * Read one request within KRK_CTL_RECV_TIMEOUT_MS in all (a client that
 * trickles bytes gets no more time than one that sends nothing).
 * 0 and argv, or an errno value with the reason in err.
 */
static int
read_request(int fd, char *buf, const char **argv, int *argcp, char *err,
    size_t errlen)
{
	uint64_t deadline = krk_ctl_now_ns(CLOCK_MONOTONIC) +
	    (uint64_t)KRK_CTL_RECV_TIMEOUT_MS * 1000000u;
	size_t len = 0, used;

	for (;;) {
		int rv = krk_ctl_req_parse(buf, len, argv, KRK_CTL_MAX_ARGS,
		    argcp, &used);
		if (rv == 0) {
			if (used != len) {
				snprintf(err, errlen, "malformed request: %zu "
				    "bytes after the terminating empty string",
				    len - used);
				return EPROTO;
			}
			return 0;
		}
		if (rv == E2BIG) {
			snprintf(err, errlen, "malformed request: more than %d "
			    "arguments", KRK_CTL_MAX_ARGS);
			return rv;
		}
		if (rv == EMSGSIZE || len >= KRK_CTL_MAX_REQ) {
			snprintf(err, errlen, "malformed request: longer than "
			    "%d bytes", KRK_CTL_MAX_REQ);
			return EMSGSIZE;
		}
		uint64_t now = krk_ctl_now_ns(CLOCK_MONOTONIC);
		if (now >= deadline || krk_ctl_stopping()) {
			snprintf(err, errlen, "no whole request within %d ms",
			    KRK_CTL_RECV_TIMEOUT_MS);
			return ETIMEDOUT;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int ms = (int)((deadline - now) / 1000000u) + 1;
		if (poll(&p, 1, ms > 200 ? 200 : ms) <= 0)
			continue;
		ssize_t n = recv(fd, buf + len, KRK_CTL_MAX_REQ - len,
		    MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == 0 && len == 0) {
			/* A probe (a second KRANK checking for a live one). */
			snprintf(err, errlen, "client closed without a request");
			return ENOTCONN;
		}
		if (n <= 0) {
			snprintf(err, errlen, "malformed request: %s before "
			    "the terminating empty string",
			    n == 0 ? "end of stream" : strerror(errno));
			return EPROTO;
		}
		len += (size_t)n;
	}
}

/* ---- dispatch ---- */

static const struct {
	const char *name;
	int (*fn)(struct krk_ctl_req *);
} commands[] = {
	{ "ps", krk_ctl_cmd_ps },
	{ "top", krk_ctl_cmd_top },
	{ "spawn", krk_ctl_cmd_spawn },
	{ "kill", krk_ctl_cmd_kill },
	{ "wait", krk_ctl_cmd_wait },
	{ "restart", krk_ctl_cmd_restart },
	{ "ifconfig", krk_ctl_cmd_ifconfig },
	{ "netstat", krk_ctl_cmd_netstat },
	{ "mounts", krk_ctl_cmd_mounts },
	{ "df", krk_ctl_cmd_df },
	{ "log", krk_ctl_cmd_log },
	{ "metrics", krk_ctl_cmd_metrics },
	{ "capture", krk_ctl_cmd_capture },
	{ "version", krk_ctl_cmd_version },
	{ "attach", krk_ctl_cmd_attach },
	{ "chanpool", krk_ctl_cmd_chanpool },
};

static void serve_cmds(int fd, const char *const *only);

void
krk_ctl_serve(int fd)
{
	serve_cmds(fd, NULL);
}

void
krk_ctl_serve_only(int fd, const char *const *only)
{
	serve_cmds(fd, only);
}

/* One request; only (NULL-terminated) limits the commands, NULL: all. */
static void
serve_cmds(int fd, const char *const *only)
{
	char buf[KRK_CTL_MAX_REQ];
	const char *argv[KRK_CTL_MAX_ARGS];
	char err[512] = "";
	int argc;

	int e = read_request(fd, buf, argv, &argc, err, sizeof(err));
	if (e == ENOTCONN) {
		krk_log(KRK_LOG_DEBUG, "ctl: %s", err);
		return;
	}
	if (e != 0) {
		CTR_INC(malformed);
		krk_log(KRK_LOG_WARN, "ctl: %s", err);
		send_error(fd, err);
		return;
	}
	CTR_INC(requests);
	if (argc == 0) {
		CTR_INC(malformed);
		send_error(fd, "empty request: no command");
		return;
	}
	struct sbuf out = SBUF_INIT;
	struct krk_ctl_req r = { .fd = fd, .out = &out, .err = err,
	    .errlen = sizeof(err) };
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			r.json = true;
		else
			r.argv[r.argc++] = argv[i];
	}
	int (*fn)(struct krk_ctl_req *) = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, argv[0]) == 0)
			fn = commands[i].fn;
	if (only != NULL) {
		bool listed = false;
		for (size_t i = 0; only[i] != NULL; i++)
			listed |= strcmp(only[i], argv[0]) == 0;
		if (!listed) {
			CTR_INC(malformed);
			snprintf(err, sizeof(err), "%.64s: not served on this "
			    "socket (attach chanpool)", argv[0]);
			send_error(fd, err);
			return;
		}
	}
	if (fn == NULL) {
		snprintf(err, sizeof(err), "%.64s: no such command (ps top spawn "
		    "kill wait restart ifconfig netstat mounts df log metrics "
		    "capture version attach chanpool)", argv[0]);
		send_error(fd, err);
		return;
	}
	err[0] = '\0';
	e = fn(&r);
	if (r.streamed) {
		sb_free(&out);
		return;
	}
	if (e != 0)
		send_error(fd, err[0] ? err : strerror(e));
	else if (out.oom)
		send_error(fd, "out of memory");
	else if (krk_ctl_send_all(fd, "ok\n", 3))
		krk_ctl_send_all(fd, out.b ? out.b : "", out.len);
	sb_free(&out);
}

/* ---- the socket, the acceptor, the service threads ---- */

/* Close fd after a reply: end our side and discard request bytes that
 * already arrived, so the close is no reset that could destroy the reply
 * before the client reads it (never waits for more). */
static void
close_client(int fd)
{
	char sink[4096];
	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 16 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0;
	    i++)
		;
	close(fd);
}

static bool
peer_allowed(int fd, struct ucred *cr)
{
	socklen_t l = sizeof(*cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &l) != 0)
		return false;
	if (cr->uid == 0 || cr->uid == geteuid())
		return true;
	if (!ctl.has_group)
		return false;
	if (cr->gid == ctl.gid)
		return true;
	/* Supplementary groups: the peer's user's membership in the group
	 * database (a credential passed with the connection would need
	 * SO_PASSCRED messages; membership is what the admin configured). */
	struct passwd pw, *pp;
	char pwbuf[4096];
	if (getpwuid_r(cr->uid, &pw, pwbuf, sizeof(pwbuf), &pp) != 0 || pp == NULL)
		return false;
	gid_t groups[256];
	int ng = 256;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ng) < 0)
		return false;
	for (int i = 0; i < ng; i++)
		if (groups[i] == ctl.gid)
			return true;
	return false;
}

struct client {
	int fd;
	int slot;
};

static void *
client_main(void *arg)
{
	struct client *c = arg;
	pthread_setname_np(pthread_self(), "krank-ctl-cli");
	krk_ctl_serve(c->fd);
	pthread_mutex_lock(&ctl.lock);
	ctl.fds[c->slot] = -1;
	ctl.nclients--;
	close_client(c->fd);
	pthread_cond_broadcast(&ctl.idle);
	pthread_mutex_unlock(&ctl.lock);
	free(c);
	return NULL;
}

static void
admit(int fd)
{
	struct ucred cr;
	struct timeval snd = { KRK_CTL_SEND_TIMEOUT_MS / 1000,
	    (KRK_CTL_SEND_TIMEOUT_MS % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd));
	if (!peer_allowed(fd, &cr)) {
		CTR_INC(refused);
		krk_log(KRK_LOG_WARN, "ctl: %s: refused pid %d uid %u gid %u: "
		    "neither root nor in the socket's group", ctl.path,
		    (int)cr.pid, (unsigned)cr.uid, (unsigned)cr.gid);
		struct timeval t = { 0, 200000 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof(t));
		send_error(fd, "permission denied: neither root nor in the "
		    "control socket's group");
		close_client(fd);
		return;
	}
	pthread_mutex_lock(&ctl.lock);
	int slot = -1;
	for (int i = 0; i < CTL_MAX_CLIENTS && slot < 0; i++)
		if (ctl.fds[i] < 0)
			slot = i;
	struct client *c = slot >= 0 ? malloc(sizeof(*c)) : NULL;
	if (c != NULL) {
		c->fd = fd;
		c->slot = slot;
		ctl.fds[slot] = fd;
		ctl.nclients++;
		if (krk_ctl_thread(NULL, CTL_STACK, true, client_main, c) != 0) {
			ctl.fds[slot] = -1;
			ctl.nclients--;
			free(c);
			c = NULL;
		}
	}
	pthread_mutex_unlock(&ctl.lock);
	if (c == NULL) {
		CTR_INC(busy);
		struct timeval t = { 0, 200000 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof(t));
		send_error(fd, "busy: too many control clients at once, try again");
		close_client(fd);
	}
}

static void *
acceptor_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "krank-ctl");
	krk_ctl_accept_loop(ctl.lfd, ctl.wake[0], krk_ctl_stopping, admit,
	    ctl.path);
	return NULL;
}

int
krk_ctl_thread(pthread_t *thp, size_t stack, bool detached,
    void *(*fn)(void *), void *arg)
{
	pthread_t th;
	pthread_attr_t at;
	pthread_attr_init(&at);
	if (detached)
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, stack);
	int e = pthread_create(thp != NULL ? thp : &th, &at, fn, arg);
	pthread_attr_destroy(&at);
	return e;
}

void
krk_ctl_accept_loop(int lfd, int wakefd, bool (*stopping)(void),
    void (*admit_fn)(int fd), const char *what)
{
	while (!stopping()) {
		struct pollfd p[2] = { { .fd = lfd, .events = POLLIN },
		    { .fd = wakefd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			krk_log(KRK_LOG_ERR, "ctl: %s: poll: %s", what,
			    strerror(errno));
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* Out of descriptors: back off rather than spin. */
				struct timespec ts = { 0, 50000000 };
				nanosleep(&ts, NULL);
			}
			continue;
		}
		admit_fn(fd);
	}
}

/* Does a live server answer on path?  1 yes, 0 stale/none, or -errno. */
static int
probe_live(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rv = connect(fd, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	close(fd);
	if (rv == 0)
		return 1;
	if (e == ECONNREFUSED || e == ENOENT)
		return 0;
	return -e;
}

int
krk_ctl_listen(const char *what, const char *path, mode_t mode, gid_t gid,
    int *lfdp, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int e;

	if (path == NULL || path[0] == '\0' ||
	    strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "%s %s: path empty or longer than %zu "
		    "bytes", what, path ? path : "(null)", sizeof(a.sun_path) - 1);
		return ENAMETOOLONG;
	}
	/* The default directory may not exist yet on a fresh boot. */
	char dir[sizeof(a.sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			e = errno;
			snprintf(err, errlen, "%s %s: cannot create %s: %s", what,
			    path, dir, strerror(e));
			return e;
		}
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s %s: exists and is not a socket; "
			    "refusing to replace it", what, path);
			return EEXIST;
		}
		int live = probe_live(path);
		if (live == 1) {
			snprintf(err, errlen, "%s %s: a live KRANK already "
			    "answers on this socket", what, path);
			return EADDRINUSE;
		}
		if (live < 0) {
			snprintf(err, errlen, "%s %s: cannot tell whether a KRANK "
			    "answers: %s", what, path, strerror(-live));
			return -live;
		}
		if (unlink(path) != 0 && errno != ENOENT) {
			e = errno;
			snprintf(err, errlen, "%s %s: cannot remove the stale "
			    "socket: %s", what, path, strerror(e));
			return e;
		}
		krk_log(KRK_LOG_INFO, "ctl: %s: removed a stale socket", path);
	}

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s %s: socket: %s", what, path,
		    strerror(e));
		return e;
	}
	strcpy(a.sun_path, path);
	/* Nobody can connect before listen(), so the mode is set before
	 * the socket is reachable. */
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		e = errno;
		snprintf(err, errlen, "%s %s: bind: %s", what, path,
		    strerror(e));
		close(fd);
		return e;
	}
	if ((gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0) ||
	    chmod(path, mode) != 0 || listen(fd, 64) != 0) {
		e = errno;
		snprintf(err, errlen, "%s %s: cannot set up the socket (owner, "
		    "mode or listen): %s", what, path, strerror(e));
		close(fd);
		unlink(path);
		return e;
	}
	*lfdp = fd;
	return 0;
}

int
krk_ctl_start(const char *path, const char *group, char *err, size_t errlen)
{
	int e;

	pthread_mutex_lock(&ctl.lock);
	bool running = ctl.running;
	pthread_mutex_unlock(&ctl.lock);
	if (running) {
		snprintf(err, errlen, "%s: control socket already started",
		    path);
		return EBUSY;
	}
	if (path == NULL || path[0] == '\0' ||
	    strlen(path) >= sizeof(ctl.path)) {
		snprintf(err, errlen, "%s: control socket path empty or longer "
		    "than %zu bytes", path ? path : "(null)", sizeof(ctl.path) - 1);
		return ENAMETOOLONG;
	}
	ctl.has_group = false;
	if (group != NULL) {
		struct group gr, *gp;
		char gbuf[4096];
		if (getgrnam_r(group, &gr, gbuf, sizeof(gbuf), &gp) != 0 ||
		    gp == NULL) {
			snprintf(err, errlen, "%s: control group %s: no such group",
			    path, group);
			return ENOENT;
		}
		ctl.gid = gr.gr_gid;
		ctl.has_group = true;
	}
	int fd;
	if ((e = krk_ctl_listen("control socket", path, ctl.has_group ? 0660 :
	    0600, ctl.has_group ? ctl.gid : (gid_t)-1, &fd, err, errlen)) != 0)
		return e;
	if (pipe2(ctl.wake, O_CLOEXEC) != 0) {
		e = errno;
		snprintf(err, errlen, "%s: pipe: %s", path, strerror(e));
		close(fd);
		unlink(path);
		return e;
	}
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	ctl.lfd = fd;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		ctl.fds[i] = -1;
	ctl.nclients = 0;
	__atomic_store_n(&ctl.stopping, 0, __ATOMIC_RELEASE);
	ctl.accepting = false;
	if (!ctl.defer && (e = krk_ctl_accept_start()) != 0) {
		snprintf(err, errlen, "%s: cannot start the control thread: %s",
		    path, strerror(e));
		close(fd);
		close(ctl.wake[0]);
		close(ctl.wake[1]);
		unlink(path);
		return e;
	}
	pthread_mutex_lock(&ctl.lock);
	ctl.running = true;
	pthread_mutex_unlock(&ctl.lock);
	krk_log(KRK_LOG_INFO, "ctl: listening on %s (mode %s%s)", path,
	    ctl.has_group ? "0660, group " : "0600", ctl.has_group ? group : "");
	return 0;
}

void
krk_ctl_defer_accept(void)
{
	ctl.defer = true;
}

int
krk_ctl_accept_start(void)
{
	if (ctl.accepting)
		return 0;
	int e = krk_ctl_thread(&ctl.acceptor, CTL_STACK, false, acceptor_main,
	    NULL);
	if (e == 0)
		ctl.accepting = true;
	return e;
}

void
krk_ctl_stop(void)
{
	pthread_mutex_lock(&ctl.lock);
	if (!ctl.running) {
		pthread_mutex_unlock(&ctl.lock);
		return;
	}
	pthread_mutex_unlock(&ctl.lock);
	__atomic_store_n(&ctl.stopping, 1, __ATOMIC_RELEASE);
	if (write(ctl.wake[1], "x", 1) < 0) {
		/* the acceptor also checks stopping after each poll */
	}
	if (ctl.accepting)
		pthread_join(ctl.acceptor, NULL);
	ctl.accepting = false;
	/* Wake the service threads out of their reads and writes; each
	 * closes its own descriptor. */
	pthread_mutex_lock(&ctl.lock);
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl.fds[i] >= 0)
			shutdown(ctl.fds[i], SHUT_RDWR);
	while (ctl.nclients > 0)
		pthread_cond_wait(&ctl.idle, &ctl.lock);
	ctl.running = false;
	pthread_mutex_unlock(&ctl.lock);
	krk_ctl_attach_drain();		/* they see stopping within 200 ms */
	close(ctl.lfd);
	close(ctl.wake[0]);
	close(ctl.wake[1]);
	ctl.lfd = ctl.wake[0] = ctl.wake[1] = -1;
	unlink(ctl.path);
	krk_log(KRK_LOG_INFO, "ctl: %s closed", ctl.path);
}
