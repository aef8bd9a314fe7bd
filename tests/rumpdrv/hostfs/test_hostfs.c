/*
 * test_hostfs.c - rump-style test of hostfs: links kern, vfs, tmpfs and
 * hostfs, serves a temporary host directory at /host (read-write), /ro
 * (read-only) and /hostx (crossing mounts), and drives krs_* as an isolate
 * would.  Normal use is checked against what Linux sees; then every kind of
 * escape: absolute and relative symbolic links, "..", many "..", a
 * directory swapped with a symbolic link while lookups run, a directory
 * moved out of the tree, hard links, device nodes, /proc magic links.  A
 * secret file beside the served directory must never be read.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <krank/krs.h>
#include "rdtest.h"

#define SECRET "TOPSECRET-outside-the-served-directory"

/* Sanitizer builds run the loops shorter. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define RACE_OPENS 4000
#define NROUNDS 300
#else
#define RACE_OPENS 20000
#define NROUNDS 1500
#endif

static char base[256], shared[300], outside[300];
static int private_ns;		/* mounts made here stay in this test */

static void
hpath(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/%s", shared, rel);
}

static void
host_write(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0, "host create %s", path);
	CHECK(write(fd, data, strlen(data)) == (ssize_t)strlen(data), "host write");
	close(fd);
}

static int
host_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return (int)n;
}

