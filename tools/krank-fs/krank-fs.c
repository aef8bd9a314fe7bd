/*
 * krank-fs - work on an ext2 image without mounting it on the host or being
 * root, in the manner of rump's fs-utils: ls, cat, cp, put, get, mkdir, rm,
 * rmdir, mv, ln, stat, df.  It boots KRANK's own components in this process
 * (kernel base, VFS, ext2 over the block device and its buffer cache),
 * mounts the image on "/" with krs_mount and works through the krs_*
 * system-call functions, as an isolate would.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <krank/krs.h>

/* From the kernel base (kern/kern.h, whose errno names clash with libc's). */
size_t klog_read(char *buf, size_t len);
void klog_console(int lvl);

static const char *prog = "krank-fs";
static const char *image;
static int had_error;
static uint32_t owner_uid, owner_gid;

/*
 * The last kernel log line that starts with "ext2: " (after the time and
 * level prefix, if any): the driver's reason for a refusal or an EIO.
 */
static const char *
ext2_reason(void)
{
	static char ring[16384], line[512];
	size_t n = klog_read(ring, sizeof(ring) - 1);
	const char *found = NULL, *p;
	ring[n] = '\0';
	for (p = ring; (p = strstr(p, "ext2: ")) != NULL; p++)
		found = p;
	if (found == NULL)
		return NULL;
	found += 6;
	/* skip "IMAGE: " */
	if (strncmp(found, image, strlen(image)) == 0 &&
	    strncmp(found + strlen(image), ": ", 2) == 0)
		found += strlen(image) + 2;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(found, "\n"), found);
	return line;
}

/*
 * Damage the driver worked around without failing the command (a live
 * inode the inode bitmap called free, marked in use again): each such
 * kernel log line once, so the user learns to run e2fsck.
 */
static void
print_repairs(void)
{
	static char ring[16384];
	size_t n = klog_read(ring, sizeof(ring) - 1);
	const char *p, *q;
	ring[n] = '\0';
	for (p = ring; (q = strstr(p, "ext2: ")) != NULL; p = q + 1) {
		size_t len = strcspn(q, "\n");
		if (memmem(q, len, "not reused", 10) != NULL)
			fprintf(stderr, "%s: warning: %.*s\n", prog,
			    (int)(len - 6), q + 6);
	}
}

static const char *
errstr(int e)
{
	static char buf[128];
	snprintf(buf, sizeof(buf), "%s", strerror(e));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/* One line: "krank-fs: WHAT: why (detail)". */
static void
fail(const char *what, int e)
{
	char detail[600] = "";
	struct krs_statvfs sv;
	const char *r;

	if (e == ENOSPC && krs_statvfs("/", &sv) == 0) {
		snprintf(detail, sizeof(detail), " (image full: %llu of %llu "
		    "blocks, %llu of %llu inodes free)",
		    (unsigned long long)sv.f_bfree,
		    (unsigned long long)sv.f_blocks,
		    (unsigned long long)sv.f_ffree,
		    (unsigned long long)sv.f_files);
	} else if ((e == EIO || e == EROFS) && (r = ext2_reason()) != NULL) {
		snprintf(detail, sizeof(detail), " (%s)", r);
	}
	fprintf(stderr, "%s: %s: %s%s\n", prog, what, errstr(e), detail);
	had_error = 1;
}

static void
host_fail(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, errstr(errno));
	had_error = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: krank-fs [-r] [-C MiB] IMAGE COMMAND [ARGUMENTS]\n"
"\n"
"Read and change an ext2 file system image without mounting it on the host\n"
"and without root.  krank-fs runs KRANK's own kernel components in-process\n"
"(VFS, ext2 driver, block device with buffer cache), mounts IMAGE on \"/\"\n"
"and works through KRANK's system calls.  Paths inside the image are\n"
"absolute (\"/etc/motd\"); a relative one is taken from the root.\n"
"\n"
"Commands:\n"
"  ls [-l] [PATH...]       list directories (or name files); -l: long form\n"
"  cat PATH...             write files to standard output\n"
"  get PATH HOSTFILE       copy a file out of the image (HOSTFILE - : stdout)\n"
"  put HOSTFILE PATH       copy a host file into the image, replacing PATH;\n"
"                          PATH may be a directory to put the file into;\n"
"                          permission bits and modification time are kept\n"
"  cp SRC DST              copy a file inside the image\n"
"  mkdir [-p] PATH...      make directories (-p: parents too, no error if\n"
"                          they exist)\n"
"  rm PATH...              remove files and symbolic links\n"
"  rmdir PATH...           remove empty directories\n"
"  mv SRC DST              rename (DST an existing directory: move into it);\n"
"                          an existing file DST is replaced\n"
"  ln [-s] TARGET PATH     hard link PATH to TARGET; -s: symbolic link\n"
"  stat PATH...            inode details (symbolic links not followed)\n"
"  df                      blocks and inodes used and free\n"
"\n"
"Options:\n"
"  -r        mount the image read-only (writing commands fail)\n"
"  -C MiB    buffer cache size (default 8)\n"
"  -h, --help  this help\n"
"\n"
"The image must be ext2 (revision 0 or 1, as mke2fs -t ext2 makes it).\n"
"Images with ext3/ext4-only incompatible features are refused; images with\n"
"read-only-compatible features this driver lacks are mounted read-only.\n"
"New files, directories and links belong to the user running krank-fs.\n"
"Every change is written back when the command ends.\n"
"\n"
"Exit status: 0 on success, 1 if any operation failed, 2 on a usage error\n"
"or an image that cannot be mounted.\n"
"\n"
"Examples:\n"
"  mke2fs -q -t ext2 disk.img 8M\n"
"  krank-fs disk.img mkdir -p /etc/app\n"
"  krank-fs disk.img put app.conf /etc/app/\n"
"  krank-fs disk.img ls -l /etc/app\n"
"  krank-fs disk.img get /etc/app/app.conf copy.conf\n");
}

