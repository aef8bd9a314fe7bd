/*
 * krk_ctl.c - the control socket that krankctl talks to (protocol in
 * krk_ctl_proto.h).  One thread accepts; each admitted client gets a
 * service thread of its own (at most CTL_MAX_CLIENTS at once), so a long
 * `wait` or `capture` and a client that never sends or never reads stall
 * nobody else: requests must arrive whole within KRK_CTL_RECV_TIMEOUT_MS
 * and replies drain within KRK_CTL_SEND_TIMEOUT_MS per write.  Peers are
 * checked with SO_PEERCRED: root, KRANK's own user, or the socket's group.
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

#define CTL_MAX_CLIENTS	16
#define CTL_CAP_RING	(4u << 20)	/* bytes of frames per capture */

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
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool has_group;
	gid_t gid;
	int fds[CTL_MAX_CLIENTS];	/* -1: free slot */
	int nclients;
} ctl = { .lock = PTHREAD_MUTEX_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER, .lfd = -1, .wake = { -1, -1 } };

struct krk_ctl_counters krk_ctl_stats;

#define CTR_INC(f) __atomic_add_fetch(&krk_ctl_stats.f, 1, __ATOMIC_RELAXED)

static bool
ctl_stopping(void)
{
	return __atomic_load_n(&ctl.stopping, __ATOMIC_ACQUIRE) != 0;
}

static uint64_t
now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- output to one client ---------------------------------------------- */

/* Write all of buf; false when the client is gone or stopped reading
 * (SO_SNDTIMEO bounds each write). */
static bool
send_all(int fd, const void *buf, size_t len)
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
	send_all(fd, line, (size_t)n);
}

/* ---- requests ---------------------------------------------------------- */

/*
 * Read one request within KRK_CTL_RECV_TIMEOUT_MS in all (a client that
 * trickles bytes gets no more time than one that sends nothing).
 * 0 and argv, or an errno value with the reason in err.
 */
static int
read_request(int fd, char *buf, const char **argv, int *argcp, char *err,
    size_t errlen)
{
	uint64_t deadline = now_ns(CLOCK_MONOTONIC) +
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
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		if (now >= deadline || ctl_stopping()) {
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

/* ---- arguments ----------------------------------------------------------- */

int
krk_ctl_parse_duration(const char *s, uint64_t *nsp)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno != 0 || !(v >= 0))
		return EINVAL;
	double mul = 1e9;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mul = 1e9;
	else if (strcmp(end, "ms") == 0)
		mul = 1e6;
	else if (strcmp(end, "us") == 0)
		mul = 1e3;
	else if (strcmp(end, "ns") == 0)
		mul = 1;
	else if (strcmp(end, "m") == 0)
		mul = 60e9;
	else
		return EINVAL;
	if (v * mul > 1e18)
		return ERANGE;
	*nsp = (uint64_t)(v * mul);
	return 0;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *vp)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0 || v > max)
		return EINVAL;
	*vp = v;
	return 0;
}

/* An isolate by id (all digits) or by name. */
static int
resolve_isolate(const char *s, int *idp, char *err, size_t errlen)
{
	unsigned long v;
	if (parse_uint(s, INT_MAX, &v) == 0) {
		struct krk_isolate_info info;
		if (krk_isolate_get((int)v, &info) == 0) {
			*idp = (int)v;
			return 0;
		}
	}
	if (krk_isolate_find(s, idp) == 0)
		return 0;
	snprintf(err, errlen, "%s: no such isolate", s);
	return ESRCH;
}

/* ---- commands ------------------------------------------------------------ */

struct req {
	int fd;
	int argc;			/* without the command and --json */
	const char *argv[KRK_CTL_MAX_ARGS];
	bool json;
	struct sbuf *out;
	char *err;
	size_t errlen;
	bool streamed;			/* the command wrote its own reply */
};

#define ERR(r, code, ...) (snprintf((r)->err, (r)->errlen, __VA_ARGS__), (code))

static void
fmt_bytes(char *b, size_t n, uint64_t v)
{
	static const char *const u[] = { "B", "K", "M", "G", "T" };
	double d = (double)v;
	int i = 0;
	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(b, n, "%" PRIu64 "B", v);
	else
		snprintf(b, n, "%.1f%s", d, u[i]);
}

static void
iso_fault(const struct krk_isolate_info *in, char *b, size_t n)
{
	b[0] = '\0';
	if (in->state == KRK_ISO_FAULTED)
		snprintf(b, n, "signal %d at %#" PRIxPTR " (%s) pc %s", in->signo,
		    in->fault_addr, in->fault_what[0] ? in->fault_what : "?",
		    in->fault_sym[0] ? in->fault_sym : "?");
	else if (in->state == KRK_ISO_EXITED)
		snprintf(b, n, "exit status %d", in->status);
}

static void
json_isolate(struct sbuf *o, const struct krk_isolate_info *in)
{
	sb_printf(o, "{\"id\":%d,\"name\":", in->id);
	sb_json_str(o, in->name);
	sb_printf(o, ",\"elf\":");
	sb_json_str(o, in->elf);
	sb_printf(o, ",\"state\":");
	sb_json_str(o, krk_iso_state_name(in->state));
	sb_printf(o, ",\"core\":%d,\"status\":%d,\"restarts\":%u,"
	    "\"threads\":%u,\"cpu_seconds\":%.6f,\"syscalls\":%" PRIu64
	    ",\"heap_in_use\":%" PRIu64 ",\"heap_limit\":%" PRIu64
	    ",\"fds_open\":%u,\"fds_limit\":%u", in->core, in->status,
	    in->restarts, in->nthreads, (double)in->cpu_ns / 1e9, in->syscalls,
	    in->heap_in_use, in->heap_limit, in->fds_open, in->fds_limit);
	if (in->state == KRK_ISO_FAULTED) {
		sb_printf(o, ",\"fault\":{\"signal\":%d,\"address\":\"%#" PRIxPTR
		    "\",\"pc\":\"%#" PRIxPTR "\",\"symbol\":", in->signo,
		    in->fault_addr, in->fault_pc);
		sb_json_str(o, in->fault_sym);
		sb_printf(o, ",\"what\":");
		sb_json_str(o, in->fault_what);
		sb_printf(o, "}");
	}
	sb_printf(o, "}");
}

static const char PS_HDR[] = "%-4s %-16s %-9s %4s %8s %7s %10s %-19s %s\n";

