/*
 * krank-fs - work on an ext2 image without mounting it or being root, in
 * the manner of rump's fs-utils: ls, cat, cp, put, get, mkdir, rm, rmdir,
 * mv, ln, stat, df.  Built on KRANK's own components: the kernel base, the
 * block device with its buffer cache, and the ext2 driver, driven through
 * the driver's inode-level interface (fs/ext2/ext2.h).
 */
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
#include "dev/blk/blk.h"
#include "fs/ext2/ext2.h"
#include "fs/ext2/ext2_fs.h"

/* NetBSD errno numbers (what the driver returns) and their meanings. */
static const struct {
	int num;
	const char *msg;
} nb_errs[] = {
	{ 1, "operation not permitted" }, { 2, "no such file or directory" },
	{ 5, "input/output error" }, { 6, "device not configured" },
	{ 12, "out of memory" }, { 13, "permission denied" },
	{ 15, "not a regular file or block device" }, { 16, "busy" },
	{ 17, "file exists" }, { 18, "cross-device link" },
	{ 20, "not a directory" }, { 21, "is a directory" },
	{ 22, "invalid argument" }, { 27, "file too large" },
	{ 28, "no space left on device" }, { 30, "read-only file system" },
	{ 31, "too many links" }, { 62, "too many levels of symbolic links" },
	{ 63, "file name too long" }, { 66, "directory not empty" },
	{ 79, "not an ext2 file system" }, { 86, "not supported" },
};

static const char *prog = "krank-fs";
static const char *image;
static struct ext2fs *fs;
static int had_error;

static const char *
nb_strerror(int e)
{
	static char buf[32];
	size_t i;
	for (i = 0; i < sizeof(nb_errs) / sizeof(nb_errs[0]); i++)
		if (nb_errs[i].num == e)
			return nb_errs[i].msg;
	snprintf(buf, sizeof(buf), "error %d", e);
	return buf;
}