static const char *
lastname(const char *path)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	return path + n;
}

/* Paths in the image are taken from its root. */
static const char *
ipath(const char *path, char *buf, size_t len)
{
	if (path[0] == '/')
		return path;
	snprintf(buf, len, "/%s", path);
	return buf;
}

/* New objects belong to the user running the tool. */
static void
give(const char *path)
{
	if (owner_uid != 0 || owner_gid != 0)
		krs_chown(path, owner_uid, owner_gid);
}

static char
typechar(uint32_t mode)
{
	switch (mode & KRS_S_IFMT) {
	case KRS_S_IFDIR: return 'd';
	case KRS_S_IFLNK: return 'l';
	case KRS_S_IFCHR: return 'c';
	case KRS_S_IFBLK: return 'b';
	case KRS_S_IFIFO: return 'p';
	case KRS_S_IFSOCK: return 's';
	}
	return '-';
}

static void
modestr(uint32_t mode, char *s)
{
	const char *rwx = "rwxrwxrwx";
	int i;
	s[0] = typechar(mode);
	for (i = 0; i < 9; i++)
		s[i + 1] = (mode & (0400 >> i)) ? rwx[i] : '-';
	if (mode & 04000)
		s[3] = (mode & 0100) ? 's' : 'S';
	if (mode & 02000)
		s[6] = (mode & 010) ? 's' : 'S';
	if (mode & 01000)
		s[9] = (mode & 01) ? 't' : 'T';
	s[10] = '\0';
}

static void
print_long(const char *path, const struct krs_stat *st, const char *name)
{
	char ms[11], tb[32], target[4097];
	time_t t = (time_t)st->st_mtim.tv_sec;
	modestr(st->st_mode, ms);
	strftime(tb, sizeof(tb), "%Y-%m-%d %H:%M", gmtime(&t));
	printf("%s %3u %5u %5u %10lld %s %s", ms, st->st_nlink, st->st_uid,
	    st->st_gid, (long long)st->st_size, tb, name);
	if ((st->st_mode & KRS_S_IFMT) == KRS_S_IFLNK) {
		ssize_t n = krs_readlink(path, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = '\0';
			printf(" -> %s", target);
		}
	}
	printf("\n");
}

