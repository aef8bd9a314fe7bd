/*
 * krk_sys_run - run one program as a real isolate (krank/krk_isolate.c:
 * its own context, heap arena and thread) over KRANK's syscall layer:
 * boot vfs, tmpfs and the IPv4 stack (loopback), mount tmpfs on /,
 * krk_isolate_spawn PROG, krk_isolate_wait, then print what it printed
 * and exit with its status.
 *   krk_sys_run [--hardened] [--lax] [--cat FILE] [--kill-after MS]
 *       PROG.kx [ARGS...]
 * --hardened and --lax are the deployment keys of the same names.
 * Its console (descriptors 1 and 2) goes to KRANK's log as "NAME: text"
 * lines; they are read back from the log ring (krk_log_read) and printed
 * without the prefix.  --cat FILE then copies FILE from KRANK's tmpfs to
 * standard output: a program that writes there (iso_posix -o FILE) is
 * compared byte for byte, empty and long lines included, which the
 * console's line log cannot promise.  --kill-after MS kills the isolate
 * MS milliseconds after its start and checks that it is gone within
 * KILL_SLACK_MS.  Console lines are passed on while the isolate runs.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>
#include "net/krs_net.h"

#include "krk.h"
#include "krk_gate.h"
#include "../testclock.h"

#define KILL_SLACK_MS	200
#define LOG_RING	(4u << 20)

/*
 * The isolate's console lines, from the log ring: "TIME LEVEL NAME: text"
 * (descriptor 1) and "TIME LEVEL NAME (stderr): text" (descriptor 2),
 * printed as "text", those after the first *seen (the ring is big enough
 * not to wrap in these runs).  Returns ENOMEM or 0.
 */
static int
print_console(const char *name, int *seen)
{
	size_t len, nl = strlen(name);
	char *log = krk_log_read(&len);
	int n = 0;

	if (log == NULL)
		return ENOMEM;
	for (char *line = log, *end; *line != '\0'; line = end + 1) {
		end = strchr(line, '\n');
		if (end == NULL)
			break;
		*end = '\0';
		/* Skip the timestamp and the level word. */
		char *p = strchr(line, ' ');
		p = p ? strchr(p + 1, ' ') : NULL;
		if (p == NULL || strncmp(++p, name, nl) != 0)
			continue;
		p += nl;
		if (strncmp(p, ": ", 2) == 0)
			p += 2;
		else if (strncmp(p, " (stderr): ", 11) == 0)
			p += 11;
		else
			continue;
		if (n++ >= *seen)
			printf("%s\n", p);
	}
	free(log);
	*seen = n;
	fflush(stdout);
	return 0;
}

/* Copy KRANK's file path to standard output. */
static int
print_file(const char *path)
{
	char buf[4096];
	ssize_t r;
	int fd = krs_open(path, KRS_O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "krk_sys_run: %s: %s\n", path, strerror(errno));
		return errno;
	}
	while ((r = krs_read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)r, stdout);
	int e = r < 0 ? errno : 0;
	krs_close(fd);
	if (e != 0)
		fprintf(stderr, "krk_sys_run: %s: read: %s\n", path, strerror(e));
	return e;
}

