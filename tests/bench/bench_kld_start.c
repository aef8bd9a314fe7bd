/*
 * Isolate start with the verdict cache (issue 16; tests/bench, not part
 * of make check):
 *   bench_kld_start HELLO.kx HELLO.static BIG.kx BIG.static
 * In one run: the machine's cost of a system call and of a page fault;
 * hello world and a large program (>= 1 MiB of code) started as
 * isolates - first start (no cache), cached in memory, cached on disk
 * after a restart - against fork+execve+waitpid of the same program as a
 * static Linux binary, timed by a helper process forked at start-up (see
 * bench_kld.c for why).  Page faults per isolate start are counted with
 * getrusage(RUSAGE_THREAD).  Medians; ratio = Linux / KRANK.
 * A fourth mode, "cached + pool", loads into memory faulted in at start
 * (kld_set_mem), as KRANK's isolate pool does (krank/krk_pool.c: here a
 * stand-in with the same steps - one populated region, protections set
 * by the loader, made read+write and zeroed at unload - since the real
 * one needs the KRANK process around it).  A fifth, "parked", keeps the
 * unloaded object for the next load of the same image (kld_set_park):
 * the file is still read and compared, the writable pages reset.  A
 * sixth, "fresh place", parks with kld_set_park_fresh and the pool: the
 * unload loads the image again at a new place, the start takes it.
 * Each row also prints the medians of its parts: reading the file,
 * kld_load + main, kld_unload.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "krank/kld.h"

#include "bench_point.h"

static int devnull;
static struct kld_symtab *tab;
static unsigned load_flags;

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
minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static long
to_null(int fd, const void *p, size_t n)
{
	(void)fd;
	return write(devnull, p, n);
}

/* Of the last run_isolate: reading the file, kld_load + main, unload. */
static double t_read, t_run, t_unload;

static int
run_isolate(const char *path)
{
	struct kld_object *o;
	int (*entry)(int, char **);
	char *argv[] = { (char *)path, NULL };
	void *buf;
	size_t len;
	int rc;

	double t0 = now_us(), t1, t2;

	if (kld_read_file(path, &buf, &len, NULL) != 0)
		return -1;
	t1 = now_us();
	rc = kld_load(buf, len, path, tab, load_flags, NULL, &o);
	free(buf);
	if (rc != 0)
		return -1;
	entry = (int (*)(int, char **))kld_sym(o, "main");
	rc = entry != NULL ? entry(1, argv) : -1;
	t2 = now_us();
	kld_unload(o);
	t_read = t1 - t0;
	t_run = t2 - t1;
	t_unload = now_us() - t2;
	return rc;
}

struct linux_run {
	double us;
	int rc;
};

static int spawn_req = -1, spawn_rep = -1;
static pid_t spawner_pid;

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

static void
start_spawner(char **paths)
{
	int req[2], rep[2];

	if (pipe(req) != 0 || pipe(rep) != 0 || (spawner_pid = fork()) < 0) {
		perror("bench_kld_start: spawner");
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
		printf("bench_kld_start: the spawner process is gone\n");
		exit(1);
	}
	return r;
}

enum mode { FIRST, MEMORY, DISK, POOL, PARKED, FRESH };
static const char *mode_name[] = { "first start (no cache)",
	"cached (memory)", "cached (disk, after restart)",
	"cached + pool", "parked (same image again)",
	"parked, fresh place + pool" };

/* The stand-in pool: one region, faulted in once, one object at a time
 * (the benchmark loads one object at a time) at a random page, as
 * krk_pool.c places them at a random unit. */
static struct {
	uint8_t *base;
	size_t size;
	bool busy;
	uint64_t rnd;
} bpool = { .rnd = 0x9e3779b97f4a7c15ull };

static void *
bpool_get(void *arg, size_t size)
{
	size_t pages;

	(void)arg;
	if (bpool.busy || size > bpool.size)
		return NULL;
	bpool.busy = true;
	bpool.rnd ^= bpool.rnd << 13;
	bpool.rnd ^= bpool.rnd >> 7;
	bpool.rnd ^= bpool.rnd << 17;
	pages = (bpool.size - size) / 4096 + 1;
	return bpool.base + (size_t)(bpool.rnd % pages) * 4096;
}