static void
table_isolate(struct sbuf *o, const struct krk_isolate_info *in)
{
	char cpu[32], heap[40], a[16], b[16], note[256];
	snprintf(cpu, sizeof(cpu), "%.2fs", (double)in->cpu_ns / 1e9);
	fmt_bytes(a, sizeof(a), in->heap_in_use);
	fmt_bytes(b, sizeof(b), in->heap_limit);
	snprintf(heap, sizeof(heap), "%s/%s", a, b);
	iso_fault(in, note, sizeof(note));
	sb_printf(o, "%-4d %-16s %-9s %4d %8u %7s %10s %-19s %s\n", in->id,
	    in->name, krk_iso_state_name(in->state), in->core, in->restarts,
	    cpu, heap, in->elf, note);
}

static int
cmd_ps(struct req *r)
{
	struct krk_isolate_info *v;
	size_t n;
	if (r->argc != 0)
		return ERR(r, EINVAL, "ps: takes no arguments");
	int e = krk_isolate_list(&v, &n);
	if (e != 0)
		return ERR(r, e, "ps: cannot list the isolates: %s", strerror(e));
	if (r->json) {
		sb_printf(r->out, "{\"isolates\":[");
		for (size_t i = 0; i < n; i++) {
			if (i)
				sb_putc(r->out, ',');
			json_isolate(r->out, &v[i]);
		}
		sb_printf(r->out, "]}\n");
	} else {
		sb_printf(r->out, PS_HDR, "ID", "NAME", "STATE", "CORE",
		    "RESTARTS", "CPU", "HEAP", "ELF", "NOTE");
		for (size_t i = 0; i < n; i++)
			table_isolate(r->out, &v[i]);
	}
	free(v);
	return 0;
}

static int
cmd_top(struct req *r)
{
	uint64_t interval = 1000000000u;
	for (int i = 0; i < r->argc; i++) {
		if (strcmp(r->argv[i], "--interval") == 0 && i + 1 < r->argc) {
			if (krk_ctl_parse_duration(r->argv[++i], &interval) != 0 ||
			    interval == 0 || interval > 60000000000u)
				return ERR(r, EINVAL, "top: --interval %s: want a "
				    "duration from 1ms to 60s", r->argv[i]);
		} else
			return ERR(r, EINVAL, "top: unknown argument %s",
			    r->argv[i]);
	}
	struct krk_isolate_info *a, *b;
	size_t na, nb;
	int e = krk_isolate_list(&a, &na);
	if (e != 0)
		return ERR(r, e, "top: cannot list the isolates: %s", strerror(e));
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	/* Sleep in slices so a stop is not held up. */
	while (!ctl_stopping()) {
		uint64_t t = now_ns(CLOCK_MONOTONIC);
		if (t - t0 >= interval)
			break;
		uint64_t left = interval - (t - t0);
		struct timespec ts = { 0, (long)(left > 50000000u ? 50000000u : left) };
		nanosleep(&ts, NULL);
	}
	double secs = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	e = krk_isolate_list(&b, &nb);
	if (e != 0) {
		free(a);
		return ERR(r, e, "top: cannot list the isolates: %s", strerror(e));
	}
	if (r->json)
		sb_printf(r->out, "{\"interval_seconds\":%.3f,\"isolates\":[", secs);
	else
		sb_printf(r->out, "%-4s %-16s %-9s %10s %6s %11s %-19s %s\n",
		    "ID", "NAME", "STATE", "CPU", "CPU%", "SYSCALLS/s",
		    "HEAP", "FDS");
	for (size_t i = 0; i < nb; i++) {
		const struct krk_isolate_info *in = &b[i];
		uint64_t dcpu = 0, dsys = 0;
		for (size_t j = 0; j < na; j++)
			if (a[j].id == in->id) {
				if (in->cpu_ns >= a[j].cpu_ns)
					dcpu = in->cpu_ns - a[j].cpu_ns;
				if (in->syscalls >= a[j].syscalls)
					dsys = in->syscalls - a[j].syscalls;
			}
		double pct = 100.0 * (double)dcpu / 1e9 / secs;
		double rate = (double)dsys / secs;
		if (r->json) {
			if (i)
				sb_putc(r->out, ',');
			sb_printf(r->out, "{\"id\":%d,\"name\":", in->id);
			sb_json_str(r->out, in->name);
			sb_printf(r->out, ",\"state\":");
			sb_json_str(r->out, krk_iso_state_name(in->state));
			sb_printf(r->out, ",\"cpu_seconds\":%.6f,\"cpu_percent\":"
			    "%.1f,\"syscalls_per_second\":%.1f,\"heap_in_use\":%"
			    PRIu64 ",\"heap_limit\":%" PRIu64 ",\"fds_open\":%u,"
			    "\"fds_limit\":%u}", (double)in->cpu_ns / 1e9, pct,
			    rate, in->heap_in_use, in->heap_limit, in->fds_open,
			    in->fds_limit);
		} else {
			char cpu[24], heap[40], x[16], y[16], fds[24];
			snprintf(cpu, sizeof(cpu), "%.2fs", (double)in->cpu_ns / 1e9);
			fmt_bytes(x, sizeof(x), in->heap_in_use);
			fmt_bytes(y, sizeof(y), in->heap_limit);
			snprintf(heap, sizeof(heap), "%s/%s", x, y);
			snprintf(fds, sizeof(fds), "%u/%u", in->fds_open,
			    in->fds_limit);
			sb_printf(r->out, "%-4d %-16s %-9s %10s %6.1f %11.0f %-19s "
			    "%s\n", in->id, in->name,
			    krk_iso_state_name(in->state), cpu, pct, rate, heap,
			    fds);
		}
	}
	if (r->json)
		sb_printf(r->out, "]}\n");
	free(a);
	free(b);
	return 0;
}