/* One line: "krank-fs: WHAT: why (detail)". */
static void
fail(const char *what, int e)
{
	char detail[256] = "";
	if (e == 28 && fs != NULL) {
		struct ext2_statfs st;
		ext2_statfs(fs, &st);
		snprintf(detail, sizeof(detail), " (image full: %llu of %llu "
		    "blocks, %llu of %llu inodes free)",
		    (unsigned long long)st.bfree, (unsigned long long)st.blocks,
		    (unsigned long long)st.ffree, (unsigned long long)st.files);
	} else if ((e == 5 || e == 30) && fs != NULL &&
	    ext2_lasterror(fs, NULL)[0] != '\0') {
		snprintf(detail, sizeof(detail), " (%s)",
		    ext2_lasterror(fs, NULL));
	}
	fprintf(stderr, "%s: %s: %s%s\n", prog, what, nb_strerror(e), detail);
	had_error = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: krank-fs [-r] [-C MiB] IMAGE COMMAND [ARGUMENTS]\n"
"\n"
"Read and change an ext2 file system image without mounting it and without\n"
"root, through KRANK's own ext2 driver and buffer cache.  Paths inside the\n"
"image are absolute (\"/etc/motd\"); a relative one is taken from the root.\n"
"\n"
"Commands:\n"
"  ls [-l] [PATH...]       list directories (or name files); -l: long form\n"
"  cat PATH...             write files to standard output\n"
"  get PATH HOSTFILE       copy a file out of the image (HOSTFILE - : stdout)\n"
"  put HOSTFILE PATH       copy a host file into the image, replacing PATH;\n"
"                          PATH may be a directory to put the file into\n"
"  cp SRC DST              copy a file inside the image\n"
"  mkdir [-p] PATH...      make directories (-p: parents too, no error if\n"
"                          they exist)\n"
"  rm PATH...              remove files and symbolic links\n"
"  rmdir PATH...           remove empty directories\n"
"  mv SRC DST              rename (DST an existing directory: move into it)\n"
"  ln [-s] TARGET PATH     hard link PATH to TARGET; -s: symbolic link\n"
"  stat PATH...            inode details\n"
"  df                      blocks and inodes used and free\n"
"\n"
"Options:\n"
"  -r        open the image read-only (writing commands fail)\n"
"  -C MiB    buffer cache size (default 8)\n"
"  -h        this help\n"
"\n"
"The image must be ext2 (revision 0 or 1, as mke2fs -t ext2 makes it).\n"
"Images with ext3/ext4-only incompatible features are refused; images with\n"
"read-only-compatible features this driver lacks are opened read-only.\n"
"Every change is written back when the command ends.\n"
"\n"
"Exit status: 0 on success, 1 if any operation failed, 2 on a usage error\n"
"or an image that cannot be opened.\n"
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
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Resolve a path; relative paths start at the root. */
static int
lookup(const char *path, int follow, struct ext2_inode **ipp)
{
	return ext2_namei(fs, path, follow, ipp);
}

static char
typechar(uint32_t mode)
{
	switch (mode & EXT2_S_IFMT) {
	case EXT2_S_IFDIR: return 'd';
	case EXT2_S_IFLNK: return 'l';
	case EXT2_S_IFCHR: return 'c';
	case EXT2_S_IFBLK: return 'b';
	case EXT2_S_IFIFO: return 'p';
	case EXT2_S_IFSOCK: return 's';
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
print_long(struct ext2_inode *ip, const char *name)
{
	struct ext2_attr a;
	char ms[11], tb[32], target[4096];
	time_t t;
	ext2_getattr(ip, &a);
	modestr(a.mode, ms);
	t = (time_t)a.mtime;
	strftime(tb, sizeof(tb), "%Y-%m-%d %H:%M", gmtime(&t));
	printf("%s %3u %5u %5u %10llu %s %s", ms, a.nlink, a.uid, a.gid,
	    (unsigned long long)a.size, tb, name);
	if (EXT2_ISLNK(a.mode)) {
		size_t n = 0;
		if (ext2_readlink(ip, target, sizeof(target) - 1, &n) == 0) {
			target[n] = '\0';
			printf(" -> %s", target);
		}
	}
	printf("\n");
}

struct lsent {
	char *name;
	uint32_t ino;
};
struct lsctx {
	struct lsent *v;
	size_t n, cap;
};

static int
ls_fill(void *arg, const char *name, size_t namelen, uint32_t ino, int dtype,
    uint64_t next)
{
	struct lsctx *c = arg;
	(void)dtype;
	(void)next;
	if ((namelen == 1 && name[0] == '.') ||
	    (namelen == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		if (c->v == NULL) {
			perror(prog);
			exit(1);
		}
	}
	c->v[c->n].name = strndup(name, namelen);
	c->v[c->n].ino = ino;
	c->n++;
	return 0;
}

static int
lscmp(const void *a, const void *b)
{
	return strcmp(((const struct lsent *)a)->name,
	    ((const struct lsent *)b)->name);
}

static void
do_ls1(const char *path, int lflag, int header)
{
	struct ext2_inode *ip, *cp;
	struct ext2_attr a;
	struct lsctx c = { NULL, 0, 0 };
	uint64_t off = 0;
	int e, eof = 0;
	size_t i;

	/* Like ls: a symlink named on the command line is listed itself,
	 * unless the path ends in "/". */
	if ((e = lookup(path, path[strlen(path) - 1] == '/', &ip)) != 0) {
		fail(path, e);
		return;
	}
	ext2_getattr(ip, &a);
	if (!EXT2_ISDIR(a.mode)) {
		if (lflag)
			print_long(ip, path);
		else
			printf("%s\n", path);
		ext2_iput(ip);
		return;
	}
	e = ext2_readdir(ip, &off, ls_fill, &c, &eof);
	if (e != 0)
		fail(path, e);
	qsort(c.v, c.n, sizeof(*c.v), lscmp);
	if (header)
		printf("%s:\n", path);
	for (i = 0; i < c.n; i++) {
		if (lflag) {
			if ((e = ext2_iget(fs, c.v[i].ino, &cp)) != 0) {
				char what[4200];
				snprintf(what, sizeof(what), "%s/%s", path,
				    c.v[i].name);
				fail(what, e);
			} else {
				print_long(cp, c.v[i].name);
				ext2_iput(cp);
			}
		} else {
			printf("%s\n", c.v[i].name);
		}
		free(c.v[i].name);
	}
	free(c.v);
	ext2_iput(ip);
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
copy_out(const char *path, int fd, const char *hostname)
{
	struct ext2_inode *ip;
	struct ext2_attr a;
	static char buf[1 << 16];
	uint64_t off = 0;
	size_t n;
	int e;

	if ((e = lookup(path, 1, &ip)) != 0) {
		fail(path, e);
		return -1;
	}
	ext2_getattr(ip, &a);
	if (EXT2_ISDIR(a.mode)) {
		fail(path, 21);
		ext2_iput(ip);
		return -1;
	}
	for (;;) {
		e = ext2_read(ip, buf, sizeof(buf), off, &n);
		if (e != 0) {
			fail(path, e);
			break;
		}
		if (n == 0)
			break;
		for (size_t w = 0; w < n;) {
			ssize_t r = write(fd, buf + w, n - w);
			if (r < 0) {
				fprintf(stderr, "%s: %s: %s\n", prog, hostname,
				    strerror(errno));
				ext2_iput(ip);
				had_error = 1;
				return -1;
			}
			w += (size_t)r;
		}
		off += n;
	}
	ext2_iput(ip);
	return e ? -1 : 0;
}

static int
cmd_cat(int argc, char **argv)
{
	int i;
	if (argc < 2)
		return -2;
	for (i = 1; i < argc; i++)
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
		return copy_out(argv[1], STDOUT_FILENO, "standard output");
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, argv[2], strerror(errno));
		had_error = 1;
		return 0;
	}
	if (copy_out(argv[1], fd, argv[2]) != 0) {
		close(fd);
		unlink(argv[2]);
		return 0;
	}
	if (close(fd) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, argv[2], strerror(errno));
		had_error = 1;
	}
	return 0;
}

/*
 * The file to write for a destination path: an existing regular file is
 * truncated, a directory gets base inside it, otherwise it is created.
 */
static int
open_dest(const char *dst, const char *base, uint32_t mode,
    struct ext2_inode **ipp, char *shown, size_t shownlen)
{
	struct ext2_inode *ip, *dp;
	struct ext2_attr a;
	const char *last;
	size_t lastlen;
	int e;

	snprintf(shown, shownlen, "%s", dst);
	e = lookup(dst, 1, &ip);
	if (e == 0) {
		ext2_getattr(ip, &a);
		if (EXT2_ISDIR(a.mode)) {
			e = ext2_lookup(ip, base, strlen(base), &a.ino);
			snprintf(shown, shownlen, "%s%s%s", dst,
			    dst[strlen(dst) - 1] == '/' ? "" : "/", base);
			if (e == 0) {
				ext2_iput(ip);
				return open_dest(shown, base, mode, ipp, shown,
				    shownlen);
			}
			if (e != 2) {
				ext2_iput(ip);
				return e;
			}
			e = ext2_create(ip, base, strlen(base),
			    EXT2_S_IFREG | mode, getuid(), getgid(), ipp);
			ext2_iput(ip);
			return e;
		}
		if (!EXT2_ISREG(a.mode)) {
			ext2_iput(ip);
			return 22;
		}
		e = ext2_truncate(ip, 0);
		if (e != 0) {
			ext2_iput(ip);
			return e;
		}
		*ipp = ip;
		return 0;
	}
	if (e != 2)
		return e;
	if ((e = ext2_namei_parent(fs, dst, &dp, &last, &lastlen)) != 0)
		return e;
	e = ext2_create(dp, last, lastlen, EXT2_S_IFREG | mode, getuid(),
	    getgid(), ipp);
	ext2_iput(dp);
	return e;
}

static int
cmd_put(int argc, char **argv)
{
	struct ext2_inode *ip;
	static char buf[1 << 16];
	char shown[4200];
	struct stat st;
	uint64_t off = 0;
	size_t done;
	int fd, e;

	if (argc != 3)
		return -2;
	fd = strcmp(argv[1], "-") == 0 ? STDIN_FILENO : open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, argv[1], strerror(errno));
		had_error = 1;
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: %s: is a directory (put copies files)\n",
		    prog, argv[1]);
		had_error = 1;
		close(fd);
		return 0;
	}
	e = open_dest(argv[2], lastname(argv[1]), st.st_mode & 07777, &ip,
	    shown, sizeof(shown));
	if (e != 0) {
		fail(shown, e);
		close(fd);
		return 0;
	}
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, argv[1],
			    strerror(errno));
			had_error = 1;
			break;
		}
		if (r == 0)
			break;
		e = ext2_write(ip, buf, (size_t)r, off, &done);
		if (e == 0 && done < (size_t)r)
			e = 28;
		if (e != 0) {
			fail(shown, e);
			break;
		}
		off += done;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (!had_error && S_ISREG(st.st_mode)) {
		struct ext2_attr a;
		memset(&a, 0, sizeof(a));
		a.mtime = st.st_mtim.tv_sec;
		a.mtime_ns = (uint32_t)st.st_mtim.tv_nsec;
		ext2_setattr(ip, EXT2_SA_MTIME, &a);
	}
	ext2_iput(ip);
	return 0;
}

