/*
 * test_ext2_stress - seeded random operations (create, write at offsets
 * including far sparse ones, truncate, rename, link, unlink, mkdir, rmdir,
 * periodic unmount/remount) applied both to the ext2 driver and to an
 * in-memory model.  After every step the result code, the touched file's
 * bytes and the whole namespace (names, inode identity, link counts) are
 * compared; every 64 steps and at the end all file contents are.  The
 * wrapper script runs e2fsck -fn on the image afterwards.  Inodes stay
 * referenced between operations, as open files and cached vnodes keep
 * them (a few are dropped at random), so state cached in memory - block
 * map, sizes, link counts - lives across operations as it does under the
 * VFS, and a remount then checks what reached the disk.
 * usage: test_ext2_stress IMAGE SEED NOPS
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <krank/krs.h>
#include "kern/kern_errno.h"
#include "fs/ext2/ext2.h"
#include "fs/ext2/ext2_fs.h"
#include "rdtest.h"

#define PG 1024			/* model page size */
#define L2N 4096		/* pages per second-level table */
#define L1N 256			/* => 1 GiB of model address space */
#define MAXNODES 2048
#define MAXENTS 4096
#define NNAMES 10

struct mnode {
	int inuse, isdir;
	uint32_t ino;
	int nlink;
	uint64_t size;
	uint8_t **l1[L1N];
};
struct ment {
	int inuse, dir, node;
	char name[16];
};

static struct mnode nodes[MAXNODES];
static struct ext2_inode *held[MAXNODES];	/* long-lived references */
static struct ment ents[MAXENTS];
static struct ext2fs *fs;
static const char *image;
static uint64_t rng;
static unsigned step;
static unsigned nops_done[16], nerr_expected, nenospc;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static uint64_t rndn(uint64_t n) { return n ? rnd() % n : 0; }

#define FAILF(...) do { printf("FAIL step %u: ", step); printf(__VA_ARGS__); \
	printf("\n"); exit(1); } while (0)

/* ---- model file pages ---- */

static uint8_t *
mpage(struct mnode *n, uint64_t pg, int alloc)
{
	uint64_t a = pg / L2N, b = pg % L2N;
	if (a >= L1N)
		FAILF("model offset too large");
	if (n->l1[a] == NULL) {
		if (!alloc)
			return NULL;
		n->l1[a] = calloc(L2N, sizeof(uint8_t *));
	}
	if (n->l1[a][b] == NULL && alloc)
		n->l1[a][b] = calloc(1, PG);
	return n->l1[a][b];
}

static void
mwrite(struct mnode *n, const uint8_t *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		uint64_t o = off + done;
		size_t k = PG - o % PG;
		if (k > len - done)
			k = len - done;
		memcpy(mpage(n, o / PG, 1) + o % PG, buf + done, k);
		done += k;
	}
	if (off + len > n->size)
		n->size = off + len;
}

static void
mtruncate(struct mnode *n, uint64_t size)
{
	if (size < n->size) {
		uint64_t first = (size + PG - 1) / PG, last = (n->size + PG - 1) / PG;
		for (uint64_t pg = first; pg < last; pg++) {
			uint8_t *p = mpage(n, pg, 0);
			if (p != NULL) {
				free(p);
				n->l1[pg / L2N][pg % L2N] = NULL;
			}
		}
		if (size % PG) {
			uint8_t *p = mpage(n, size / PG, 0);
			if (p != NULL)
				memset(p + size % PG, 0, PG - size % PG);
		}
	}
	n->size = size;
}

static void
mfree(struct mnode *n)
{
	for (int a = 0; a < L1N; a++) {
		if (n->l1[a] == NULL)
			continue;
		for (int b = 0; b < L2N; b++)
			free(n->l1[a][b]);
		free(n->l1[a]);
	}
	memset(n, 0, sizeof(*n));
}

/* ---- model namespace ---- */

static int
ment_find(int dir, const char *name)
{
	for (int i = 0; i < MAXENTS; i++)
		if (ents[i].inuse && ents[i].dir == dir &&
		    strcmp(ents[i].name, name) == 0)
			return i;
	return -1;
}

