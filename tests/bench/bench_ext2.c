/*
 * bench_ext2.c - KRANK's ext2 (krs_* function calls in this process on an
 * mke2fs image) against Linux's own ext2 (an image made by the same mke2fs
 * command, loop-mounted by this program) and Linux's tmpfs (/dev/shm),
 * the same calls from one thread, one after the other, in one run:
 *   warm  - 64 B and 4 KiB read/write/pread/pwrite on a 1 MiB file that
 *           every side holds in its cache;
 *   cold  - 4 KiB sequential reads and random preads of files no cache
 *           holds: Linux after sync and drop_caches, KRANK after a fresh
 *           mount (its buffer cache empty) and also after drop_caches;
 *   fsync - pwrite + fsync and append + fsync, every operation.
 * Both images are read and written with O_DIRECT under the file system
 * when the host allows it (KRANK's "direct" mount option, the loop
 * device's direct I/O), so the host's page cache holds neither image.
 * Linux's ext2 needs root and a loop device; without them its column is
 * skipped with the reason.  Not part of make check.
 *
 * Usage: bench_ext2 [calls [fsyncs]]   (defaults 200000, calls / 1000)
 * Warm figures are medians of 7 runs of CALLS calls, fsync figures of 5
 * runs of FSYNCS operations, cold figures of 3 runs; ns per operation.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>

#include "bench_point.h"

#define FILESZ		(1 << 20)	/* warm and fsync files */
#define COLDSZ		(8 << 20)	/* each cold file */
#define NRAND		256		/* random cold preads per run */
#define RUNS		7
#define FRUNS		5
#define CRUNS		3
#define KMNT		"/mnt"

/* One file system under test: KRANK's ext2, Linux's ext2 or tmpfs. */
struct side {
	const char *name;
	const char *dir;	/* where its files are */
	int (*open)(const char *, int);	/* O_ flags, as Linux's */
	int (*close)(int);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*pread)(int, void *, size_t, int64_t);
	ssize_t (*pwrite)(int, const void *, size_t, int64_t);
	int64_t (*lseek)(int, int64_t, int);
	int (*fsync)(int);
	int fd;			/* the warm file */
};

static int k_open(const char *p, int fl)
{
	int kf = (fl & O_ACCMODE) == O_RDWR ? KRS_O_RDWR : KRS_O_RDONLY;
	kf |= fl & O_CREAT ? KRS_O_CREAT : 0;
	kf |= fl & O_TRUNC ? KRS_O_TRUNC : 0;
	kf |= fl & O_APPEND ? KRS_O_APPEND : 0;
	return krs_open(p, kf, 0644);
}
static int lx_open(const char *p, int fl) { return open(p, fl, 0644); }
static ssize_t lx_pread(int fd, void *b, size_t n, int64_t o) { return pread(fd, b, n, o); }
static ssize_t lx_pwrite(int fd, const void *b, size_t n, int64_t o) { return pwrite(fd, b, n, o); }
static int64_t lx_lseek(int fd, int64_t o, int w) { return lseek(fd, o, w); }

static struct side kside = { "KRANK ext2", KMNT, k_open, krs_close, krs_read,
    krs_write, krs_pread, krs_pwrite, krs_lseek, krs_fsync, -1 };
static struct side eside = { "Linux ext2", NULL, lx_open, close, read, write,
    lx_pread, lx_pwrite, lx_lseek, fsync, -1 };
static struct side tside = { "Linux tmpfs", "/dev/shm", lx_open, close, read,
    write, lx_pread, lx_pwrite, lx_lseek, fsync, -1 };

static long iters = 200000;	/* warm calls per run */
static long nfsync;		/* fsync operations per run */
static char work[64];		/* scratch directory on a real disk */
static char kimg[96], limg[96], lmnt[96], tprefix[64];
static char lx_why[160];	/* why Linux's ext2 is not measured, or "" */
static int lx_mounted, lx_dio, k_dio, can_drop, k_booted;
static int lx_loop = -1;	/* N of /dev/loopN */
static char kmntopts[32];
static char buf[4096] __attribute__((aligned(4096)));

static double
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmpd);
	return v[n / 2];
}

static void
die(const struct side *s, const char *what)
{
	fprintf(stderr, "bench_ext2: %s: %s: %s\n", s->name, what,
	    strerror(errno));
	exit(1);
}

