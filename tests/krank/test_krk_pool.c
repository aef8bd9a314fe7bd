/*
 * test_krk_pool - the isolate memory pool (krank/krk_pool.c,
 * memory.isolate_pool): objects placed in it keep W^X (no page writable
 * and executable; code read+execute, data read+write; an isolate writing
 * its own code faults); a run given back is zeroed before the next
 * object gets it (same place, no stale byte); a full pool falls back to
 * fresh pages and counts it; and a spawn of a small isolate from a warm
 * pool takes (almost) no page faults, counted with getrusage; with
 * krank's default parking (KRANK_ISOLATE_PARK unset) spawns take fresh
 * parked objects that run as new: a spawn right after a stop takes the
 * program's second object while the supervisor reloads the first (no
 * full load), also when runs are killed, two run at once, or KRANK
 * shuts down with a reload queued (nothing left parked, queued or in the
 * pool).  Counters are read after kld_park_settle, which waits for the
 * supervisor's queued reloads.  argv[1] is the folder holding
 * poolprobe.kx (tests/krank/iso/poolprobe.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <krank/kld.h>
#include <krank/krs.h>

#include "krk.h"

#define UNIT	(16u << 10)		/* krk_pool.c's allocation unit */

static const char *isodir;
/* Under ASan (test_krk_pool_san) its shadow memory faults in as the
 * process runs: the page-fault bounds hold only without it. */
#ifdef __SANITIZE_ADDRESS__
static const bool faults_counted = false;
#else
static const bool faults_counted = true;
#endif
static int failures;
static struct kld_symtab *tab;
static void *image;
static size_t imagelen;

#define CHECK(cond, ...) do { \
	if (cond) { printf("ok: "); printf(__VA_ARGS__); printf("\n"); } \
	else { printf("FAIL: "); printf(__VA_ARGS__); printf(" (%s:%d)\n", \
	    __FILE__, __LINE__); failures++; } } while (0)

static struct kld_object *
load(void)
{
	struct kld_diag d = { 0 };
	struct kld_object *o = NULL;
	int rv = kld_load(image, imagelen, "poolprobe.kx", tab, KLD_NO_INIT,
	    &d, &o);
	if (rv != 0)
		printf("FAIL: kld_load poolprobe.kx: %s (%s)\n", strerror(rv),
		    d.first);
	return rv == 0 ? o : NULL;
}

/* The protections of [lo, hi) from /proc/self/maps: whether any page is
 * writable and executable, and the permissions of the page holding a. */
static void
maps_of(uintptr_t lo, uintptr_t hi, bool *wx, uintptr_t a, char perm[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	*wx = false;
	strcpy(perm, "????");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		unsigned long s, e;
		char p[5];
		if (sscanf(line, "%lx-%lx %4s", &s, &e, p) != 3 || e <= lo ||
		    s >= hi)
			continue;
		if (p[1] == 'w' && p[2] == 'x')
			*wx = true;
		if (a >= s && a < e)
			memcpy(perm, p, 5);
	}
	if (f != NULL)
		fclose(f);
}

static void
test_wx(void)
{
	struct krk_pool_stats a, b;
	struct kld_park_stats pa, pb;
	kld_park_settle();
	krk_pool_stats(&a);
	kld_park_stats_get(&pa);
	struct kld_object *o = load();
	if (o == NULL)
		return;
	/* With krank's default parking the load queues a twin, which the
	 * supervisor loads into the pool too. */
	kld_park_settle();
	krk_pool_stats(&b);
	kld_park_stats_get(&pb);
	CHECK(b.takes == a.takes + 1 + (pb.twins - pa.twins) &&
	    b.fallbacks == a.fallbacks, "the object was placed in the pool "
	    "(%" PRIu64 " placed, %" PRIu64 " of them twins)",
	    b.takes - a.takes, pb.twins - pa.twins);
	uintptr_t lo = kld_base(o), hi = lo + kld_span(o);
	bool wx;
	char pc[5], pd[5];
	maps_of(lo, hi, &wx, (uintptr_t)kld_entry(o, "main"), pc);
	CHECK(!wx, "no page of a pooled object is writable and executable");
	CHECK(strncmp(pc, "r-x", 3) == 0, "its code is read+execute (%s)", pc);
	maps_of(lo, hi, &wx, (uintptr_t)kld_sym(o, "probe_bss"), pd);
	CHECK(strncmp(pd, "rw-", 3) == 0, "its data is read+write (%s)", pd);
	kld_unload(o);
	kld_park_settle();
	krk_pool_stats(&b);
	/* Parked (krank's default), the object's place goes back too, but
	 * a new run holds it loaded again. */
	CHECK(b.returns == a.returns + 1 && (b.in_use == a.in_use ||
	    getenv("KRANK_ISOLATE_PARK") == NULL),
	    "unload gives the run back (%" PRIu64 " bytes in use)", b.in_use);
}