static int
cmd_cp(int argc, char **argv)
{
	struct ext2_inode *sp, *dp;
	struct ext2_attr a;
	static char buf[1 << 16];
	char shown[4200];
	uint64_t off = 0;
	size_t n, done;
	int e;

	if (argc != 3)
		return -2;
	if ((e = lookup(argv[1], 1, &sp)) != 0) {
		fail(argv[1], e);
		return 0;
	}
	ext2_getattr(sp, &a);
	if (!EXT2_ISREG(a.mode)) {
		fail(argv[1], EXT2_ISDIR(a.mode) ? 21 : 22);
		ext2_iput(sp);
		return 0;
	}
	e = open_dest(argv[2], lastname(argv[1]), a.mode & 07777, &dp, shown,
	    sizeof(shown));
	if (e == 0 && dp == sp)
		e = 22;
	if (e != 0) {
		fail(shown, e);
		ext2_iput(sp);
		return 0;
	}
	for (;;) {
		if ((e = ext2_read(sp, buf, sizeof(buf), off, &n)) != 0) {
			fail(argv[1], e);
			break;
		}
		if (n == 0)
			break;
		e = ext2_write(dp, buf, n, off, &done);
		if (e == 0 && done < n)
			e = 28;
		if (e != 0) {
			fail(shown, e);
			break;
		}
		off += n;
	}
	ext2_iput(dp);
	ext2_iput(sp);
	return 0;
}