static int
cmd_spawn(struct req *r)
{
	struct krk_isolate_cfg cfg;
	char *argv[KRK_CTL_MAX_ARGS + 1];
	int i = 0;

	memset(&cfg, 0, sizeof(cfg));
	cfg.core = -1;
	for (; i < r->argc && r->argv[i][0] == '-'; i++) {
		if (strcmp(r->argv[i], "--name") == 0 && i + 1 < r->argc) {
			const char *nm = r->argv[++i];
			size_t l = strlen(nm);
			if (l == 0 || l >= sizeof(cfg.name) ||
			    strspn(nm, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
			    "qrstuvwxyz0123456789_.-") != l)
				return ERR(r, EINVAL, "spawn: --name %s: want 1 to "
				    "%zu of [A-Za-z0-9_.-]", nm, sizeof(cfg.name) - 1);
			memcpy(cfg.name, nm, l + 1);
		} else if (strcmp(r->argv[i], "--core") == 0 && i + 1 < r->argc) {
			unsigned long c;
			if (parse_uint(r->argv[++i], KRK_MAX_CORES - 1, &c) != 0)
				return ERR(r, EINVAL, "spawn: --core %s: want a "
				    "core number 0..%d", r->argv[i],
				    KRK_MAX_CORES - 1);
			cfg.core = (int)c;
		} else if (strcmp(r->argv[i], "--") == 0) {
			i++;
			break;
		} else
			return ERR(r, EINVAL, "spawn: unknown option %s",
			    r->argv[i]);
	}
	if (i >= r->argc)
		return ERR(r, EINVAL, "spawn: no ELF given");
	cfg.elf = (char *)r->argv[i];
	if (cfg.name[0] == '\0') {
		const char *base = strrchr(cfg.elf, '/');
		base = base ? base + 1 : cfg.elf;
		snprintf(cfg.name, sizeof(cfg.name), "%s", base);
	}
	cfg.argc = 0;
	for (; i < r->argc; i++)
		argv[cfg.argc++] = (char *)r->argv[i];
	argv[cfg.argc] = NULL;
	cfg.argv = argv;
	static char *noenv[] = { NULL };
	cfg.env = noenv;
	cfg.cwd = (char *)"/";
	cfg.root = (char *)"/";
	cfg.heap = 64u << 20;
	cfg.fds = 1024;
	cfg.restart = KRK_RESTART_NEVER;
	cfg.backoff_ns = 100000000u;
	cfg.backoff_max_ns = 10000000000u;

	char why[256] = "";
	int id, e = krk_isolate_spawn(&cfg, &id, why, sizeof(why));
	if (e != 0)
		return ERR(r, e, "spawn %s: %s", cfg.elf, why[0] ? why : strerror(e));
	krk_log(KRK_LOG_INFO, "ctl: spawned isolate %d (%s) from %s", id,
	    cfg.name, cfg.elf);
	if (r->json) {
		sb_printf(r->out, "{\"id\":%d,\"name\":", id);
		sb_json_str(r->out, cfg.name);
		sb_printf(r->out, "}\n");
	} else
		sb_printf(r->out, "spawned %d %s\n", id, cfg.name);
	return 0;
}

static int
one_isolate(struct req *r, const char *cmd, int *idp)
{
	if (r->argc < 1)
		return ERR(r, EINVAL, "%s: no isolate given (ID or NAME)", cmd);
	return resolve_isolate(r->argv[0], idp, r->err, r->errlen);
}

static int
cmd_kill(struct req *r)
{
	int id, e;
	if (r->argc != 1)
		return ERR(r, EINVAL, "kill: want one isolate (ID or NAME)");
	if ((e = one_isolate(r, "kill", &id)) != 0)
		return e;
	if ((e = krk_isolate_kill(id)) != 0)
		return ERR(r, e, "kill %s: %s", r->argv[0], strerror(e));
	krk_log(KRK_LOG_INFO, "ctl: killed isolate %d (%s)", id, r->argv[0]);
	if (r->json)
		sb_printf(r->out, "{\"id\":%d,\"killed\":true}\n", id);
	else
		sb_printf(r->out, "killed %d\n", id);
	return 0;
}

static int
cmd_restart(struct req *r)
{
	int id, e;
	if (r->argc != 1)
		return ERR(r, EINVAL, "restart: want one isolate (ID or NAME)");
	if ((e = one_isolate(r, "restart", &id)) != 0)
		return e;
	if ((e = krk_isolate_restart(id)) != 0)
		return ERR(r, e, "restart %s: %s", r->argv[0], strerror(e));
	krk_log(KRK_LOG_INFO, "ctl: restarted isolate %d (%s)", id, r->argv[0]);
	if (r->json)
		sb_printf(r->out, "{\"id\":%d,\"restarted\":true}\n", id);
	else
		sb_printf(r->out, "restarted %d\n", id);
	return 0;
}

/* The client hung up (or sent something, which it must not). */
static bool
client_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) > 0;
}

static int
cmd_wait(struct req *r)
{
	uint64_t timeout = UINT64_MAX;
	const char *tstr = "forever";
	int id, e;
	if ((e = one_isolate(r, "wait", &id)) != 0)
		return e;
	for (int i = 1; i < r->argc; i++) {
		if (strcmp(r->argv[i], "--timeout") == 0 && i + 1 < r->argc) {
			tstr = r->argv[++i];
			if (krk_ctl_parse_duration(tstr, &timeout) != 0)
				return ERR(r, EINVAL, "wait: --timeout %s: want a "
				    "duration (500ms, 2s, 1m)", tstr);
		} else
			return ERR(r, EINVAL, "wait: unknown argument %s",
			    r->argv[i]);
	}
	/* In slices: a stop or a client that gives up ends the wait. */
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	struct krk_isolate_info info;
	for (;;) {
		uint64_t el = now_ns(CLOCK_MONOTONIC) - t0;
		uint64_t left = timeout == UINT64_MAX ? UINT64_MAX :
		    (el >= timeout ? 0 : timeout - el);
		uint64_t slice = left < 200000000u ? left : 200000000u;
		e = krk_isolate_wait(id, slice, &info);
		if (e != ETIMEDOUT)
			break;
		if (left == 0)
			return ERR(r, e, "wait %s: still %s after %s", r->argv[0],
			    krk_iso_state_name(info.state), tstr);
		if (ctl_stopping())
			return ERR(r, ECANCELED, "wait %s: KRANK is stopping",
			    r->argv[0]);
		if (client_gone(r->fd))
			return ERR(r, ECANCELED, "wait: client left");
	}
	if (e != 0)
		return ERR(r, e, "wait %s: %s", r->argv[0], strerror(e));
	if (r->json) {
		json_isolate(r->out, &info);
		sb_putc(r->out, '\n');
	} else {
		sb_printf(r->out, PS_HDR, "ID", "NAME", "STATE", "CORE",
		    "RESTARTS", "CPU", "HEAP", "ELF", "NOTE");
		table_isolate(r->out, &info);
	}
	return 0;
}

/* ---- network -------------------------------------------------------------- */