static void
bpool_put(void *arg, void *p, size_t size)
{
	(void)arg;
	mprotect(p, size, PROT_READ | PROT_WRITE);
	memset(p, 0, size);
	bpool.busy = false;
}

static void
bpool_init(size_t size)
{
	bpool.base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (bpool.base == MAP_FAILED) {
		perror("bench_kld_start: pool");
		exit(1);
	}
	bpool.size = size;
}
static char cachedir[64];

/* Before each start: the cache as the mode wants it. */
static void
prepare(enum mode m)
{
	if (m == FIRST)
		kld_vcache_disable();
	else if (m == DISK) {
		kld_vcache_disable();	/* a restart: memory entries gone */
		kld_vcache_enable(cachedir, NULL);
	}
}

static void
compare(const char *what, const char *iso, unsigned char which, int n,
    enum mode m)
{
	double *k = malloc(sizeof(double) * (size_t)n);
	double *l = malloc(sizeof(double) * (size_t)n);
	double *f = malloc(sizeof(double) * (size_t)n);
	double *tr = malloc(sizeof(double) * (size_t)n);
	double *tl = malloc(sizeof(double) * (size_t)n);
	double *tu = malloc(sizeof(double) * (size_t)n);
	int rk, rl;

	struct kld_mem pm = { bpool_get, bpool_put, NULL };
	if (m != FIRST)
		kld_vcache_enable(cachedir, NULL);
	kld_set_mem(m == POOL || m == FRESH ? &pm : NULL);
	kld_set_park(m == PARKED || m == FRESH ? 4 : 0);
	kld_set_park_fresh(m == FRESH);
	rk = run_isolate(iso);		/* warms the cache too */
	rl = run_linux_remote(which).rc;
	if (rk != rl) {
		printf("bench_kld_start: %s: isolate returned %d, Linux "
		    "program %d\n", what, rk, rl);
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		double t0, t1;
		long f0;

		prepare(m);
		f0 = minflt();
		t0 = now_us();
		run_isolate(iso);
		t1 = now_us();
		f[i] = (double)(minflt() - f0);
		k[i] = t1 - t0;
		tr[i] = t_read;
		tl[i] = t_run;
		tu[i] = t_unload;
		l[i] = run_linux_remote(which).us;
	}
	kld_set_park(0);
	kld_set_park_fresh(0);
	kld_set_mem(NULL);
	double mk = median(k, n), ml = median(l, n), mf = median(f, n);

	printf("bench_kld_start: %-12s %-29s KRANK %9.1f us (%4.0f faults) | "
	    "Linux fork+exec %8.1f us | %6.2fx (median of %d)\n", what,
	    mode_name[m], mk, mf, ml, ml / mk, n);
	/* The parts (medians each): a start until main returns is read +
	 * load+main; KRANK keeps images in memory (krk_isolate.c's image
	 * cache: one stat), so load+main is its loader's share. */
	double mtl = median(tl, n);
	printf("bench_kld_start: %-12s %-29s   read file %.1f us, kld_load + "
	    "main %.1f us (%.0fx fork+exec), kld_unload %.1f us\n", "",
	    "", median(tr, n), mtl, ml / mtl, median(tu, n));
	char raw[96], id[96], w[160];
	size_t o = 0;
	snprintf(raw, sizeof(raw), "start.%s.%s", what, mode_name[m]);
	/* An id of letters, digits, '.' and single '_'s. */
	for (const char *c = raw; *c && o + 1 < sizeof(id); c++) {
		bool keep = isalnum((unsigned char)*c) || *c == '.';
		if (keep)
			id[o++] = *c;
		else if (o > 0 && id[o - 1] != '_' && id[o - 1] != '.')
			id[o++] = '_';
	}
	while (o > 0 && id[o - 1] == '_')
		o--;
	id[o] = '\0';
	snprintf(w, sizeof(w), "isolate start, %s, %s, vs Linux fork+exec of "
	    "the same program", what, mode_name[m]);
	bench_point(id, mk, ml, "us", 1, 0, w);
	free(k);
	free(l);
	free(f);
	free(tr);
	free(tl);
	free(tu);
}