static int
mkdir1(const char *path, int pflag)
{
	struct ext2_inode *dp, *ip;
	const char *last;
	size_t lastlen;
	int e;

	e = ext2_namei_parent(fs, path, &dp, &last, &lastlen);
	if (e == 2 && pflag) {
		char parent[4096];
		size_t plen = strlen(path);
		while (plen > 1 && path[plen - 1] == '/')
			plen--;
		while (plen > 0 && path[plen - 1] != '/')
			plen--;
		if (plen == 0 || plen >= sizeof(parent))
			return e;
		memcpy(parent, path, plen);
		parent[plen] = '\0';
		if ((e = mkdir1(parent, 1)) != 0)
			return e;
		e = ext2_namei_parent(fs, path, &dp, &last, &lastlen);
	}
	if (e == 22 && pflag)
		return 0;		/* "/" */
	if (e != 0)
		return e;
	e = ext2_mkdir(dp, last, lastlen, 0777 & ~(uint32_t)022, getuid(),
	    getgid(), &ip);
	ext2_iput(dp);
	if (e == 0)
		ext2_iput(ip);
	else if (e == 17 && pflag) {
		if (lookup(path, 1, &ip) == 0) {
			struct ext2_attr a;
			ext2_getattr(ip, &a);
			e = EXT2_ISDIR(a.mode) ? 0 : 17;
			ext2_iput(ip);
		}
	}
	return e;
}