/* krs_net_dump into a malloc'd buffer large enough for all of it. */
static char *
net_dump(struct req *r, int *errp)
{
	size_t len = 64 << 10;
	for (;;) {
		char *b = malloc(len);
		if (b == NULL) {
			*errp = ERR(r, ENOMEM, "network: out of memory");
			return NULL;
		}
		ssize_t n = krs_net_dump(b, len);
		if (n < 0) {
			int e = errno;
			free(b);
			*errp = ERR(r, e, "network: no stack to show: %s",
			    strerror(e));
			return NULL;
		}
		if ((size_t)n < len - 1 || len >= (64u << 20))
			return b;
		free(b);
		len *= 4;
	}
}

static int
cmd_ifconfig(struct req *r)
{
	int e = 0;
	if (r->argc != 0)
		return ERR(r, EINVAL, "ifconfig: takes no arguments");
	char *d = net_dump(r, &e);
	if (d == NULL)
		return e;
	if (r->json)
		sb_printf(r->out, "{\"interfaces\":[");
	else
		sb_printf(r->out, "%-8s %-4s %5s %-18s %-17s %10s %10s %8s %8s "
		    "%12s %12s %7s\n", "NAME", "UP", "MTU", "INET", "ETHER",
		    "IPACKETS", "OPACKETS", "IERRORS", "OERRORS", "IBYTES",
		    "OBYTES", "IQDROPS");
	int k = 0;
	for (char *save, *ln = strtok_r(d, "\n", &save); ln;
	    ln = strtok_r(NULL, "\n", &save)) {
		char name[32], up[8], inet[32], ether[24];
		unsigned mtu;
		if (sscanf(ln, "if %31s %7s mtu %u inet %31s ether %23s", name,
		    up, &mtu, inet, ether) != 5)
			continue;
		struct krs_if_stats st;
		memset(&st, 0, sizeof(st));
		krs_if_stats(name, &st);
		if (r->json) {
			if (k)
				sb_putc(r->out, ',');
			sb_printf(r->out, "{\"name\":");
			sb_json_str(r->out, name);
			sb_printf(r->out, ",\"up\":%s,\"mtu\":%u,\"inet\":",
			    strcmp(up, "up") == 0 ? "true" : "false", mtu);
			sb_json_str(r->out, inet);
			sb_printf(r->out, ",\"ether\":");
			sb_json_str(r->out, ether);
			sb_printf(r->out, ",\"ipackets\":%" PRIu64 ",\"opackets\":%"
			    PRIu64 ",\"ierrors\":%" PRIu64 ",\"oerrors\":%" PRIu64
			    ",\"ibytes\":%" PRIu64 ",\"obytes\":%" PRIu64
			    ",\"iqdrops\":%" PRIu64 ",\"oqdrops\":%" PRIu64
			    ",\"noproto\":%" PRIu64 "}", st.ipackets, st.opackets,
			    st.ierrors, st.oerrors, st.ibytes, st.obytes,
			    st.iqdrops, st.oqdrops, st.noproto);
		} else
			sb_printf(r->out, "%-8s %-4s %5u %-18s %-17s %10" PRIu64
			    " %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %12" PRIu64
			    " %12" PRIu64 " %7" PRIu64 "\n", name, up, mtu, inet,
			    ether, st.ipackets, st.opackets, st.ierrors,
			    st.oerrors, st.ibytes, st.obytes, st.iqdrops);
		k++;
	}
	if (r->json)
		sb_printf(r->out, "]}\n");
	free(d);
	return 0;
}

static int
cmd_netstat(struct req *r)
{
	int e = 0;
	if (r->argc != 0)
		return ERR(r, EINVAL, "netstat: takes no arguments");
	char *d = net_dump(r, &e);
	if (d == NULL)
		return e;
	if (r->json)
		sb_printf(r->out, "{\"connections\":[");
	else
		sb_printf(r->out, "%-5s %-21s %-21s %-12s %7s %7s\n", "PROTO",
		    "LOCAL", "FOREIGN", "STATE", "RECV-Q", "SEND-Q");
	int k = 0;
	for (char *save, *ln = strtok_r(d, "\n", &save); ln;
	    ln = strtok_r(NULL, "\n", &save)) {
		char proto[4], la[32], fa[32], state[16] = "";
		int rq = 0, sq = 0;
		if (sscanf(ln, "tcp %31s %31s %15s rcvq %d sndq %d", la, fa,
		    state, &rq, &sq) == 5)
			strcpy(proto, "tcp");
		else if (sscanf(ln, "udp %31s %31s rcvq %d", la, fa, &rq) == 3)
			strcpy(proto, "udp");
		else
			continue;
		if (r->json) {
			if (k)
				sb_putc(r->out, ',');
			sb_printf(r->out, "{\"proto\":\"%s\",\"local\":", proto);
			sb_json_str(r->out, la);
			sb_printf(r->out, ",\"foreign\":");
			sb_json_str(r->out, fa);
			sb_printf(r->out, ",\"state\":");
			sb_json_str(r->out, state);
			sb_printf(r->out, ",\"recv_q\":%d,\"send_q\":%d}", rq, sq);
		} else
			sb_printf(r->out, "%-5s %-21s %-21s %-12s %7d %7d\n", proto,
			    la, fa, state[0] ? state : "-", rq, sq);
		k++;
	}
	if (r->json)
		sb_printf(r->out, "]}\n");
	free(d);
	return 0;
}

/* ---- file systems ----------------------------------------------------------- */

static struct krs_mntent *
mount_list(struct req *r, int *np, int *errp)
{
	int n = krs_mounts(NULL, 0);
	for (int tries = 0; n >= 0 && tries < 4; tries++) {
		struct krs_mntent *v = calloc((size_t)n + 4, sizeof(*v));
		if (v == NULL)
			break;
		int m = krs_mounts(v, (size_t)n + 4);
		if (m >= 0 && m <= n + 4) {
			*np = m;
			return v;
		}
		free(v);
		n = m;
	}
	int e = n < 0 ? errno : ENOMEM;
	*errp = ERR(r, e, "mounts: cannot read the mount table: %s",
	    e == ENOSYS ? "no file systems booted" : strerror(e));
	return NULL;
}

