/*
 * test_vfs_stress.c - seeded concurrent stress of the VFS on tmpfs: four
 * threads in four contexts apply random create/write/rename (also over an
 * existing name)/link/unlink/truncate/mkdir/rmdir operations in one shared
 * directory tree while reading each other's names (stat, getdents, open).
 * Each thread keeps a model of its own names and checks every result and
 * every file's contents against it; at the end the tree must equal the
 * union of the models.  Usage: test_vfs_stress [seed].
 */
#include <pthread.h>
#include <stdint.h>
#include <errno.h>

#include <krank/krs.h>
#include "rdtest.h"

#ifndef NTHR
#define NTHR	4
#endif
#define NOPS	20000
#define NNAME	12

struct model {
	int exists[NNAME];		/* 0 absent, 1 file, 2 dir */
	uint32_t tag[NNAME];		/* file contents: tag repeated */
	uint32_t len[NNAME];
};

struct thr {
	int id;
	uint64_t seed;
	struct krs_ctx *ctx;
	struct model m;
	char fail[160];
};

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
pathof(int t, int i, char *p, size_t len)
{
	snprintf(p, len, "/s/t%d_%d", t, i);
}

static int
check_file(struct thr *th, int i)
{
	char p[64], buf[4096];
	uint32_t want[1024];
	pathof(th->id, i, p, sizeof(p));
	int fd = krs_open(p, KRS_O_RDONLY);
	if (fd < 0)
		return snprintf(th->fail, sizeof(th->fail), "open %s: %d", p, errno);
	ssize_t n = krs_read(fd, buf, sizeof(buf));
	krs_close(fd);
	for (uint32_t k = 0; k < 1024; k++)
		want[k] = th->m.tag[i];
	if (n != (ssize_t)th->m.len[i] || memcmp(buf, want, (size_t)n) != 0)
		return snprintf(th->fail, sizeof(th->fail), "%s: %zd bytes, want %u of tag %u",
		    p, n, th->m.len[i], th->m.tag[i]);
	return 0;
}

static void *
stress(void *arg)
{
	struct thr *th = arg;
	char p[64], q[64], buf[2048];
	uint32_t data[1024];

	krs_ctx_enter(th->ctx);
	for (int op = 0; op < NOPS && th->fail[0] == '\0'; op++) {
		int i = (int)(rnd(&th->seed) % NNAME), j = (int)(rnd(&th->seed) % NNAME);
		int kind = (int)(rnd(&th->seed) % 9);
		struct model *m = &th->m;
		pathof(th->id, i, p, sizeof(p));
		pathof(th->id, j, q, sizeof(q));
		int rv, e;
		switch (kind) {
		case 0: case 1: {		/* create or rewrite a file */
			if (m->exists[i] == 2)
				break;
			uint32_t tag = (uint32_t)rnd(&th->seed), len = (uint32_t)(rnd(&th->seed) % 4096);
			for (int k = 0; k < 1024; k++)
				data[k] = tag;
			int fd = krs_open(p, KRS_O_WRONLY | KRS_O_CREAT | KRS_O_TRUNC, 0644);
			if (fd < 0 || krs_write(fd, data, len) != (ssize_t)len) {
				snprintf(th->fail, sizeof(th->fail), "write %s: %d", p, errno);
				break;
			}
			krs_close(fd);
			m->exists[i] = 1;
			m->tag[i] = tag;
			m->len[i] = len;
			break;
		}
		case 2:				/* rename i -> j */
			rv = krs_rename(p, q);
			e = errno;
			if (!m->exists[i]) {
				if (rv != -1 || e != ENOENT)
					snprintf(th->fail, sizeof(th->fail), "rename missing %s: %d/%d", p, rv, e);
			} else if (i == j) {
				if (rv != 0)
					snprintf(th->fail, sizeof(th->fail), "rename to self %s: %d", p, e);
			} else if (m->exists[i] == 1 && m->exists[j] == 2) {
				if (rv != -1 || e != EISDIR)
					snprintf(th->fail, sizeof(th->fail), "rename file over dir: %d/%d", rv, e);
			} else if (m->exists[i] == 2 && m->exists[j] == 1) {
				if (rv != -1 || e != ENOTDIR)
					snprintf(th->fail, sizeof(th->fail), "rename dir over file: %d/%d", rv, e);
			} else {
				if (rv != 0) {
					snprintf(th->fail, sizeof(th->fail), "rename %s %s: %d", p, q, e);
					break;
				}
				m->exists[j] = m->exists[i];
				m->tag[j] = m->tag[i];
				m->len[j] = m->len[i];
				m->exists[i] = 0;
			}
			break;
		case 3:				/* unlink or rmdir */
			rv = m->exists[i] == 2 ? krs_rmdir(p) : krs_unlink(p);
			e = errno;
			if (m->exists[i] && rv != 0)
				snprintf(th->fail, sizeof(th->fail), "remove %s: %d", p, e);
			else if (!m->exists[i] && (rv != -1 || e != ENOENT))
				snprintf(th->fail, sizeof(th->fail), "remove missing %s: %d/%d", p, rv, e);
			else
				m->exists[i] = 0;
			break;
		case 4:				/* mkdir */
			rv = krs_mkdir(p, 0755);
			e = errno;
			if (m->exists[i] && (rv != -1 || e != EEXIST))
				snprintf(th->fail, sizeof(th->fail), "mkdir existing %s: %d/%d", p, rv, e);
			else if (!m->exists[i] && rv != 0)
				snprintf(th->fail, sizeof(th->fail), "mkdir %s: %d", p, e);
			else if (!m->exists[i])
				m->exists[i] = 2;
			break;
		case 5:				/* hard link i -> j (if j free) */
			if (m->exists[i] != 1 || m->exists[j] || i == j)
				break;
			if (krs_link(p, q) != 0) {
				snprintf(th->fail, sizeof(th->fail), "link %s %s: %d", p, q, errno);
				break;
			}
			/* Same inode: rewriting one later would change both; model
			 * it by truncating both names apart: rewrite j now. */
			if (krs_unlink(q) != 0)
				snprintf(th->fail, sizeof(th->fail), "unlink link %s: %d", q, errno);
			break;
		case 6:				/* truncate */
			if (m->exists[i] != 1)
				break;
			{
				uint32_t nl = m->len[i] / 2;
				int fd = krs_open(p, KRS_O_WRONLY);
				if (fd < 0 || krs_ftruncate(fd, nl) != 0)
					snprintf(th->fail, sizeof(th->fail), "truncate %s: %d", p, errno);
				krs_close(fd);
				m->len[i] = nl;
			}
			break;
		case 7: {			/* read another thread's names */
			char o[64];
			struct krs_stat st;
			pathof((int)(rnd(&th->seed) % NTHR), i, o, sizeof(o));
			if (krs_stat(o, &st) != 0 && errno != ENOENT)
				snprintf(th->fail, sizeof(th->fail), "stat %s: %d", o, errno);
			int fd = krs_open("/s", KRS_O_RDONLY | KRS_O_DIRECTORY);
			while (fd >= 0 && krs_getdents(fd, buf, sizeof(buf)) > 0)
				;
			krs_close(fd);
			break;
		}
		case 8:
			if (m->exists[i] == 1)
				check_file(th, i);
			break;
		}
	}
	krs_ctx_leave();
	return NULL;
}