/* Read path through KRANK: the bytes, or -1 with errno. */
static int
krs_slurp(const char *path, char *buf, size_t len)
{
	int fd = krs_open(path, KRS_O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = krs_read(fd, buf, len - 1);
	int e = errno;
	krs_close(fd);
	errno = e;
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

static int secret_seen;

/* An escape attempt: opening path through KRANK must fail with want
 * (0: may succeed) and never yield the secret. */
static void
attempt(const char *what, const char *path, int want)
{
	char buf[512] = "";
	errno = 0;
	int n = krs_slurp(path, buf, sizeof(buf));
	if (strstr(buf, SECRET) != NULL)
		secret_seen++;
	CHECK(strstr(buf, SECRET) == NULL, "%s: %s read the secret", what, path);
	if (want != 0)
		CHECK(n == -1 && errno == want, "%s: %s: want %s, got %d/%s",
		    what, path, strerror(want), n, strerror(errno));
	printf("ok: escape %-34s %-48s -> %s\n", what, path,
	    n == -1 ? strerror(errno) : "read (not the secret)");
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
list_dir(const char *path, char *out, size_t outlen)
{
	char buf[128], *names[64], store[4096];
	int n = 0, fd = krs_open(path, KRS_O_RDONLY | KRS_O_DIRECTORY);
	size_t sp = 0;
	ssize_t got;
	CHECK(fd >= 0, "opendir %s", path);
	while ((got = krs_getdents(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < got;) {
			struct krs_dirent *d = (struct krs_dirent *)(buf + off);
			size_t l = strlen(d->d_name);
			off += d->d_reclen;
			if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
				continue;
			CHECK(sp + l + 1 < sizeof(store) && n < 64, "too many");
			memcpy(store + sp, d->d_name, l + 1);
			names[n++] = store + sp;
			sp += l + 1;
		}
	}
	CHECK(got == 0, "getdents end");
	krs_close(fd);
	qsort(names, (size_t)n, sizeof(names[0]), cmpstr);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		strncat(out, names[i], outlen - strlen(out) - 1);
		if (i + 1 < n)
			strncat(out, " ", outlen - strlen(out) - 1);
	}
}

static void
normal_use(void)
{
	char buf[8192], p[512], q[512], list[1024];
	struct krs_stat st;
	struct stat hst;
	int fd;

	/* Create and write through KRANK; Linux sees the same bytes. */
	fd = krs_open("/host/new.txt", KRS_O_WRONLY | KRS_O_CREAT | KRS_O_EXCL, 0640);
	CHECK(fd >= 0, "create /host/new.txt");
	CHECK(krs_write(fd, "hello hostfs\n", 13) == 13, "write");
	CHECK(krs_close(fd) == 0, "close");
	hpath(p, sizeof(p), "new.txt");
	CHECK(host_read(p, buf, sizeof(buf)) == 13 && strcmp(buf, "hello hostfs\n") == 0,
	    "host reads '%s'", buf);
	CHECK(stat(p, &hst) == 0 && (hst.st_mode & 07777) == 0640, "host mode %o",
	    hst.st_mode & 07777);
	CHECK_ERR(krs_open("/host/new.txt", KRS_O_WRONLY | KRS_O_CREAT | KRS_O_EXCL, 0640), EEXIST);
	PASS("create + write through hostfs; Linux reads the same 13 bytes, mode 0640; O_EXCL EEXIST");

	/* Written by Linux, read through KRANK; stat agrees. */
	hpath(p, sizeof(p), "fromhost.txt");
	host_write(p, "written by linux");
	CHECK(krs_slurp("/host/fromhost.txt", buf, sizeof(buf)) == 16 &&
	    strcmp(buf, "written by linux") == 0, "read '%s'", buf);
	CHECK(krs_stat("/host/fromhost.txt", &st) == 0 && stat(p, &hst) == 0 &&
	    st.st_size == 16 && st.st_ino == hst.st_ino, "stat size/ino");
	PASS("Linux writes, hostfs reads the bytes; size and inode match Linux's");

	/* Offsets, pread/pwrite, append, truncate, a big transfer. */
	fd = krs_open("/host/new.txt", KRS_O_RDWR | KRS_O_APPEND);
	CHECK(fd >= 0, "open append");
	CHECK(krs_write(fd, "more", 4) == 4, "append");
	CHECK(krs_pread(fd, buf, 4, 13) == 4 && memcmp(buf, "more", 4) == 0, "pread");
	CHECK(krs_ftruncate(fd, 5) == 0 && krs_fstat(fd, &st) == 0 && st.st_size == 5, "truncate");
	krs_close(fd);
	hpath(p, sizeof(p), "new.txt");
	CHECK(stat(p, &hst) == 0 && hst.st_size == 5, "host size 5");
	fd = krs_open("/host/big", KRS_O_RDWR | KRS_O_CREAT, 0600);
	CHECK(fd >= 0, "create big");
	for (int i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (char)(i * 7);
	CHECK(krs_pwrite(fd, buf, sizeof(buf), 100000) == (ssize_t)sizeof(buf), "pwrite 8K");
	char back[8192];
	CHECK(krs_pread(fd, back, sizeof(back), 100000) == (ssize_t)sizeof(back) &&
	    memcmp(back, buf, sizeof(buf)) == 0, "pread 8K back");
	CHECK(krs_pread(fd, back, 10, 0) == 10 && back[0] == 0 && back[9] == 0, "hole zero");
	CHECK(krs_pread(fd, back, 100, 100000 + 8192) == 0, "EOF");
	krs_close(fd);
	PASS("append, pread, truncate (Linux sees size 5), 8 KiB pwrite/pread at 100000, EOF");

	/* mkdir, readdir, rename inside, unlink, rmdir. */
	CHECK(krs_mkdir("/host/dir", 0750) == 0, "mkdir");
	hpath(p, sizeof(p), "dir");
	CHECK(stat(p, &hst) == 0 && S_ISDIR(hst.st_mode) && (hst.st_mode & 0777) == 0750,
	    "host sees dir 0750");
	CHECK(krs_rename("/host/new.txt", "/host/dir/moved.txt") == 0, "rename");
	hpath(p, sizeof(p), "dir/moved.txt");
	CHECK(host_read(p, buf, sizeof(buf)) == 5 && strcmp(buf, "hello") == 0, "host moved");
	list_dir("/host/dir", list, sizeof(list));
	CHECK(strcmp(list, "moved.txt") == 0, "readdir dir: %s", list);
	CHECK_ERR(krs_rmdir("/host/dir"), ENOTEMPTY);
	CHECK(krs_unlink("/host/dir/moved.txt") == 0, "unlink");
	CHECK(access(p, F_OK) == -1 && errno == ENOENT, "host: gone");
	CHECK(krs_rmdir("/host/dir") == 0, "rmdir");
	hpath(p, sizeof(p), "dir");
	CHECK(access(p, F_OK) == -1, "host: dir gone");
	PASS("mkdir (0750 on the host), rename into it, readdir, ENOTEMPTY, unlink, rmdir: Linux agrees");

	/* A directory renamed through KRANK keeps working below it (the
	 * current directory inside it follows). */
	CHECK(krs_mkdir("/host/a", 0755) == 0 && krs_mkdir("/host/a/b", 0755) == 0, "mkdirs");
	CHECK(krs_chdir("/host/a/b") == 0, "chdir");
	CHECK(krs_rename("/host/a", "/host/a2") == 0, "rename dir");
	fd = krs_open("here", KRS_O_WRONLY | KRS_O_CREAT, 0644);
	CHECK(fd >= 0, "create relative to moved cwd");
	krs_close(fd);
	hpath(p, sizeof(p), "a2/b/here");
	CHECK(access(p, F_OK) == 0, "host sees a2/b/here");
	CHECK(krs_getcwd(q, sizeof(q)) != NULL && strcmp(q, "/host/a2/b") == 0, "getcwd %s", q);
	CHECK(krs_chdir("/") == 0, "chdir /");
	PASS("rename of a directory: the cwd below it follows (create lands in a2/b; getcwd /host/a2/b)");

	/* Symbolic links and hard links inside. */
	CHECK(krs_symlink("fromhost.txt", "/host/ln") == 0, "symlink");
	hpath(p, sizeof(p), "ln");
	CHECK(readlink(p, q, sizeof(q)) == 12 && memcmp(q, "fromhost.txt", 12) == 0, "host readlink");
	CHECK(krs_slurp("/host/ln", buf, sizeof(buf)) == 16, "read through link");
	CHECK(krs_link("/host/fromhost.txt", "/host/hard") == 0, "link");
	hpath(p, sizeof(p), "hard");
	hpath(q, sizeof(q), "fromhost.txt");
	struct stat h2;
	CHECK(stat(p, &hst) == 0 && stat(q, &h2) == 0 && hst.st_ino == h2.st_ino &&
	    h2.st_nlink == 2, "host: same inode, 2 links");
	CHECK(krs_unlink("/host/hard") == 0 && krs_unlink("/host/ln") == 0, "cleanup links");
	PASS("symlink (Linux reads the target), hard link inside (same inode, nlink 2)");

	/* chmod, utimens, statvfs. */
	CHECK(krs_chmod("/host/fromhost.txt", 0600) == 0, "chmod");
	hpath(p, sizeof(p), "fromhost.txt");
	CHECK(stat(p, &hst) == 0 && (hst.st_mode & 07777) == 0600, "host mode");
	struct krs_statvfs sv;
	CHECK(krs_statvfs("/host", &sv) == 0 && sv.f_blocks > 0 &&
	    strcmp(sv.f_fstypename, "hostfs") == 0, "statvfs");
	PASS("chmod reaches Linux; statvfs reports the host file system as hostfs");
}

/* Threads: shared and private files opened, read, written, renamed and
 * removed at once (vnodes going inactive and coming back while others
 * open them); every read sees whole, right data. */
#define NTHREADS 4
static void *
worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	char path[64], path2[64], buf[64], want[64];
	long bad = 0;

	for (int i = 0; i < NROUNDS; i++) {
		int n = krs_slurp("/host/fromhost.txt", buf, sizeof(buf));
		if (n != 16 || strcmp(buf, "written by linux") != 0)
			bad++;
		snprintf(path, sizeof(path), "/host/t%d", id);
		snprintf(path2, sizeof(path2), "/host/t%d.r", id);
		snprintf(want, sizeof(want), "thread %d round %d", id, i);
		int fd = krs_open(path, KRS_O_RDWR | KRS_O_CREAT | KRS_O_TRUNC, 0644);
		if (fd < 0 || krs_write(fd, want, strlen(want)) != (ssize_t)strlen(want))
			bad++;
		if (fd >= 0)
			krs_close(fd);
		if (krs_rename(path, path2) != 0)
			bad++;
		n = krs_slurp(path2, buf, sizeof(buf));
		if (n != (int)strlen(want) || strcmp(buf, want) != 0)
			bad++;
		if (krs_unlink(path2) != 0)
			bad++;
	}
	krs_ctx_leave();		/* frees this thread's implicit lwp */
	return (void *)(intptr_t)bad;
}

static void
threads(void)
{
	pthread_t t[NTHREADS];
	long bad = 0;
	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i) == 0, "thread");
	for (int i = 0; i < NTHREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += (long)(intptr_t)r;
	}
	CHECK(bad == 0, "%ld bad results", bad);
	printf("ok: %d threads x %d rounds of read, create+write, rename, read back, "
	    "unlink: all right\n", NTHREADS, NROUNDS);
}

static void
read_only(void)
{
	char buf[256];

	CHECK(krs_slurp("/ro/fromhost.txt", buf, sizeof(buf)) == 16, "ro read");
	CHECK_ERR(krs_open("/ro/fromhost.txt", KRS_O_WRONLY), EROFS);
	CHECK_ERR(krs_open("/ro/fromhost.txt", KRS_O_RDWR), EROFS);
	CHECK_ERR(krs_open("/ro/fromhost.txt", KRS_O_RDONLY | KRS_O_TRUNC), EROFS);
	CHECK_ERR(krs_open("/ro/x", KRS_O_WRONLY | KRS_O_CREAT, 0644), EROFS);
	CHECK_ERR(krs_mkdir("/ro/d", 0755), EROFS);
	CHECK_ERR(krs_unlink("/ro/fromhost.txt"), EROFS);
	CHECK_ERR(krs_rename("/ro/fromhost.txt", "/ro/y"), EROFS);
	CHECK_ERR(krs_symlink("x", "/ro/s"), EROFS);
	CHECK_ERR(krs_link("/ro/fromhost.txt", "/ro/h"), EROFS);
	CHECK_ERR(krs_chmod("/ro/fromhost.txt", 0777), EROFS);
	char p[512];
	hpath(p, sizeof(p), "fromhost.txt");
	struct stat hst;
	CHECK(stat(p, &hst) == 0 && hst.st_size == 16 && (hst.st_mode & 0777) == 0600,
	    "host file untouched");
	PASS("read-only mount: reads work; open for write, O_TRUNC, create, mkdir, unlink, "
	    "rename, symlink, link, chmod are EROFS; the host file is unchanged");
}

/* ---- the rename race ---- */

static int race_stop;			/* atomic */
static unsigned long race_swaps;	/* the swapper's; read after join */

/* Host side: exchange a directory and a symbolic link to the outside,
 * atomically and as fast as possible. */
static void *
race_swapper(void *arg)
{
	char a[512], b[512];
	(void)arg;
	hpath(a, sizeof(a), "race");
	hpath(b, sizeof(b), "racelink");
	while (!__atomic_load_n(&race_stop, __ATOMIC_RELAXED)) {
		if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0)
			race_swaps++;
	}
	return NULL;
}