static int
cmd_mounts(struct req *r)
{
	int n, e = 0;
	if (r->argc != 0)
		return ERR(r, EINVAL, "mounts: takes no arguments");
	struct krs_mntent *v = mount_list(r, &n, &e);
	if (v == NULL)
		return e;
	if (r->json)
		sb_printf(r->out, "{\"mounts\":[");
	else
		sb_printf(r->out, "%-24s %-24s %-8s %s\n", "SOURCE", "MOUNTED ON",
		    "TYPE", "OPTIONS");
	for (int i = n - 1; i >= 0; i--) {	/* oldest first, as mount(8) */
		bool ro = v[i].mnt_flag & KRS_MNT_RDONLY;
		if (r->json) {
			if (i != n - 1)
				sb_putc(r->out, ',');
			sb_printf(r->out, "{\"source\":");
			sb_json_str(r->out, v[i].mnt_from);
			sb_printf(r->out, ",\"target\":");
			sb_json_str(r->out, v[i].mnt_on);
			sb_printf(r->out, ",\"fstype\":");
			sb_json_str(r->out, v[i].mnt_fstype);
			sb_printf(r->out, ",\"readonly\":%s}", ro ? "true" : "false");
		} else
			sb_printf(r->out, "%-24s %-24s %-8s %s\n", v[i].mnt_from,
			    v[i].mnt_on, v[i].mnt_fstype, ro ? "ro" : "rw");
	}
	if (r->json)
		sb_printf(r->out, "]}\n");
	free(v);
	return 0;
}

static int
cmd_df(struct req *r)
{
	int n, e = 0;
	if (r->argc != 0)
		return ERR(r, EINVAL, "df: takes no arguments");
	struct krs_mntent *v = mount_list(r, &n, &e);
	if (v == NULL)
		return e;
	if (r->json)
		sb_printf(r->out, "{\"filesystems\":[");
	else
		sb_printf(r->out, "%-24s %-8s %12s %12s %12s %5s %-10s %s\n",
		    "SOURCE", "TYPE", "1K-BLOCKS", "USED", "AVAILABLE", "USE%",
		    "INODES", "MOUNTED ON");
	int k = 0;
	for (int i = n - 1; i >= 0; i--) {
		struct krs_statvfs sv;
		if (krs_statvfs(v[i].mnt_on, &sv) != 0)
			continue;		/* unmounted meanwhile */
		uint64_t fr = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
		uint64_t size = sv.f_blocks * fr, avail = sv.f_bavail * fr;
		uint64_t used = (sv.f_blocks - (sv.f_bfree < sv.f_blocks ?
		    sv.f_bfree : sv.f_blocks)) * fr;
		unsigned pct = size ? (unsigned)((used * 100 + size - 1) / size) : 0;
		if (r->json) {
			if (k)
				sb_putc(r->out, ',');
			sb_printf(r->out, "{\"source\":");
			sb_json_str(r->out, v[i].mnt_from);
			sb_printf(r->out, ",\"target\":");
			sb_json_str(r->out, v[i].mnt_on);
			sb_printf(r->out, ",\"fstype\":");
			sb_json_str(r->out, sv.f_fstypename);
			sb_printf(r->out, ",\"size_bytes\":%" PRIu64 ",\"used_bytes\":%"
			    PRIu64 ",\"avail_bytes\":%" PRIu64 ",\"files\":%" PRIu64
			    ",\"files_free\":%" PRIu64 ",\"readonly\":%s}", size,
			    used, avail, sv.f_files, sv.f_ffree,
			    (sv.f_flag & KRS_MNT_RDONLY) ? "true" : "false");
		} else {
			char ino[32];
			snprintf(ino, sizeof(ino), "%" PRIu64 "/%" PRIu64,
			    sv.f_files - (sv.f_ffree < sv.f_files ? sv.f_ffree :
			    sv.f_files), sv.f_files);
			sb_printf(r->out, "%-24s %-8s %12" PRIu64 " %12" PRIu64 " %12"
			    PRIu64 " %4u%% %-10s %s\n", v[i].mnt_from,
			    sv.f_fstypename, size / 1024, used / 1024, avail / 1024,
			    pct, ino, v[i].mnt_on);
		}
		k++;
	}
	if (r->json)
		sb_printf(r->out, "]}\n");
	free(v);
	return 0;
}

/* ---- log, metrics, version ------------------------------------------------------ */

static int
cmd_log(struct req *r)
{
	size_t len;
	if (r->argc != 0)
		return ERR(r, EINVAL, "log: takes no arguments");
	char *t = krk_log_read(&len);
	if (t == NULL)
		return ERR(r, ENOMEM, "log: out of memory");
	if (!r->json) {
		sb_append(r->out, t, len);
		free(t);
		return 0;
	}
	sb_printf(r->out, "{\"lines\":[");
	char *p = t;
	for (int k = 0; *p; k++) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (k)
			sb_putc(r->out, ',');
		sb_json_str(r->out, p);
		p = nl ? nl + 1 : p + strlen(p);
	}
	sb_printf(r->out, "]}\n");
	free(t);
	return 0;
}