static int
ment_add(int dir, const char *name, int node)
{
	for (int i = 0; i < MAXENTS; i++)
		if (!ents[i].inuse) {
			ents[i].inuse = 1;
			ents[i].dir = dir;
			ents[i].node = node;
			snprintf(ents[i].name, sizeof(ents[i].name), "%s", name);
			return i;
		}
	FAILF("model entry table full");
}

static int
node_new(int isdir, uint32_t ino)
{
	for (int i = 1; i < MAXNODES; i++)
		if (!nodes[i].inuse) {
			nodes[i].inuse = 1;
			nodes[i].isdir = isdir;
			nodes[i].ino = ino;
			return i;
		}
	FAILF("model node table full");
}

static int
dir_nents(int dir)
{
	int c = 0;
	for (int i = 0; i < MAXENTS; i++)
		c += ents[i].inuse && ents[i].dir == dir;
	return c;
}

static int
dir_parent(int dir)
{
	for (int i = 0; i < MAXENTS; i++)
		if (ents[i].inuse && ents[i].node == dir)
			return ents[i].dir;
	return 0;		/* root (node 0) */
}

static void
release(int node)
{
	if (held[node] != NULL) {
		ext2_iput(held[node]);
		held[node] = NULL;
	}
}

static void
release_all(void)
{
	for (int i = 0; i < MAXNODES; i++)
		release(i);
}

/* An entry naming node went away: a directory dies, a file loses a link. */
static void
node_unref(int node)
{
	if (nodes[node].isdir || --nodes[node].nlink <= 0) {
		release(node);
		mfree(&nodes[node]);
	}
}

static int
pick_node(int wantdir)
{
	int cand[MAXNODES], n = 0;
	for (int i = 0; i < MAXNODES; i++)
		if (nodes[i].inuse && nodes[i].isdir == wantdir)
			cand[n++] = i;
	return n ? cand[rndn((uint64_t)n)] : -1;
}

static void
pick_name(char *buf)
{
	snprintf(buf, 8, "n%d", (int)rndn(NNAMES));
}

/* ---- comparison ---- */

/* A reference to node's inode for one operation (put it after). */
static struct ext2_inode *
iget_node(int node)
{
	if (held[node] == NULL) {
		int e = ext2_iget(fs, nodes[node].ino, &held[node]);
		if (e != 0)
			FAILF("iget %u: %d (%s)", nodes[node].ino, e,
			    ext2_lasterror(fs, NULL));
	}
	ext2_iref(held[node]);
	return held[node];
}

static void
compare_file(int node)
{
	static uint8_t buf[65536];
	struct ext2_inode *ip = iget_node(node);
	struct mnode *n = &nodes[node];
	struct ext2_attr a;
	uint64_t off = 0;
	size_t got;

	ext2_getattr(ip, &a);
	if (a.size != n->size)
		FAILF("inode %u: size %llu, model %llu", n->ino,
		    (unsigned long long)a.size, (unsigned long long)n->size);
	if ((int)a.nlink != n->nlink)
		FAILF("inode %u: nlink %u, model %d", n->ino, a.nlink, n->nlink);
	while (off < n->size) {
		int e = ext2_read(ip, buf, sizeof(buf), off, &got);
		if (e != 0 || got == 0)
			FAILF("read inode %u at %llu: %d", n->ino,
			    (unsigned long long)off, e);
		for (size_t i = 0; i < got; i += PG) {
			uint8_t *p = mpage(n, (off + i) / PG, 0);
			size_t k = got - i < PG ? got - i : PG;
			static const uint8_t zero[PG];
			if (memcmp(buf + i, p ? p : zero, k) != 0)
				FAILF("inode %u: data differs at %llu", n->ino,
				    (unsigned long long)(off + i));
		}
		off += got;
	}
	ext2_iput(ip);
}

struct seen {
	char names[256][16];
	uint32_t inos[256];
	int n;
};

