/*
 * Parked objects (loader/kld_park.c, kld_set_park).
 *   test_kld_park PROGRAM.kx
 * PROGRAM's main returns 100 * a data counter + 10 * a bss counter + the
 * times its constructor ran, each incremented once per run: 671 on every
 * run that starts from clean pages.  Checked: a second load of the same
 * image is taken from the park, at the same base, with its data, bss
 * and constructor as new (671 again); code pages are never writable; a
 * load while the parked object runs gets a fresh one; a changed byte
 * outside the code, another export table or other flags are not served
 * from the park; a syscall written into main is refused by the verifier,
 * not served; the limit frees the least recently unloaded; pool memory
 * (kld_set_mem) goes back only when a parked object is freed.  Fresh
 * places (kld_set_park_fresh): an object that ran is never taken again;
 * the unload loads the image anew at another place, which the next load
 * takes and runs as new; a changed image is not taken; an object whose
 * export table was destroyed is freed, not loaded again.  Deferred
 * (kld_set_park_defer): the unload only queues the reload, which
 * kld_park_work does; a program's first load queues a twin, so that a
 * load while the reload is queued takes the twin; a destroyed table or
 * parking turned off frees queued objects; and threads loading and
 * unloading one image against a worker thread (run under TSan too, as
 * test_kld_park_tsan) keep every count straight.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "krank/kld.h"

#include "kld_run.h"

static int failures, checks;

/* The TSan build maps objects where the kernel chooses (the loader's
 * KLD_NO_RANDOM_HINT), which may be a place just given back: the checks
 * of new places hold only with the loader's random placement. */
#ifdef KLD_NO_RANDOM_HINT
static const bool random_places = false;
#else
static const bool random_places = true;
#endif

#define CHECK(cond, ...) do {						\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		printf("FAIL %s:%d: ", __FILE__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

static struct kld_symtab *tab;

static int
run_main(struct kld_object *o)
{
	int (*m)(int, char **) = (int (*)(int, char **))kld_sym(o, "main");
	char *argv[] = { "park", NULL };

	return m != NULL ? m(1, argv) : -1;
}

static struct kld_park_stats
pstats(void)
{
	struct kld_park_stats s;

	kld_park_stats_get(&s);
	return s;
}

/* Pages of [lo, lo+len) per /proc/self/maps: any writable+executable,
 * any executable, any mapping at all. */
static void
maps_of(uintptr_t lo, size_t len, bool *wx, bool *x, bool *any)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	*wx = *x = *any = false;
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		uintptr_t a, b;
		char perm[8];

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s", &a, &b,
		    perm) != 3 || b <= lo || a >= lo + len)
			continue;
		*any = true;
		if (perm[2] == 'x')
			*x = true;
		if (perm[1] == 'w' && perm[2] == 'x')
			*wx = true;
	}
	fclose(f);
}

/* File offset of main's first byte, from the program headers. */
static long
main_offset(const uint8_t *img, size_t len, uintptr_t vaddr)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;

	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff +
		    (size_t)i * eh->e_phentsize);

		if (eh->e_phoff + (size_t)(i + 1) * eh->e_phentsize > len)
			break;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    vaddr >= ph->p_vaddr && vaddr < ph->p_vaddr + ph->p_filesz)
			return (long)(ph->p_offset + (vaddr - ph->p_vaddr));
	}
	return -1;
}

/* A stand-in pool: counts what goes back. */
static uint8_t *pool_mem;
static size_t pool_size;
static int pool_out, pool_puts;

static void *
pool_get(void *arg, size_t size)
{
	(void)arg;
	if (pool_out > 0 || size > pool_size)
		return NULL;
	pool_out++;
	return pool_mem;
}

static void
pool_put(void *arg, void *p, size_t size)
{
	(void)arg;
	mprotect(p, size, PROT_READ | PROT_WRITE);
	memset(p, 0, size);
	pool_out--;
	pool_puts++;
}

/* Deferred parking: the host's notification, and its worker thread. */
static pthread_mutex_t wk_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wk_cv = PTHREAD_COND_INITIALIZER;
static int notified;			/* wk_lock */
static bool wk_stop;

static void
notify(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&wk_lock);
	notified++;
	pthread_cond_signal(&wk_cv);
	pthread_mutex_unlock(&wk_lock);
}

static int
notes(void)
{
	pthread_mutex_lock(&wk_lock);
	int n = notified;
	pthread_mutex_unlock(&wk_lock);
	return n;
}

