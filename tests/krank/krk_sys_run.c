/*
 * krk_sys_run - run an isolate program over KRANK's syscall layer: boot
 * vfs, tmpfs and the IPv4 stack (loopback), mount tmpfs on /, load PROG
 * with kld_load against the isolate libc's exports plus krk_sys_exports,
 * and call its main on a thread with a struct krk_thread (so the shims'
 * bracket runs).  Prints what main printed; exits with main's status.
 *   krk_sys_run PROG.kx [ARGS...]
 * Uses the test-only isolate stand-in (krk_iso_testimpl.c).
 */
#include <setjmp.h>
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

	if (argc < 2) {
		fprintf(stderr, "usage: krk_sys_run PROG.kx [ARGS...]\n");
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
	struct krk_thread self;
	memset(&self, 0, sizeof(self));
	krk_self = &self;
	krk_test_environ = env;
	int status;
	if (sigsetjmp(krk_test_exit_jmp, 0) == 0)
		status = entry(argc - 1, argv + 1, env);
	else
		status = krk_test_exit_status;
	krk_self = NULL;
	fprintf(stderr, "krk_sys_run: %s: exit %d after %llu system calls\n",
	    argv[1], status, (unsigned long long)self.nsyscalls);
	kld_unload(obj);
	free(img);
	kld_symtab_destroy(tab);
	return status;
}