static void
path(char *out, size_t len, const struct side *s, const char *name)
{
	if (s == &tside)
		snprintf(out, len, "%s.%s", tprefix, name);
	else
		snprintf(out, len, "%s/%s", s->dir, name);
}

/* Create name on s with len bytes of data, made durable. */
static void
fill(const struct side *s, const char *name, size_t len)
{
	char p[160];
	path(p, sizeof(p), s, name);
	int fd = s->open(p, O_RDWR | O_CREAT | O_TRUNC);
	if (fd < 0)
		die(s, p);
	for (size_t off = 0; off < len; off += sizeof(buf)) {
		memset(buf, 'a' + (int)(off >> 12) % 26, sizeof(buf));
		if (s->write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			die(s, "fill");
	}
	if (s->fsync(fd) != 0)
		die(s, "fsync after fill");
	s->close(fd);
}

/* Sequential read()/write() through the warm file, rewinding at its end. */
static double
warm_seq(const struct side *s, size_t sz, int wr)
{
	double v[RUNS];
	long per_file = FILESZ / (long)sz;
	for (int r = 0; r < RUNS; r++) {
		s->lseek(s->fd, 0, SEEK_SET);
		double t0 = now_ns();
		for (long i = 0, k = 0; i < iters; i++) {
			ssize_t n = wr ? s->write(s->fd, buf, sz) :
			    s->read(s->fd, buf, sz);
			if (n != (ssize_t)sz)
				die(s, "short transfer");
			if (++k == per_file) {
				k = 0;
				s->lseek(s->fd, 0, SEEK_SET);
			}
		}
		v[r] = (now_ns() - t0) / (double)iters;
	}
	return median(v, RUNS);
}

static double
warm_pos(const struct side *s, size_t sz, int wr)
{
	double v[RUNS];
	long per_file = FILESZ / (long)sz;
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ns();
		for (long i = 0; i < iters; i++) {
			int64_t off = (int64_t)((i % per_file) * (long)sz);
			ssize_t n = wr ? s->pwrite(s->fd, buf, sz, off) :
			    s->pread(s->fd, buf, sz, off);
			if (n != (ssize_t)sz)
				die(s, "short transfer");
		}
		v[r] = (now_ns() - t0) / (double)iters;
	}
	return median(v, RUNS);
}

/* pwrite (cycling through a 1 MiB file) or append, each with fsync. */
static double
fsync_ops(const struct side *s, size_t sz, int append)
{
	double v[FRUNS];
	char p[160];
	path(p, sizeof(p), s, append ? "append" : "sync");
	long per_file = FILESZ / (long)sz;
	for (int r = 0; r < FRUNS; r++) {
		int fd = s->open(p, append ? O_RDWR | O_CREAT | O_TRUNC |
		    O_APPEND : O_RDWR);
		if (fd < 0 || s->fsync(fd) != 0)
			die(s, p);
		double t0 = now_ns();
		for (long i = 0; i < nfsync; i++) {
			ssize_t n = append ? s->write(fd, buf, sz) : s->pwrite(fd,
			    buf, sz, (int64_t)((i % per_file) * (long)sz));
			if (n != (ssize_t)sz)
				die(s, "short transfer");
			if (s->fsync(fd) != 0)
				die(s, "fsync");
		}
		v[r] = (now_ns() - t0) / (double)nfsync;
		s->close(fd);
	}
	return median(v, FRUNS);
}

/* One cold pass: sequential 4 KiB reads of all of "cold.seq", or NRAND
 * 4 KiB preads of "cold.rand" in a fixed random order (no block twice). */
static double
cold_pass(const struct side *s, int random, const uint32_t *order)
{
	char p[160];
	path(p, sizeof(p), s, random ? "cold.rand" : "cold.seq");
	int fd = s->open(p, O_RDONLY);
	if (fd < 0)
		die(s, p);
	long n = random ? NRAND : COLDSZ / 4096;
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		ssize_t got = random ? s->pread(fd, buf, 4096,
		    (int64_t)order[i] * 4096) : s->read(fd, buf, 4096);
		if (got != 4096)
			die(s, "short cold read");
	}
	double t = (now_ns() - t0) / (double)n;
	s->close(fd);
	return t;
}

