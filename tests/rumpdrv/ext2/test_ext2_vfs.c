/*
 * test_ext2_vfs - the ext2 component driven through KRANK's system-call
 * functions (krs_*), rump style: boot kern+vfs+tmpfs+ext2, mount an image
 * made by mke2fs on /mnt of a tmpfs root, and exercise open/read/write/
 * pread/pwrite/readv/writev/lseek/ftruncate/fsync/stat/getdents/mkdir/
 * rmdir/unlink/rename/link/symlink/readlink/chmod/chown/utimens/statvfs,
 * an unlinked-but-open file, mount refusals, and unmount.  It leaves files
 * whose expected bytes it writes to HOSTDIR for the wrapper script to check
 * with debugfs after e2fsck.
 * usage: test_ext2_vfs IMAGE EXT4IMAGE HOSTDIR
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <krank/krs.h>
#include "rdtest.h"

static void
pattern(char *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('a' + (i * 7 + seed + i / 1000) % 26);
}

static void
host_save(const char *dir, const char *name, const void *buf, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL && fwrite(buf, 1, n, f) == n && fclose(f) == 0,
	    "save %s", path);
}

static int
all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static int
dir_has(const char *path, const char *name)
{
	char buf[4096];
	int fd = krs_open(path, KRS_O_RDONLY | KRS_O_DIRECTORY), found = 0;
	ssize_t n;
	CHECK(fd >= 0, "open dir %s", path);
	while ((n = krs_getdents(fd, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			struct krs_dirent *d = (struct krs_dirent *)(buf + off);
			if (strcmp(d->d_name, name) == 0)
				found = 1;
			off += d->d_reclen;
		}
	CHECK(n == 0, "getdents end");
	krs_close(fd);
	return found;
}

/*
 * Reads without the vnode lock (ext2 sets MNTK_READSELF): a writer
 * rewrites whole 4 KiB regions with one byte value and truncates and
 * regrows the file while readers pread those regions; every read must see
 * one write whole (all bytes equal) or a clean short read at the end.
 */
#define RACE_REGIONS 16
static int race_fd;
static int race_stop;			/* atomic */

static void *
race_reader(void *arg)
{
	static char buf[2][4096];
	char *b = buf[(intptr_t)arg];
	long torn = 0;
	for (unsigned i = 0; !__atomic_load_n(&race_stop, __ATOMIC_RELAXED);
	    i++) {
		ssize_t n = krs_pread(race_fd, b, 4096,
		    (int64_t)(i % RACE_REGIONS) * 4096);
		if (n < 0 || (n != 0 && n != 4096))
			torn++;
		for (ssize_t j = 1; j < n; j++)
			if (b[j] != b[0]) {
				torn++;
				break;
			}
	}
	return (void *)torn;
}

static void
race_reads(void)
{
	static char blk[4096];
	pthread_t t[2];
	race_fd = krs_open("/mnt/race", KRS_O_RDWR | KRS_O_CREAT, 0644);
	CHECK(race_fd >= 0, "create race");
	for (int r = 0; r < RACE_REGIONS; r++) {
		memset(blk, 'a' + r, sizeof(blk));
		CHECK(krs_pwrite(race_fd, blk, 4096, r * 4096) == 4096, "fill");
	}
	__atomic_store_n(&race_stop, 0, __ATOMIC_RELAXED);
	for (intptr_t i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, race_reader, (void *)i);
	for (int k = 0; k < 20000; k++) {
		int r = k % RACE_REGIONS;
		memset(blk, 'A' + k % 26, sizeof(blk));
		if (k % 1000 == 999) {
			CHECK(krs_ftruncate(race_fd, 4096 * 3) == 0, "shrink");
			for (int q = 3; q < RACE_REGIONS; q++)
				CHECK(krs_pwrite(race_fd, blk, 4096, q * 4096) == 4096,
				    "regrow");
		}
		CHECK(krs_pwrite(race_fd, blk, 4096, r * 4096) == 4096, "rewrite");
	}
	__atomic_store_n(&race_stop, 1, __ATOMIC_RELAXED);
	long torn = 0;
	for (int i = 0; i < 2; i++) {
		void *rv;
		pthread_join(t[i], &rv);
		torn += (long)rv;
	}
	CHECK(torn == 0, "no torn or odd-sized read: %ld", torn);
	CHECK(krs_close(race_fd) == 0 && krs_unlink("/mnt/race") == 0, "race cleanup");
	PASS("two readers against a rewriting, truncating writer: every 4 KiB read whole");
}