static void *
worker(void *arg)
{
	int seen = 0;

	(void)arg;
	pthread_mutex_lock(&wk_lock);
	while (!wk_stop) {
		if (notified == seen) {
			pthread_cond_wait(&wk_cv, &wk_lock);
			continue;
		}
		seen = notified;
		pthread_mutex_unlock(&wk_lock);
		(void)kld_park_work();
		pthread_mutex_lock(&wk_lock);
	}
	pthread_mutex_unlock(&wk_lock);
	return NULL;
}

enum { NTHR = 4, NITER = 60 };
static const uint8_t *stress_img;
static size_t stress_len;
static int stress_bad;			/* wk_lock */

static void *
stress(void *arg)
{
	int bad = 0;

	(void)arg;
	for (int i = 0; i < NITER; i++) {
		struct kld_object *o;

		if (kld_load(stress_img, stress_len, "p", tab, 0, NULL,
		    &o) != 0) {
			bad++;
			continue;
		}
		if (run_main(o) != 671)
			bad++;
		kld_unload(o);
	}
	pthread_mutex_lock(&wk_lock);
	stress_bad += bad;
	pthread_mutex_unlock(&wk_lock);
	return NULL;
}

/* Deferred fresh parking, step by step (the test does the host's work
 * with kld_park_work), then threads against a worker thread. */
static void
test_deferred(const uint8_t *img, size_t len)
{
	struct kld_object *o1, *o2, *o3;
	struct kld_park_stats s0, s;
	uintptr_t b1, b2;
	bool wx, x, any;
	int n0;

	kld_set_park(4);
	kld_set_park_fresh(1);
	kld_set_park_defer(notify, NULL);
	s0 = pstats();
	n0 = notes();
	CHECK(kld_load(img, len, "p", tab, 0, NULL, &o1) == 0, "load");
	b1 = kld_base(o1);
	s = pstats();
	CHECK(notes() == n0 + 1 && s.pending == 1 && s.parked == s0.parked,
	    "a first load queues a twin (notified %d, pending %" PRIu64 ")",
	    notes() - n0, s.pending);
	CHECK(kld_park_work() == 1, "the worker does it");
	s = pstats();
	CHECK(s.twins == s0.twins + 1 && s.pending == 0 &&
	    s.parked == s0.parked + 1, "twin parked: twins %" PRIu64
	    ", parked %" PRIu64, s.twins - s0.twins, s.parked);
	CHECK(run_main(o1) == 671, "deferred: run 1");
	s0 = pstats();
	kld_unload(o1);
	s = pstats();
	CHECK(s.pending == 1 && s.refreshed == s0.refreshed &&
	    notes() == n0 + 2, "unload only queues the reload (pending %"
	    PRIu64 ", refreshed %" PRIu64 ")", s.pending,
	    s.refreshed - s0.refreshed);
	maps_of(b1, 4096, &wx, &x, &any);
	CHECK(any, "the run's place is given back by the worker, not the "
	    "unload");
	/* A start while the reload is queued: the twin. */
	CHECK(kld_load(img, len, "p", tab, 0, NULL, &o2) == 0, "load 2");
	b2 = kld_base(o2);
	s = pstats();
	CHECK(s.taken == s0.taken + 1 && s.pending == 1 && s.twins ==
	    s0.twins && notes() == n0 + 2, "the twin is taken, no other "
	    "queued (the reload covers the next start)");
	CHECK((b2 != b1 || !random_places) && run_main(o2) == 671,
	    "at its own place, as new");
	maps_of(b2, kld_span(o2), &wx, &x, &any);
	CHECK(x && !wx, "twin: code executable (%d), never writable+"
	    "executable (%d)", x, wx);
	CHECK(kld_park_work() == 1, "the reload");
	s = pstats();
	CHECK(s.refreshed == s0.refreshed + 1 && s.pending == 0 &&
	    s.parked == s0.parked, "reloaded and parked: refreshed %" PRIu64
	    ", parked %" PRIu64, s.refreshed - s0.refreshed, s.parked);
	maps_of(b1, 4096, &wx, &x, &any);
	CHECK(!any || !random_places, "the first run's place is unmapped "
	    "now");
	kld_unload(o2);
	CHECK(kld_load(img, len, "p", tab, 0, NULL, &o3) == 0, "load 3");
	CHECK(((kld_base(o3) != b1 && kld_base(o3) != b2) || !random_places)
	    && run_main(o3) == 671, "the reloaded object: new place, as new");
	kld_unload(o3);
	kld_park_settle();
	s = pstats();
	CHECK(s.pending == 0 && s.refreshed == s0.refreshed + 3 &&
	    s.twins == s0.twins, "settled: %" PRIu64 " pending, %" PRIu64
	    " reloads, no more twins", s.pending, s.refreshed - s0.refreshed);

	/* Its table destroyed while the reload is queued: freed. */
	{
		struct kld_symtab *t2;

		kld_symtab_create(&t2);
		kld_symtab_add(t2, kld_libc_exports, kld_libc_nexports);
		CHECK(kld_load(img, len, "p", t2, 0, NULL, &o1) == 0, "load");
		kld_park_settle();	/* its twin */
		s0 = pstats();
		kld_unload(o1);
		kld_symtab_destroy(t2);
		kld_park_settle();
		s = pstats();
		CHECK(s.refreshed == s0.refreshed && s.freed == s0.freed + 1 &&
		    s.pending == 0, "table gone while queued: freed %" PRIu64
		    ", refreshed %" PRIu64, s.freed - s0.freed,
		    s.refreshed - s0.refreshed);
	}
	/* Parking off with a reload queued: freed, nothing left. */
	CHECK(kld_load(img, len, "p", tab, 0, NULL, &o1) == 0, "load");
	kld_unload(o1);
	CHECK(pstats().pending >= 1, "queued");
	kld_set_park(0);
	s = pstats();
	CHECK(s.pending == 0 && s.parked == 0, "off: pending %" PRIu64
	    ", parked %" PRIu64, s.pending, s.parked);

	/* Threads against a worker thread. */
	{
		pthread_t w, t[NTHR];
		struct kld_stats k0, k1;

		kld_set_park(4);
		stress_img = img;
		stress_len = len;
		s0 = pstats();
		kld_stats_get(&k0);
		pthread_create(&w, NULL, worker, NULL);
		for (int i = 0; i < NTHR; i++)
			pthread_create(&t[i], NULL, stress, NULL);
		for (int i = 0; i < NTHR; i++)
			pthread_join(t[i], NULL);
		kld_park_settle();
		pthread_mutex_lock(&wk_lock);
		wk_stop = true;
		pthread_cond_signal(&wk_cv);
		pthread_mutex_unlock(&wk_lock);
		pthread_join(w, NULL);
		kld_stats_get(&k1);
		s = pstats();
		CHECK(stress_bad == 0, "%d threads x %d runs, each as new "
		    "(%d bad)", NTHR, NITER, stress_bad);
		CHECK(s.pending == 0 && s.parked <= 4, "settled: pending %"
		    PRIu64 ", parked %" PRIu64 " (limit 4)", s.pending,
		    s.parked);
		CHECK(s.refreshed - s0.refreshed + (s.freed - s0.freed) >=
		    NTHR * NITER, "every stop reloaded or freed");
		printf("stress: %" PRIu64 " of %d loads from the park, %"
		    PRIu64 " twins, %" PRIu64 " reloads, %" PRIu64 " freed\n",
		    s.taken - s0.taken, NTHR * NITER, s.twins - s0.twins,
		    s.refreshed - s0.refreshed, s.freed - s0.freed);
		CHECK(k1.loads - k0.loads == NTHR * NITER &&
		    k1.unloads - k0.unloads == NTHR * NITER, "loads %" PRIu64
		    ", unloads %" PRIu64, k1.loads - k0.loads,
		    k1.unloads - k0.unloads);
	}
	kld_set_park_defer(NULL, NULL);
	kld_set_park(0);
	kld_set_park_fresh(0);
}