/* Reads Linux has sent to its loop device so far, and their sectors. */
static void
lx_reads(unsigned long long *ios, unsigned long long *sectors)
{
	char sys[64];
	unsigned long long merges;
	snprintf(sys, sizeof(sys), "/sys/block/loop%d/stat", lx_loop);
	*ios = *sectors = 0;
	FILE *f = fopen(sys, "r");
	if (f == NULL)
		return;
	if (fscanf(f, "%llu %llu %llu", ios, &merges, sectors) != 3)
		*ios = *sectors = 0;
	fclose(f);
}

/* Empty every cache that could hold the cold files: the host's page,
 * dentry and inode caches (root only) and KRANK's buffer cache (a fresh
 * mount of its image). */
static void
make_cold(void)
{
	sync();
	if (can_drop) {
		int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
		if (fd < 0 || write(fd, "3\n", 2) != 2) {
			fprintf(stderr, "bench_ext2: drop_caches: %s\n",
			    strerror(errno));
			exit(1);
		}
		close(fd);
	}
	if (krs_unmount(KMNT, 0) != 0 ||
	    krs_mount(kimg, KMNT, "ext2", 0, kmntopts, strlen(kmntopts) + 1) != 0)
		die(&kside, "fresh mount");
}

/*
 * Loop-mount limg on lmnt as Linux's ext2, in a mount namespace of this
 * process's own: when the process ends, however it ends, the mount goes
 * with the namespace and the loop device (autoclear) with the mount.
 * Leaves the reason in lx_why when Linux's ext2 cannot be measured.
 */
static void
lx_setup(void)
{
	struct loop_config lc;
	char dev[32], sys[64];
	int ctl, lfd = -1, bfd, n = -1, tries;

	if (geteuid() != 0) {
		snprintf(lx_why, sizeof(lx_why), "not root: loop-mounting "
		    "needs it");
		return;
	}
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		snprintf(lx_why, sizeof(lx_why), "no private mount namespace: "
		    "%s", strerror(errno));
		return;
	}
	if ((ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC)) < 0) {
		snprintf(lx_why, sizeof(lx_why), "no loop devices: "
		    "/dev/loop-control: %s", strerror(errno));
		return;
	}
	if ((bfd = open(limg, O_RDWR | O_CLOEXEC)) < 0) {
		snprintf(lx_why, sizeof(lx_why), "%s: %s", limg, strerror(errno));
		close(ctl);
		return;
	}
	/* Another process may take the free device first: try again. */
	for (tries = 0; tries < 8; tries++) {
		if ((n = ioctl(ctl, LOOP_CTL_GET_FREE)) < 0)
			break;
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		if ((lfd = open(dev, O_RDWR | O_CLOEXEC)) < 0)
			continue;
		memset(&lc, 0, sizeof(lc));
		lc.fd = (uint32_t)bfd;
		lc.info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
		if (ioctl(lfd, LOOP_CONFIGURE, &lc) == 0)
			break;
		if (errno == EINVAL) {	/* no direct I/O here: cached */
			lc.info.lo_flags = LO_FLAGS_AUTOCLEAR;
			if (ioctl(lfd, LOOP_CONFIGURE, &lc) == 0)
				break;
		}
		close(lfd);
		lfd = -1;
	}
	close(ctl);
	close(bfd);
	if (lfd < 0) {
		snprintf(lx_why, sizeof(lx_why), "no loop device configured: %s",
		    strerror(errno));
		return;
	}
	lx_loop = n;
	/* Whether the device really goes direct (the kernel may decline). */
	snprintf(sys, sizeof(sys), "/sys/block/loop%d/loop/dio", n);
	FILE *f = fopen(sys, "r");
	if (f != NULL) {
		lx_dio = fgetc(f) == '1';
		fclose(f);
	}
	if (mkdir(lmnt, 0755) != 0 ||
	    mount(dev, lmnt, "ext2", MS_NOATIME, NULL) != 0) {
		snprintf(lx_why, sizeof(lx_why), "mount -t ext2 %s: %s", dev,
		    strerror(errno));
		close(lfd);
		return;
	}
	close(lfd);	/* the mount holds the device now */
	lx_mounted = 1;
	eside.dir = lmnt;
}