static int
strpcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
do_ls1(const char *arg, int lflag, int header)
{
	char pbuf[4200], child[8400], dbuf[8192];
	const char *path = ipath(arg, pbuf, sizeof(pbuf));
	struct krs_stat st;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	ssize_t got;
	int fd, rv;

	/* Like ls: a symlink named on the command line is listed itself,
	 * unless the path ends in "/". */
	rv = path[strlen(path) - 1] == '/' ? krs_stat(path, &st) :
	    krs_lstat(path, &st);
	if (rv != 0) {
		fail(arg, errno);
		return;
	}
	if ((st.st_mode & KRS_S_IFMT) != KRS_S_IFDIR) {
		if (lflag)
			print_long(path, &st, arg);
		else
			printf("%s\n", arg);
		return;
	}
	if ((fd = krs_open(path, KRS_O_RDONLY | KRS_O_DIRECTORY)) < 0) {
		fail(arg, errno);
		return;
	}
	while ((got = krs_getdents(fd, dbuf, sizeof(dbuf))) > 0) {
		for (ssize_t off = 0; off < got;) {
			struct krs_dirent *d = (struct krs_dirent *)(dbuf + off);
			off += d->d_reclen;
			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				names = realloc(names, cap * sizeof(*names));
				if (names == NULL) {
					perror(prog);
					exit(1);
				}
			}
			names[n++] = strdup(d->d_name);
		}
	}
	if (got < 0)
		fail(arg, errno);
	krs_close(fd);
	qsort(names, n, sizeof(*names), strpcmp);
	if (header)
		printf("%s:\n", arg);
	for (i = 0; i < n; i++) {
		if (lflag) {
			snprintf(child, sizeof(child), "%s%s%s", path,
			    path[strlen(path) - 1] == '/' ? "" : "/", names[i]);
			if (krs_lstat(child, &st) != 0)
				fail(child, errno);
			else
				print_long(child, &st, names[i]);
		} else {
			printf("%s\n", names[i]);
		}
		free(names[i]);
	}
	free(names);
}

static int
cmd_ls(int argc, char **argv)
{
	int lflag = 0, i;
	if (argc > 1 && strcmp(argv[1], "-l") == 0) {
		lflag = 1;
		argc--;
		argv++;
	}
	if (argc == 1)
		do_ls1("/", lflag, 0);
	for (i = 1; i < argc; i++)
		do_ls1(argv[i], lflag, argc > 2);
	return 0;
}

/* Copy a file of the image to a host descriptor. */
static int
copy_out(const char *arg, int hfd, const char *hostname)
{
	static char buf[1 << 16];
	char pbuf[4200];
	ssize_t n;
	int fd = krs_open(ipath(arg, pbuf, sizeof(pbuf)), KRS_O_RDONLY);
	if (fd < 0) {
		fail(arg, errno);
		return -1;
	}
	while ((n = krs_read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t w = 0; w < n;) {
			ssize_t r = write(hfd, buf + w, (size_t)(n - w));
			if (r < 0) {
				host_fail(hostname);
				krs_close(fd);
				return -1;
			}
			w += r;
		}
	}
	if (n < 0)
		fail(arg, errno);
	krs_close(fd);
	return n < 0 ? -1 : 0;
}

static int
cmd_cat(int argc, char **argv)
{
	if (argc < 2)
		return -2;
	for (int i = 1; i < argc; i++)
		copy_out(argv[i], STDOUT_FILENO, "standard output");
	return 0;
}

static int
cmd_get(int argc, char **argv)
{
	int fd;
	if (argc != 3)
		return -2;
	if (strcmp(argv[2], "-") == 0)
		return copy_out(argv[1], STDOUT_FILENO, "standard output"), 0;
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0) {
		host_fail(argv[2]);
		return 0;
	}
	if (copy_out(argv[1], fd, argv[2]) != 0) {
		close(fd);
		unlink(argv[2]);
		return 0;
	}
	if (close(fd) != 0)
		host_fail(argv[2]);
	return 0;
}

/* Destination of put/cp: inside DST when DST is a directory. */
static void
dest_path(const char *dst, const char *base, char *out, size_t len)
{
	struct krs_stat st;
	char pbuf[4200];
	const char *p = ipath(dst, pbuf, sizeof(pbuf));
	if (krs_stat(p, &st) == 0 && (st.st_mode & KRS_S_IFMT) == KRS_S_IFDIR)
		snprintf(out, len, "%s%s%s", p, p[strlen(p) - 1] == '/' ? "" :
		    "/", base);
	else
		snprintf(out, len, "%s", p);
}