int
main(int argc, char **argv)
{
	char err[256], buf[8192];
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 20261123;
	struct thr th[NTHR];
	pthread_t t[NTHR];

	printf("seed %llu (rerun: test_vfs_stress %llu)\n",
	    (unsigned long long)seed, (unsigned long long)seed);
	CHECK(krs_boot("vfs,tmpfs", err, sizeof(err)) == 0, "boot: %s", err);
	CHECK(krs_mount("tmpfs", "/", "tmpfs", 0, NULL, 0) == 0, "mount");
	CHECK(krs_mkdir("/s", 0777) == 0 && krs_chmod("/s", 0777) == 0, "mkdir /s");
	for (int i = 0; i < NTHR; i++) {
		memset(&th[i], 0, sizeof(th[i]));
		th[i].id = i;
		th[i].seed = seed * 2654435761u + (uint64_t)i * 40503u + 1;
		CHECK(krs_ctx_create(100 + (uint32_t)i, 100, &th[i].ctx) == 0, "ctx");
		pthread_create(&t[i], NULL, stress, &th[i]);
	}
	for (int i = 0; i < NTHR; i++) {
		pthread_join(t[i], NULL);
		CHECK(th[i].fail[0] == '\0', "thread %d: %s", i, th[i].fail);
	}
	PASS("4 threads x 20000 random namespace and data operations agree with their models");

	/* The tree equals the union of the models. */
	int fd = krs_open("/s", KRS_O_RDONLY | KRS_O_DIRECTORY), seen = 0, want = 0;
	ssize_t n;
	while ((n = krs_getdents(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			struct krs_dirent *d = (struct krs_dirent *)(buf + off);
			int tt, ii;
			off += d->d_reclen;
			if (d->d_name[0] == '.')
				continue;
			CHECK(sscanf(d->d_name, "t%d_%d", &tt, &ii) == 2 && tt < NTHR &&
			    ii < NNAME && th[tt].m.exists[ii], "unexpected entry %s", d->d_name);
			CHECK((d->d_type == KRS_DT_DIR) == (th[tt].m.exists[ii] == 2),
			    "type of %s", d->d_name);
			seen++;
		}
	}
	krs_close(fd);
	for (int i = 0; i < NTHR; i++)
		for (int k = 0; k < NNAME; k++) {
			if (th[i].m.exists[k] == 1)
				CHECK(check_file(&th[i], k) == 0, "%s", th[i].fail);
			want += th[i].m.exists[k] != 0;
		}
	CHECK(seen == want, "%d entries, models have %d", seen, want);
	PASS("final tree equals the union of the models, file contents included");
	for (int i = 0; i < NTHR; i++)
		krs_ctx_destroy(th[i].ctx);
	krs_shutdown();
	DONE();
}
