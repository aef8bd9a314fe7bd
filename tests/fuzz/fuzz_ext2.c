/*
 * fuzz_ext2 - libFuzzer target: a mutated ext2 image is mounted through the
 * real block device (rumpuser_bio on a memfd) and walked: every directory
 * listed, every inode stat'ed, every file and symlink read.  Then the
 * image is mounted read-write and changed (create, write, mkdir, rename,
 * unlink, truncate) so allocation runs over damaged bitmaps too.  Any
 * error is fine; a crash, a sanitizer report or a hang is a bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <krank/krs.h>
#include "fs/ext2/ext2.h"
#include "fs/ext2/ext2_fs.h"

static int memfd = -1;
static char path[64];
static size_t budget;		/* bytes left to read for this input */
static unsigned nodes;		/* inodes left to visit */

static void walk(struct ext2fs *fs, uint32_t ino, int depth);

struct ent {
	uint32_t ino;
	int isdot;
};
struct ents {
	struct ent v[64];
	int n;
};

static int
fill(void *arg, const char *name, size_t namelen, uint32_t ino, int dtype,
    uint64_t next)
{
	struct ents *e = arg;
	(void)dtype;
	(void)next;
	if (e->n == 64)
		return 1;
	e->v[e->n].ino = ino;
	e->v[e->n].isdot = (namelen == 1 && name[0] == '.') ||
	    (namelen == 2 && name[0] == '.' && name[1] == '.');
	e->n++;
	return 0;
}

static void
walk(struct ext2fs *fs, uint32_t ino, int depth)
{
	static char buf[8192];
	struct ext2_inode *ip;
	struct ext2_attr a;
	size_t n;

	if (depth > 8 || nodes == 0)
		return;
	nodes--;
	if (ext2_iget(fs, ino, &ip) != 0)
		return;
	ext2_getattr(ip, &a);
	if (EXT2_ISDIR(a.mode)) {
		uint64_t off = 0;
		int eof = 0, rounds = 0;
		while (!eof && rounds++ < 16) {
			struct ents e;
			e.n = 0;
			if (ext2_readdir(ip, &off, fill, &e, &eof) != 0)
				break;
			for (int i = 0; i < e.n; i++)
				if (!e.v[i].isdot)
					walk(fs, e.v[i].ino, depth + 1);
			if (e.n == 0)
				break;
		}
		uint32_t x;
		ext2_lookup(ip, "..", 2, &x);
		ext2_lookup(ip, "missing", 7, &x);
	} else if (EXT2_ISLNK(a.mode)) {
		ext2_readlink(ip, buf, sizeof(buf), &n);
	} else if (EXT2_ISREG(a.mode)) {
		uint64_t off = 0;
		while (budget > 0 && off < a.size) {
			if (ext2_read(ip, buf, sizeof(buf), off, &n) != 0 || n == 0)
				break;
			off += n;
			budget = budget > n ? budget - n : 0;
		}
		/* a far read: holes and indirect blocks */
		ext2_read(ip, buf, 100, a.size / 2, &n);
	}
	ext2_iput(ip);
}

static void
change(struct ext2fs *fs)
{
	static char data[5000];
	struct ext2_inode *root, *ip, *dp;
	size_t done;

	if (ext2_iget(fs, ext2_root_ino(), &root) != 0)
		return;
	memset(data, 'x', sizeof(data));
	if (ext2_create(root, "fz", 2, EXT2_S_IFREG | 0644, 0, 0, &ip) == 0) {
		ext2_write(ip, data, sizeof(data), 0, &done);
		ext2_write(ip, data, 100, 300000, &done);
		ext2_truncate(ip, 2000);
		ext2_iput(ip);
	}
	if (ext2_mkdir(root, "fzd", 3, 0755, 0, 0, &dp) == 0) {
		ext2_rename(root, "fz", 2, dp, "moved", 5);
		ext2_symlink(dp, "l", 1, "target", 0, 0, &ip) == 0 ?
		    ext2_iput(ip) : (void)0;
		ext2_remove(dp, "moved", 5);
		ext2_remove(dp, "l", 1);
		ext2_iput(dp);
		ext2_rmdir(root, "fzd", 3);
	}
	ext2_remove(root, "fz", 2);
	ext2_iput(root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[128];
	(void)argc;
	(void)argv;
	if (krs_boot("", err, sizeof(err)) != 0) {
		fprintf(stderr, "krs_boot: %s\n", err);
		abort();
	}
	memfd = memfd_create("fuzz_ext2", 0);
	if (memfd < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ext2fs *fs;
	char err[256];

	if (size > (4u << 20))
		return 0;
	if (ftruncate(memfd, 0) != 0 || ftruncate(memfd, (off_t)size) != 0 ||
	    pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	if (ext2_mount(path, EXT2_MNT_RDONLY, 64 * 1024, &fs, err,
	    sizeof(err)) == 0) {
		budget = 1u << 20;
		nodes = 200;
		walk(fs, ext2_root_ino(), 0);
		ext2_unmount(fs);
	}
	if (ext2_mount(path, 0, 64 * 1024, &fs, err, sizeof(err)) == 0) {
		change(fs);
		ext2_unmount(fs);
	}
	return 0;
}
