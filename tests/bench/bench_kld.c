/*
 * Loader benchmark (tests/bench, not part of make check): time to verify,
 * load, run and unload an isolate with libkrank-loader, against fork+exec
 * +wait of the equivalent static Linux program, measured in the same run;
 * and the verifier's decoding throughput.
 *   bench_kld HELLO.kx HELLO.static BIG.kx BIG.static
 * Prints medians in microseconds and the Linux/KRANK ratio.
 *
 * The Linux side runs in a helper process forked at start-up, before
 * anything is loaded (same binary and libraries): it times its own
 * fork+execve+waitpid and sends the time back through a pipe, one start
 * at a time, interleaved with the KRANK starts.  A fork in the measuring
 * process would write-protect all of its pages at every Linux start, and
 * the next KRANK start would pay a copy-on-write fault for every page it
 * writes (17 faults per hello-world start instead of 4): a cost of
 * measuring Linux, not of starting an isolate.  The old arrangement,
 * both sides in one process, is measured too and printed as such.
 */
#include <elf.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "krank/kld.h"

#include "bench_point.h"
#include "../loader/kld_run.h"

static int devnull;
static struct kld_symtab *tab;

static double
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_d);
	return v[n / 2];
}

static long
to_null(int fd, const void *p, size_t n)
{
	(void)fd;
	return write(devnull, p, n);
}

/* One isolate start: read, verify+load (+init), run main, unload. */
static int
run_isolate(const char *path)
{
	return kld_run_file(path, tab, 0);
}

static int
run_linux(const char *path)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		char *argv[] = { (char *)path, NULL }, *envp[] = { NULL };

		dup2(devnull, 1);
		execve(path, argv, envp);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* The helper process: runs the Linux program it is asked for. */
struct linux_run {
	double us;
	int rc;
};

static int spawn_req = -1, spawn_rep = -1;
static pid_t spawner_pid;

static void
start_spawner(char **paths)
{
	int req[2], rep[2];

	if (pipe(req) != 0 || pipe(rep) != 0 || (spawner_pid = fork()) < 0) {
		perror("bench_kld: spawner");
		exit(1);
	}
	if (spawner_pid == 0) {
		unsigned char which;

		close(req[1]);
		close(rep[0]);
		while (read(req[0], &which, 1) == 1) {
			struct linux_run r;
			double t0 = now_us();

			r.rc = run_linux(paths[which]);
			r.us = now_us() - t0;
			if (write(rep[1], &r, sizeof(r)) != sizeof(r))
				_exit(1);
		}
		_exit(0);
	}
	close(req[0]);
	close(rep[1]);
	spawn_req = req[1];
	spawn_rep = rep[0];
}

static struct linux_run
run_linux_remote(unsigned char which)
{
	struct linux_run r = { 0, -1 };

	if (write(spawn_req, &which, 1) != 1 ||
	    read(spawn_rep, &r, sizeof(r)) != sizeof(r)) {
		printf("bench_kld: the spawner process is gone\n");
		exit(1);
	}
	return r;
}

/* same_process: fork the Linux program from this process (the old
 * arrangement); otherwise from the helper. */
static void
compare(const char *id, const char *what, const char *iso, const char *lin,
    unsigned char which, int n, bool same_process)
{
	double *k = malloc(sizeof(double) * (size_t)n);
	double *l = malloc(sizeof(double) * (size_t)n);
	int rk = run_isolate(iso), rl = run_linux_remote(which).rc;

	if (rk != rl) {
		printf("bench_kld: %s: isolate returned %d, Linux program %d\n",
		    what, rk, rl);
		exit(1);
	}
	/* Interleave, so drift in machine load hits both alike. */
	for (int i = 0; i < n; i++) {
		double t0 = now_us();

		run_isolate(iso);
		double t1 = now_us();

		k[i] = t1 - t0;
		if (same_process) {
			run_linux(lin);
			l[i] = now_us() - t1;
		} else
			l[i] = run_linux_remote(which).us;
	}
	double mk = median(k, n), ml = median(l, n);

	printf("bench_kld: %-28s KRANK verify+load+run+unload %9.1f us | "
	    "Linux fork+exec+wait (static) %9.1f us | ratio %5.1fx faster "
	    "(median of %d%s)\n", what, mk, ml, ml / mk, n, same_process ?
	    "; both in one process" : "");
	char w[160];
	snprintf(w, sizeof(w), "%s: KRANK verify+load+run+unload vs Linux "
	    "fork+exec+wait (static)%s", what, same_process ?
	    ", both from one process" : "");
	bench_point(id, mk, ml, "us", 1, 0, w);
	free(k);
	free(l);
}

/* Decoder throughput over the executable segments of an object. */
static void
throughput(const char *path)
{
	void *buf;
	size_t len, code = 0;
	double best = 1e30;

	if (kld_read_file(path, &buf, &len, NULL) != 0)
		exit(1);
	const Elf64_Ehdr *eh = buf;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)((char *)buf + eh->e_phoff);

	for (int r = 0; r < 5; r++) {
		double t0 = now_us();

		code = 0;
		for (int i = 0; i < eh->e_phnum; i++)
			if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X)) {
				kld_verify_code((char *)buf + ph[i].p_offset,
				    ph[i].p_filesz, ph[i].p_vaddr, "bench", 0,
				    NULL);
				code += ph[i].p_filesz;
			}
		double t = now_us() - t0;
		if (t < best)
			best = t;
	}
	printf("bench_kld: decoder throughput: %.1f MB/s (kld_verify_code "
	    "over %.2f MiB of gcc -O1 code, best of 5)\n", code / best,
	    code / 1048576.0);
	free(buf);
}

int
main(int argc, char **argv)
{
	struct kld_libc_host host = { .write = to_null, .malloc = malloc,
	    .free = free, .realloc = realloc };

	if (argc != 5) {
		fprintf(stderr, "usage: bench_kld HELLO.kx HELLO.static BIG.kx "
		    "BIG.static\n");
		return 2;
	}
	bench_machine_costs();
	devnull = open("/dev/null", O_WRONLY);
	{
		char *paths[2] = { argv[2], argv[4] };

		start_spawner(paths);
	}
	kld_libc_set_host(&host);
	kld_symtab_create(&tab);
	kld_symtab_add(tab, kld_libc_exports, kld_libc_nexports);
	compare("kld.hello", "hello world", argv[1], argv[2], 0, 2000, false);
	compare("kld.large", "large (>= 1 MiB of code)", argv[3], argv[4], 1,
	    100, false);
	compare("kld.hello_1proc", "hello world", argv[1], argv[2], 0, 2000,
	    true);
	compare("kld.large_1proc", "large (>= 1 MiB of code)", argv[3],
	    argv[4], 1, 100, true);
	throughput(argv[3]);
	kld_symtab_destroy(tab);
	close(spawn_req);
	waitpid(spawner_pid, NULL, 0);
	return 0;
}