/* The machine's costs, same run: a trivial system call and a first
 * touch of an anonymous page (fault + zeroing). */
static void
machine_costs(void)
{
	double best = 1e30;
	size_t np = 4096;

	for (int r = 0; r < 5; r++) {
		double t0 = now_us();

		for (int i = 0; i < 20000; i++)
			syscall(SYS_getppid);
		double t = (now_us() - t0) / 20000;
		if (t < best)
			best = t;
	}
	printf("bench_kld_start: machine: system call (getppid) %.3f us\n",
	    best);
	best = 1e30;
	for (int r = 0; r < 5; r++) {
		char *p = mmap(NULL, np * 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		double t0 = now_us();

		for (size_t i = 0; i < np; i++)
			p[i * 4096] = 1;
		double t = (now_us() - t0) / (double)np;
		munmap(p, np * 4096);
		if (t < best)
			best = t;
	}
	printf("bench_kld_start: machine: page fault (first write to an "
	    "anonymous 4 KiB page) %.3f us\n", best);
}

int
main(int argc, char **argv)
{
	struct kld_libc_host host = { .write = to_null, .malloc = malloc,
	    .free = free, .realloc = realloc };
	char tmpl[] = "/tmp/bench_kld_start.XXXXXX";
	const char *mode = getenv("KLD_BENCH_LAX");

	if (argc != 5) {
		fprintf(stderr, "usage: bench_kld_start HELLO.kx HELLO.static "
		    "BIG.kx BIG.static\n");
		return 2;
	}
	bench_machine_costs();
	/* The large program has two hidden syscall patterns (bench_kld.sh):
	 * lax, as krank-ld --lax would load it. */
	load_flags = mode != NULL && *mode == '0' ? KLD_STRICT : 0;
	devnull = open("/dev/null", O_WRONLY);
	{
		char *paths[2] = { argv[2], argv[4] };

		start_spawner(paths);
	}
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(cachedir, sizeof(cachedir), "%s/vc", tmpl);
	kld_libc_set_host(&host);
	kld_symtab_create(&tab);
	kld_symtab_add(tab, kld_libc_exports, kld_libc_nexports);
	machine_costs();
	bpool_init(16u << 20);
	/* KLD_BENCH_MODES: digits of the modes to run (profiling one),
	 * 0 = first start ... 4 = parked, 5 = parked with fresh places;
	 * KLD_BENCH_WHAT: h or l. */
	const char *only = getenv("KLD_BENCH_MODES");
	const char *what = getenv("KLD_BENCH_WHAT");
	for (int m = FIRST; m <= FRESH; m++)
		if ((only == NULL || strchr(only, '0' + m) != NULL) &&
		    (what == NULL || *what == 'h'))
			compare("hello world", argv[1], 0, 500, (enum mode)m);
	for (int m = FIRST; m <= FRESH; m++)
		if ((only == NULL || strchr(only, '0' + m) != NULL) &&
		    (what == NULL || *what == 'l'))
			compare("large", argv[3], 1, 30, (enum mode)m);
	{
		struct kld_vcache_stats s;

		kld_vcache_stats_get(&s);
		printf("bench_kld_start: cache: %llu lookups, %llu memory "
		    "hits, %llu disk hits, %llu misses, %llu bad entries\n",
		    (unsigned long long)s.lookups,
		    (unsigned long long)s.hits_memory,
		    (unsigned long long)s.hits_disk,
		    (unsigned long long)s.misses,
		    (unsigned long long)(s.bad_truncated + s.bad_tampered +
		    s.bad_stale + s.bad_foreign));
	}
	kld_vcache_disable();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
		if (system(cmd) != 0)
			printf("bench_kld_start: could not remove %s\n", tmpl);
	}
	kld_symtab_destroy(tab);
	close(spawn_req);
	waitpid(spawner_pid, NULL, 0);
	return 0;
}