static void
cleanup(void)
{
	if (kside.fd >= 0)
		krs_close(kside.fd);
	if (k_booted) {
		krs_unmount(KMNT, 0);
		krs_shutdown();
	}
	if (lx_mounted && umount2(lmnt, 0) != 0)
		umount2(lmnt, MNT_DETACH);
	rmdir(lmnt);
	unlink(kimg);
	unlink(limg);
	char p[160];
	static const char *const names[] = { "bench", "sync", "append" };
	for (unsigned i = 0; i < 3; i++) {
		path(p, sizeof(p), &tside, names[i]);
		unlink(p);
	}
	rmdir(work);
}

/* Interrupted: remove what a later run would trip over, with
 * async-signal-safe calls only (the mount and the loop device go with
 * the process's mount namespace). */
static void
on_signal(int sig)
{
	char p[160];
	unlink(kimg);
	unlink(limg);
	if (lx_mounted)
		umount2(lmnt, MNT_DETACH);
	rmdir(lmnt);
	rmdir(work);
	static const char *const names[] = { "bench", "sync", "append" };
	for (unsigned i = 0; i < 3; i++) {
		/* By hand: snprintf is not async-signal-safe. */
		size_t n = strlen(tprefix), m = strlen(names[i]);
		if (n + m + 2 > sizeof(p))
			continue;
		memcpy(p, tprefix, n);
		p[n] = '.';
		memcpy(p + n + 1, names[i], m + 1);
		unlink(p);
	}
	_exit(128 + sig);
}

/* Whether the host takes O_DIRECT reads of the image. */
static int
direct_ok(const char *img)
{
	int fd = open(img, O_RDONLY | O_DIRECT);
	if (fd < 0)
		return 0;
	int ok = pread(fd, buf, 4096, 0) == 4096;
	close(fd);
	return ok;
}

/* One table row and its @point lines: KRANK against Linux's ext2 (id
 * VARIANT.CALLSIZE, when measured) and against tmpfs (tid, when given). */
static void
row(const char *variant, const char *label, const char *id, const char *tid,
    double goal, double k, double e, double t)
{
	char ids[64], what[160], es[16] = "-", ts[16] = "-", er[16] = "-",
	    tr[16] = "-";
	if (e > 0) {
		snprintf(es, sizeof(es), "%.1f", e);
		snprintf(er, sizeof(er), "%.2fx", e / k);
	}
	if (t > 0)
		snprintf(ts, sizeof(ts), "%.1f", t);
	if (t > 0 && tid != NULL)	/* tmpfs's fsync writes nothing */
		snprintf(tr, sizeof(tr), "%.2fx", t / k);
	printf("%-6s %-24s %10.1f %10s %10s %8s %8s\n", variant, label, k, es,
	    ts, er, tr);
	fflush(stdout);
	if (e > 0) {
		snprintf(ids, sizeof(ids), "ext2.%s.%s", variant, id);
		snprintf(what, sizeof(what), "ext2 vs Linux ext2 (loop, %s), %s, "
		    "ns per op", variant, label);
		bench_point(ids, k, e, "ns", 1, goal, what);
	}
	if (tid != NULL && t > 0) {
		snprintf(what, sizeof(what), "ext2, %s, ns per call", label);
		bench_point(tid, k, t, "ns", 1, goal, what);
	}
}

static void
warm_rows(void)
{
	static const size_t sizes[2] = { 64, 4096 };
	static const char *const calls[4] = { "read", "write", "pread", "pwrite" };
	struct side *sides[3] = { &kside, lx_mounted ? &eside : NULL, &tside };

	for (int z = 0; z < 2; z++)
		for (int c = 0; c < 4; c++) {
			double v[3] = { 0, 0, 0 };
			for (int i = 0; i < 3; i++)
				if (sides[i] != NULL)
					v[i] = c < 2 ? warm_seq(sides[i], sizes[z],
					    c == 1) : warm_pos(sides[i], sizes[z],
					    c == 3);
			char label[32], id[32], tid[40];
			snprintf(label, sizeof(label), "%zu B %s", sizes[z],
			    calls[c]);
			snprintf(id, sizeof(id), "%s%zu", calls[c], sizes[z]);
			/* The ids of the tmpfs comparison predate the others. */
			snprintf(tid, sizeof(tid), "ext2.%s", id);
			row("warm", label, id, tid, c % 2 ? 2 : 3, v[0], v[1], v[2]);
		}
}