int
main(int argc, char **argv)
{
	static char big[300000], back[300000];
	char err[256], link[200];
	struct krs_stat st;
	struct krs_statvfs sv;
	int fd, fd2;

	if (argc != 4) {
		fprintf(stderr, "usage: test_ext2_vfs IMAGE EXT4IMAGE HOSTDIR\n");
		return 2;
	}
	CHECK(krs_boot("vfs,tmpfs,ext2", err, sizeof(err)) == 0, "boot: %s", err);
	CHECK(krs_mount("tmpfs", "/", "tmpfs", 0, NULL, 0) == 0, "mount /");
	CHECK(krs_mkdir("/mnt", 0755) == 0, "mkdir /mnt");
	CHECK_ERR(krs_mount("/nonexistent.img", "/mnt", "ext2", 0, NULL, 0), ENOENT);
	CHECK_ERR(krs_mount(argv[2], "/mnt", "ext2", 0, NULL, 0), ENOTSUP);
	CHECK_ERR(krs_mount(argv[1], "/mnt", "ext2", 0, "cache=x", 7), EINVAL);
	CHECK_ERR(krs_mount(argv[1], "/mnt", "ext2", 0, "cache=4,fast", 12),
	    EINVAL);
	/* Direct (O_DIRECT where the image's file system allows it, else
	 * cached with a warning): everything below, and e2fsck after,
	 * checks what reached the image. */
	CHECK(krs_mount(argv[1], "/mnt", "ext2", 0, "cache=4,direct", 14) == 0,
	    "mount ext2 on /mnt");
	PASS("mount: refusals (missing, ext4, bad options), then success "
	    "(direct)");

	CHECK(krs_statvfs("/mnt", &sv) == 0, "statvfs");
	CHECK(sv.f_bsize == 1024 && sv.f_blocks > 8000 &&
	    strcmp(sv.f_fstypename, "ext2") == 0, "statvfs: bsize %llu blocks %llu %s",
	    (unsigned long long)sv.f_bsize, (unsigned long long)sv.f_blocks,
	    sv.f_fstypename);
	uint64_t ffree0 = sv.f_ffree;

	/* Write, read back, offsets, vectors. */
	fd = krs_open("/mnt/hello", KRS_O_RDWR | KRS_O_CREAT | KRS_O_EXCL, 0640);
	CHECK(fd >= 0, "create");
	CHECK(krs_write(fd, "hello, ext2", 11) == 11, "write");
	CHECK(krs_pread(fd, err, 5, 7) == 4 && memcmp(err, "ext2", 4) == 0,
	    "pread short at EOF");
	CHECK(krs_lseek(fd, 0, KRS_SEEK_SET) == 0, "lseek");
	CHECK(krs_read(fd, err, 100) == 11 && memcmp(err, "hello, ext2", 11) == 0,
	    "read back");
	{
		struct krs_iovec iov[2] = { { "AB", 2 }, { "CDE", 3 } };
		CHECK(krs_pwrite(fd, "Z", 1, 0) == 1, "pwrite");
		CHECK(krs_lseek(fd, 0, KRS_SEEK_END) == 11, "seek end");
		CHECK(krs_writev(fd, iov, 2) == 5, "writev");
		char a[4], b[12];
		struct krs_iovec r[2] = { { a, 4 }, { b, 12 } };
		CHECK(krs_lseek(fd, 0, KRS_SEEK_SET) == 0, "rewind");
		CHECK(krs_readv(fd, r, 2) == 16, "readv");
		CHECK(memcmp(a, "Zell", 4) == 0 && memcmp(b, "o, ext2ABCDE", 12) == 0,
		    "readv data");
	}
	CHECK(krs_close(fd) == 0, "close");
	CHECK_ERR(krs_open("/mnt/hello", KRS_O_RDWR | KRS_O_CREAT | KRS_O_EXCL, 0640),
	    EEXIST);
	PASS("write, read, pread, pwrite, readv, writev, lseek");

	/* Big file across indirect blocks, sparse tail, truncate. */
	pattern(big, sizeof(big), 1);
	fd = krs_open("/mnt/big", KRS_O_RDWR | KRS_O_CREAT | KRS_O_TRUNC, 0644);
	CHECK(fd >= 0, "create big");
	CHECK(krs_write(fd, big, sizeof(big)) == (ssize_t)sizeof(big), "write big");
	CHECK(krs_pwrite(fd, "END", 3, 5000000) == 3, "write far");
	CHECK(krs_fstat(fd, &st) == 0 && st.st_size == 5000003, "size %lld",
	    (long long)st.st_size);
	CHECK(st.st_blocks < 2 * 700, "sparse: %lld blocks",
	    (long long)st.st_blocks);
	CHECK(krs_pread(fd, back, 4096, 4000000) == 4096, "read hole");
	CHECK(all_zero(back, 4096), "hole reads zeroes");
	CHECK(krs_pread(fd, back, sizeof(back), 0) == (ssize_t)sizeof(back) &&
	    memcmp(back, big, sizeof(big)) == 0, "big data");
	CHECK(krs_fsync(fd) == 0, "fsync");
	CHECK(krs_ftruncate(fd, 100000) == 0, "truncate");
	CHECK(krs_fstat(fd, &st) == 0 && st.st_size == 100000, "size after");
	CHECK(krs_ftruncate(fd, 150000) == 0, "extend");
	CHECK(krs_pread(fd, back, 50000, 100000) == 50000, "read extension");
	CHECK(all_zero(back, 50000), "extension reads zeroes");
	CHECK(krs_close(fd) == 0, "close");
	memcpy(back, big, 100000);
	memset(back + 100000, 0, 50000);
	host_save(argv[3], "big", back, 150000);
	PASS("large file: indirect blocks, holes, truncate and extend");

	/* Namespace. */
	CHECK(krs_mkdir("/mnt/d", 0755) == 0, "mkdir");
	CHECK(krs_mkdir("/mnt/d/sub", 0700) == 0, "mkdir sub");
	CHECK_ERR(krs_mkdir("/mnt/d", 0755), EEXIST);
	CHECK_ERR(krs_rmdir("/mnt/d"), ENOTEMPTY);
	CHECK(krs_rename("/mnt/hello", "/mnt/d/hello2") == 0, "rename");
	CHECK_ERR(krs_stat("/mnt/hello", &st), ENOENT);
	CHECK(krs_link("/mnt/d/hello2", "/mnt/hard") == 0, "link");
	CHECK(krs_stat("/mnt/hard", &st) == 0 && st.st_nlink == 2, "nlink 2");
	CHECK(krs_symlink("d/hello2", "/mnt/fast") == 0, "symlink fast");
	memset(link, 'x', 150);
	memcpy(link, "d/", 2);
	link[150] = '\0';
	CHECK(krs_symlink(link, "/mnt/slow") == 0, "symlink slow");
	CHECK(krs_readlink("/mnt/fast", err, sizeof(err)) == 8 &&
	    memcmp(err, "d/hello2", 8) == 0, "readlink fast");
	CHECK(krs_readlink("/mnt/slow", err, sizeof(err)) == 150 &&
	    memcmp(err, link, 150) == 0, "readlink slow");
	CHECK(krs_stat("/mnt/fast", &st) == 0 && st.st_size == 16, "stat through link");
	CHECK(krs_lstat("/mnt/fast", &st) == 0 &&
	    (st.st_mode & KRS_S_IFMT) == KRS_S_IFLNK, "lstat");
	CHECK(dir_has("/mnt/d", "hello2") && dir_has("/mnt", "fast") &&
	    !dir_has("/mnt", "hello"), "getdents");
	/* rename over an existing file, and a directory move */
	fd = krs_open("/mnt/victim", KRS_O_WRONLY | KRS_O_CREAT, 0644);
	CHECK(fd >= 0 && krs_write(fd, "old", 3) == 3 && krs_close(fd) == 0, "victim");
	CHECK(krs_rename("/mnt/hard", "/mnt/victim") == 0, "rename over file");
	CHECK(krs_stat("/mnt/victim", &st) == 0 && st.st_size == 16 &&
	    st.st_nlink == 2, "target replaced");
	CHECK(krs_rename("/mnt/d/sub", "/mnt/sub") == 0, "move directory");
	CHECK(krs_stat("/mnt/d", &st) == 0 && st.st_nlink == 2, "old parent nlink");
	CHECK_ERR(krs_rename("/mnt/d", "/mnt/d/x"), EINVAL);
	CHECK(krs_rmdir("/mnt/sub") == 0, "rmdir");
	PASS("mkdir, rmdir, rename, link, symlink, readlink, getdents");

	/* Attributes. */
	CHECK(krs_chmod("/mnt/victim", 0600) == 0, "chmod");
	CHECK(krs_chown("/mnt/victim", 1234, 5678) == 0, "chown");
	{
		struct krs_timespec ts[2] = { { 1000000000, 5 }, { 1200000000, 7 } };
		CHECK(krs_utimens("/mnt/victim", ts) == 0, "utimens");
	}
	CHECK(krs_stat("/mnt/victim", &st) == 0 && (st.st_mode & 07777) == 0600 &&
	    st.st_uid == 1234 && st.st_gid == 5678 &&
	    st.st_mtim.tv_sec == 1200000000 && st.st_atim.tv_sec == 1000000000,
	    "attributes: mode %o uid %u", st.st_mode, st.st_uid);
	PASS("chmod, chown, utimens");

	/* An unlinked file stays readable while open; freed on close. */
	fd = krs_open("/mnt/tmpfile", KRS_O_RDWR | KRS_O_CREAT, 0644);
	CHECK(fd >= 0 && krs_write(fd, big, 20000) == 20000, "tmpfile");
	fd2 = krs_open("/mnt/tmpfile", KRS_O_RDONLY);
	CHECK(krs_unlink("/mnt/tmpfile") == 0, "unlink open file");
	CHECK_ERR(krs_stat("/mnt/tmpfile", &st), ENOENT);
	CHECK(krs_pread(fd2, back, 20000, 0) == 20000 &&
	    memcmp(back, big, 20000) == 0, "still readable");
	CHECK(krs_close(fd) == 0 && krs_close(fd2) == 0, "close both");
	CHECK_ERR(krs_unlink("/mnt/d"), EISDIR);
	CHECK(krs_unlink("/mnt/slow") == 0, "unlink slow symlink");
	PASS("unlinked-but-open file");

	/* Shrink to nothing and rewrite through the same open file: the
	 * new blocks must be mapped (debugfs reads them after unmount). */
	fd = krs_open("/mnt/retrunc", KRS_O_RDWR | KRS_O_CREAT, 0644);
	pattern(big, 8192, 3);
	CHECK(fd >= 0 && krs_pwrite(fd, big, 8192, 0) == 8192, "first write");
	CHECK(krs_pwrite(fd, "x", 1, 0) == 1, "touch block 0 last");
	CHECK(krs_ftruncate(fd, 0) == 0, "truncate to 0");
	CHECK(krs_pread(fd, back, 100, 4096) == 0, "nothing left");
	pattern(big, 8192, 4);
	CHECK(krs_pwrite(fd, big, 8192, 0) == 8192, "rewrite");
	CHECK(krs_close(fd) == 0, "close");
	host_save(argv[3], "retrunc", big, 8192);

	/* Files for debugfs. */
	fd = krs_open("/mnt/d/data", KRS_O_WRONLY | KRS_O_CREAT, 0644);
	pattern(big, 70000, 9);
	CHECK(fd >= 0 && krs_write(fd, big, 70000) == 70000, "data");
	CHECK(krs_close(fd) == 0, "close");
	host_save(argv[3], "data", big, 70000);
	fd = krs_open("/mnt/appended", KRS_O_WRONLY | KRS_O_CREAT | KRS_O_APPEND, 0644);
	CHECK(fd >= 0 && krs_write(fd, "one,", 4) == 4 && krs_lseek(fd, 0, KRS_SEEK_SET) == 0 &&
	    krs_write(fd, "two", 3) == 3, "append after a seek to 0");
	krs_close(fd);

	race_reads();

	CHECK(krs_unmount("/mnt", 0) == 0, "unmount");
	CHECK(krs_mount(argv[1], "/mnt", "ext2", KRS_MNT_RDONLY, NULL, 0) == 0,
	    "remount read-only");
	CHECK(krs_stat("/mnt/d/data", &st) == 0 && st.st_size == 70000, "persisted");
	CHECK(krs_statvfs("/mnt", &sv) == 0 && (sv.f_flag & KRS_MNT_RDONLY),
	    "read-only flag");
	/* big, d, d/hello2 (= victim), fast, retrunc, d/data, appended */
	CHECK(sv.f_ffree == ffree0 - 7, "inode count: %llu free, was %llu",
	    (unsigned long long)sv.f_ffree, (unsigned long long)ffree0);
	CHECK_ERR(krs_mkdir("/mnt/nope", 0755), EROFS);
	CHECK(krs_unmount("/mnt", 0) == 0, "unmount");
	PASS("unmount writes back; read-only remount");
	krs_shutdown();
	DONE();
}