static int
cmd_mkdir(int argc, char **argv)
{
	int pflag = 0, i, e;
	if (argc > 1 && strcmp(argv[1], "-p") == 0) {
		pflag = 1;
		argc--;
		argv++;
	}
	if (argc < 2)
		return -2;
	for (i = 1; i < argc; i++)
		if ((e = mkdir1(argv[i], pflag)) != 0)
			fail(argv[i], e);
	return 0;
}

static int
cmd_rm_common(int argc, char **argv, int dir)
{
	struct ext2_inode *dp;
	const char *last;
	size_t lastlen;
	int i, e;

	if (argc < 2)
		return -2;
	for (i = 1; i < argc; i++) {
		e = ext2_namei_parent(fs, argv[i], &dp, &last, &lastlen);
		if (e == 0) {
			e = dir ? ext2_rmdir(dp, last, lastlen) :
			    ext2_remove(dp, last, lastlen);
			ext2_iput(dp);
		}
		if (e != 0)
			fail(argv[i], e);
	}
	return 0;
}

static int
cmd_mv(int argc, char **argv)
{
	struct ext2_inode *fdp, *tdp, *ip;
	const char *fl, *tl;
	size_t fll, tll;
	char dst[4200];
	int e;

	if (argc != 3)
		return -2;
	snprintf(dst, sizeof(dst), "%s", argv[2]);
	if (lookup(argv[2], 1, &ip) == 0) {
		struct ext2_attr a;
		ext2_getattr(ip, &a);
		ext2_iput(ip);
		if (EXT2_ISDIR(a.mode) && lookup(argv[1], 0, &ip) == 0) {
			struct ext2_attr sa;
			ext2_getattr(ip, &sa);
			ext2_iput(ip);
			/* mv x dir: into dir, unless x is that dir. */
			if (sa.ino != a.ino)
				snprintf(dst, sizeof(dst), "%s/%s", argv[2],
				    lastname(argv[1]));
		}
	}
	if ((e = ext2_namei_parent(fs, argv[1], &fdp, &fl, &fll)) != 0) {
		fail(argv[1], e);
		return 0;
	}
	if ((e = ext2_namei_parent(fs, dst, &tdp, &tl, &tll)) != 0) {
		ext2_iput(fdp);
		fail(dst, e);
		return 0;
	}
	e = ext2_rename(fdp, fl, fll, tdp, tl, tll);
	if (e != 0) {
		char what[8500];
		snprintf(what, sizeof(what), "%s -> %s", argv[1], dst);
		fail(what, e);
	}
	ext2_iput(tdp);
	ext2_iput(fdp);
	return 0;
}

static int
cmd_ln(int argc, char **argv)
{
	struct ext2_inode *dp, *ip;
	const char *last;
	size_t lastlen;
	int sflag = 0, e;

	if (argc > 1 && strcmp(argv[1], "-s") == 0) {
		sflag = 1;
		argc--;
		argv++;
	}
	if (argc != 3)
		return -2;
	if ((e = ext2_namei_parent(fs, argv[2], &dp, &last, &lastlen)) != 0) {
		fail(argv[2], e);
		return 0;
	}
	if (sflag) {
		e = ext2_symlink(dp, last, lastlen, argv[1], getuid(), getgid(),
		    &ip);
		if (e == 0)
			ext2_iput(ip);
		else
			fail(argv[2], e);
	} else if ((e = lookup(argv[1], 0, &ip)) != 0) {
		fail(argv[1], e);
	} else {
		if ((e = ext2_link(dp, last, lastlen, ip)) != 0)
			fail(argv[2], e);
		ext2_iput(ip);
	}
	ext2_iput(dp);
	return 0;
}