static void
fsync_rows(void)
{
	static const struct { size_t sz; int append; const char *label, *id; }
	    ops[3] = {
		{ 64, 0, "64 B pwrite + fsync", "pwrite64" },
		{ 4096, 0, "4096 B pwrite + fsync", "pwrite4096" },
		{ 4096, 1, "4096 B append + fsync", "append4096" },
	};
	struct side *sides[3] = { &kside, lx_mounted ? &eside : NULL, &tside };

	for (int i = 0; i < 3; i++)
		if (sides[i] != NULL)
			fill(sides[i], "sync", FILESZ);
	for (int o = 0; o < 3; o++) {
		double v[3] = { 0, 0, 0 };
		for (int i = 0; i < 3; i++)
			if (sides[i] != NULL)
				v[i] = fsync_ops(sides[i], ops[o].sz,
				    ops[o].append);
		row("fsync", ops[o].label, ops[o].id, NULL, 0, v[0], v[1], v[2]);
	}
}

static void
cold_rows(void)
{
	static uint32_t order[COLDSZ / 4096];
	double v[2][2][CRUNS];	/* [seq, random][KRANK, Linux] */
	unsigned long long nio[2] = { 0, 0 }, sect[2] = { 0, 0 };
	int nsides = lx_mounted ? 2 : 1;
	struct side *sides[2] = { &kside, &eside };
	uint32_t x = 2463534242u;

	/* A fixed permutation of the blocks (Fisher-Yates, xorshift). */
	for (uint32_t i = 0; i < COLDSZ / 4096; i++)
		order[i] = i;
	for (uint32_t i = COLDSZ / 4096 - 1; i > 0; i--) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		uint32_t j = x % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (int i = 0; i < nsides; i++) {
		fill(sides[i], "cold.seq", COLDSZ);
		fill(sides[i], "cold.rand", COLDSZ);
	}
	for (int r = 0; r < CRUNS; r++) {
		make_cold();
		/* Who goes first alternates, in case the disk favours it. */
		for (int m = 0; m < 2; m++)
			for (int j = 0; j < nsides; j++) {
				int i = (j + r) % nsides;
				unsigned long long io0, s0, io1, s1;
				lx_reads(&io0, &s0);
				v[m][i][r] = cold_pass(sides[i], m, order);
				lx_reads(&io1, &s1);
				if (i) {
					nio[m] += io1 - io0;
					sect[m] += s1 - s0;
				}
			}
	}
	for (int m = 0; m < 2; m++)
		row("cold", m ? "4096 B pread, random" : "4096 B read, sequential",
		    m ? "pread4096" : "read4096", NULL, 0, median(v[m][0], CRUNS),
		    lx_mounted ? median(v[m][1], CRUNS) : 0, 0);
	/* How Linux's read-ahead batched the device reads (KRANK's ext2
	 * starts 16 blocks of read-ahead on a sequential read, each block
	 * its own host I/O; none on random reads). */
	if (lx_mounted && nio[0] != 0 && nio[1] != 0)
		printf("cold: Linux's loop device got %.1f reads of %.1f KiB on "
		    "average per sequential pass, %.1f of %.1f KiB per random "
		    "one\n", (double)nio[0] / CRUNS, sect[0] / 2.0 / nio[0],
		    (double)nio[1] / CRUNS, sect[1] / 2.0 / nio[1]);
}