int
main(int argc, char **argv)
{
	struct kld_object *o1, *o2, *o3;
	struct kld_park_stats s0, s;
	uint8_t *img, *img2;
	void *buf;
	size_t len;
	uintptr_t b1;
	bool wx, x, any;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: test_kld_park PROGRAM.kx\n");
		return 2;
	}
	if (kld_read_file(argv[1], &buf, &len, NULL) != 0)
		return 1;
	img = buf;
	kld_run_quiet();
	kld_symtab_create(&tab);
	kld_symtab_add(tab, kld_libc_exports, kld_libc_nexports);

	/* Off by default: an unload frees everything. */
	CHECK(kld_load(img, len, "p", tab, 0, NULL, &o1) == 0, "load");
	CHECK(run_main(o1) == 671, "first run");
	kld_unload(o1);
	s = pstats();
	CHECK(s.kept == 0 && s.parked == 0, "parking off: kept %" PRIu64,
	    s.kept);

	kld_set_park(2);
	CHECK(kld_load(img, len, "p", tab, 0, NULL, &o1) == 0, "load");
	b1 = kld_base(o1);
	CHECK(run_main(o1) == 671, "run 1");
	kld_unload(o1);
	s = pstats();
	CHECK(s.kept == 1 && s.parked == 1 && s.taken == 0,
	    "after unload: kept %" PRIu64 " parked %" PRIu64, s.kept, s.parked);
	maps_of(b1, 4096, &wx, &x, &any);
	CHECK(any, "a parked object stays mapped");

	CHECK(kld_load(img, len, "p", tab, 0, NULL, &o2) == 0, "load 2");
	s = pstats();
	CHECK(s.taken == 1 && s.parked == 0, "second load taken from the "
	    "park: taken %" PRIu64, s.taken);
	CHECK(kld_base(o2) == b1, "same base %#lx vs %#lx",
	    (unsigned long)kld_base(o2), (unsigned long)b1);
	rc = run_main(o2);
	CHECK(rc == 671, "run from the park: %d, want 671 (data, bss and "
	    "constructor as new)", rc);
	maps_of(kld_base(o2), kld_span(o2), &wx, &x, &any);
	CHECK(x && !wx, "code executable (%d), never writable+executable "
	    "(%d)", x, wx);

	/* Busy: a second load of the same image gets its own object. */
	CHECK(kld_load(img, len, "p", tab, 0, NULL, &o3) == 0, "load 3");
	CHECK(kld_base(o3) != b1, "a running parked object is not shared");
	CHECK(pstats().taken == 1, "not taken while busy");
	rc = run_main(o2);
	CHECK(run_main(o3) == 671 && rc == 841, "both run (second run of "
	    "the same object: %d, want 841)", rc);
	kld_unload(o3);
	kld_unload(o2);
	s = pstats();
	CHECK(s.parked == 2, "two parked, limit 2: %" PRIu64, s.parked);

	/* The same bytes again, twice: both taken (most recent first). */
	CHECK(kld_load(img, len, "p", tab, 0, NULL, &o1) == 0 &&
	    kld_load(img, len, "p", tab, 0, NULL, &o2) == 0, "loads");
	CHECK(pstats().taken == 3, "both parked copies taken");
	CHECK(run_main(o1) == 671 && run_main(o2) == 671, "runs");
	kld_unload(o1);
	kld_unload(o2);

	/* One byte changed outside the code: not the parked image. */
	img2 = malloc(len);
	memcpy(img2, img, len);
	{
		uint8_t *g = memmem(img2, len, "GCC: (", 6);

		CHECK(g != NULL, "no .comment to change");
		if (g != NULL)
			g[1] = 'c';
	}
	s0 = pstats();
	CHECK(kld_load(img2, len, "p2", tab, 0, NULL, &o1) == 0, "load changed");
	s = pstats();
	CHECK(s.taken == s0.taken, "a changed image is not taken");
	CHECK(run_main(o1) == 671, "changed image runs");
	kld_unload(o1);

	/* A syscall written over main: the verifier refuses it. */
	{
		struct kld_diag d = { 0 };
		long off = -1;

		CHECK(kld_load(img, len, "p", tab, KLD_NO_INIT, NULL, &o1) == 0,
		    "load");
		/* krank-cc links PIEs: the lowest vaddr is 0, at
		 * kld_base. */
		off = main_offset(img, len, (uintptr_t)kld_sym(o1, "main") -
		    kld_base(o1));
		kld_unload(o1);
		CHECK(off > 0, "main's file offset");
		if (off > 0) {
			memcpy(img2, img, len);
			img2[off] = 0x0f;
			img2[off + 1] = 0x05;
			s0 = pstats();
			rc = kld_load(img2, len, "p-syscall", tab, 0, &d, &o1);
			CHECK(rc == EACCES, "syscall in main: %d, want EACCES",
			    rc);
			CHECK(pstats().taken == s0.taken, "not taken");
			if (rc == 0)
				kld_unload(o1);
		}
	}

	/* Another export table (the same one, added to), other flags. */
	s0 = pstats();
	kld_symtab_add(tab, kld_libc_exports, 1);
	CHECK(kld_load(img, len, "p", tab, 0, NULL, &o1) == 0, "load");
	CHECK(pstats().taken == s0.taken, "changed export table not taken");
	kld_unload(o1);
	s0 = pstats();
	CHECK(kld_load(img, len, "p", tab, KLD_NO_INIT, NULL, &o1) == 0,
	    "load without initialisers");
	CHECK(pstats().taken == s0.taken, "other flags not taken");
	kld_unload(o1);

	/* Off: idle parked objects are unmapped. */
	kld_set_park(0);
	s = pstats();
	CHECK(s.parked == 0 && s.freed >= 2, "off: parked %" PRIu64
	    " freed %" PRIu64, s.parked, s.freed);
	maps_of(b1, 4096, &wx, &x, &any);
	CHECK(!any, "the first parked object's mapping is gone");

	/* Pool memory: given back only when the parked object is freed. */
	pool_size = 1u << 20;
	pool_mem = mmap(NULL, pool_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	{
		struct kld_mem pm = { pool_get, pool_put, NULL };

		kld_set_mem(&pm);
	}
	kld_set_park(1);
	CHECK(kld_load(img, len, "p", tab, 0, NULL, &o1) == 0, "pool load");
	CHECK(kld_base(o1) == (uintptr_t)pool_mem, "in the pool");
	kld_unload(o1);
	CHECK(pool_puts == 0, "parked: not given back (%d)", pool_puts);
	s0 = pstats();
	CHECK(kld_load(img, len, "p", tab, 0, NULL, &o1) == 0, "pool load 2");
	CHECK(pstats().taken == s0.taken + 1 && run_main(o1) == 671,
	    "pool: taken and runs as new");
	kld_unload(o1);
	kld_set_park(0);
	CHECK(pool_puts == 1 && pool_out == 0, "freed: given back (%d)",
	    pool_puts);
	kld_set_mem(NULL);

	/* Fresh places (kld_set_park_fresh): the unload loads the image
	 * again elsewhere; a start takes that unused object. */
	kld_set_park(2);
	CHECK(kld_load(img, len, "p", tab, 0, NULL, &o1) == 0, "load");
	kld_unload(o1);
	CHECK(pstats().parked == 1, "parked at its place");
	kld_set_park_fresh(1);
	s = pstats();
	CHECK(s.parked == 0, "fresh on: an object that ran is not kept "
	    "(%" PRIu64 " parked)", s.parked);
	CHECK(kld_load(img, len, "p", tab, 0, NULL, &o1) == 0, "load");
	b1 = kld_base(o1);
	CHECK(run_main(o1) == 671, "fresh: run 1");
	s0 = pstats();
	kld_unload(o1);
	s = pstats();
	CHECK(s.refreshed == s0.refreshed + 1 && s.parked == 1,
	    "unload loaded it again: refreshed %" PRIu64 ", parked %" PRIu64,
	    s.refreshed - s0.refreshed, s.parked);
	maps_of(b1, 4096, &wx, &x, &any);
	CHECK(!any || !random_places, "the run's place is unmapped");
	for (int i = 0; i < 3; i++) {
		s0 = pstats();
		CHECK(kld_load(img, len, "p", tab, 0, NULL, &o2) == 0, "load");
		CHECK(pstats().taken == s0.taken + 1, "fresh: taken");
		CHECK(kld_base(o2) != b1 || !random_places,
		    "a new place each run: %#lx again",
		    (unsigned long)b1);
		b1 = kld_base(o2);
		rc = run_main(o2);
		CHECK(rc == 671, "fresh run %d: %d, want 671", i, rc);
		maps_of(kld_base(o2), kld_span(o2), &wx, &x, &any);
		CHECK(x && !wx, "code executable (%d), never writable+"
		    "executable (%d)", x, wx);
		kld_unload(o2);
	}
	/* A changed byte is not the refreshed image either. */
	memcpy(img2, img, len);
	{
		uint8_t *g = memmem(img2, len, "GCC: (", 6);

		if (g != NULL)
			g[1] = 'c';
	}
	s0 = pstats();
	CHECK(kld_load(img2, len, "p2", tab, 0, NULL, &o1) == 0, "load");
	CHECK(pstats().taken == s0.taken, "changed image not taken (fresh)");
	kld_unload(o1);
	/* Its export table destroyed while it runs: freed, not loaded
	 * again against freed memory. */
	{
		struct kld_symtab *t2;

		kld_symtab_create(&t2);
		kld_symtab_add(t2, kld_libc_exports, kld_libc_nexports);
		CHECK(kld_load(img, len, "p", t2, 0, NULL, &o1) == 0, "load");
		kld_symtab_destroy(t2);
		s0 = pstats();
		kld_unload(o1);
		s = pstats();
		CHECK(s.refreshed == s0.refreshed && s.freed == s0.freed + 1,
		    "export table gone: freed %" PRIu64 ", refreshed %" PRIu64,
		    s.freed - s0.freed, s.refreshed - s0.refreshed);
	}
	kld_set_park(0);
	kld_set_park_fresh(0);
	CHECK(pstats().parked == 0, "off: nothing parked");
	test_deferred(img, len);
	CHECK(pstats().parked == 0, "off: nothing parked");

	free(img2);
	free(img);
	kld_symtab_destroy(tab);
	printf("test_kld_park: %d checks, %d failures\n", checks, failures);
	return failures != 0;
}
