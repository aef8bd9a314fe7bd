/*
 * krk_sys_run - run an isolate program over KRANK's syscall layer: boot
 * vfs, tmpfs and the IPv4 stack (loopback), mount tmpfs on /, load PROG
 * with kld_load against the isolate libc's exports plus krk_sys_exports,
 * and call its main on a thread with a struct krk_thread (so the shims'
 * bracket runs).  Prints what main printed; exits with main's status.
 *   krk_sys_run PROG.kx [ARGS...]
 * Uses the test-only isolate stand-in (krk_iso_testimpl.c).
 */
#include <pthread.h>
#include <setjmp.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <krank/kld.h>
#include <krank/krs.h>
#include "net/krs_net.h"

#include "krk.h"

extern sigjmp_buf krk_test_exit_jmp;
extern int krk_test_exit_status;
extern char **krk_test_environ;

#define KILL_SLACK_MS 200

static struct krk_thread self;
static int kill_after_ms = -1;
static uint64_t killed_at_ns;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *
killer(void *arg)
{
	struct timespec d = { kill_after_ms / 1000,
	    (kill_after_ms % 1000) * 1000000L };

	(void)arg;
	nanosleep(&d, NULL);
	killed_at_ns = now_ns();
	self.kill_pending = 1;
	return NULL;
}

/* main of the isolate on this thread; returns 1 when it was killed. */
static int __attribute__((noinline))
run_entry(int (*entry)(int, char **, char **), int argc, char **argv,
    char **env, int *statusp)
{
	volatile int status = 0, killed = 0;

	if (sigsetjmp(krk_test_exit_jmp, 0) == 0) {
		if (sigsetjmp(self.exit_jmp, 0) == 0)
			status = entry(argc, argv, env);
		else
			killed = 1;
	} else
		status = krk_test_exit_status;
	*statusp = status;
	return killed;
}

static long
host_write(int fd, const void *p, size_t n)
{
	return write(fd, p, n);
}

static void
diag_print(void *arg, enum kld_severity lvl, const char *line)
{
	(void)arg;
	(void)lvl;
	fprintf(stderr, "krk_sys_run: %s\n", line);
}

int
main(int argc, char **argv)
{
	char err[256];
	struct kld_libc_host hooks = { .write = host_write };
	struct kld_symtab *tab;
	struct kld_object *obj;
	struct kld_diag diag = { .fn = diag_print };
	void *img;
	size_t len;
	static char *env[] = { "KRK_TEST=isolate", NULL };

	if (argc > 2 && strcmp(argv[1], "--kill-after") == 0) {
		kill_after_ms = atoi(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: krk_sys_run [--kill-after MS] PROG.kx "
		    "[ARGS...]\n");
		return 2;
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
	krk_sys_libc_hooks(&hooks);
	kld_libc_set_host(&hooks);
	if (kld_symtab_create(&tab) != 0 ||
	    kld_symtab_add(tab, kld_libc_exports, kld_libc_nexports) != 0 ||
	    krk_sys_exports(tab) != 0) {
		fprintf(stderr, "krk_sys_run: export table: out of memory\n");
		return 1;
	}
	if (kld_read_file(argv[1], &img, &len, &diag) != 0 ||
	    kld_load(img, len, argv[1], tab, 0, &diag, &obj) != 0)
		return 1;
	int (*entry)(int, char **, char **) =
	    (int (*)(int, char **, char **))kld_sym(obj, "main");
	if (entry == NULL) {
		fprintf(stderr, "krk_sys_run: %s: no main\n", argv[1]);
		return 1;
	}
	krk_self = &self;
	krk_test_environ = env;
	pthread_t kt;
	if (kill_after_ms >= 0 &&
	    pthread_create(&kt, NULL, killer, NULL) != 0) {
		perror("krk_sys_run: killer thread");
		return 1;
	}
	int status, killed = run_entry(entry, argc - 1, argv + 1, env, &status);
	uint64_t gone_ns = now_ns();
	krk_self = NULL;
	int rc = status;
	if (kill_after_ms >= 0) {
		pthread_join(kt, NULL);
		if (!killed) {
			fprintf(stderr, "krk_sys_run: %s: not killed (exit %d)\n",
			    argv[1], status);
			rc = 1;
		} else {
			double late = (double)(gone_ns - killed_at_ns) / 1e6;
			fprintf(stderr, "krk_sys_run: %s: killed, thread given up "
			    "%.1f ms after the kill\n", argv[1], late);
			rc = late <= KILL_SLACK_MS ? 0 : 1;
		}
	} else
		fprintf(stderr, "krk_sys_run: %s: exit %d after %llu system "
		    "calls\n", argv[1], status,
		    (unsigned long long)self.nsyscalls);
	/* iso_block's mutex case leaves a thread sleeping inside the
	 * nanosleep shim, which never returns to the program's code before
	 * this process exits: unloading under it is safe here. */
	kld_unload(obj);
	free(img);
	kld_symtab_destroy(tab);
	return rc;
}