/* A pool that fits the probe exactly once: every load lands on the same
 * run, so reuse is certain and a second object cannot fit. */
static void
test_reuse_and_exhaustion(size_t span)
{
	size_t fit = ((span + UNIT - 1) / UNIT + 1) * UNIT;
	struct krk_pool_stats a, b;
	int rv = krk_pool_init(fit, false);
	CHECK(rv == 0, "a pool of %zu KiB (the probe's %zu KiB once): %s",
	    fit >> 10, span >> 10, strerror(rv));
	if (rv != 0)
		return;
	struct kld_object *o = load();
	if (o == NULL)
		return;
	uintptr_t base1 = kld_base(o);
	unsigned char *bss = kld_sym(o, "probe_bss");
	unsigned char *data = kld_sym(o, "probe_data");
	memset(bss, 0x5a, 48 << 10);
	memset(data, 0x5a, 64);
	kld_unload(o);
	if ((o = load()) == NULL)
		return;
	CHECK(kld_base(o) == base1, "the next object reuses the same run "
	    "(%#lx)", (unsigned long)kld_base(o));
	bss = kld_sym(o, "probe_bss");
	data = kld_sym(o, "probe_data");
	size_t stale = 0;
	for (size_t i = 0; i < (48 << 10); i++)
		stale += bss[i] != 0;
	for (size_t i = 1; i < 64; i++)
		stale += data[i] != 0;
	CHECK(stale == 0 && data[0] == 1, "its bss and data are as the ELF "
	    "says, none of the last object's bytes (%zu stale)", stale);

	/* Full: the next load gets fresh pages and is counted. */
	krk_pool_stats(&a);
	struct kld_object *o2 = load();
	krk_pool_stats(&b);
	CHECK(o2 != NULL && b.fallbacks == a.fallbacks + 1 &&
	    b.takes == a.takes, "a full pool falls back to fresh pages and "
	    "counts it (%" PRIu64 " fallbacks)", b.fallbacks);
	if (o2 != NULL) {
		uintptr_t p = kld_base(o2);
		CHECK(p + kld_span(o2) <= base1 || p >= base1 + fit,
		    "the fallback object lies outside the pool");
		unsigned char *d2 = kld_sym(o2, "probe_data");
		CHECK(d2 != NULL && d2[0] == 1, "and is loaded like any other");
		kld_unload(o2);
	}
	kld_unload(o);
}

static int
spawn(const char *name, char *arg1)
{
	struct krk_isolate_cfg c;
	char path[512], err[512];
	char *argv[] = { "poolprobe", arg1, NULL };
	int id = -1;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(path, sizeof(path), "%s/poolprobe.kx", isodir);
	c.elf = path;
	c.argv = argv;
	c.argc = arg1 ? 2 : 1;
	c.core = -1;
	c.heap = 1 << 20;
	c.fds = 16;
	if (krk_isolate_spawn(&c, &id, err, sizeof(err)) != 0) {
		printf("FAIL: spawn %s: %s\n", name, err);
		failures++;
		return -1;
	}
	return id;
}