/* Copy from a readable source (host fd or krs fd) into the image. */
static int
copy_in(int src, int src_is_krs, const char *srcname, const char *dst,
    uint32_t mode)
{
	static char buf[1 << 16];
	int fd, created;
	struct krs_stat st;
	ssize_t n;

	created = krs_lstat(dst, &st) != 0;
	fd = krs_open(dst, KRS_O_WRONLY | KRS_O_CREAT | KRS_O_TRUNC, mode);
	if (fd < 0) {
		fail(dst, errno);
		return -1;
	}
	if (created)
		give(dst);
	for (;;) {
		n = src_is_krs ? krs_read(src, buf, sizeof(buf)) :
		    read(src, buf, sizeof(buf));
		if (n < 0) {
			if (src_is_krs)
				fail(srcname, errno);
			else
				host_fail(srcname);
			break;
		}
		if (n == 0)
			break;
		for (ssize_t w = 0; w < n;) {
			ssize_t r = krs_write(fd, buf + w, (size_t)(n - w));
			if (r < 0) {
				fail(dst, errno);
				krs_close(fd);
				return -1;
			}
			w += r;
		}
	}
	if (krs_close(fd) != 0) {
		fail(dst, errno);
		return -1;
	}
	return n < 0 ? -1 : 0;
}

static int
cmd_put(int argc, char **argv)
{
	char dst[8400];
	struct stat st;
	int fd;

	if (argc != 3)
		return -2;
	fd = strcmp(argv[1], "-") == 0 ? STDIN_FILENO : open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		host_fail(argv[1]);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: %s: is a directory (put copies files)\n",
		    prog, argv[1]);
		had_error = 1;
		close(fd);
		return 0;
	}
	dest_path(argv[2], lastname(argv[1]), dst, sizeof(dst));
	if (copy_in(fd, 0, argv[1], dst, st.st_mode & 07777) == 0 &&
	    S_ISREG(st.st_mode)) {
		struct krs_timespec ts[2] = {
			{ 0, KRS_UTIME_OMIT },
			{ st.st_mtim.tv_sec, st.st_mtim.tv_nsec },
		};
		if (krs_utimens(dst, ts) != 0)
			fail(dst, errno);
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return 0;
}

static int
cmd_cp(int argc, char **argv)
{
	char dst[8400], pbuf[4200];
	const char *src;
	struct krs_stat st, dt;
	int fd;

	if (argc != 3)
		return -2;
	src = ipath(argv[1], pbuf, sizeof(pbuf));
	if ((fd = krs_open(src, KRS_O_RDONLY)) < 0 || krs_fstat(fd, &st) != 0) {
		fail(argv[1], errno);
		return 0;
	}
	if ((st.st_mode & KRS_S_IFMT) != KRS_S_IFREG) {
		fail(argv[1], (st.st_mode & KRS_S_IFMT) == KRS_S_IFDIR ?
		    EISDIR : EINVAL);
		krs_close(fd);
		return 0;
	}
	dest_path(argv[2], lastname(argv[1]), dst, sizeof(dst));
	if (krs_stat(dst, &dt) == 0 && dt.st_ino == st.st_ino) {
		fprintf(stderr, "%s: %s and %s are the same file\n", prog,
		    argv[1], dst);
		had_error = 1;
	} else {
		copy_in(fd, 1, argv[1], dst, st.st_mode & 07777);
	}
	krs_close(fd);
	return 0;
}

/* mkdir -p: each prefix of path in turn, front to back.  A loop, not
 * recursion on the parent: the depth of a path is the caller's to choose
 * (thousands of components fit in PATH_MAX), and it must not choose this
 * program's stack use. */
static int
mkdir_parents(const char *path)
{
	char buf[4200];
	struct krs_stat st;
	size_t n = strlen(path);

	if (n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		if (buf[i - 1] == '/')
			continue;	/* "//": an empty component */
		buf[i] = '\0';
		if (krs_mkdir(buf, 0755) == 0)
			give(buf);
		else if (errno != EEXIST)
			return -1;
		else if (krs_stat(buf, &st) != 0)
			return -1;
		else if ((st.st_mode & KRS_S_IFMT) != KRS_S_IFDIR) {
			errno = i == n ? EEXIST : ENOTDIR;
			return -1;
		}
		buf[i] = path[i];
	}
	return 0;
}

