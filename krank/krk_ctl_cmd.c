/*
 * krk_ctl_cmd.c - the control commands that answer in one piece: isolates
 * (ps, top, spawn, kill, wait, restart), network (ifconfig, netstat),
 * file systems (mounts, df), log, metrics and version.  Each prints a
 * table, or JSON with --json (written here, strings escaped by
 * sb_json_str).  Called from the client's service thread (krk_ctl.c).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <krank/krs.h>
#include <krank/krs_hostnet.h>
#include "net/krs_net.h"

#include "krk.h"
#include "krk_ctl_proto.h"
#include "krk_ctl_int.h"
#include "krk_foreign.h"

/* ---- arguments ---- */

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

int
krk_ctl_parse_uint(const char *s, unsigned long max, unsigned long *vp)
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
	if (krk_ctl_parse_uint(s, INT_MAX, &v) == 0) {
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

/* ---- isolates ---- */

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

static void
foreign_note(const struct krk_foreign_info *in, char *b, size_t n)
{
	if (in->state == KRK_FOREIGN_EXITED)
		snprintf(b, n, "exit status %d%s%s", in->status,
		    in->note[0] ? "; " : "", in->note);
	else if (in->state == KRK_FOREIGN_KILLED)
		snprintf(b, n, "killed by signal %d (%s)%s%s", in->signo,
		    in->signo > 0 ? strsignal(in->signo) : "?",
		    in->note[0] ? "; " : "", in->note);
	else if (in->spawned && !in->attached && in->note[0] == '\0')
		snprintf(b, n, "not attached yet");
	else
		snprintf(b, n, "%s", in->note);
}

static void
json_foreign(struct sbuf *o, const struct krk_foreign_info *in)
{
	char note[320];
	foreign_note(in, note, sizeof(note));
	sb_printf(o, "{\"id\":%d,\"kind\":\"foreign\",\"name\":", in->id);
	sb_json_str(o, in->name);
	sb_printf(o, ",\"state\":");
	sb_json_str(o, krk_foreign_state_name(in->state));
	sb_printf(o, ",\"pid\":%d,\"uid\":%u,\"spawned\":%s,\"attached\":%s,"
	    "\"attachments\":%u,\"rings\":%u,\"calls\":%" PRIu64
	    ",\"rejected\":%" PRIu64 ",\"fds_open\":%u,\"fds_limit\":%u",
	    (int)in->pid, (unsigned)in->uid, in->spawned ? "true" : "false",
	    in->attached ? "true" : "false", in->attachments,
	    in->attached ? in->rings : 0, in->calls, in->rejected,
	    in->fds_open, in->fds_limit);
	if (in->state == KRK_FOREIGN_EXITED)
		sb_printf(o, ",\"status\":%d", in->status);
	if (in->state == KRK_FOREIGN_KILLED)
		sb_printf(o, ",\"signal\":%d", in->signo);
	sb_printf(o, ",\"command\":");
	sb_json_str(o, in->cmd);
	sb_printf(o, ",\"note\":");
	sb_json_str(o, note);
	sb_printf(o, "}");
}

static const char FPS_HDR[] = "%-6s %-8s %-16s %-9s %8s %6s %5s %9s %5s %s\n";

static void
table_foreign(struct sbuf *o, const struct krk_foreign_info *in)
{
	char note[320], fds[24];
	foreign_note(in, note, sizeof(note));
	snprintf(fds, sizeof(fds), "%u", in->attached ? in->fds_open : 0);
	sb_printf(o, "%-6d %-8s %-16s %-9s %8d %6u %5u %9" PRIu64 " %5s %s\n",
	    in->id, "foreign", in->name, krk_foreign_state_name(in->state),
	    (int)in->pid, (unsigned)in->uid, in->attached ? in->rings : 0,
	    in->calls, fds, note);
}

int
krk_ctl_cmd_ps(struct krk_ctl_req *r)
{
	struct krk_isolate_info *v;
	size_t n;
	if (r->argc != 0)
		return CTL_ERR(r, EINVAL, "ps: takes no arguments");
	int e = krk_isolate_list(&v, &n);
	if (e != 0)
		return CTL_ERR(r, e, "ps: cannot list the isolates: %s", strerror(e));
	struct krk_foreign_info *fv = NULL;
	size_t fn = 0;
	if ((e = krk_foreign_list(&fv, &fn)) != 0) {
		free(v);
		return CTL_ERR(r, e, "ps: cannot list the foreign isolates: %s",
		    strerror(e));
	}
	if (r->json) {
		sb_printf(r->out, "{\"isolates\":[");
		for (size_t i = 0; i < n; i++) {
			if (i)
				sb_putc(r->out, ',');
			json_isolate(r->out, &v[i]);
		}
		sb_printf(r->out, "],\"foreign\":[");
		for (size_t i = 0; i < fn; i++) {
			if (i)
				sb_putc(r->out, ',');
			json_foreign(r->out, &fv[i]);
		}
		sb_printf(r->out, "]}\n");
	} else {
		sb_printf(r->out, PS_HDR, "ID", "NAME", "STATE", "CORE",
		    "RESTARTS", "CPU", "HEAP", "ELF", "NOTE");
		for (size_t i = 0; i < n; i++)
			table_isolate(r->out, &v[i]);
		/* Foreign isolates (Linux processes) in a table of their own,
		 * only when there are some: the one above keeps its form. */
		if (fn > 0)
			sb_putc(r->out, '\n');
		if (fn > 0)
			sb_printf(r->out, FPS_HDR, "ID", "KIND", "NAME",
			    "STATE", "PID", "UID", "RINGS", "CALLS", "FDS",
			    "NOTE");
		for (size_t i = 0; i < fn; i++)
			table_foreign(r->out, &fv[i]);
	}
	free(v);
	free(fv);
	return 0;
}

/* The client hung up (or sent something, which it must not). */
static bool
client_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) > 0;
}