/* Spawn, wait, remove; the page faults of the whole process meanwhile. */
static long
spawn_faults(const char *name, int *status, enum krk_iso_state *state)
{
	struct rusage r0, r1;
	struct krk_isolate_info in;

	getrusage(RUSAGE_SELF, &r0);
	int id = spawn(name, NULL);
	if (id < 0)
		return -1;
	krk_isolate_wait(id, 10000000000ull, &in);
	getrusage(RUSAGE_SELF, &r1);
	*status = in.status;
	*state = in.state;
	krk_isolate_remove(id);
	return (r1.ru_minflt - r0.ru_minflt) + (r1.ru_majflt - r0.ru_majflt);
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

static void
test_spawn_faults(void)
{
	enum { N = 9 };
	long f[N], nopool[3];
	int st, bad = 0;
	enum krk_iso_state s;

	/* Warm-up: heap arena, worker and image cache of this program. */
	if (spawn_faults("warm", &st, &s) < 0)
		return;
	CHECK(s == KRK_ISO_EXITED && st == 0, "poolprobe runs from the pool "
	    "(state %s, status %d)", krk_iso_state_name(s), st);
	for (int i = 0; i < N; i++) {
		char name[16];
		snprintf(name, sizeof(name), "probe%d", i);
		f[i] = spawn_faults(name, &st, &s);
		if (s != KRK_ISO_EXITED || st != 0)
			bad++;
	}
	CHECK(bad == 0, "%d spawns on the same pool run each found their "
	    "data zeroed (status 3 would mean another isolate's bytes)", N);
	krk_pool_use(false);
	for (int i = 0; i < 3; i++)
		nopool[i] = spawn_faults("nopool", &st, &s);
	krk_pool_use(true);
	qsort(f, N, sizeof(f[0]), cmp_long);
	printf("page faults per spawn and run: pool min %ld median %ld max "
	    "%ld; without the pool %ld %ld %ld\n", f[0], f[N / 2], f[N - 1],
	    nopool[0], nopool[1], nopool[2]);
	CHECK((f[N / 2] <= 1 && f[0] == 0) || !faults_counted, "a spawn "
	    "from the warm pool takes no page fault (median %ld, min %ld; "
	    "bound: median <= 1)", f[N / 2], f[0]);
}

/* krank's default parking (KRANK_ISOLATE_PARK unset: 4 objects, fresh
 * places, reloads deferred to the supervisor): every spawn right after
 * its predecessor's stop takes a parked object that was never run and
 * finds its data as the ELF says (poolprobe exits 3 on a stale byte):
 * the program's second object while the supervisor reloads the first. */
static void
test_spawn_park(void)
{
	enum { N = 6 };
	struct kld_park_stats a, b;
	struct kld_stats ka, kb;
	long f[N];
	int st, bad = 0;
	enum krk_iso_state s;

	if (spawn_faults("pwarm", &st, &s) < 0)
		return;
	kld_park_settle();
	kld_park_stats_get(&a);
	kld_stats_get(&ka);
	for (int i = 0; i < N; i++) {
		char name[16];
		snprintf(name, sizeof(name), "park%d", i);
		f[i] = spawn_faults(name, &st, &s);	/* no settle between */
		if (s != KRK_ISO_EXITED || st != 0)
			bad++;
	}
	kld_park_settle();
	kld_park_stats_get(&b);
	kld_stats_get(&kb);
	CHECK(bad == 0, "%d spawns from fresh parked objects run as new", N);
	CHECK(b.taken - a.taken == N && kb.loads - ka.loads == N,
	    "each spawn right after a stop took a parked object (%" PRIu64
	    " of %" PRIu64 " loads)", b.taken - a.taken, kb.loads - ka.loads);
	CHECK(b.refreshed - a.refreshed == N && b.twins == a.twins &&
	    b.pending == 0, "each stop's object loaded again after it "
	    "(%" PRIu64 "), no more twins (%" PRIu64 "), none queued (%"
	    PRIu64 ")", b.refreshed - a.refreshed, b.twins - a.twins,
	    b.pending);
	/* Page faults of the spawns alone: the reload of the stop before
	 * (malloc, the pool) is settled outside the counted window. */
	for (int i = 0; i < N; i++) {
		kld_park_settle();
		f[i] = spawn_faults("pfault", &st, &s);
	}
	qsort(f, N, sizeof(f[0]), cmp_long);
	CHECK(f[N / 2] <= 1 || !faults_counted, "no page fault in a spawn "
	    "and run from the pool (median %ld)", f[N / 2]);
}

/* Races of deferred reloads: runs killed while the object of the run
 * before is being reloaded, and two runs of one program at once (the
 * second load finds nothing idle and gets a twin queued). */
static void
test_park_races(void)
{
	enum { K = 8 };
	struct kld_park_stats a, b;
	struct krk_isolate_info in;
	int killed = 0, st;
	enum krk_iso_state s;

	kld_park_settle();
	kld_park_stats_get(&a);
	for (int i = 0; i < K; i++) {
		char name[16];
		snprintf(name, sizeof(name), "kill%d", i);
		int id = spawn(name, "spin");
		if (id < 0)
			return;
		krk_isolate_kill(id);
		krk_isolate_wait(id, 10000000000ull, &in);
		killed += in.state == KRK_ISO_KILLED;
		krk_isolate_remove(id);
	}
	kld_park_settle();
	kld_park_stats_get(&b);
	CHECK(killed == K, "%d of %d runs killed at once, each right after "
	    "the one before", killed, K);
	CHECK(b.taken - a.taken == K && b.refreshed - a.refreshed == K &&
	    b.pending == 0, "killed runs too: %" PRIu64 " starts from the "
	    "park, %" PRIu64 " reloads, %" PRIu64 " queued", b.taken -
	    a.taken, b.refreshed - a.refreshed, b.pending);

	/* Two at once, killed together, and a third started at once. */
	int x = spawn("twoA", "spin"), y = spawn("twoB", "spin");
	if (x < 0 || y < 0)
		return;
	krk_isolate_kill(x);
	krk_isolate_kill(y);
	krk_isolate_wait(x, 10000000000ull, NULL);
	krk_isolate_wait(y, 10000000000ull, NULL);
	spawn_faults("third", &st, &s);
	krk_isolate_remove(x);
	krk_isolate_remove(y);
	CHECK(s == KRK_ISO_EXITED && st == 0, "a start while two reloads "
	    "are queued runs as new (state %s, status %d)",
	    krk_iso_state_name(s), st);
	kld_park_settle();
	kld_park_stats_get(&b);
	CHECK(b.pending == 0 && b.parked <= 4, "settled: %" PRIu64 " queued, "
	    "%" PRIu64 " parked (limit 4)", b.pending, b.parked);
}

static void
test_writecode(void)
{
	struct krk_isolate_info in;
	int id = spawn("writecode", "writecode");
	if (id < 0)
		return;
	krk_isolate_wait(id, 10000000000ull, &in);
	CHECK(in.state == KRK_ISO_FAULTED && in.signo == SIGSEGV,
	    "an isolate from the pool writing its own code faults (state %s, "
	    "%s)", krk_iso_state_name(in.state), in.fault_what);
	krk_isolate_remove(id);
}

int
main(int argc, char **argv)
{
	char err[256], path[512];
	struct kld_diag d = { 0 };

	if (argc != 2) {
		fprintf(stderr, "usage: test_krk_pool ISOLATE_DIR\n");
		return 2;
	}
	isodir = argv[1];
	snprintf(path, sizeof(path), "%s/poolprobe.kx", isodir);
	if (kld_read_file(path, &image, &imagelen, &d) != 0) {
		printf("FAIL: %s\n", d.first);
		return 1;
	}
	krk_log_init(1 << 20, 0);
	if (krs_boot("vfs,tmpfs", err, sizeof(err)) != 0 ||
	    krs_mount("tmpfs", "/", "tmpfs", 0, NULL, 0) != 0 ||
	    krk_isolates_init() != 0) {
		printf("FAIL: boot: %s\n", err);
		return 1;
	}
	if (kld_symtab_create(&tab) != 0 ||
	    kld_symtab_add(tab, kld_libc_exports, kld_libc_nexports) != 0 ||
	    krk_sys_exports(tab) != 0) {
		printf("FAIL: export table\n");
		return 1;
	}
	CHECK(krk_pool_init(32 << 10, false) == EINVAL,
	    "a pool below 64 KiB is refused (EINVAL)");
	int rv = krk_pool_init(16 << 20, true);
	CHECK(rv == 0, "a 16 MiB pool is set up: %s", krk_pool_note());
	if (rv != 0)
		return 1;
	CHECK(krk_pool_init(16 << 20, true) == EBUSY, "a second one is "
	    "refused (EBUSY)");
	/* The first 512 KiB at once, the rest by the filler thread: poll
	 * for it with a deadline. */
	struct krk_pool_stats ps;
	krk_pool_stats(&ps);
	CHECK(ps.ready >= (512u << 10), "512 KiB are faulted in by init "
	    "(%" PRIu64 " KiB)", ps.ready >> 10);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		krk_pool_stats(&ps);
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while (ps.ready < ps.size && t1.tv_sec - t0.tv_sec < 30);
	CHECK(ps.ready == ps.size, "the filler faults in the rest (%" PRIu64
	    " of %" PRIu64 " KiB)", ps.ready >> 10, ps.size >> 10);
	test_wx();
	test_writecode();
	if (getenv("KRANK_ISOLATE_PARK") == NULL) {
		/* krank's default: fresh parking (krk_isolate.c). */
		test_spawn_park();
		test_park_races();
		/* Shut down with the last stop's reload queued or running:
		 * nothing stays parked or queued, every run is back. */
		int st;
		enum krk_iso_state s;
		spawn_faults("last", &st, &s);
		kld_symtab_destroy(tab);
		tab = NULL;
		krk_isolates_fini();
		struct kld_park_stats pk;
		kld_park_stats_get(&pk);
		krk_pool_stats(&ps);
		CHECK(pk.parked == 0 && pk.pending == 0 && ps.in_use == 0,
		    "shutdown with a reload queued: %" PRIu64 " parked, %"
		    PRIu64 " queued, %" PRIu64 " bytes of the pool in use",
		    pk.parked, pk.pending, ps.in_use);
		krk_pool_fini();
		goto out;
	}
	struct kld_object *o = load();
	size_t span = o ? kld_span(o) : 0;
	kld_unload(o);
	krk_pool_fini();
	if (span != 0) {
		test_reuse_and_exhaustion(span);
		/* The spawns on the exact-fit pool: every one reuses the
		 * run the one before wrote. */
		test_spawn_faults();
		krk_pool_fini();
	}
out:
	kld_symtab_destroy(tab);
	krk_isolates_fini();
	krs_shutdown();
	free(image);
	printf("%s: %d failures\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