static int
mkdir1(const char *path, int pflag)
{
	if (pflag)
		return mkdir_parents(path);
	if (krs_mkdir(path, 0755) != 0)
		return -1;
	give(path);
	return 0;
}

static int
cmd_mkdir(int argc, char **argv)
{
	char pbuf[4200];
	int pflag = 0;
	if (argc > 1 && strcmp(argv[1], "-p") == 0) {
		pflag = 1;
		argc--;
		argv++;
	}
	if (argc < 2)
		return -2;
	for (int i = 1; i < argc; i++) {
		const char *p = ipath(argv[i], pbuf, sizeof(pbuf));
		if (strcmp(p, "/") == 0 && pflag)
			continue;
		if (mkdir1(p, pflag) != 0)
			fail(argv[i], errno);
	}
	return 0;
}

static int
cmd_rm(int argc, char **argv)
{
	char pbuf[4200];
	if (argc < 2)
		return -2;
	for (int i = 1; i < argc; i++)
		if (krs_unlink(ipath(argv[i], pbuf, sizeof(pbuf))) != 0)
			fail(argv[i], errno);
	return 0;
}

static int
cmd_rmdir(int argc, char **argv)
{
	char pbuf[4200];
	if (argc < 2)
		return -2;
	for (int i = 1; i < argc; i++)
		if (krs_rmdir(ipath(argv[i], pbuf, sizeof(pbuf))) != 0)
			fail(argv[i], errno);
	return 0;
}

static int
cmd_mv(int argc, char **argv)
{
	char sbuf[4200], dbuf[4200], dst[8400];
	struct krs_stat ss, ds;
	const char *src, *d;

	if (argc != 3)
		return -2;
	src = ipath(argv[1], sbuf, sizeof(sbuf));
	d = ipath(argv[2], dbuf, sizeof(dbuf));
	snprintf(dst, sizeof(dst), "%s", d);
	/* mv x dir: into dir, unless x is that very directory. */
	if (krs_stat(d, &ds) == 0 && (ds.st_mode & KRS_S_IFMT) == KRS_S_IFDIR &&
	    krs_lstat(src, &ss) == 0 && ss.st_ino != ds.st_ino)
		snprintf(dst, sizeof(dst), "%s%s%s", d,
		    d[strlen(d) - 1] == '/' ? "" : "/", lastname(src));
	if (krs_rename(src, dst) != 0) {
		char what[8700];
		snprintf(what, sizeof(what), "%s -> %s", argv[1], dst);
		fail(what, errno);
	}
	return 0;
}

static int
cmd_ln(int argc, char **argv)
{
	char tbuf[4200], pbuf[4200];
	int sflag = 0;
	if (argc > 1 && strcmp(argv[1], "-s") == 0) {
		sflag = 1;
		argc--;
		argv++;
	}
	if (argc != 3)
		return -2;
	const char *path = ipath(argv[2], pbuf, sizeof(pbuf));
	if (sflag) {
		/* The target is stored as given. */
		if (krs_symlink(argv[1], path) != 0)
			fail(argv[2], errno);
	} else if (krs_link(ipath(argv[1], tbuf, sizeof(tbuf)), path) != 0) {
		fail(argv[2], errno);
	}
	return 0;
}

static int
cmd_stat(int argc, char **argv)
{
	char pbuf[4200], ms[11];
	struct krs_stat st;
	if (argc < 2)
		return -2;
	for (int i = 1; i < argc; i++) {
		if (krs_lstat(ipath(argv[i], pbuf, sizeof(pbuf)), &st) != 0) {
			fail(argv[i], errno);
			continue;
		}
		modestr(st.st_mode, ms);
		printf("  File: %s\n", argv[i]);
		printf("  Size: %lld\tBlocks: %lld\tInode: %llu\tLinks: %u\n",
		    (long long)st.st_size, (long long)st.st_blocks,
		    (unsigned long long)st.st_ino, st.st_nlink);
		printf("Access: (%04o/%s)\tUid: %u\tGid: %u\n",
		    st.st_mode & 07777, ms, st.st_uid, st.st_gid);
		printf("Access: %lld.%09lld\nModify: %lld.%09lld\n"
		    "Change: %lld.%09lld\n",
		    (long long)st.st_atim.tv_sec, (long long)st.st_atim.tv_nsec,
		    (long long)st.st_mtim.tv_sec, (long long)st.st_mtim.tv_nsec,
		    (long long)st.st_ctim.tv_sec, (long long)st.st_ctim.tv_nsec);
	}
	return 0;
}