static int
seen_fill(void *arg, const char *name, size_t namelen, uint32_t ino,
    int dtype, uint64_t next)
{
	struct seen *s = arg;
	(void)dtype;
	(void)next;
	if ((namelen == 1 && name[0] == '.') ||
	    (namelen == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (s->n == 256 || namelen >= 16)
		FAILF("unexpected entry %.*s", (int)namelen, name);
	memcpy(s->names[s->n], name, namelen);
	s->names[s->n][namelen] = '\0';
	s->inos[s->n++] = ino;
	return 0;
}

static void
compare_tree(int contents)
{
	for (int d = 0; d < MAXNODES; d++) {
		struct seen s;
		uint64_t off = 0;
		int eof, e;
		struct ext2_inode *ip;
		uint32_t dotdot;

		if (!nodes[d].inuse)
			continue;
		if (!nodes[d].isdir) {
			if (contents)
				compare_file(d);
			continue;
		}
		ip = iget_node(d);
		s.n = 0;
		e = ext2_readdir(ip, &off, seen_fill, &s, &eof);
		if (e != 0 || !eof)
			FAILF("readdir of inode %u: %d", nodes[d].ino, e);
		if (s.n != dir_nents(d))
			FAILF("dir inode %u has %d entries, model %d",
			    nodes[d].ino, s.n, dir_nents(d));
		for (int i = 0; i < s.n; i++) {
			int m = ment_find(d, s.names[i]);
			if (m < 0 || nodes[ents[m].node].ino != s.inos[i])
				FAILF("dir inode %u: entry %s -> %u not in model",
				    nodes[d].ino, s.names[i], s.inos[i]);
		}
		if ((e = ext2_lookup(ip, "..", 2, &dotdot)) != 0 ||
		    dotdot != nodes[dir_parent(d)].ino)
			FAILF("dir inode %u: .. is %u, model %u", nodes[d].ino,
			    dotdot, nodes[dir_parent(d)].ino);
		{
			struct ext2_attr a;
			ext2_getattr(ip, &a);
			if ((int)a.nlink != nodes[d].nlink)
				FAILF("dir inode %u: nlink %u, model %d",
				    nodes[d].ino, a.nlink, nodes[d].nlink);
		}
		ext2_iput(ip);
	}
}

static void
expect(const char *op, int got, int want)
{
	if (got == want)
		return;
	if (got == ENOSPC && want == 0) {
		nenospc++;
		return;
	}
	FAILF("%s: got error %d, model says %d (%s)", op, got, want,
	    ext2_lasterror(fs, NULL));
}

/* ---- operations ---- */

enum { OP_CREATE, OP_WRITE, OP_TRUNC, OP_RENAME, OP_LINK, OP_UNLINK,
	OP_MKDIR, OP_RMDIR, OP_REMOUNT, OP_N };

static int
is_inside(int dir, int anc)	/* dir is anc or below it */
{
	for (int d = dir, k = 0; k < MAXNODES; k++) {
		if (d == anc)
			return 1;
		if (d == 0)
			return 0;
		d = dir_parent(d);
	}
	return 0;
}

static void
remount(void)
{
	char err[256];
	int e;
	release_all();
	e = ext2_unmount(fs);
	if (e != 0)
		FAILF("unmount: %d", e);
	e = ext2_mount(image, 0, 256 * 1024, &fs, err, sizeof(err));
	if (e != 0)
		FAILF("remount: %s", err);
}

static int
do_op(int op)
{
	static uint8_t buf[16384];
	struct ext2_inode *dp, *ip, *tdp;
	char name[8], tname[8];
	int d, td, f, m, tm, e, want;

	switch (op) {
	case OP_CREATE:
	case OP_MKDIR:
		d = pick_node(1);
		pick_name(name);
		want = ment_find(d, name) >= 0 ? EEXIST : 0;
		dp = iget_node(d);
		if (op == OP_CREATE)
			e = ext2_create(dp, name, strlen(name), EXT2_S_IFREG | 0644,
			    1000, 1000, &ip);
		else
			e = ext2_mkdir(dp, name, strlen(name), 0755, 0, 0, &ip);
		expect(op == OP_CREATE ? "create" : "mkdir", e, want);
		if (e == 0) {
			struct ext2_attr a;
			ext2_getattr(ip, &a);
			f = node_new(op == OP_MKDIR, a.ino);
			nodes[f].nlink = op == OP_MKDIR ? 2 : 1;
			if (op == OP_MKDIR)
				nodes[d].nlink++;
			ment_add(d, name, f);
			held[f] = ip;	/* kept, like a newly opened file */
		}
		ext2_iput(dp);
		return -1;
	case OP_WRITE: {
		uint64_t off, r = rndn(100);
		size_t len = 1 + rndn(sizeof(buf)), done;
		f = pick_node(0);
		if (f < 0)
			return -1;
		if (r < 70)
			off = rndn(nodes[f].size + 4096);
		else if (r < 97)
			off = rndn(400 * 1024);
		else
			off = 60000000 + rndn(10000000);	/* triple indirect */
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd();
		ip = iget_node(f);
		e = ext2_write(ip, buf, len, off, &done);
		ext2_iput(ip);
		if (e == ENOSPC || (e == 0 && done < len))
			nenospc++;
		else
			expect("write", e, 0);
		if (done > 0)
			mwrite(&nodes[f], buf, done, off);
		return f;
	}
	case OP_TRUNC: {
		uint64_t size;
		f = pick_node(0);
		if (f < 0)
			return -1;
		size = rndn(4) == 0 ? 0 : rndn(nodes[f].size * 3 / 2 + 2000);
		ip = iget_node(f);
		e = ext2_truncate(ip, size);
		ext2_iput(ip);
		expect("truncate", e, 0);
		mtruncate(&nodes[f], size);
		return f;
	}
	case OP_LINK:
		f = pick_node(0);
		if (f < 0)
			return -1;
		d = pick_node(1);
		pick_name(name);
		want = ment_find(d, name) >= 0 ? EEXIST : 0;
		dp = iget_node(d);
		ip = iget_node(f);
		e = ext2_link(dp, name, strlen(name), ip);
		expect("link", e, want);
		if (e == 0) {
			ment_add(d, name, f);
			nodes[f].nlink++;
		}
		ext2_iput(ip);
		ext2_iput(dp);
		return f;
	case OP_UNLINK:
	case OP_RMDIR:
		d = pick_node(1);
		pick_name(name);
		m = ment_find(d, name);
		if (m < 0)
			want = ENOENT;
		else if (op == OP_UNLINK)
			want = nodes[ents[m].node].isdir ? EISDIR : 0;
		else if (!nodes[ents[m].node].isdir)
			want = ENOTDIR;
		else
			want = dir_nents(ents[m].node) ? ENOTEMPTY : 0;
		dp = iget_node(d);
		e = op == OP_UNLINK ? ext2_remove(dp, name, strlen(name)) :
		    ext2_rmdir(dp, name, strlen(name));
		ext2_iput(dp);
		expect(op == OP_UNLINK ? "unlink" : "rmdir", e, want);
		if (e == 0) {
			f = ents[m].node;
			ents[m].inuse = 0;
			if (nodes[f].isdir)
				nodes[d].nlink--;
			node_unref(f);
			return nodes[f].inuse ? f : -1;
		}
		return -1;
	case OP_RENAME:
		d = pick_node(1);
		td = pick_node(1);
		pick_name(name);
		pick_name(tname);
		m = ment_find(d, name);
		tm = ment_find(td, tname);
		if (m < 0)
			want = ENOENT;
		else if (tm >= 0 && ents[tm].node == ents[m].node)
			want = 0;
		else if (nodes[ents[m].node].isdir && is_inside(td, ents[m].node))
			want = EINVAL;
		else if (tm >= 0 && nodes[ents[m].node].isdir &&
		    !nodes[ents[tm].node].isdir)
			want = ENOTDIR;
		else if (tm >= 0 && !nodes[ents[m].node].isdir &&
		    nodes[ents[tm].node].isdir)
			want = EISDIR;
		else if (tm >= 0 && nodes[ents[tm].node].isdir &&
		    dir_nents(ents[tm].node) > 0)
			want = ENOTEMPTY;
		else
			want = 0;
		dp = iget_node(d);
		tdp = iget_node(td);
		e = ext2_rename(dp, name, strlen(name), tdp, tname, strlen(tname));
		ext2_iput(tdp);
		ext2_iput(dp);
		expect("rename", e, want);
		if (e == 0 && !(tm >= 0 && ents[tm].node == ents[m].node)) {
			f = ents[m].node;
			if (tm >= 0) {
				int victim = ents[tm].node;
				ents[tm].inuse = 0;
				if (nodes[victim].isdir)
					nodes[td].nlink--;
				node_unref(victim);
			}
			ents[m].inuse = 0;
			ment_add(td, tname, f);
			if (nodes[f].isdir) {
				nodes[d].nlink--;
				nodes[td].nlink++;
			}
			return nodes[f].isdir ? -1 : f;
		}
		return -1;
	case OP_REMOUNT:
		remount();
		compare_tree(1);
		return -1;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	char err[256];
	unsigned nops;
	struct ext2_inode *root;
	struct ext2_attr a;
	uint64_t seed;
	int e;

	if (argc != 4) {
		fprintf(stderr, "usage: test_ext2_stress IMAGE SEED NOPS\n");
		return 2;
	}
	image = argv[1];
	seed = strtoull(argv[2], NULL, 0);
	nops = (unsigned)strtoul(argv[3], NULL, 0);
	rng = seed * 0x9E3779B97F4A7C15ull + 1;
	CHECK(krs_boot("", err, sizeof(err)) == 0, "boot: %s", err);
	e = ext2_mount(image, 0, 256 * 1024, &fs, err, sizeof(err));
	CHECK(e == 0, "mount %s: %s", image, err);
	/* Model root = node 0 = inode 2 (lost+found is left alone). */
	CHECK(ext2_iget(fs, 2, &root) == 0, "root");
	ext2_getattr(root, &a);
	ext2_iput(root);
	nodes[0].inuse = 1;
	nodes[0].isdir = 1;
	nodes[0].ino = 2;
	nodes[0].nlink = (int)a.nlink;
	{	/* lost+found exists: model it as an (ignored) entry */
		uint32_t lf;
		CHECK(ext2_iget(fs, 2, &root) == 0, "root");
		if (ext2_lookup(root, "lost+found", 10, &lf) == 0) {
			int n = node_new(1, lf);
			nodes[n].nlink = 2;
			ment_add(0, "lost+found", n);
		}
		ext2_iput(root);
	}
	printf("seed %llu, %u operations on %s\n", (unsigned long long)seed,
	    nops, image);
	for (step = 1; step <= nops; step++) {
		uint64_t r = rndn(100);
		int op, f;
		if (r < 14) op = OP_CREATE;
		else if (r < 44) op = OP_WRITE;
		else if (r < 54) op = OP_TRUNC;
		else if (r < 66) op = OP_RENAME;
		else if (r < 73) op = OP_LINK;
		else if (r < 83) op = OP_UNLINK;
		else if (r < 91) op = OP_MKDIR;
		else if (r < 99) op = OP_RMDIR;
		else op = OP_REMOUNT;
		nops_done[op]++;
		if (rndn(20) == 0)
			release((int)rndn(MAXNODES));	/* an inode goes cold */
		f = do_op(op);
		if (f >= 0 && nodes[f].inuse && !nodes[f].isdir)
			compare_file(f);
		compare_tree(step % 64 == 0);
	}
	compare_tree(1);
	remount();
	compare_tree(1);
	release_all();
	{
		uint64_t ncorrupt;
		ext2_lasterror(fs, &ncorrupt);
		CHECK(ncorrupt == 0, "no corruption reported: %s",
		    ext2_lasterror(fs, NULL));
	}
	CHECK(ext2_unmount(fs) == 0, "unmount");
	printf("ops: create %u write %u truncate %u rename %u link %u "
	    "unlink %u mkdir %u rmdir %u remount %u; %u ENOSPC\n",
	    nops_done[0], nops_done[1], nops_done[2], nops_done[3],
	    nops_done[4], nops_done[5], nops_done[6], nops_done[7],
	    nops_done[8], nenospc);
	(void)nerr_expected;
	krs_shutdown();
	printf("PASS: %u operations matched the model after every step\n",
	    nops);
	return 0;
}