static void
prom_head(struct sbuf *o, const char *name, const char *type, const char *help)
{
	sb_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* TCP counters worth a metric of their own (krs_net_counter names). */
static const char *const tcp_metrics[][2] = {
	{ "connattempt", "Connections initiated (SYN sent)." },
	{ "accepts", "Connections accepted from a listen queue." },
	{ "connects", "Connections established." },
	{ "drops", "Established connections dropped." },
	{ "sndpack", "Data segments sent." },
	{ "sndrexmitpack", "Data segments retransmitted." },
	{ "rcvpack", "In-sequence data segments received." },
	{ "rcvbadsum", "Segments dropped for a bad checksum." },
	{ "rexmttimeo", "Retransmission timeouts." },
	{ "sndrst", "Resets sent." },
};

static int
cmd_metrics(struct req *r)
{
	struct sbuf *o = r->out;
	struct krk_isolate_info *v = NULL;
	size_t n = 0;
	if (r->argc != 0)
		return ERR(r, EINVAL, "metrics: takes no arguments");
	if (krk_isolate_list(&v, &n) != 0)
		n = 0;
	static const struct {
		const char *name, *type, *help;
		int field;
	} isom[] = {
		{ "krank_isolate_cpu_seconds_total", "counter",
		  "CPU time used by the isolate's threads.", 0 },
		{ "krank_isolate_syscalls_total", "counter",
		  "System calls the isolate made.", 1 },
		{ "krank_isolate_heap_bytes", "gauge",
		  "Heap bytes the isolate has in use.", 2 },
		{ "krank_isolate_heap_limit_bytes", "gauge",
		  "The isolate's heap limit.", 3 },
		{ "krank_isolate_open_fds", "gauge",
		  "Descriptors the isolate has open.", 4 },
		{ "krank_isolate_restarts_total", "counter",
		  "Times the isolate was restarted.", 5 },
		{ "krank_isolate_up", "gauge",
		  "1 when the isolate is running.", 6 },
	};
	for (size_t m = 0; m < sizeof(isom) / sizeof(isom[0]); m++) {
		prom_head(o, isom[m].name, isom[m].type, isom[m].help);
		for (size_t i = 0; i < n; i++) {
			sb_printf(o, "%s{isolate=", isom[m].name);
			sb_prom_label(o, v[i].name);
			sb_printf(o, "} ");
			switch (isom[m].field) {
			case 0: sb_printf(o, "%.6f\n", (double)v[i].cpu_ns / 1e9); break;
			case 1: sb_printf(o, "%" PRIu64 "\n", v[i].syscalls); break;
			case 2: sb_printf(o, "%" PRIu64 "\n", v[i].heap_in_use); break;
			case 3: sb_printf(o, "%" PRIu64 "\n", v[i].heap_limit); break;
			case 4: sb_printf(o, "%u\n", v[i].fds_open); break;
			case 5: sb_printf(o, "%u\n", v[i].restarts); break;
			default: sb_printf(o, "%d\n",
			    v[i].state == KRK_ISO_RUNNING); break;
			}
		}
	}
	free(v);

	/* Interfaces: names from the dump, counters from krs_if_stats. */
	int e = 0;
	char *d = net_dump(r, &e);
	char names[64][32];
	int nif = 0;
	if (d != NULL) {
		for (char *save, *ln = strtok_r(d, "\n", &save); ln && nif < 64;
		    ln = strtok_r(NULL, "\n", &save))
			if (sscanf(ln, "if %31s", names[nif]) == 1)
				nif++;
		free(d);
	}
	r->err[0] = '\0';
	static const struct {
		const char *name, *help;
		size_t off;
	} ifm[] = {
		{ "krank_interface_receive_packets_total", "Frames received.",
		  offsetof(struct krs_if_stats, ipackets) },
		{ "krank_interface_transmit_packets_total", "Frames sent.",
		  offsetof(struct krs_if_stats, opackets) },
		{ "krank_interface_receive_bytes_total", "Bytes received.",
		  offsetof(struct krs_if_stats, ibytes) },
		{ "krank_interface_transmit_bytes_total", "Bytes sent.",
		  offsetof(struct krs_if_stats, obytes) },
		{ "krank_interface_receive_errors_total", "Receive errors.",
		  offsetof(struct krs_if_stats, ierrors) },
		{ "krank_interface_transmit_errors_total", "Send errors.",
		  offsetof(struct krs_if_stats, oerrors) },
		{ "krank_interface_receive_drops_total",
		  "Frames dropped on input (queue full, no buffer).",
		  offsetof(struct krs_if_stats, iqdrops) },
	};
	struct krs_if_stats st[64];
	for (int i = 0; i < nif; i++) {
		memset(&st[i], 0, sizeof(st[i]));
		krs_if_stats(names[i], &st[i]);
	}
	for (size_t m = 0; m < sizeof(ifm) / sizeof(ifm[0]); m++) {
		prom_head(o, ifm[m].name, "counter", ifm[m].help);
		for (int i = 0; i < nif; i++) {
			uint64_t val;
			memcpy(&val, (const char *)&st[i] + ifm[m].off, sizeof(val));
			sb_printf(o, "%s{interface=", ifm[m].name);
			sb_prom_label(o, names[i]);
			sb_printf(o, "} %" PRIu64 "\n", val);
		}
	}
	if (nif > 0) {
		for (size_t m = 0; m < sizeof(tcp_metrics) / sizeof(tcp_metrics[0]);
		    m++) {
			char cname[48], mname[80];
			snprintf(cname, sizeof(cname), "tcp.%s", tcp_metrics[m][0]);
			int64_t val = krs_net_counter(cname);
			if (val < 0)
				continue;
			snprintf(mname, sizeof(mname), "krank_tcp_%s_total",
			    tcp_metrics[m][0]);
			prom_head(o, mname, "counter", tcp_metrics[m][1]);
			sb_printf(o, "%s %" PRId64 "\n", mname, val);
		}
	}
	prom_head(o, "krank_ctl_requests_total", "counter",
	    "Control requests served.");
	sb_printf(o, "krank_ctl_requests_total %" PRIu64 "\n",
	    __atomic_load_n(&krk_ctl_stats.requests, __ATOMIC_RELAXED));
	prom_head(o, "krank_ctl_malformed_requests_total", "counter",
	    "Control requests refused as malformed or late.");
	sb_printf(o, "krank_ctl_malformed_requests_total %" PRIu64 "\n",
	    __atomic_load_n(&krk_ctl_stats.malformed, __ATOMIC_RELAXED));
	prom_head(o, "krank_ctl_refused_total", "counter",
	    "Control connections refused (credentials or too many clients).");
	sb_printf(o, "krank_ctl_refused_total %" PRIu64 "\n",
	    __atomic_load_n(&krk_ctl_stats.refused, __ATOMIC_RELAXED) +
	    __atomic_load_n(&krk_ctl_stats.busy, __ATOMIC_RELAXED));
	prom_head(o, "krank_capture_dropped_frames_total", "counter",
	    "Frames a capture ring had no room for.");
	sb_printf(o, "krank_capture_dropped_frames_total %" PRIu64 "\n",
	    __atomic_load_n(&krk_ctl_stats.cap_drops, __ATOMIC_RELAXED));
	return 0;
}

static int
cmd_version(struct req *r)
{
	if (r->json)
		sb_printf(r->out, "{\"protocol\":%d,\"package\":\"%s\"}\n",
		    KRK_CTL_PROTO_VERSION, PACKAGE_VERSION);
	else
		sb_printf(r->out, "krank %s, control protocol %d\n",
		    PACKAGE_VERSION, KRK_CTL_PROTO_VERSION);
	return 0;
}

/* ---- capture ------------------------------------------------------------- */

/*
 * One capture's ring: variable-length records (struct krk_ctl_caprec, the
 * frame, padding) in buf.  Producers are the stack's threads inside the
 * tap; they serialise on the spin lock for the copy only and never wait
 * for the consumer: a record that does not fit is dropped and counted.
 * The consumer (the client's service thread) owns tail.
 */
struct cap_ring {
	char *buf;
	size_t size;			/* power of two */
	uint64_t head;			/* atomic; producers, under spin */
	uint64_t tail;			/* atomic; the consumer */
	unsigned char spin;
	uint64_t drops;			/* atomic */
};

static void
ring_in(struct cap_ring *c, uint64_t pos, const void *src, size_t n)
{
	size_t at = (size_t)(pos & (c->size - 1));
	size_t first = c->size - at < n ? c->size - at : n;
	memcpy(c->buf + at, src, first);
	memcpy(c->buf, (const char *)src + first, n - first);
}

static void
ring_out(const struct cap_ring *c, uint64_t pos, void *dst, size_t n)
{
	size_t at = (size_t)(pos & (c->size - 1));
	size_t first = c->size - at < n ? c->size - at : n;
	memcpy(dst, c->buf + at, first);
	memcpy((char *)dst + first, c->buf, n - first);
}

static void
cap_tap(void *arg, int dir, const struct krs_iovec *iov, unsigned niov,
    size_t len)
{
	struct cap_ring *c = arg;
	size_t caplen = len < KRK_CTL_CAP_SNAPLEN ? len : KRK_CTL_CAP_SNAPLEN;
	size_t need = sizeof(struct krk_ctl_caprec) + KRK_CTL_CAP_ALIGN(caplen);
	struct krk_ctl_caprec h = { .magic = KRK_CTL_CAP_MAGIC,
	    .version = KRK_CTL_PROTO_VERSION,
	    .flags = dir == KRS_TAP_OUT ? KRK_CTL_CAP_OUT : 0,
	    .ts_ns = now_ns(CLOCK_REALTIME), .caplen = (uint32_t)caplen,
	    .origlen = (uint32_t)(len > UINT32_MAX ? UINT32_MAX : len) };

	while (__atomic_exchange_n(&c->spin, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&c->spin, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
	uint64_t head = __atomic_load_n(&c->head, __ATOMIC_RELAXED);
	uint64_t tail = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE);
	if (c->size - (size_t)(head - tail) < need) {
		__atomic_store_n(&c->spin, 0, __ATOMIC_RELEASE);
		__atomic_add_fetch(&c->drops, 1, __ATOMIC_RELAXED);
		return;
	}
	ring_in(c, head, &h, sizeof(h));
	uint64_t pos = head + sizeof(h);
	size_t left = caplen;
	for (unsigned i = 0; i < niov && left > 0; i++) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;
		ring_in(c, pos, iov[i].iov_base, n);
		pos += n;
		left -= n;
	}
	__atomic_store_n(&c->head, head + need, __ATOMIC_RELEASE);
	__atomic_store_n(&c->spin, 0, __ATOMIC_RELEASE);
}

static int
cmd_capture(struct req *r)
{
	unsigned long count = 0;
	uint64_t duration = 0;
	const char *ifname = NULL;
	for (int i = 0; i < r->argc; i++) {
		if (strcmp(r->argv[i], "--count") == 0 && i + 1 < r->argc) {
			if (parse_uint(r->argv[++i], 1ul << 32, &count) != 0 ||
			    count == 0)
				return ERR(r, EINVAL, "capture: --count %s: want a "
				    "number of frames >= 1", r->argv[i]);
		} else if (strcmp(r->argv[i], "--duration") == 0 &&
		    i + 1 < r->argc) {
			if (krk_ctl_parse_duration(r->argv[++i], &duration) != 0 ||
			    duration == 0)
				return ERR(r, EINVAL, "capture: --duration %s: want "
				    "a duration (500ms, 10s, 1m)", r->argv[i]);
		} else if (r->argv[i][0] != '-' && ifname == NULL)
			ifname = r->argv[i];
		else
			return ERR(r, EINVAL, "capture: unknown argument %s",
			    r->argv[i]);
	}
	if (ifname == NULL)
		return ERR(r, EINVAL, "capture: no interface given");
	if (r->json)
		return ERR(r, EINVAL, "capture: streams pcap records; --json "
		    "does not apply");

	struct cap_ring *c = calloc(1, sizeof(*c));
	char *frame = malloc(sizeof(struct krk_ctl_caprec) +
	    KRK_CTL_CAP_ALIGN(KRK_CTL_CAP_SNAPLEN));
	if (c == NULL || frame == NULL || (c->buf = malloc(CTL_CAP_RING)) == NULL) {
		if (c)
			free(c->buf);
		free(c);
		free(frame);
		return ERR(r, ENOMEM, "capture %s: out of memory", ifname);
	}
	c->size = CTL_CAP_RING;
	if (krs_if_capture(ifname, cap_tap, c) != 0) {
		int e = errno;
		free(c->buf);
		free(c);
		free(frame);
		return ERR(r, e, "capture %s: %s", ifname, e == ENXIO ?
		    "no such interface (capture works on virtif interfaces)" :
		    e == EBUSY ? "another capture runs on it" : strerror(e));
	}
	krk_log(KRK_LOG_INFO, "ctl: capture on %s started", ifname);
	r->streamed = true;
	bool ok = send_all(r->fd, "ok\n", 3);
	uint64_t sent = 0, t0 = now_ns(CLOCK_MONOTONIC);
	while (ok && !ctl_stopping()) {
		uint64_t head = __atomic_load_n(&c->head, __ATOMIC_ACQUIRE);
		uint64_t tail = __atomic_load_n(&c->tail, __ATOMIC_RELAXED);
		while (ok && tail != head && (count == 0 || sent < count)) {
			struct krk_ctl_caprec h;
			ring_out(c, tail, &h, sizeof(h));
			size_t rec = sizeof(h) + KRK_CTL_CAP_ALIGN(h.caplen);
			ring_out(c, tail, frame, rec);
			tail += rec;
			__atomic_store_n(&c->tail, tail, __ATOMIC_RELEASE);
			ok = send_all(r->fd, frame, rec);
			sent++;
		}
		if ((count != 0 && sent >= count) ||
		    (duration != 0 && now_ns(CLOCK_MONOTONIC) - t0 >= duration))
			break;
		/* The tap never wakes us (a syscall in the stack's path):
		 * look again every 10 ms, and notice a client that left. */
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		if (poll(&p, 1, 10) > 0)
			break;
	}
	krs_if_capture_stop(ifname);
	struct krk_ctl_caprec end = { .magic = KRK_CTL_CAP_MAGIC,
	    .version = KRK_CTL_PROTO_VERSION, .flags = KRK_CTL_CAP_END,
	    .ts_ns = now_ns(CLOCK_REALTIME), .drops = c->drops, .count = sent };
	if (ok)
		send_all(r->fd, &end, sizeof(end));
	__atomic_add_fetch(&krk_ctl_stats.cap_drops, c->drops, __ATOMIC_RELAXED);
	krk_log(KRK_LOG_INFO, "ctl: capture on %s ended: %" PRIu64 " frames "
	    "sent, %" PRIu64 " dropped", ifname, sent, c->drops);
	free(c->buf);
	free(c);
	free(frame);
	return 0;
}

/* ---- dispatch ---------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(struct req *);
} commands[] = {
	{ "ps", cmd_ps }, { "top", cmd_top }, { "spawn", cmd_spawn },
	{ "kill", cmd_kill }, { "wait", cmd_wait }, { "restart", cmd_restart },
	{ "ifconfig", cmd_ifconfig }, { "netstat", cmd_netstat },
	{ "mounts", cmd_mounts }, { "df", cmd_df }, { "log", cmd_log },
	{ "metrics", cmd_metrics }, { "capture", cmd_capture },
	{ "version", cmd_version },
};

void
krk_ctl_serve(int fd)
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
	struct req r = { .fd = fd, .out = &out, .err = err,
	    .errlen = sizeof(err) };
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			r.json = true;
		else
			r.argv[r.argc++] = argv[i];
	}
	int (*fn)(struct req *) = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, argv[0]) == 0)
			fn = commands[i].fn;
	if (fn == NULL) {
		snprintf(err, sizeof(err), "%.64s: no such command (ps top spawn "
		    "kill wait restart ifconfig netstat mounts df log metrics "
		    "capture version)", argv[0]);
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
	else if (send_all(fd, "ok\n", 3))
		send_all(fd, out.b ? out.b : "", out.len);
	sb_free(&out);
}

/* ---- the socket, the acceptor, the service threads ---------------------------- */

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
	krk_ctl_serve(c->fd);
	/* Unread request bytes would turn the close into a reset that can
	 * destroy the reply before the client reads it: end our side, and
	 * discard what already arrived (without waiting for more). */
	shutdown(c->fd, SHUT_WR);
	char sink[4096];
	for (int i = 0; i < 16 && recv(c->fd, sink, sizeof(sink),
	    MSG_DONTWAIT) > 0; i++)
		;
	pthread_mutex_lock(&ctl.lock);
	ctl.fds[c->slot] = -1;
	ctl.nclients--;
	close(c->fd);
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
		close(fd);
		return;
	}
	pthread_mutex_lock(&ctl.lock);
	int slot = -1;
	for (int i = 0; i < CTL_MAX_CLIENTS && slot < 0; i++)
		if (ctl.fds[i] < 0)
			slot = i;
	struct client *c = slot >= 0 ? malloc(sizeof(*c)) : NULL;
	pthread_t th;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (c != NULL) {
		c->fd = fd;
		c->slot = slot;
		ctl.fds[slot] = fd;
		ctl.nclients++;
		if (pthread_create(&th, &at, client_main, c) != 0) {
			ctl.fds[slot] = -1;
			ctl.nclients--;
			free(c);
			c = NULL;
		}
	}
	pthread_attr_destroy(&at);
	pthread_mutex_unlock(&ctl.lock);
	if (c == NULL) {
		CTR_INC(busy);
		struct timeval t = { 0, 200000 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof(t));
		send_error(fd, "busy: too many control clients at once, try again");
		close(fd);
	}
}