static int
cmd_df(int argc, char **argv)
{
	struct krs_statvfs sv;
	(void)argv;
	if (argc != 1)
		return -2;
	if (krs_statvfs("/", &sv) != 0) {
		fail("/", errno);
		return 0;
	}
	printf("%-12s %10s %10s %10s %10s %10s\n", "Block size", "Blocks",
	    "Used", "Free", "Inodes", "IFree");
	printf("%-12llu %10llu %10llu %10llu %10llu %10llu\n",
	    (unsigned long long)sv.f_bsize, (unsigned long long)sv.f_blocks,
	    (unsigned long long)(sv.f_blocks - sv.f_bfree),
	    (unsigned long long)sv.f_bfree, (unsigned long long)sv.f_files,
	    (unsigned long long)sv.f_ffree);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
	int writes;
} cmds[] = {
	{ "ls", cmd_ls, 0 }, { "cat", cmd_cat, 0 }, { "get", cmd_get, 0 },
	{ "put", cmd_put, 1 }, { "cp", cmd_cp, 1 }, { "mkdir", cmd_mkdir, 1 },
	{ "rm", cmd_rm, 1 }, { "rmdir", cmd_rmdir, 1 }, { "mv", cmd_mv, 1 },
	{ "ln", cmd_ln, 1 }, { "stat", cmd_stat, 0 }, { "df", cmd_df, 0 },
};

int
main(int argc, char **argv)
{
	char err[256], opts[32];
	struct krs_statvfs sv;
	unsigned long cache = 8;
	int c, rdonly = 0, rv;
	size_t i;

	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	while ((c = getopt(argc, argv, "+rC:h")) != -1) {
		switch (c) {
		case 'r':
			rdonly = 1;
			break;
		case 'C':
			cache = strtoul(optarg, NULL, 10);
			if (cache == 0 || cache > 65536) {
				fprintf(stderr, "%s: -C %s: want 1..65536 (MiB)\n",
				    prog, optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	image = argv[optind];
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, argv[optind + 1]) == 0)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		fprintf(stderr, "%s: unknown command '%s' (try krank-fs --help)\n",
		    prog, argv[optind + 1]);
		return 2;
	}
	if (!cmds[i].writes)
		rdonly = 1;
	owner_uid = (uint32_t)getuid();
	owner_gid = (uint32_t)getgid();
	klog_console(0);	/* the tool reports errors itself */
	if (krs_boot("vfs,ext2", err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: cannot start KRANK's components: %s\n",
		    prog, err);
		return 2;
	}
	krs_umask(0);
	snprintf(opts, sizeof(opts), "cache=%lu", cache);
	if (krs_mount(image, "/", "ext2", rdonly ? KRS_MNT_RDONLY : 0, opts,
	    strlen(opts)) != 0) {
		int e = errno;
		const char *r = ext2_reason();
		if (r != NULL && strncmp(r, "cannot open", 11) != 0)
			fprintf(stderr, "%s: %s: %s\n", prog, image, r);
		else
			fprintf(stderr, "%s: %s: %s\n", prog, image, errstr(e));
		krs_shutdown();
		return 2;
	}
	if (!rdonly && krs_statvfs("/", &sv) == 0 &&
	    (sv.f_flag & KRS_MNT_RDONLY)) {
		const char *r = ext2_reason();
		fprintf(stderr, "%s: %s: %s\n", prog, image,
		    r ? r : "mounted read-only");
	}
	argc -= optind + 1;
	argv += optind + 1;
	rv = cmds[i].fn(argc, argv);
	print_repairs();
	if (krs_unmount("/", 0) != 0) {
		fprintf(stderr, "%s: %s: writing back changes failed: %s\n",
		    prog, image, errstr(errno));
		had_error = 1;
	}
	krs_shutdown();
	if (rv == -2) {
		fprintf(stderr, "%s: %s: wrong arguments (try krank-fs --help)\n",
		    prog, argv[0]);
		return 2;
	}
	return had_error ? 1 : 0;
}