int
main(int argc, char **argv)
{
	char err[256] = "", cmd[400];

	bench_machine_costs();
	if (argc > 1)
		iters = atol(argv[1]);
	if (iters <= 0)
		iters = 200000;
	nfsync = argc > 2 ? atol(argv[2]) : iters / 1000;
	if (nfsync < 20)
		nfsync = 20;

	/* Images on a disk (not /tmp, which may be a tmpfs): a cold read
	 * must reach a device. */
	snprintf(work, sizeof(work), "/var/tmp/krank-bench-ext2.XXXXXX");
	if (mkdtemp(work) == NULL) {
		fprintf(stderr, "bench_ext2: mkdtemp %s: %s\n", work,
		    strerror(errno));
		return 1;
	}
	snprintf(kimg, sizeof(kimg), "%s/krank.img", work);
	snprintf(limg, sizeof(limg), "%s/linux.img", work);
	snprintf(lmnt, sizeof(lmnt), "%s/mnt", work);
	snprintf(tprefix, sizeof(tprefix), "/dev/shm/krank-bench-ext2.%d",
	    (int)getpid());
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	snprintf(cmd, sizeof(cmd), "PATH=$PATH:/sbin:/usr/sbin; for i in %s "
	    "%s; do mke2fs -q -F -t ext2 -b 4096 $i 64M >/dev/null 2>&1 || "
	    "exit 1; done", kimg, limg);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_ext2: mke2fs failed (install e2fsprogs)\n");
		return 1;
	}
	lx_setup();
	can_drop = geteuid() == 0;
	k_dio = direct_ok(kimg);
	snprintf(kmntopts, sizeof(kmntopts), "cache=16%s", k_dio ? ",direct" : "");
	if (krs_boot("vfs,tmpfs,ext2", err, sizeof(err)) != 0 ||
	    krs_mount("tmpfs", "/", "tmpfs", 0, NULL, 0) != 0 ||
	    krs_mkdir(KMNT, 0755) != 0 ||
	    krs_mount(kimg, KMNT, "ext2", 0, kmntopts, strlen(kmntopts) + 1) != 0) {
		fprintf(stderr, "bench_ext2: KRANK boot or mount of %s: %s %s\n",
		    kimg, strerror(errno), err);
		return 1;
	}
	k_booted = 1;

	printf("KRANK's ext2 (krs_* calls in this process, image %s mounted "
	    "\"%s\") vs Linux's ext2 (the same mke2fs, loop-mounted) and "
	    "Linux's tmpfs (/dev/shm), one thread, same run\n", kimg, kmntopts);
	printf("O_DIRECT under the file system: KRANK %s, Linux loop device %s\n",
	    k_dio ? "yes" : "no (refused by the host)", lx_mounted ?
	    (lx_dio ? "yes" : "no (declined by the kernel)") : "-");
	if (!lx_mounted)
		printf("Linux ext2: skipped (%s)\n", lx_why);
	printf("warm: %ld calls per run, median of %d runs, 1 MiB file in "
	    "every cache; fsync: %ld ops per run, median of %d; cold: median "
	    "of %d runs, %d MiB read sequentially and %d random 4 KiB blocks "
	    "of another %d MiB file\n", iters, RUNS, nfsync, FRUNS, CRUNS,
	    COLDSZ >> 20, NRAND, COLDSZ >> 20);
	if (can_drop)
		printf("cold: Linux after sync + drop_caches; KRANK after a "
		    "fresh mount (empty buffer cache) and the same drop_caches\n");
	printf("\n");

	char kp[160], tp[160];
	path(kp, sizeof(kp), &kside, "bench");
	path(tp, sizeof(tp), &tside, "bench");
	fill(&kside, "bench", FILESZ);
	fill(&tside, "bench", FILESZ);
	if ((kside.fd = k_open(kp, O_RDWR)) < 0 ||
	    (tside.fd = open(tp, O_RDWR)) < 0) {
		fprintf(stderr, "bench_ext2: opening the warm files: %s\n",
		    strerror(errno));
		return 1;
	}
	if (lx_mounted) {
		char ep[160];
		path(ep, sizeof(ep), &eside, "bench");
		fill(&eside, "bench", FILESZ);
		if ((eside.fd = open(ep, O_RDWR)) < 0)
			die(&eside, ep);
	}

	printf("%-6s %-24s %10s %10s %10s %8s %8s\n", "variant", "operation",
	    "krank_ns", "ext2_ns", "tmpfs_ns", "vs ext2", "vs tmpfs");
	warm_rows();
	fsync_rows();
	krs_close(kside.fd);
	kside.fd = -1;
	close(tside.fd);
	if (eside.fd >= 0)
		close(eside.fd);
	if (can_drop)
		cold_rows();
	else
		printf("cold   skipped: dropping Linux's caches needs root\n");
	printf("\nratio = Linux's ns / KRANK's ns (how many times faster KRANK "
	    "is; goal against Linux: read >= 3x, write >= 2x warm).\n"
	    "tmpfs's fsync has nothing to write: shown for the cost of the "
	    "call only.\n");
	return 0;
}