static void *
acceptor_main(void *arg)
{
	(void)arg;
	while (!ctl_stopping()) {
		struct pollfd p[2] = { { .fd = ctl.lfd, .events = POLLIN },
		    { .fd = ctl.wake[0], .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			krk_log(KRK_LOG_ERR, "ctl: %s: poll: %s", ctl.path,
			    strerror(errno));
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(ctl.lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* Out of descriptors: back off rather than spin. */
				struct timespec ts = { 0, 50000000 };
				nanosleep(&ts, NULL);
			}
			continue;
		}
		admit(fd);
	}
	return NULL;
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
krk_ctl_start(const char *path, const char *group, char *err, size_t errlen)
{
	struct stat st;
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
	/* The default directory may not exist yet on a fresh boot. */
	char dir[sizeof(ctl.path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			e = errno;
			snprintf(err, errlen, "%s: cannot create %s: %s", path, dir,
			    strerror(e));
			return e;
		}
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s: exists and is not a socket; "
			    "refusing to replace it", path);
			return EEXIST;
		}
		int live = probe_live(path);
		if (live == 1) {
			snprintf(err, errlen, "%s: a live KRANK already answers "
			    "on this socket", path);
			return EADDRINUSE;
		}
		if (live < 0) {
			snprintf(err, errlen, "%s: cannot tell whether a KRANK "
			    "answers: %s", path, strerror(-live));
			return -live;
		}
		if (unlink(path) != 0 && errno != ENOENT) {
			e = errno;
			snprintf(err, errlen, "%s: cannot remove the stale "
			    "socket: %s", path, strerror(e));
			return e;
		}
		krk_log(KRK_LOG_INFO, "ctl: %s: removed a stale socket", path);
	}

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: socket: %s", path, strerror(e));
		return e;
	}
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, path);
	/* Nobody can connect before listen(), so the mode is set before
	 * the socket is reachable. */
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		e = errno;
		snprintf(err, errlen, "%s: bind: %s", path, strerror(e));
		close(fd);
		return e;
	}
	if ((ctl.has_group && chown(path, (uid_t)-1, ctl.gid) != 0) ||
	    chmod(path, ctl.has_group ? 0660 : 0600) != 0 ||
	    listen(fd, 64) != 0) {
		e = errno;
		snprintf(err, errlen, "%s: cannot set up the socket (owner, mode "
		    "or listen): %s", path, strerror(e));
		close(fd);
		unlink(path);
		return e;
	}
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
	if ((e = pthread_create(&ctl.acceptor, NULL, acceptor_main, NULL)) != 0) {
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
	pthread_join(ctl.acceptor, NULL);
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
	close(ctl.lfd);
	close(ctl.wake[0]);
	close(ctl.wake[1]);
	ctl.lfd = ctl.wake[0] = ctl.wake[1] = -1;
	unlink(ctl.path);
	krk_log(KRK_LOG_INFO, "ctl: %s closed", ctl.path);
}