static int
cmd_stat(int argc, char **argv)
{
	struct ext2_inode *ip;
	struct ext2_attr a;
	char ms[11];
	int i, e;

	if (argc < 2)
		return -2;
	for (i = 1; i < argc; i++) {
		if ((e = lookup(argv[i], 0, &ip)) != 0) {
			fail(argv[i], e);
			continue;
		}
		ext2_getattr(ip, &a);
		modestr(a.mode, ms);
		printf("  File: %s\n", argv[i]);
		printf("  Size: %llu\tBlocks: %llu\tInode: %u\tLinks: %u\n",
		    (unsigned long long)a.size,
		    (unsigned long long)a.blocks512, a.ino, a.nlink);
		printf("Access: (%04o/%s)\tUid: %u\tGid: %u\n", a.mode & 07777,
		    ms, a.uid, a.gid);
		printf("Access: %lld.%09u\nModify: %lld.%09u\nChange: %lld.%09u\n",
		    (long long)a.atime, a.atime_ns, (long long)a.mtime,
		    a.mtime_ns, (long long)a.ctime, a.ctime_ns);
		printf(" Flags: 0x%x%s\tGeneration: %u\n", a.flags,
		    (a.flags & EXT2_INDEX_FL) ? " (indexed directory)" : "",
		    a.generation);
		ext2_iput(ip);
	}
	return 0;
}

static int
cmd_df(int argc, char **argv)
{
	struct ext2_statfs st;
	(void)argv;
	if (argc != 1)
		return -2;
	ext2_statfs(fs, &st);
	printf("%-12s %10s %10s %10s %10s %10s\n", "Block size", "Blocks",
	    "Used", "Free", "Inodes", "IFree");
	printf("%-12u %10llu %10llu %10llu %10llu %10llu\n", st.bsize,
	    (unsigned long long)st.blocks,
	    (unsigned long long)(st.blocks - st.bfree),
	    (unsigned long long)st.bfree, (unsigned long long)st.files,
	    (unsigned long long)st.ffree);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
	int writes;
} cmds[] = {
	{ "ls", cmd_ls, 0 }, { "cat", cmd_cat, 0 }, { "get", cmd_get, 0 },
	{ "put", cmd_put, 1 }, { "cp", cmd_cp, 1 }, { "mkdir", cmd_mkdir, 1 },
	{ "rm", NULL, 1 }, { "rmdir", NULL, 1 }, { "mv", cmd_mv, 1 },
	{ "ln", cmd_ln, 1 }, { "stat", cmd_stat, 0 }, { "df", cmd_df, 0 },
};

int
main(int argc, char **argv)
{
	char err[256];
	size_t cache = 8u << 20;
	int c, rdonly = 0, e, rv;
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
			cache = (size_t)strtoul(optarg, NULL, 10) << 20;
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
	if ((e = krs_boot("", err, sizeof(err))) != 0) {
		fprintf(stderr, "%s: cannot start the kernel base: %s\n", prog,
		    err);
		return 2;
	}
	e = ext2_mount(image, rdonly ? EXT2_MNT_RDONLY : 0, cache, &fs, err,
	    sizeof(err));
	if (e != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, image,
		    err[0] ? err : nb_strerror(e));
		return 2;
	}
	if (ext2_rdonly(fs) && !rdonly) {
		fprintf(stderr, "%s: %s: %s\n", prog, image,
		    ext2_lasterror(fs, NULL));
	}
	argc -= optind + 1;
	argv += optind + 1;
	if (strcmp(argv[0], "rm") == 0)
		rv = cmd_rm_common(argc, argv, 0);
	else if (strcmp(argv[0], "rmdir") == 0)
		rv = cmd_rm_common(argc, argv, 1);
	else
		rv = cmds[i].fn(argc, argv);
	e = ext2_unmount(fs);
	fs = NULL;
	if (e != 0) {
		fprintf(stderr, "%s: %s: writing back changes failed: %s\n",
		    prog, image, nb_strerror(e));
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