int
krk_ctl_cmd_top(struct krk_ctl_req *r)
{
	uint64_t interval = 1000000000u;
	for (int i = 0; i < r->argc; i++) {
		if (strcmp(r->argv[i], "--interval") == 0 && i + 1 < r->argc) {
			if (krk_ctl_parse_duration(r->argv[++i], &interval) != 0 ||
			    interval == 0 || interval > 60000000000u)
				return CTL_ERR(r, EINVAL, "top: --interval %s: want a "
				    "duration from 1ms to 60s", r->argv[i]);
		} else
			return CTL_ERR(r, EINVAL, "top: unknown argument %s",
			    r->argv[i]);
	}
	struct krk_isolate_info *a, *b;
	size_t na, nb;
	int e = krk_isolate_list(&a, &na);
	if (e != 0)
		return CTL_ERR(r, e, "top: cannot list the isolates: %s", strerror(e));
	uint64_t t0 = krk_ctl_now_ns(CLOCK_MONOTONIC);
	/* Wait in slices: a stop or a client that left ends the interval
	 * (the client sends nothing after its request, so readable means
	 * gone). */
	while (!krk_ctl_stopping()) {
		uint64_t t = krk_ctl_now_ns(CLOCK_MONOTONIC);
		if (t - t0 >= interval)
			break;
		uint64_t left = (interval - (t - t0)) / 1000000u + 1;
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		if (poll(&p, 1, left > 50 ? 50 : (int)left) > 0) {
			free(a);
			return CTL_ERR(r, ECANCELED, "top: client left");
		}
	}
	double secs = (double)(krk_ctl_now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	e = krk_isolate_list(&b, &nb);
	if (e != 0) {
		free(a);
		return CTL_ERR(r, e, "top: cannot list the isolates: %s", strerror(e));
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

/* spawn --foreign [--name N] [--user U] [--] CMD ARGS...: a Linux process. */
static int
spawn_foreign(struct krk_ctl_req *r)
{
	char *argv[KRK_CTL_MAX_ARGS + 1];
	const char *name = NULL, *user = NULL;
	int i = 1, n = 0;
	for (; i < r->argc && r->argv[i][0] == '-'; i++) {
		if (strcmp(r->argv[i], "--user") == 0 && i + 1 < r->argc) {
			user = r->argv[++i];
			if (user[0] == '\0')
				return CTL_ERR(r, EINVAL, "spawn --foreign: --user "
				    "needs a user name or uid");
		} else if (strcmp(r->argv[i], "--name") == 0 && i + 1 < r->argc) {
			name = r->argv[++i];
			size_t l = strlen(name);
			if (l == 0 || l >= KRK_NAME_MAX ||
			    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
			    "qrstuvwxyz0123456789_.-") != l)
				return CTL_ERR(r, EINVAL, "spawn: --name %s: want 1 to "
				    "%d of [A-Za-z0-9_.-]", name, KRK_NAME_MAX - 1);
		} else if (strcmp(r->argv[i], "--") == 0) {
			i++;
			break;
		} else
			return CTL_ERR(r, EINVAL, "spawn --foreign: unknown option "
			    "%s", r->argv[i]);
	}
	if (i >= r->argc)
		return CTL_ERR(r, EINVAL, "spawn --foreign: no command given");
	for (; i < r->argc; i++)
		argv[n++] = (char *)r->argv[i];
	argv[n] = NULL;
	char why[512] = "";
	int id, e = krk_foreign_spawn(argv, name, user, &id, why,
	    sizeof(why));
	if (e != 0)
		return CTL_ERR(r, e, "%s", why[0] ? why : strerror(e));
	struct krk_foreign_info in;
	if (krk_foreign_get(id, &in) != 0)
		memset(&in, 0, sizeof(in));
	if (r->json) {
		sb_printf(r->out, "{\"id\":%d,\"kind\":\"foreign\",\"name\":",
		    id);
		sb_json_str(r->out, in.name);
		sb_printf(r->out, ",\"pid\":%d}\n", (int)in.pid);
	} else
		sb_printf(r->out, "spawned %d %s pid %d\n", id, in.name,
		    (int)in.pid);
	return 0;
}

int
krk_ctl_cmd_spawn(struct krk_ctl_req *r)
{
	struct krk_isolate_cfg cfg;
	char *argv[KRK_CTL_MAX_ARGS + 1];
	int i = 0;

	if (r->argc > 0 && strcmp(r->argv[0], "--foreign") == 0)
		return spawn_foreign(r);
	memset(&cfg, 0, sizeof(cfg));
	cfg.core = -1;
	for (; i < r->argc && r->argv[i][0] == '-'; i++) {
		if (strcmp(r->argv[i], "--name") == 0 && i + 1 < r->argc) {
			const char *nm = r->argv[++i];
			size_t l = strlen(nm);
			if (l == 0 || l >= sizeof(cfg.name) ||
			    strspn(nm, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
			    "qrstuvwxyz0123456789_.-") != l)
				return CTL_ERR(r, EINVAL, "spawn: --name %s: want 1 to "
				    "%zu of [A-Za-z0-9_.-]", nm, sizeof(cfg.name) - 1);
			memcpy(cfg.name, nm, l + 1);
		} else if (strcmp(r->argv[i], "--core") == 0 && i + 1 < r->argc) {
			unsigned long c;
			if (krk_ctl_parse_uint(r->argv[++i], KRK_MAX_CORES - 1, &c) != 0)
				return CTL_ERR(r, EINVAL, "spawn: --core %s: want a "
				    "core number 0..%d", r->argv[i],
				    KRK_MAX_CORES - 1);
			cfg.core = (int)c;
		} else if (strcmp(r->argv[i], "--lax") == 0) {
			cfg.lax = true;
		} else if (strcmp(r->argv[i], "--hardened") == 0) {
			cfg.hardened = true;
		} else if (strcmp(r->argv[i], "--") == 0) {
			i++;
			break;
		} else
			return CTL_ERR(r, EINVAL, "spawn: unknown option %s",
			    r->argv[i]);
	}
	if (i >= r->argc)
		return CTL_ERR(r, EINVAL, "spawn: no ELF given");
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
		return CTL_ERR(r, e, "spawn %s: %s", cfg.elf, why[0] ? why : strerror(e));
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
one_isolate(struct krk_ctl_req *r, const char *cmd, int *idp)
{
	if (r->argc < 1)
		return CTL_ERR(r, EINVAL, "%s: no isolate given (ID or NAME)", cmd);
	return resolve_isolate(r->argv[0], idp, r->err, r->errlen);
}

/* kill: one isolate, one call, one answer. */
static int
isolate_action(struct krk_ctl_req *r, const char *cmd, int (*act)(int),
    const char *done)
{
	int id, e;
	if (r->argc != 1)
		return CTL_ERR(r, EINVAL, "%s: want one isolate (ID or NAME)",
		    cmd);
	if ((e = one_isolate(r, cmd, &id)) != 0)
		return e;
	if ((e = act(id)) != 0)
		return CTL_ERR(r, e, "%s %s: %s", cmd, r->argv[0], strerror(e));
	krk_log(KRK_LOG_INFO, "ctl: %s isolate %d (%s)", done, id, r->argv[0]);
	if (r->json)
		sb_printf(r->out, "{\"id\":%d,\"%s\":true}\n", id, done);
	else
		sb_printf(r->out, "%s %d\n", done, id);
	return 0;
}

/* A signal by number or name (9, KILL, SIGKILL). */
static int
parse_signal(const char *s)
{
	unsigned long v;
	if (krk_ctl_parse_uint(s, 64, &v) == 0)
		return v >= 1 ? (int)v : -1;
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	static const struct { const char *n; int v; } sigs[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
		{ "TERM", SIGTERM }, { "STOP", SIGSTOP }, { "CONT", SIGCONT },
		{ "ABRT", SIGABRT }, { "SEGV", SIGSEGV },
	};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(s, sigs[i].n) == 0)
			return sigs[i].v;
	return -1;
}

/* A foreign isolate by id or name: 0, or ESRCH (not one). */
static int
resolve_foreign(const char *s, int *idp)
{
	unsigned long v;
	struct krk_foreign_info in;
	if (krk_ctl_parse_uint(s, INT_MAX, &v) == 0 &&
	    krk_foreign_get((int)v, &in) == 0) {
		*idp = (int)v;
		return 0;
	}
	unsigned long dummy;
	if (krk_ctl_parse_uint(s, INT_MAX, &dummy) == 0)
		return ESRCH;
	return krk_foreign_find(s, idp);
}

int
krk_ctl_cmd_kill(struct krk_ctl_req *r)
{
	int id;
	if ((r->argc == 1 || r->argc == 2) &&
	    resolve_foreign(r->argv[0], &id) == 0) {
		int sig = SIGTERM;
		if (r->argc == 2 && (sig = parse_signal(r->argv[1])) < 0)
			return CTL_ERR(r, EINVAL, "kill: %s: want a signal "
			    "number or name (TERM, KILL, 9 ...)", r->argv[1]);
		int e = krk_foreign_kill(id, sig);
		if (e != 0)
			return CTL_ERR(r, e, "kill %s: %s", r->argv[0],
			    e == ESRCH ? "the process has already ended" :
			    strerror(e));
		krk_log(KRK_LOG_INFO, "ctl: signal %d to foreign isolate %d "
		    "(%s)", sig, id, r->argv[0]);
		if (r->json)
			sb_printf(r->out, "{\"id\":%d,\"signal\":%d}\n", id,
			    sig);
		else
			sb_printf(r->out, "signalled %d with %d\n", id, sig);
		return 0;
	}
	if (r->argc == 2)
		return CTL_ERR(r, EINVAL, "kill: a signal applies to foreign "
		    "isolates only; %s is none", r->argv[0]);
	return isolate_action(r, "kill", krk_isolate_kill, "killed");
}

/* restart answers once the isolate runs again, or says why it does not. */
int
krk_ctl_cmd_restart(struct krk_ctl_req *r)
{
	char why[256];
	int id, e;
	if (r->argc != 1)
		return CTL_ERR(r, EINVAL, "restart: want one isolate (ID or NAME)");
	if ((e = one_isolate(r, "restart", &id)) != 0)
		return e;
	if ((e = krk_isolate_restart_now(id, why, sizeof(why))) != 0)
		return CTL_ERR(r, e, "restart %s: %s", r->argv[0],
		    why[0] ? why : strerror(e));
	krk_log(KRK_LOG_INFO, "ctl: restarted isolate %d (%s)", id, r->argv[0]);
	if (r->json)
		sb_printf(r->out, "{\"id\":%d,\"restarted\":true,"
		    "\"state\":\"running\"}\n", id);
	else
		sb_printf(r->out, "restarted %d\n", id);
	return 0;
}

int
krk_ctl_cmd_wait(struct krk_ctl_req *r)
{
	uint64_t timeout = UINT64_MAX;
	const char *tstr = "forever";
	int id, e;
	bool foreign = r->argc >= 1 && resolve_foreign(r->argv[0], &id) == 0;
	if (!foreign && (e = one_isolate(r, "wait", &id)) != 0)
		return e;
	for (int i = 1; i < r->argc; i++) {
		if (strcmp(r->argv[i], "--timeout") == 0 && i + 1 < r->argc) {
			tstr = r->argv[++i];
			if (krk_ctl_parse_duration(tstr, &timeout) != 0)
				return CTL_ERR(r, EINVAL, "wait: --timeout %s: want a "
				    "duration (500ms, 2s, 1m)", tstr);
		} else
			return CTL_ERR(r, EINVAL, "wait: unknown argument %s",
			    r->argv[i]);
	}
	/* In slices: a stop or a client that gives up ends the wait. */
	uint64_t t0 = krk_ctl_now_ns(CLOCK_MONOTONIC);
	struct krk_isolate_info info;
	struct krk_foreign_info fin;
	for (;;) {
		uint64_t el = krk_ctl_now_ns(CLOCK_MONOTONIC) - t0;
		uint64_t left = timeout == UINT64_MAX ? UINT64_MAX :
		    (el >= timeout ? 0 : timeout - el);
		uint64_t slice = left < 200000000u ? left : 200000000u;
		e = foreign ? krk_foreign_wait(id, slice, &fin) :
		    krk_isolate_wait(id, slice, &info);
		if (e != ETIMEDOUT)
			break;
		if (left == 0)
			return CTL_ERR(r, e, "wait %s: still %s after %s", r->argv[0],
			    foreign ? krk_foreign_state_name(fin.state) :
			    krk_iso_state_name(info.state), tstr);
		if (krk_ctl_stopping())
			return CTL_ERR(r, ECANCELED, "wait %s: KRANK is stopping",
			    r->argv[0]);
		if (client_gone(r->fd))
			return CTL_ERR(r, ECANCELED, "wait: client left");
	}
	if (e != 0)
		return CTL_ERR(r, e, "wait %s: %s", r->argv[0], strerror(e));
	if (foreign && r->json) {
		json_foreign(r->out, &fin);
		sb_putc(r->out, '\n');
	} else if (foreign) {
		sb_printf(r->out, FPS_HDR, "ID", "KIND", "NAME", "STATE", "PID",
		    "UID", "RINGS", "CALLS", "FDS", "NOTE");
		table_foreign(r->out, &fin);
	} else if (r->json) {
		json_isolate(r->out, &info);
		sb_putc(r->out, '\n');
	} else {
		sb_printf(r->out, PS_HDR, "ID", "NAME", "STATE", "CORE",
		    "RESTARTS", "CPU", "HEAP", "ELF", "NOTE");
		table_isolate(r->out, &info);
	}
	return 0;
}

/* ---- network ---- */

/* krs_net_dump into a malloc'd buffer large enough for all of it. */
static char *
net_dump(struct krk_ctl_req *r, int *errp)
{
	size_t len = 64 << 10;
	for (;;) {
		char *b = malloc(len);
		if (b == NULL) {
			*errp = CTL_ERR(r, ENOMEM, "network: out of memory");
			return NULL;
		}
		ssize_t n = krs_net_dump(b, len);
		if (n < 0) {
			int e = errno;
			free(b);
			*errp = CTL_ERR(r, e, "network: no stack to show: %s",
			    strerror(e));
			return NULL;
		}
		if ((size_t)n < len - 1 || len >= (64u << 20))
			return b;
		free(b);
		len *= 4;
	}
}

int
krk_ctl_cmd_ifconfig(struct krk_ctl_req *r)
{
	int e = 0;
	if (r->argc != 0)
		return CTL_ERR(r, EINVAL, "ifconfig: takes no arguments");
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

int
krk_ctl_cmd_netstat(struct krk_ctl_req *r)
{
	int e = 0;
	if (r->argc != 0)
		return CTL_ERR(r, EINVAL, "netstat: takes no arguments");
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

/* ---- file systems ---- */

static struct krs_mntent *
mount_list(struct krk_ctl_req *r, int *np, int *errp)
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
	*errp = CTL_ERR(r, e, "mounts: cannot read the mount table: %s",
	    e == ENOSYS ? "no file systems booted" : strerror(e));
	return NULL;
}

int
krk_ctl_cmd_mounts(struct krk_ctl_req *r)
{
	int n, e = 0;
	if (r->argc != 0)
		return CTL_ERR(r, EINVAL, "mounts: takes no arguments");
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

int
krk_ctl_cmd_df(struct krk_ctl_req *r)
{
	int n, e = 0;
	if (r->argc != 0)
		return CTL_ERR(r, EINVAL, "df: takes no arguments");
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

/* ---- log, metrics, version ---- */

int
krk_ctl_cmd_log(struct krk_ctl_req *r)
{
	size_t len;
	if (r->argc != 0)
		return CTL_ERR(r, EINVAL, "log: takes no arguments");
	char *t = krk_log_read(&len);
	if (t == NULL)
		return CTL_ERR(r, ENOMEM, "log: out of memory");
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

int
krk_ctl_cmd_metrics(struct krk_ctl_req *r)
{
	struct sbuf *o = r->out;
	struct krk_isolate_info *v = NULL;
	size_t n = 0;
	if (r->argc != 0)
		return CTL_ERR(r, EINVAL, "metrics: takes no arguments");
	if (krk_isolate_list(&v, &n) != 0)
		n = 0;
	/* The node first: which KRANK and deployment answer, for joins
	 * (a *_info gauge is always 1; its labels are the data). */
	prom_head(o, "krank_info", "gauge",
	    "The KRANK answering: its version and deployment (always 1).");
	sb_printf(o, "krank_info{version=");
	sb_prom_label(o, PACKAGE_VERSION);
	sb_printf(o, ",deployment=");
	sb_prom_label(o, krk_node.cfg && krk_node.cfg->name ?
	    krk_node.cfg->name : "");
	sb_printf(o, "} 1\n");
	prom_head(o, "krank_boot_duration_seconds", "gauge",
	    "Time from krank's start to ready (0: not booted by krank run).");
	sb_printf(o, "krank_boot_duration_seconds %.6f\n",
	    (double)krk_node.boot_ns / 1e9);
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

	/* The isolate pool (krk_pool.c), node-wide. */
	{
		struct krk_pool_stats ps;
		krk_pool_stats(&ps);
		const struct { const char *name, *type, *help; uint64_t v; }
		    plm[] = {
			{ "krank_isolate_pool_bytes", "gauge", "Memory set "
			  "aside and faulted in for isolate code and data "
			  "(memory.isolate_pool; 0: no pool).", ps.size },
			{ "krank_isolate_pool_in_use_bytes", "gauge", "Pool "
			  "bytes held by loaded isolates.", ps.in_use },
			{ "krank_isolate_pool_placed_total", "counter",
			  "Isolate objects placed in the pool.", ps.takes },
			{ "krank_isolate_pool_fallbacks_total", "counter",
			  "Isolate objects that did not fit in the pool and "
			  "got fresh pages.", ps.fallbacks },
		};
		for (size_t m = 0; m < sizeof(plm) / sizeof(plm[0]); m++) {
			prom_head(o, plm[m].name, plm[m].type, plm[m].help);
			sb_printf(o, "%s %" PRIu64 "\n", plm[m].name, plm[m].v);
		}
	}

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
	/* Per receive queue of a port with several (queues: N). */
	int qhead = 0;
	for (int i = 0; i < nif; i++) {
		uint64_t rxq[16];
		int nq = krs_if_queue_stats(names[i], rxq, 16);
		for (int q = 0; q < nq && q < 16; q++) {
			if (!qhead++)
				prom_head(o, "krank_interface_receive_queue_"
				    "packets_total", "counter", "Frames received "
				    "on each receive queue of the port.");
			sb_printf(o, "krank_interface_receive_queue_packets_total"
			    "{interface=");
			sb_prom_label(o, names[i]);
			sb_printf(o, ",queue=\"%d\"} %" PRIu64 "\n", q, rxq[q]);
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
	struct krs_hostnet_stats hn;
	if (krs_hostnet_stats(&hn) == 0) {
		static const struct {
			const char *name, *type, *help;
			size_t off;
		} hnm[] = {
			{ "krank_hostnet_open_sockets", "gauge",
			  "Host sockets open now.",
			  offsetof(struct krs_hostnet_stats, hs_open) },
			{ "krank_hostnet_connects_total", "counter",
			  "Host connects to allowed destinations.",
			  offsetof(struct krs_hostnet_stats, hs_connects) },
			{ "krank_hostnet_denied_total", "counter",
			  "Host connects and sends refused by the allow list.",
			  offsetof(struct krs_hostnet_stats, hs_denied) },
			{ "krank_hostnet_rx_denied_total", "counter",
			  "Host datagrams dropped: sender not allowed.",
			  offsetof(struct krs_hostnet_stats, hs_rxdenied) },
			{ "krank_hostnet_transmit_bytes_total", "counter",
			  "Bytes isolates sent through host sockets.",
			  offsetof(struct krs_hostnet_stats, hs_bytes_out) },
			{ "krank_hostnet_receive_bytes_total", "counter",
			  "Bytes isolates received through host sockets.",
			  offsetof(struct krs_hostnet_stats, hs_bytes_in) },
		};
		for (size_t m = 0; m < sizeof(hnm) / sizeof(hnm[0]); m++) {
			uint64_t val;
			memcpy(&val, (const char *)&hn + hnm[m].off, sizeof(val));
			prom_head(o, hnm[m].name, hnm[m].type, hnm[m].help);
			sb_printf(o, "%s %" PRIu64 "\n", hnm[m].name, val);
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
	{
		struct krk_foreign_info *fv = NULL;
		size_t fn = 0, live = 0;
		if (krk_foreign_list(&fv, &fn) == 0)
			for (size_t i = 0; i < fn; i++)
				live += fv[i].attached;
		free(fv);
		prom_head(o, "krank_foreign_attached", "gauge",
		    "Foreign isolates attached now.");
		sb_printf(o, "krank_foreign_attached %zu\n", live);
		static const struct { const char *name, *help; size_t off; }
		    fm[] = {
			{ "krank_attach_total", "Attachments made.",
			  offsetof(struct krk_foreign_counters, attached) },
			{ "krank_attach_refused_total", "Attach socket peers "
			  "refused: not root and not in attach.users.",
			  offsetof(struct krk_foreign_counters, refused) },
			{ "krank_attach_limited_total", "Attachments refused "
			  "at attach.max.",
			  offsetof(struct krk_foreign_counters, limited) },
			{ "krank_attach_cut_total", "Attachments cut off for "
			  "malformed requests.",
			  offsetof(struct krk_foreign_counters, cut) },
			{ "krank_foreign_spawned_total", "Linux processes "
			  "started by spawn --foreign.",
			  offsetof(struct krk_foreign_counters, spawned) },
		};
		for (size_t m = 0; m < sizeof(fm) / sizeof(fm[0]); m++) {
			uint64_t val = __atomic_load_n((uint64_t *)((char *)
			    &krk_foreign_stats + fm[m].off), __ATOMIC_RELAXED);
			prom_head(o, fm[m].name, "counter", fm[m].help);
			sb_printf(o, "%s %" PRIu64 "\n", fm[m].name, val);
		}
	}
	prom_head(o, "krank_capture_dropped_frames_total", "counter",
	    "Frames a capture ring had no room for.");
	sb_printf(o, "krank_capture_dropped_frames_total %" PRIu64 "\n",
	    __atomic_load_n(&krk_ctl_stats.cap_drops, __ATOMIC_RELAXED));
	return 0;
}

int
krk_ctl_cmd_version(struct krk_ctl_req *r)
{
	if (r->json)
		sb_printf(r->out, "{\"protocol\":%d,\"package\":\"%s\"}\n",
		    KRK_CTL_PROTO_VERSION, PACKAGE_VERSION);
	else
		sb_printf(r->out, "krank %s, control protocol %d\n",
		    PACKAGE_VERSION, KRK_CTL_PROTO_VERSION);
	return 0;
}

