/*
 * krank-ld: verify, describe or run an isolate object.
 *   krank-ld verify [--strict|--lax] FILE...
 *   krank-ld info FILE
 *   krank-ld run [--strict|--lax] FILE [ARGS]   (loads it into this process
 *                                                and calls its main; tests)
 * Strict is the default of both, so that verify accepts exactly what run
 * runs: a syscall, sysenter or int 0x80 encoding at any byte offset of the
 * code refuses the object (without control-flow integrity every byte is a
 * possible jump target).  --lax turns those hidden encodings into
 * warnings, for code the user vouches for.
 * Exit status: 0 ok, 1 refused or failed, 2 usage; run returns main's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "krank/kld.h"

static void
print_line(void *arg, enum kld_severity sev, const char *line)
{
	FILE *f = sev == KLD_INFO ? stdout : stderr;

	(void)arg;
	fprintf(f, "%s%s\n", sev == KLD_WARNING ? "warning: " : "", line);
}

static int
usage(void)
{
	fprintf(stderr, "usage: krank-ld verify [--strict|--lax] FILE...\n"
	    "       krank-ld info FILE\n"
	    "       krank-ld run [--strict|--lax] FILE [ARGS]\n"
	    "Strict (the default): a system-call encoding hidden at any byte "
	    "offset\nrefuses the object; --lax only warns about those.\n");
	return 2;
}

static int
cmd_verify(int argc, char **argv, unsigned flags)
{
	int bad = 0;

	for (int i = 0; i < argc; i++) {
		struct kld_diag d = { .fn = print_line };
		void *buf;
		size_t len;
		int error;

		if ((error = kld_read_file(argv[i], &buf, &len, &d)) == 0) {
			error = kld_verify(buf, len, argv[i], flags, &d);
			free(buf);
		}
		if (error == 0)
			printf("krank-ld: %s: verified (%u warning%s)\n",
			    argv[i], d.nwarnings, d.nwarnings == 1 ? "" : "s");
		else {
			printf("krank-ld: %s: refused (%u error%s, %u "
			    "warning%s)\n", argv[i], d.nerrors,
			    d.nerrors == 1 ? "" : "s", d.nwarnings,
			    d.nwarnings == 1 ? "" : "s");
			bad = 1;
		}
	}
	return bad;
}

static int
cmd_info(const char *path)
{
	struct kld_diag d = { .fn = print_line };
	void *buf;
	size_t len;
	int error;

	if ((error = kld_read_file(path, &buf, &len, &d)) != 0)
		return 1;
	error = kld_info(buf, len, path, &d);
	free(buf);
	return error ? 1 : 0;
}

static jmp_buf run_exit;
static int run_status;

static long
host_write(int fd, const void *p, size_t n)
{
	ssize_t r;

	while ((r = write(fd, p, n)) < 0 && errno == EINTR)
		;
	return r;
}

static void
host_exit(int status)
{
	run_status = status;
	longjmp(run_exit, 1);
}

static int
cmd_run(int argc, char **argv, unsigned flags)
{
	static const struct kld_libc_host host = {
		.write = host_write, .malloc = malloc, .free = free,
		.realloc = realloc, .exit = host_exit,
	};
	struct kld_diag d = { .fn = print_line };
	struct kld_symtab *tab;
	struct kld_object *obj;
	int (*volatile entry)(int, char **);
	void *buf;
	size_t len;
	int error;

	kld_libc_set_host(&host);
	if (kld_symtab_create(&tab) != 0 ||
	    kld_symtab_add(tab, kld_libc_exports, kld_libc_nexports) != 0) {
		fprintf(stderr, "krank-ld: out of memory\n");
		return 1;
	}
	if ((error = kld_read_file(argv[0], &buf, &len, &d)) != 0)
		return 1;
	if (setjmp(run_exit) != 0) {
		/* exit() from an initialiser or from main */
		fflush(stdout);
		return run_status;
	}
	error = kld_load(buf, len, argv[0], tab, flags, &d, &obj);
	free(buf);
	if (error != 0) {
		fprintf(stderr, "krank-ld: %s: not loaded: %s\n", argv[0],
		    strerror(error));
		return 1;
	}
	entry = (int (*)(int, char **))kld_entry(obj, "main");
	if (entry == NULL) {
		fprintf(stderr, "krank-ld: %s: %s\n", argv[0],
		    kld_sym(obj, "main") != NULL ? "main is not a function in "
		    "the object's verified code" : "no symbol main in the "
		    "dynamic symbol table (link with -Wl,-E, as krank-cc does)");
		kld_unload(obj);
		return 1;
	}
	run_status = entry(argc, argv);
	kld_unload(obj);
	kld_symtab_destroy(tab);
	return run_status;
}

int
main(int argc, char **argv)
{
	unsigned flags = KLD_STRICT;
	bool mode = false;
	int i = 2;

	if (argc < 3)
		return usage();
	if (strcmp(argv[i], "--strict") == 0 || strcmp(argv[i], "--lax") == 0) {
		if (strcmp(argv[i], "--lax") == 0)
			flags &= ~(unsigned)KLD_STRICT;
		mode = true;
		i++;
	}
	if (i >= argc)
		return usage();
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - i, argv + i, flags);
	if (strcmp(argv[1], "info") == 0 && !mode)
		return cmd_info(argv[i]);
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - i, argv + i, flags);
	return usage();
}
