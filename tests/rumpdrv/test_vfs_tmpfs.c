/*
 * test_vfs_tmpfs.c - rump-style component test: links kern, vfs and tmpfs,
 * boots "vfs,tmpfs", mounts tmpfs at / and a second tmpfs below, and drives
 * every krs_ file system call, checking results and errno values.
 */
#include <stdint.h>
#include <errno.h>

#include <krank/krs.h>
#include "rdtest.h"

static void
write_file(const char *path, const char *data)
{
	int fd = krs_open(path, KRS_O_WRONLY | KRS_O_CREAT | KRS_O_TRUNC, 0644);
	CHECK(fd >= 0, "create %s", path);
	CHECK(krs_write(fd, data, strlen(data)) == (ssize_t)strlen(data), "write %s", path);
	CHECK(krs_close(fd) == 0, "close");
}

static int
read_file(const char *path, char *buf, size_t len)
{
	int fd = krs_open(path, KRS_O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = krs_read(fd, buf, len - 1);
	krs_close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

/* Names in a directory, sorted into one space-separated string. */
static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
list_dir(const char *path, char *out, size_t outlen)
{
	char buf[256], *names[256], store[8192];
	int n = 0, fd = krs_open(path, KRS_O_RDONLY | KRS_O_DIRECTORY);
	size_t sp = 0;
	ssize_t got;
	CHECK(fd >= 0, "opendir %s", path);
	/* A small buffer forces several getdents calls (cookie resume). */
	while ((got = krs_getdents(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < got;) {
			struct krs_dirent *d = (struct krs_dirent *)(buf + off);
			size_t l = strlen(d->d_name);
			CHECK(sp + l + 1 < sizeof(store) && n < 256, "too many");
			memcpy(store + sp, d->d_name, l + 1);
			names[n++] = store + sp;
			sp += l + 1;
			off += d->d_reclen;
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

int
main(void)
{
	char err[256], buf[8192], list[4096];
	struct krs_stat st;
	int fd, fd2;

	struct krs_ctx *ctx;
	CHECK_ERR(krs_open("/x", KRS_O_RDONLY), ENOSYS);
	CHECK_ERR(krs_read(0, buf, 1), ENOSYS);
	CHECK_ERR(krs_mount("t", "/", "tmpfs", 0, NULL, 0), ENOSYS);
	CHECK(krs_getcwd(buf, sizeof(buf)) == NULL && errno == ENOSYS, "getcwd");
	CHECK_ERR(krs_ctx_create(1, 1, &ctx), ENOSYS);
	PASS("before boot: file calls and contexts fail with ENOSYS, no crash");

	CHECK(krs_boot("tmpfs", err, sizeof(err)) == -1 && errno == EINVAL &&
	    strstr(err, "tmpfs needs vfs") != NULL, "missing dep: %s", err);
	CHECK(krs_boot("tmpfs,vfs", err, sizeof(err)) == 0, "boot: %s", err);
	PASS("boot refuses tmpfs without vfs, naming it; boots vfs,tmpfs");

	CHECK_ERR(krs_open("/x", KRS_O_RDONLY), ENOENT);
	CHECK_ERR(krs_mount("none", "/", "nosuchfs", 0, NULL, 0), ENODEV);
	CHECK_ERR(krs_mount("none", "/", "tmpfs", 0, "size=abc", 8), EINVAL);
	CHECK(krs_mount("tmpfs", "/", "tmpfs", 0, "size=4m", 7) == 0, "mount /");
	PASS("no root before mount; unknown fs type ENODEV; bad options EINVAL; tmpfs on /");

	/* Files: create, write, read, offsets, pread/pwrite, append, trunc. */
	write_file("/hello", "hello world");
	CHECK(read_file("/hello", buf, sizeof(buf)) == 11 &&
	    strcmp(buf, "hello world") == 0, "read back '%s'", buf);
	fd = krs_open("/hello", KRS_O_RDWR);
	CHECK(fd >= 0, "open rw");
	CHECK(krs_lseek(fd, 6, KRS_SEEK_SET) == 6, "lseek");
	CHECK(krs_write(fd, "WORLD", 5) == 5, "overwrite");
	CHECK(krs_lseek(fd, 0, KRS_SEEK_CUR) == 11, "offset after write");
	CHECK(krs_pread(fd, buf, 5, 6) == 5 && memcmp(buf, "WORLD", 5) == 0, "pread");
	CHECK(krs_lseek(fd, 0, KRS_SEEK_CUR) == 11, "pread keeps offset");
	CHECK(krs_pwrite(fd, "!", 1, 20) == 1, "pwrite past EOF");
	CHECK(krs_fstat(fd, &st) == 0 && st.st_size == 21, "size %lld", (long long)st.st_size);
	CHECK(krs_pread(fd, buf, 21, 0) == 21 && buf[15] == 0 && buf[20] == '!', "hole reads 0");
	CHECK(krs_lseek(fd, -1, KRS_SEEK_END) == 20, "SEEK_END");
	CHECK_ERR(krs_lseek(fd, -100, KRS_SEEK_SET), EINVAL);
	CHECK_ERR(krs_lseek(fd, 0, 9), EINVAL);
	CHECK(krs_ftruncate(fd, 5) == 0 && krs_fstat(fd, &st) == 0 && st.st_size == 5, "truncate");
	CHECK(krs_ftruncate(fd, 100) == 0 && krs_pread(fd, buf, 100, 0) == 100 &&
	    buf[5] == 0 && buf[99] == 0, "extend reads zeroes");
	CHECK_ERR(krs_ftruncate(fd, -1), EINVAL);
	CHECK_ERR(krs_pwrite(fd, "x", 1, (int64_t)1 << 35), EFBIG);
	CHECK_ERR(krs_ftruncate(fd, ((int64_t)1 << 35) + 1), EFBIG);
	CHECK(krs_fsync(fd) == 0, "fsync");
	CHECK(krs_close(fd) == 0, "close");
	CHECK_ERR(krs_close(fd), EBADF);
	CHECK_ERR(krs_read(fd, buf, 1), EBADF);
	fd = krs_open("/hello", KRS_O_WRONLY | KRS_O_APPEND);
	CHECK(krs_lseek(fd, 0, KRS_SEEK_SET) == 0 && krs_write(fd, "END", 3) == 3, "append");
	CHECK(krs_fstat(fd, &st) == 0 && st.st_size == 103, "append lands at EOF");
	CHECK_ERR(krs_read(fd, buf, 1), EBADF);
	krs_close(fd);
	fd = krs_open("/hello", KRS_O_RDONLY);
	CHECK_ERR(krs_write(fd, "x", 1), EBADF);
	CHECK_ERR(krs_ftruncate(fd, 0), EINVAL);
	krs_close(fd);
	CHECK_ERR(krs_open("/hello", KRS_O_CREAT | KRS_O_EXCL | KRS_O_WRONLY, 0644), EEXIST);
	fd = krs_open("/hello", KRS_O_RDWR | KRS_O_TRUNC);
	CHECK(fd >= 0 && krs_fstat(fd, &st) == 0 && st.st_size == 0, "O_TRUNC");
	krs_close(fd);
	PASS("read/write/lseek/pread/pwrite/append/ftruncate/O_TRUNC/O_EXCL, holes read as zero, EBADF on wrong mode");

	/* readv/writev across a page boundary, large file. */
	static char big[3 * 4096 + 100], back[sizeof(big)];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 3);
	fd = krs_open("/big", KRS_O_RDWR | KRS_O_CREAT, 0600);
	struct krs_iovec wv[3] = { { big, 100 }, { big + 100, 5000 },
	    { big + 5100, sizeof(big) - 5100 } };
	CHECK(krs_writev(fd, wv, 3) == (ssize_t)sizeof(big), "writev");
	CHECK(krs_lseek(fd, 0, KRS_SEEK_SET) == 0, "rewind");
	struct krs_iovec rv[2] = { { back, 4095 }, { back + 4095, sizeof(back) - 4095 } };
	CHECK(krs_readv(fd, rv, 2) == (ssize_t)sizeof(big) &&
	    memcmp(big, back, sizeof(big)) == 0, "readv equals");
	CHECK(krs_read(fd, back, 10) == 0, "read at EOF returns 0");
	krs_close(fd);
	PASS("writev/readv of 12388 bytes across pages round-trips; EOF read 0");

	/* Directories, getdents, mkdir/rmdir errors. */
	CHECK(krs_mkdir("/d", 0755) == 0, "mkdir");
	CHECK_ERR(krs_mkdir("/d", 0755), EEXIST);
	CHECK_ERR(krs_mkdir("/nope/x", 0755), ENOENT);
	CHECK_ERR(krs_mkdir("/hello/x", 0755), ENOTDIR);
	for (int i = 0; i < 40; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/d/file%02d", i);
		write_file(p, "x");
	}
	list_dir("/d", list, sizeof(list));
	CHECK(strncmp(list, ". .. file00 file01", 18) == 0 && strstr(list, "file39") &&
	    !strstr(list, "file40"), "listing %s", list);
	CHECK_ERR(krs_rmdir("/d"), ENOTEMPTY);
	CHECK_ERR(krs_rmdir("/hello"), ENOTDIR);
	CHECK_ERR(krs_unlink("/d"), EISDIR);
	CHECK_ERR(krs_open("/d", KRS_O_WRONLY), EISDIR);
	CHECK_ERR(krs_open("/hello", KRS_O_RDONLY | KRS_O_DIRECTORY), ENOTDIR);
	CHECK_ERR(krs_rmdir("/d/."), EINVAL);
	fd = krs_open("/d", KRS_O_RDONLY);
	CHECK_ERR(krs_read(fd, buf, 10), EISDIR);
	CHECK_ERR(krs_getdents(fd, buf, 8), EINVAL);
	krs_close(fd);
	for (int i = 0; i < 40; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/d/file%02d", i);
		CHECK(krs_unlink(p) == 0, "unlink %s", p);
	}
	CHECK(krs_stat("/d", &st) == 0 && st.st_nlink == 2, "dir nlink 2");
	CHECK(krs_mkdir("/d/sub", 0700) == 0 && krs_stat("/d", &st) == 0 &&
	    st.st_nlink == 3, "sub raises nlink");
	CHECK(krs_rmdir("/d/sub") == 0 && krs_rmdir("/d") == 0, "rmdir");
	CHECK_ERR(krs_stat("/d", &st), ENOENT);
	PASS("mkdir/rmdir/getdents (40 entries through a 256-byte buffer), EEXIST ENOENT ENOTDIR ENOTEMPTY EISDIR EINVAL, nlink");

	/* Paths: relative, .., chdir, getcwd, trailing slash. */
	CHECK(krs_mkdir("/a", 0755) == 0 && krs_mkdir("/a/b", 0755) == 0 &&
	    krs_mkdir("/a/b/c", 0755) == 0, "mkdir -p");
	CHECK(krs_chdir("/a/b") == 0, "chdir");
	CHECK(krs_getcwd(buf, sizeof(buf)) != NULL && strcmp(buf, "/a/b") == 0, "cwd %s", buf);
	write_file("rel", "relative");
	CHECK(read_file("/a/b/rel", buf, sizeof(buf)) == 8, "relative create");
	CHECK(read_file("c/../rel", buf, sizeof(buf)) == 8, "c/..");
	CHECK(read_file("../../a/b/./rel", buf, sizeof(buf)) == 8, "../..");
	CHECK(read_file("/../../a/b/rel", buf, sizeof(buf)) == 8, "/.. stays at /");
	CHECK_ERR(krs_open("rel/", KRS_O_RDONLY), ENOTDIR);
	CHECK(krs_stat("c/", &st) == 0, "dir/ ok");
	CHECK(krs_chdir("..") == 0 && krs_getcwd(buf, sizeof(buf)) && strcmp(buf, "/a") == 0, "cwd /a");
	CHECK(krs_getcwd(buf, 2) == NULL && errno == ERANGE, "getcwd ERANGE");
	CHECK_ERR(krs_chdir("/hello"), ENOTDIR);
	CHECK(krs_chdir("/") == 0, "chdir /");
	char longname[300];
	memset(longname, 'n', 299);
	longname[0] = '/';
	longname[299] = '\0';
	CHECK_ERR(krs_open(longname, KRS_O_RDONLY), ENAMETOOLONG);
	CHECK_ERR(krs_open("", KRS_O_RDONLY), ENOENT);
	PASS("relative paths, ., .., /.., chdir/getcwd, trailing slash ENOTDIR, ENAMETOOLONG, empty path ENOENT");

	/* openat relative to a directory descriptor. */
	int dfd = krs_open("/a/b", KRS_O_RDONLY | KRS_O_DIRECTORY);
	CHECK(dfd >= 0, "open dir");
	fd = krs_openat(dfd, "rel", KRS_O_RDONLY);
	CHECK(fd >= 0 && krs_read(fd, buf, 8) == 8 && memcmp(buf, "relative", 8) == 0, "openat");
	CHECK_ERR(krs_openat(fd, "x", KRS_O_RDONLY), ENOTDIR);
	krs_close(fd);
	fd = krs_openat(dfd, "c/../made", KRS_O_WRONLY | KRS_O_CREAT, 0600);
	CHECK(fd >= 0 && krs_stat("/a/b/made", &st) == 0, "openat O_CREAT below dirfd");
	krs_close(fd);
	fd = krs_openat(dfd, "/hello", KRS_O_RDONLY);
	CHECK(fd >= 0, "absolute path ignores dirfd");
	krs_close(fd);
	CHECK_ERR(krs_openat(777, "rel", KRS_O_RDONLY), EBADF);
	CHECK(krs_openat(777, "/hello", KRS_O_RDONLY) >= 0, "bad dirfd unused for absolute path");
	krs_close(dfd);
	PASS("openat: relative to a directory fd, ENOTDIR for a file fd, EBADF, absolute paths ignore it");

	/* Symlinks. */
	CHECK(krs_symlink("/a/b/rel", "/ln") == 0, "symlink");
	CHECK(krs_symlink("b", "/a/lnb") == 0, "relative dir symlink");
	CHECK(read_file("/ln", buf, sizeof(buf)) == 8 && strcmp(buf, "relative") == 0, "follow");
	CHECK(read_file("/a/lnb/rel", buf, sizeof(buf)) == 8, "follow dir link mid-path");
	CHECK(krs_readlink("/ln", buf, sizeof(buf)) == 8 && memcmp(buf, "/a/b/rel", 8) == 0, "readlink");
	CHECK(krs_lstat("/ln", &st) == 0 && (st.st_mode & KRS_S_IFMT) == KRS_S_IFLNK &&
	    st.st_size == 8, "lstat link");
	CHECK(krs_stat("/ln", &st) == 0 && (st.st_mode & KRS_S_IFMT) == KRS_S_IFREG, "stat follows");
	CHECK_ERR(krs_readlink("/hello", buf, sizeof(buf)), EINVAL);
	CHECK_ERR(krs_open("/ln", KRS_O_RDONLY | KRS_O_NOFOLLOW), ELOOP);
	CHECK(krs_symlink("/loop2", "/loop1") == 0 && krs_symlink("/loop1", "/loop2") == 0, "loop");
	CHECK_ERR(krs_open("/loop1", KRS_O_RDONLY), ELOOP);
	CHECK(krs_symlink("/nowhere", "/dangling") == 0, "dangling");
	CHECK_ERR(krs_stat("/dangling", &st), ENOENT);
	CHECK(krs_lstat("/dangling", &st) == 0, "lstat dangling");
	CHECK_ERR(krs_symlink("x", "/ln"), EEXIST);
	PASS("symlinks: absolute, relative, mid-path, readlink, lstat vs stat, O_NOFOLLOW ELOOP, loop ELOOP, dangling");

	/* O_CREAT through a dangling link creates its target (POSIX, Linux). */
	CHECK_ERR(krs_open("/dangling", KRS_O_WRONLY | KRS_O_CREAT | KRS_O_EXCL, 0644), EEXIST);
	CHECK_ERR(krs_open("/dangling", KRS_O_WRONLY | KRS_O_CREAT | KRS_O_NOFOLLOW, 0644), ELOOP);
	CHECK_ERR(krs_stat("/nowhere", &st), ENOENT);
	fd = krs_open("/dangling", KRS_O_WRONLY | KRS_O_CREAT, 0640);
	CHECK(fd >= 0 && krs_write(fd, "made", 4) == 4, "O_CREAT through a dangling link");
	krs_close(fd);
	CHECK(read_file("/nowhere", buf, sizeof(buf)) == 4 && memcmp(buf, "made", 4) == 0,
	    "the link's target was created");
	CHECK(krs_symlink("rtarget", "/a/rdang") == 0, "relative dangling link");
	fd = krs_open("/a/rdang", KRS_O_WRONLY | KRS_O_CREAT, 0644);
	CHECK(fd >= 0, "O_CREAT through a relative dangling link");
	krs_close(fd);
	CHECK(krs_stat("/a/rtarget", &st) == 0 && krs_stat("/rtarget", &st) != 0,
	    "its target made in the link's directory, not the cwd");
	CHECK(krs_symlink("/chain2", "/chain1") == 0 && krs_symlink("/chain3", "/chain2") == 0,
	    "a chain of dangling links");
	fd = krs_open("/chain1", KRS_O_RDWR | KRS_O_CREAT, 0644);
	CHECK(fd >= 0, "O_CREAT through a chain");
	krs_close(fd);
	CHECK(krs_lstat("/chain3", &st) == 0 && (st.st_mode & KRS_S_IFMT) == KRS_S_IFREG,
	    "the chain's end was created");
	CHECK_ERR(krs_open("/loop1", KRS_O_WRONLY | KRS_O_CREAT, 0644), ELOOP);
	CHECK(krs_symlink("/nodir/file", "/deep") == 0, "link into a missing directory");
	CHECK_ERR(krs_open("/deep", KRS_O_WRONLY | KRS_O_CREAT, 0644), ENOENT);
	PASS("O_CREAT through dangling links: target created (absolute, relative, chains), O_EXCL EEXIST, O_NOFOLLOW ELOOP, loops ELOOP");

	/* Hard links, rename. */
	write_file("/f1", "one");
	CHECK(krs_link("/f1", "/f1b") == 0 && krs_stat("/f1", &st) == 0 &&
	    st.st_nlink == 2, "link nlink 2");
	CHECK_ERR(krs_link("/a", "/alink"), EPERM);
	CHECK_ERR(krs_link("/f1", "/f1b"), EEXIST);
	write_file("/f2", "two");
	CHECK(krs_rename("/f2", "/f1") == 0, "rename over existing");
	CHECK(read_file("/f1", buf, sizeof(buf)) == 3 && strcmp(buf, "two") == 0, "target replaced");
	CHECK(read_file("/f1b", buf, sizeof(buf)) == 3 && strcmp(buf, "one") == 0, "old inode via link");
	CHECK_ERR(krs_stat("/f2", &st), ENOENT);
	CHECK(krs_rename("/f1", "/f1") == 0, "rename to itself");
	CHECK(krs_rename("/f1b", "/a/b/c/moved") == 0 && read_file("/a/b/c/moved", buf, sizeof(buf)) == 3, "move across dirs");
	CHECK_ERR(krs_rename("/a", "/a/b/c/inside"), EINVAL);
	CHECK(krs_mkdir("/e1", 0755) == 0 && krs_mkdir("/e2", 0755) == 0, "dirs");
	CHECK(krs_rename("/e1", "/e2") == 0, "dir over empty dir");
	CHECK_ERR(krs_stat("/e1", &st), ENOENT);
	CHECK_ERR(krs_rename("/e2", "/a"), ENOTEMPTY);
	CHECK_ERR(krs_rename("/e2", "/f1"), ENOTDIR);
	CHECK_ERR(krs_rename("/f1", "/e2"), EISDIR);
	CHECK_ERR(krs_rename("/nope", "/x"), ENOENT);
	CHECK(krs_rename("/e2", "/a/b/e2") == 0 && krs_stat("/a/b/e2/..", &st) == 0, "dir move");
	struct krs_stat sb;
	CHECK(krs_stat("/a/b", &sb) == 0 && st.st_ino == sb.st_ino, ".. of moved dir is new parent");
	PASS("link (EPERM on dir, EEXIST), rename: over file, to itself, across dirs, dir over empty dir, ENOTEMPTY ENOTDIR EISDIR EINVAL, '..' follows");

	/* Unlinked-but-open. */
	write_file("/tmpdata", "still here");
	fd = krs_open("/tmpdata", KRS_O_RDWR);
	CHECK(krs_unlink("/tmpdata") == 0, "unlink open file");
	CHECK_ERR(krs_stat("/tmpdata", &st), ENOENT);
	CHECK(krs_pread(fd, buf, 10, 0) == 10 && memcmp(buf, "still here", 10) == 0, "read after unlink");
	CHECK(krs_pwrite(fd, "X", 1, 0) == 1, "write after unlink");
	CHECK(krs_fstat(fd, &st) == 0 && st.st_nlink == 0, "nlink 0");
	struct krs_statvfs sv1, sv2;
	CHECK(krs_statvfs("/", &sv1) == 0, "statvfs");
	CHECK(krs_close(fd) == 0, "close");
	CHECK(krs_statvfs("/", &sv2) == 0 && sv2.f_bfree == sv1.f_bfree + 1 &&
	    sv2.f_ffree == sv1.f_ffree + 1, "space freed on last close (%llu -> %llu)",
	    (unsigned long long)sv1.f_bfree, (unsigned long long)sv2.f_bfree);
	CHECK(strcmp(sv2.f_fstypename, "tmpfs") == 0 && sv2.f_blocks == 1024, "statvfs fields");
	PASS("unlinked-but-open file readable and writable until close; its page and node freed at close");

	/* NULL pointers from callers: EFAULT, never a crash. */
	fd = krs_open("/hello", KRS_O_RDWR);
	CHECK_ERR(krs_read(fd, NULL, 10), EFAULT);
	CHECK_ERR(krs_write(fd, NULL, 10), EFAULT);
	CHECK(krs_read(fd, NULL, 0) == 0, "zero-length NULL read is fine");
	CHECK_ERR(krs_readv(fd, NULL, 2), EFAULT);
	CHECK_ERR(krs_fstat(fd, NULL), EFAULT);
	CHECK_ERR(krs_stat(NULL, &st), EFAULT);
	CHECK_ERR(krs_statvfs(NULL, &sv1), EFAULT);
	CHECK_ERR(krs_statvfs("/", NULL), EFAULT);
	CHECK_ERR(krs_unmount(NULL, 0), EFAULT);
	CHECK_ERR(krs_rename(NULL, "/x"), EFAULT);
	CHECK_ERR(krs_ctx_create(0, 0, NULL), EFAULT);
	krs_close(fd);
	fd = krs_open("/", KRS_O_RDONLY);
	CHECK_ERR(krs_getdents(fd, NULL, 100), EFAULT);
	krs_close(fd);
	PASS("NULL buffers, paths and result pointers give EFAULT");

	/* dup/dup2 share offsets. */
	write_file("/dupf", "abcdef");
	fd = krs_open("/dupf", KRS_O_RDONLY);
	fd2 = krs_dup(fd);
	CHECK(fd2 > fd, "dup");
	CHECK(krs_read(fd, buf, 2) == 2 && krs_read(fd2, buf, 2) == 2 && buf[0] == 'c', "shared offset");
	CHECK(krs_dup2(fd, 50) == 50 && krs_read(50, buf, 2) == 2 && buf[0] == 'e', "dup2 high fd");
	CHECK(krs_dup2(fd, 50) == 50, "dup2 onto itself-alias");
	CHECK_ERR(krs_dup(999), EBADF);
	CHECK_ERR(krs_dup2(fd, -1), EBADF);
	krs_close(fd);
	krs_close(fd2);
	CHECK(krs_read(50, buf, 1) == 0, "still open through 50");
	krs_close(50);
	PASS("dup/dup2 share the file offset; descriptors independent; EBADF");

	/* chmod/chown/utimens. */
	CHECK(krs_chmod("/dupf", 0600) == 0 && krs_stat("/dupf", &st) == 0 &&
	    (st.st_mode & 07777) == 0600, "chmod");
	CHECK(krs_chown("/dupf", 1000, 1000) == 0 && krs_stat("/dupf", &st) == 0 &&
	    st.st_uid == 1000 && st.st_gid == 1000, "chown");
	struct krs_timespec ts[2] = { { 1000, 5 }, { 2000, 7 } };
	CHECK(krs_utimens("/dupf", ts) == 0 && krs_stat("/dupf", &st) == 0 &&
	    st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec == 2000 &&
	    st.st_mtim.tv_nsec == 7, "utimens");
	struct krs_timespec ts2[2] = { { 0, KRS_UTIME_OMIT }, { 0, KRS_UTIME_NOW } };
	CHECK(krs_utimens("/dupf", ts2) == 0 && krs_stat("/dupf", &st) == 0 &&
	    st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec > 2000, "OMIT/NOW");
	PASS("chmod, chown, utimens with explicit, OMIT and NOW");

	/* Second mount, crossing, busy unmount, cross-device. */
	CHECK(krs_mkdir("/mnt", 0755) == 0, "mkdir mnt");
	CHECK(krs_mount("tmpfs2", "/mnt", "tmpfs", 0, NULL, 0) == 0, "mount /mnt");
	CHECK_ERR(krs_mount("onfile", "/hello", "tmpfs", 0, NULL, 0), ENOTDIR);
	CHECK_ERR(krs_mount("nowhere", "/nope", "tmpfs", 0, NULL, 0), ENOENT);
	write_file("/mnt/inner", "inner");
	CHECK(krs_stat("/mnt/inner", &st) == 0 && krs_stat("/hello", &sb) == 0 &&
	    st.st_dev != sb.st_dev, "different st_dev");
	CHECK(read_file("/mnt/../hello", buf, sizeof(buf)) >= 0, ".. out of mount");
	CHECK_ERR(krs_rename("/mnt/inner", "/inner"), EXDEV);
	CHECK_ERR(krs_link("/mnt/inner", "/inner"), EXDEV);
	CHECK_ERR(krs_rmdir("/mnt"), EBUSY);
	CHECK(krs_statvfs("/mnt/inner", &sv1) == 0 && strcmp(sv1.f_mntonname, "/mnt") == 0 &&
	    strcmp(sv1.f_mntfromname, "tmpfs2") == 0, "statvfs of submount: on %s", sv1.f_mntonname);
	/* Stacking, as Linux does: a mount on /mnt covers the one below. */
	CHECK(krs_mount("again", "/mnt", "tmpfs", 0, NULL, 0) == 0, "stack a mount");
	CHECK_ERR(krs_stat("/mnt/inner", &st), ENOENT);
	CHECK(krs_unmount("/mnt", 0) == 0 && krs_stat("/mnt/inner", &st) == 0,
	    "unmounting the top one uncovers the lower");
	CHECK(krs_chdir("/mnt") == 0 && krs_getcwd(buf, sizeof(buf)) && strcmp(buf, "/mnt") == 0, "cwd in mount");
	fd = krs_open("/mnt/inner", KRS_O_RDONLY);
	CHECK_ERR(krs_unmount("/mnt", 0), EBUSY);
	krs_close(fd);
	CHECK_ERR(krs_unmount("/mnt", 0), EBUSY);	/* cwd inside */
	CHECK(krs_chdir("/") == 0, "leave");
	CHECK_ERR(krs_unmount("/a", 0), EINVAL);
	CHECK(krs_unmount("/mnt", 0) == 0, "unmount");
	CHECK_ERR(krs_stat("/mnt/inner", &st), ENOENT);
	CHECK(krs_mount("ro", "/mnt", "tmpfs", KRS_MNT_RDONLY, NULL, 0) == 0, "ro mount");
	CHECK_ERR(krs_open("/mnt/x", KRS_O_CREAT | KRS_O_WRONLY, 0644), EROFS);
	CHECK_ERR(krs_mkdir("/mnt/x", 0755), EROFS);
	CHECK(krs_statvfs("/mnt", &sv1) == 0 && (sv1.f_flag & KRS_MNT_RDONLY), "ro flag");
	CHECK(krs_unmount("/mnt", 0) == 0, "unmount ro");
	PASS("second mount: stacking, ENOTDIR/ENOENT targets, crossing both ways, st_dev, EXDEV, EBUSY (open file, cwd, rmdir), EINVAL on non-root, read-only EROFS");

	/* fcntl and poll on files; descriptors are the lowest free. */
	fd = krs_open("/hello", KRS_O_RDWR | KRS_O_CLOEXEC);
	CHECK(fd >= 0, "open /hello");
	CHECK(krs_fcntl(fd, KRS_F_GETFL) == KRS_O_RDWR, "F_GETFL: O_RDWR");
	CHECK(krs_fcntl(fd, KRS_F_SETFL, KRS_O_APPEND | KRS_O_NONBLOCK |
	    KRS_O_TRUNC) == 0, "F_SETFL");
	CHECK(krs_fcntl(fd, KRS_F_GETFL) == (KRS_O_RDWR | KRS_O_APPEND |
	    KRS_O_NONBLOCK), "F_SETFL keeps the access mode, drops O_TRUNC");
	CHECK(krs_write(fd, "ab", 2) == 2 && krs_fstat(fd, &st) == 0 &&
	    st.st_size == 2, "append through F_SETFL");
	CHECK(krs_fcntl(fd, KRS_F_GETFD) == KRS_FD_CLOEXEC, "O_CLOEXEC seen");
	CHECK(krs_fcntl(fd, KRS_F_SETFD, 0) == 0 &&
	    krs_fcntl(fd, KRS_F_GETFD) == 0, "F_SETFD clears it");
	fd2 = krs_fcntl(fd, KRS_F_DUPFD, 40);
	CHECK(fd2 == 40, "F_DUPFD >= 40: %d", fd2);
	CHECK(krs_fcntl(fd2, KRS_F_GETFL) & KRS_O_APPEND, "dup shares status flags");
	CHECK(krs_fcntl(fd, KRS_F_DUPFD_CLOEXEC, 40) == 41 &&
	    krs_fcntl(41, KRS_F_GETFD) == KRS_FD_CLOEXEC, "F_DUPFD_CLOEXEC");
	CHECK_ERR(krs_fcntl(fd, 9999), EINVAL);
	CHECK_ERR(krs_fcntl(fd, KRS_F_DUPFD, -1), EINVAL);
	CHECK_ERR(krs_fcntl(77, KRS_F_GETFL), EBADF);
	struct krs_pollfd pf[4] = {
		{ .fd = fd, .events = KRS_POLLIN | KRS_POLLOUT },
		{ .fd = -1, .events = KRS_POLLIN },
		{ .fd = 77, .events = KRS_POLLIN },
		{ .fd = fd2, .events = 0 },
	};
	CHECK(krs_poll(pf, 4, -1) == 2 && pf[0].revents ==
	    (KRS_POLLIN | KRS_POLLOUT) && pf[1].revents == 0 &&
	    pf[2].revents == KRS_POLLNVAL && pf[3].revents == 0,
	    "poll: files always ready, POLLNVAL for a free descriptor");
	CHECK(krs_poll(&pf[3], 1, 30) == 0, "poll: nothing asked, timeout");
	CHECK_ERR(krs_poll(NULL, 1, 0), EFAULT);
	int lowest = krs_dup(fd);
	CHECK(krs_close(41) == 0 && krs_close(fd2) == 0 && krs_close(lowest) == 0,
	    "close dups");
	CHECK(krs_dup(fd) == lowest, "dup takes the lowest free number again");
	krs_close(lowest);
	krs_close(fd);
	PASS("fcntl F_GETFL/F_SETFL/F_GETFD/F_SETFD/F_DUPFD(_CLOEXEC), poll on files (ready, POLLNVAL, timeout), lowest free descriptor");

	/* ENOSPC on a small mount, short write. */
	CHECK(krs_mount("small", "/mnt", "tmpfs", 0, "size=16k", 8) == 0, "small mount");
	fd = krs_open("/mnt/fill", KRS_O_WRONLY | KRS_O_CREAT, 0644);
	ssize_t w = krs_write(fd, big, sizeof(big));
	CHECK(w == sizeof(big), "3 pages fit: %zd", w);
	w = krs_write(fd, big, sizeof(big));
	CHECK(w > 0 && w < (ssize_t)sizeof(big), "short write at full: %zd", w);
	CHECK_ERR(krs_write(fd, big, sizeof(big)), ENOSPC);
	krs_close(fd);
	CHECK(krs_unlink("/mnt/fill") == 0 && krs_unmount("/mnt", 0) == 0, "cleanup");
	PASS("size=16k mount: short write then ENOSPC; space returns on unlink");

	CHECK(krs_shutdown() == 0, "shutdown");
	DONE();
}