static void
rename_race(void)
{
	char p[512], buf[256];
	pthread_t t;
	unsigned long ok = 0, refused = 0;

	hpath(p, sizeof(p), "race");
	CHECK(mkdir(p, 0755) == 0, "mkdir race");
	hpath(p, sizeof(p), "race/f");
	host_write(p, "inside");
	/* What a walk that followed the swapped-in link would find. */
	snprintf(p, sizeof(p), "%s/f", outside);
	host_write(p, SECRET);
	hpath(p, sizeof(p), "racelink");
	CHECK(symlink(outside, p) == 0, "symlink racelink -> outside");
	/* Also a relative one, and one through the cwd. */
	CHECK(pthread_create(&t, NULL, race_swapper, NULL) == 0, "thread");
	for (int i = 0; i < RACE_OPENS; i++) {
		const char *path = (i & 1) ? "/host/race/f" : "/host/racelink/f";
		int n = krs_slurp(path, buf, sizeof(buf));
		CHECK(strstr(buf, SECRET) == NULL, "race read the secret via %s", path);
		if (n >= 0) {
			CHECK(strcmp(buf, "inside") == 0, "race read '%s'", buf);
			ok++;
		} else {
			CHECK(errno == ENOENT || errno == ELOOP || errno == ENOTDIR ||
			    errno == ESTALE, "race errno %s", strerror(errno));
			refused++;
		}
	}
	/* Lookups relative to a current directory that is being swapped. */
	int cwd_ok = 0;
	for (int i = 0; i < 2000; i++) {
		if (krs_chdir("/host/race") != 0)
			continue;
		cwd_ok++;
		for (int j = 0; j < 5; j++) {
			buf[0] = '\0';
			int n = krs_slurp("f", buf, sizeof(buf));
			CHECK(strstr(buf, SECRET) == NULL, "race via cwd read the secret");
			CHECK(n < 0 || strcmp(buf, "inside") == 0, "cwd read '%s'", buf);
			n = krs_slurp("../racelink/f", buf, sizeof(buf));
			CHECK(strstr(buf, SECRET) == NULL, "race via cwd/.. read the secret");
		}
	}
	__atomic_store_n(&race_stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	CHECK(krs_chdir("/") == 0, "chdir /");
	CHECK(race_swaps > 100, "swapper ran: %lu swaps", race_swaps);
	CHECK(ok > 0, "some reads saw the directory");
	printf("ok: rename race: %lu host swaps of dir<->symlink(outside); %d opens: "
	    "%lu read 'inside', %lu refused (ENOENT/ELOOP/ENOTDIR); %d cwd rounds; "
	    "the secret never read\n", race_swaps, RACE_OPENS, ok, refused, cwd_ok);
}

/* A directory KRANK stands in is moved out of the served tree by Linux. */
static void
moved_out(void)
{
	char p[512], q[512], buf[256];

	CHECK(krs_mkdir("/host/mv", 0755) == 0, "mkdir mv");
	hpath(p, sizeof(p), "mv/f");
	host_write(p, "was inside");
	CHECK(krs_chdir("/host/mv") == 0, "chdir mv");
	int dfd = krs_open("/host/mv", KRS_O_RDONLY | KRS_O_DIRECTORY);
	CHECK(dfd >= 0, "open dir mv");
	hpath(p, sizeof(p), "mv");
	snprintf(q, sizeof(q), "%s/mv", outside);
	CHECK(rename(p, q) == 0, "host moves mv outside");
	attempt("dir moved out: name in it", "f", ENOENT);
	attempt("dir moved out: openat", "/host/mv/f", ENOENT);
	attempt("dir moved out: .. of it", "../secret", ENOENT);
	attempt("dir moved out: ../../", "../../secret", 0);
	int fd = krs_openat(dfd, "../secret", KRS_O_RDONLY);
	CHECK(fd == -1, "openat(dirfd of moved dir, ../secret) fails");
	fd = krs_openat(dfd, "f", KRS_O_RDONLY);
	buf[0] = '\0';
	if (fd >= 0) {
		krs_read(fd, buf, sizeof(buf) - 1);
		krs_close(fd);
	}
	CHECK(strstr(buf, SECRET) == NULL, "no secret");
	CHECK(fd == -1 && errno == ENOENT, "openat(dirfd, f) of a moved-out dir is ENOENT");
	krs_close(dfd);
	CHECK(krs_chdir("/") == 0, "chdir /");
	CHECK(rename(q, p) == 0, "host moves it back");
	PASS("a directory moved out of the tree by Linux: names below it, '..' and openat "
	    "from it resolve from the served root (ENOENT), never in its new place");
}

/* /proc in the served tree: a mount (needs a private mount namespace). */
static void
proc_magic(void)
{
	char p[512], q[512];

	hpath(p, sizeof(p), "procln");
	CHECK(symlink("/proc/self/root", p) == 0, "symlink procln");
	snprintf(q, sizeof(q), "/host/procln%s", outside);
	strncat(q, "/../secret", sizeof(q) - strlen(q) - 1);
	attempt("symlink to /proc/self/root", q, ENOENT);
	hpath(p, sizeof(p), "procfd");
	CHECK(symlink("/proc/self/fd", p) == 0, "symlink procfd");
	attempt("symlink to /proc/self/fd/3", "/host/procfd/3", ENOENT);

	if (!private_ns) {
		printf("ok: (skipped the proc mount: no private mount namespace)\n");
		return;
	}
	hpath(p, sizeof(p), "proc");
	CHECK(mkdir(p, 0755) == 0 && mount("proc", p, "proc", 0, NULL) == 0,
	    "mount proc at shared/proc");
	snprintf(q, sizeof(q), "/host/proc/self/root%s/../secret", shared);
	attempt("/proc mounted inside (no xdev)", q, EXDEV);
	attempt("/proc/self/cwd inside (no xdev)", "/host/proc/self/cwd", EXDEV);
	/* Crossing mounts allowed: /proc's magic links are still not
	 * followed; "root" reads as "/" and resolves in KRANK's name space. */
	snprintf(q, sizeof(q), "/hostx/proc/self/root%s/../secret", shared);
	attempt("/proc mounted inside (xdev)", q, ENOENT);
	snprintf(q, sizeof(q), "/hostx/proc/%d/root%s/../secret", (int)getpid(), shared);
	attempt("/proc/PID/root (xdev)", q, ENOENT);
	int fd = open(outside, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0, "hold a descriptor of outside");
	snprintf(q, sizeof(q), "/hostx/proc/%d/fd/%d/secret", (int)getpid(), fd);
	attempt("/proc/PID/fd/N of outside (xdev)", q, ENOENT);
	close(fd);
	hpath(p, sizeof(p), "proc");
	umount2(p, MNT_DETACH);
	rmdir(p);
}

static void
escapes(void)
{
	char p[512], q[512], buf[256];

	/* KRANK's own /secret, to show where links resolve. */
	int fd = krs_open("/secret", KRS_O_WRONLY | KRS_O_CREAT, 0644);
	CHECK(fd >= 0 && krs_write(fd, "krank's own /secret", 19) == 19, "tmpfs /secret");
	krs_close(fd);

	hpath(p, sizeof(p), "abs");
	snprintf(q, sizeof(q), "%s/secret", base);
	CHECK(symlink(q, p) == 0, "symlink abs -> host secret");
	hpath(p, sizeof(p), "etc");
	CHECK(symlink("/etc", p) == 0, "symlink etc -> /etc");
	hpath(p, sizeof(p), "rel");
	CHECK(symlink("../secret", p) == 0, "symlink rel -> ../secret");
	hpath(p, sizeof(p), "rel3");
	CHECK(symlink("../../../../../../../../etc/passwd", p) == 0, "symlink rel3");
	hpath(p, sizeof(p), "sub");
	CHECK(mkdir(p, 0755) == 0, "mkdir sub");
	hpath(p, sizeof(p), "sub/up");
	CHECK(symlink("../../secret", p) == 0, "symlink sub/up");

	attempt("absolute path of the secret", q, ENOENT);
	attempt("absolute symlink to the secret", "/host/abs", ENOENT);
	attempt("absolute symlink to /etc", "/host/etc/passwd", ENOENT);
	attempt("relative symlink ../secret", "/host/rel", 0);
	CHECK(krs_slurp("/host/rel", buf, sizeof(buf)) == 19 &&
	    strcmp(buf, "krank's own /secret") == 0, "rel resolves in KRANK: %s", buf);
	attempt("relative symlink ../../../..", "/host/rel3", ENOENT);
	attempt("symlink ../../ from a subdir", "/host/sub/up", 0);
	attempt("\"..\" out of the mount", "/host/../secret", 0);
	CHECK(krs_slurp("/host/../secret", buf, sizeof(buf)) == 19, "KRANK's /secret");
	attempt("many \"..\"", "/host/sub/../../../../../../../../../../secret", 0);
	attempt("many \"..\" to the host's /etc", "/host/sub/../../../../../../../etc/passwd", ENOENT);
	CHECK(krs_chdir("/host/sub") == 0, "chdir sub");
	attempt("\"..\" from a cwd inside", "../../secret", 0);
	attempt("\"..\" from a cwd to /etc", "../../../../../../etc/passwd", ENOENT);
	CHECK(krs_chdir("/") == 0, "chdir /");
	PASS("symbolic links and \"..\" resolve in KRANK's name space: never the host's "
	    "secret or /etc (relative ones reach KRANK's own /secret)");

	/* Hard links: none can be made to a file outside. */
	CHECK_ERR(krs_link("/secret", "/host/hl"), EXDEV);
	errno = 0;
	int rv = krs_link("/host/abs", "/host/hl2");
	hpath(p, sizeof(p), "hl2");
	struct stat hst;
	if (rv == 0)
		CHECK(lstat(p, &hst) == 0 && S_ISLNK(hst.st_mode), "hl2 is the symlink itself");
	else
		CHECK(errno == ENOENT, "link via abs: %s", strerror(errno));
	attempt("read the link made from abs", "/host/hl2", ENOENT);
	if (rv == 0)
		krs_unlink("/host/hl2");
	CHECK_ERR(krs_link(q, "/host/hl3"), ENOENT);
	CHECK_ERR(krs_rename("/secret", "/host/stolen"), EXDEV);
	CHECK_ERR(krs_rename("/host/fromhost.txt", "/exported"), EXDEV);
	PASS("hard link or rename between hostfs and another mount: EXDEV; "
	    "linking through a symlink to the secret makes no link to it");

	/* A hard link made on the host beforehand is the same file. */
	snprintf(q, sizeof(q), "%s/prelinked", outside);
	host_write(q, "shared by a host hard link");
	hpath(p, sizeof(p), "prelinked");
	CHECK(link(q, p) == 0, "host link");
	CHECK(krs_slurp("/host/prelinked", buf, sizeof(buf)) == 26, "pre-existing hard link reads");
	PASS("a hard link made on the host beforehand is that file (docs/hostfs.md)");

	/* Device nodes and FIFOs are never opened. */
	hpath(p, sizeof(p), "null");
	if (mknod(p, S_IFCHR | 0666, makedev(1, 3)) == 0) {
		attempt("character device node", "/host/null", EOPNOTSUPP);
	}
	hpath(p, sizeof(p), "fifo");
	CHECK(mkfifo(p, 0666) == 0, "mkfifo");
	attempt("FIFO", "/host/fifo", EOPNOTSUPP);
	proc_magic();
	moved_out();
	rename_race();
	CHECK(secret_seen == 0, "secret seen %d times", secret_seen);
	PASS("no attempt read the secret");
}

int
main(void)
{
	char err[256];

	snprintf(base, sizeof(base), "%s/krank-hostfs-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	CHECK(mkdtemp(base) != NULL, "mkdtemp");
	snprintf(shared, sizeof(shared), "%s/shared", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	CHECK(mkdir(shared, 0755) == 0 && mkdir(outside, 0755) == 0, "dirs");
	char p[512];
	snprintf(p, sizeof(p), "%s/secret", base);
	host_write(p, SECRET);
	snprintf(p, sizeof(p), "%s/secret", outside);
	host_write(p, SECRET);

	/* A private mount namespace (before hostfs opens its root), so that
	 * /proc can be mounted inside the served directory. */
	private_ns = unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
	CHECK(krs_boot("vfs,tmpfs,hostfs", err, sizeof(err)) == 0, "boot: %s", err);
	CHECK(krs_mount("tmpfs", "/", "tmpfs", 0, "size=4m", 7) == 0, "mount /");
	CHECK(krs_mkdir("/host", 0755) == 0 && krs_mkdir("/ro", 0755) == 0 &&
	    krs_mkdir("/hostx", 0755) == 0, "mount points");
	CHECK_ERR(krs_mount("relative/dir", "/host", "hostfs", 0, NULL, 0), EINVAL);
	CHECK_ERR(krs_mount("/nonexistent-krank-dir", "/host", "hostfs", 0, NULL, 0), ENOENT);
	CHECK_ERR(krs_mount(p, "/host", "hostfs", 0, NULL, 0), ENOTDIR);
	CHECK_ERR(krs_mount(shared, "/host", "hostfs", 0, "bogus", 5), EINVAL);
	CHECK(krs_mount(shared, "/host", "hostfs", 0, NULL, 0) == 0, "mount /host");
	CHECK(krs_mount(shared, "/ro", "hostfs", KRS_MNT_RDONLY, NULL, 0) == 0, "mount /ro");
	CHECK(krs_mount(shared, "/hostx", "hostfs", 0, "xdev", 4) == 0, "mount /hostx");
	PASS("mount refuses relative, missing, non-directory sources and bad options; "
	    "mounts rw, ro and xdev");

	normal_use();
	threads();
	read_only();
	escapes();

	CHECK(krs_unmount("/hostx", 0) == 0 && krs_unmount("/ro", 0) == 0 &&
	    krs_unmount("/host", 0) == 0, "unmount");
	PASS("unmount of all three");
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		printf("note: could not remove %s\n", base);
	DONE();
}