int
main(int argc, char **argv)
{
	const char *cat = NULL;
	int kill_after_ms = -1;
	bool hardened = false, lax = false;
	char err[512];

	for (;;) {
		if (argc > 1 && (strcmp(argv[1], "--hardened") == 0 ||
		    strcmp(argv[1], "--lax") == 0)) {
			*(argv[1][2] == 'h' ? &hardened : &lax) = true;
			argc--;
			argv++;
			continue;
		}
		if (argc > 2 && strcmp(argv[1], "--kill-after") == 0)
			kill_after_ms = atoi(argv[2]);
		else if (argc > 2 && strcmp(argv[1], "--cat") == 0)
			cat = argv[2];
		else
			break;
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: krk_sys_run [--hardened] [--lax] [--cat "
		    "FILE] [--kill-after MS] PROG.kx [ARGS...]\n");
		return 2;
	}
	if (krk_log_init(LOG_RING, KRK_LOG_WARN) != 0) {
		fprintf(stderr, "krk_sys_run: log ring: out of memory\n");
		return 1;
	}
	if (krs_boot("vfs,tmpfs,net,ether,socket,inet", err, sizeof(err)) != 0) {
		fprintf(stderr, "krk_sys_run: boot: %s\n", err);
		return 1;
	}
	if (krs_mount("t", "/", "tmpfs", 0, NULL, 0) != 0 ||
	    krs_net_stack_select(0) != 0) {
		perror("krk_sys_run: tmpfs on / or stack 0");
		return 1;
	}
	int e = krk_isolates_init();
	if (e != 0) {
		fprintf(stderr, "krk_sys_run: krk_isolates_init: %s\n",
		    strerror(e));
		return 1;
	}

	/* The isolate: named for the program, argv[0] its name, as a
	 * deployment would start it. */
	struct krk_isolate_cfg cfg;
	static char *env[] = { "KRK_TEST=isolate", NULL };
	const char *base = strrchr(argv[1], '/');
	base = base ? base + 1 : argv[1];
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "%.*s", (int)strcspn(base, "."),
	    base);
	cfg.elf = argv[1];
	argv[1] = cfg.name;
	cfg.argv = argv + 1;
	cfg.argc = (size_t)argc - 1;
	cfg.env = env;
	cfg.envc = 1;
	cfg.core = -1;
	cfg.restart = KRK_RESTART_NEVER;
	cfg.hardened = hardened;
	cfg.lax = lax;
	int id;
	uint64_t t0 = now_ns();
	if ((e = krk_isolate_spawn(&cfg, &id, err, sizeof(err))) != 0) {
		fprintf(stderr, "krk_sys_run: %s\n", err);
		return 1;
	}
	/* Wait in slices, passing its console on as it prints (a server
	 * that never ends says "ready" this way). */
	uint64_t kill_at = kill_after_ms >= 0 ? t0 + (uint64_t)kill_after_ms *
	    1000000u : UINT64_MAX, killed_at = 0, gone, slice = 20000000u;
	struct krk_isolate_info in;
	int seen = 0;
	for (;;) {
		uint64_t now = now_ns();
		if (now >= kill_at && killed_at == 0) {
			killed_at = now;
			if ((e = krk_isolate_kill(id)) != 0)
				fprintf(stderr, "krk_sys_run: kill %s: %s\n",
				    cfg.name, strerror(e));
		}
		uint64_t step = killed_at == 0 && kill_at - now < slice ?
		    kill_at - now : slice;
		e = krk_isolate_wait(id, step, &in);
		gone = now_ns();
		if (print_console(cfg.name, &seen) != 0) {
			fprintf(stderr, "krk_sys_run: log: out of memory\n");
			return 1;
		}
		if (e != ETIMEDOUT)
			break;
	}
	if (e != 0) {
		fprintf(stderr, "krk_sys_run: wait %s: %s\n", cfg.name,
		    strerror(e));
		return 1;
	}
	int rc;
	if (cat != NULL && print_file(cat) != 0)
		rc = 1;
	else if (kill_after_ms >= 0) {
		double late = (double)(gone - killed_at) / 1e6;
		if (in.state != KRK_ISO_KILLED) {
			fprintf(stderr, "krk_sys_run: %s: not killed (%s, status "
			    "%d)\n", cfg.name, krk_iso_state_name(in.state),
			    in.status);
			rc = 1;
		} else {
			fprintf(stderr, "krk_sys_run: %s: killed, isolate gone "
			    "%.1f ms after the kill\n", cfg.name, late);
			rc = late <= KILL_SLACK_MS ? 0 : 1;
		}
	} else if (in.state != KRK_ISO_EXITED) {
		fprintf(stderr, "krk_sys_run: %s: %s%s%s\n", cfg.name,
		    krk_iso_state_name(in.state), in.fault_what[0] ? ": " : "",
		    in.fault_what);
		rc = 1;
	} else {
		fprintf(stderr, "krk_sys_run: %s: exit %d after %llu system "
		    "calls in %.1f ms\n", cfg.name, in.status,
		    (unsigned long long)in.syscalls,
		    (double)(gone - t0) / 1e6);
		rc = in.status;
	}
	if (hardened) {
		int nr;
		uint64_t n = krk_gate_refused(&nr);
		fprintf(stderr, "krk_sys_run: %s: hardened; %llu system calls "
		    "of KRANK's own code refused on its sealed threads%s",
		    cfg.name, (unsigned long long)n, n ? " (last: " : "\n");
		if (n)
			fprintf(stderr, "%d)\n", nr);
	}
	fflush(stdout);
	krk_isolate_remove(id);
	krk_isolates_fini();
	return rc;
}
