/*
 * test_contexts.c - several process contexts over one tmpfs: separate
 * descriptor tables and current directories, credentials checked on every
 * access (owner/group/other bits, sticky directories, chmod/chown, mount),
 * umask, context destruction closing files, and threads in different
 * contexts working on the file system at the same time.
 */
#include <pthread.h>
#include <stdint.h>
#include <errno.h>

#include <krank/krs.h>
#include "rdtest.h"

#define NTHREADS 4
#define ROUNDS 300

struct worker {
	struct krs_ctx *ctx;
	int id;
	int failed;
	char msg[128];
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char path[64], tmp[64], buf[512], want[512];

	krs_ctx_enter(w->ctx);
	snprintf(path, sizeof(path), "/work/w%d", w->id);
	snprintf(tmp, sizeof(tmp), "/work/w%d.tmp", w->id);
	if (krs_mkdir(path, 0700) != 0) {
		snprintf(w->msg, sizeof(w->msg), "mkdir %s: %d", path, errno);
		w->failed = 1;
		return NULL;
	}
	if (krs_chdir(path) != 0) {
		w->failed = 1;
		return NULL;
	}
	for (int r = 0; r < ROUNDS && !w->failed; r++) {
		memset(want, 'a' + (r + w->id) % 26, sizeof(want));
		int fd = krs_open("data.tmp", KRS_O_WRONLY | KRS_O_CREAT | KRS_O_TRUNC, 0600);
		if (fd < 0 || krs_write(fd, want, sizeof(want)) != sizeof(want) ||
		    krs_close(fd) != 0) {
			snprintf(w->msg, sizeof(w->msg), "write round %d: %d", r, errno);
			w->failed = 1;
			break;
		}
		/* Atomic replace, as editors do. */
		if (krs_rename("data.tmp", "data") != 0) {
			snprintf(w->msg, sizeof(w->msg), "rename round %d: %d", r, errno);
			w->failed = 1;
			break;
		}
		fd = krs_open("data", KRS_O_RDONLY);
		if (fd < 0 || krs_read(fd, buf, sizeof(buf)) != sizeof(buf) ||
		    memcmp(buf, want, sizeof(buf)) != 0) {
			snprintf(w->msg, sizeof(w->msg), "verify round %d", r);
			w->failed = 1;
		}
		krs_close(fd);
		/* Shared directory: create and remove a uniquely named entry. */
		if (krs_symlink("data", tmp) != 0 || krs_unlink(tmp) != 0) {
			snprintf(w->msg, sizeof(w->msg), "shared dir round %d: %d", r, errno);
			w->failed = 1;
		}
	}
	char cwd[64];
	if (!w->failed && (krs_getcwd(cwd, sizeof(cwd)) == NULL || strcmp(cwd, path))) {
		snprintf(w->msg, sizeof(w->msg), "cwd changed: %s", cwd);
		w->failed = 1;
	}
	krs_ctx_leave();
	return NULL;
}

int
main(void)
{
	char err[256], buf[64];
	struct krs_ctx *a, *b;
	struct krs_stat st;
	struct krs_statvfs sv1, sv2;

	CHECK(krs_boot("vfs,tmpfs", err, sizeof(err)) == 0, "boot: %s", err);
	CHECK(krs_mount("tmpfs", "/", "tmpfs", 0, NULL, 0) == 0, "mount");
	CHECK(krs_mkdir("/home", 0755) == 0 && krs_mkdir("/shared", 01777) == 0 &&
	    krs_chmod("/shared", 01777) == 0 && krs_mkdir("/work", 0777) == 0 &&
	    krs_chmod("/work", 0777) == 0, "layout");
	CHECK(krs_mkdir("/home/alice", 0755) == 0 &&
	    krs_chown("/home/alice", 1000, 1000) == 0, "alice's home");

	CHECK(krs_ctx_create(1000, 1000, &a) == 0, "ctx a");
	CHECK(krs_ctx_create(2000, 2000, &b) == 0, "ctx b");

	/* Separate descriptor tables and directories. */
	krs_ctx_enter(a);
	krs_umask(077);
	CHECK(krs_chdir("/home/alice") == 0, "a: chdir");
	int fa = krs_open("secret", KRS_O_RDWR | KRS_O_CREAT, 0666);
	CHECK(fa == 0, "a: first fd is 0 (%d)", fa);
	CHECK(krs_write(fa, "alice", 5) == 5, "a: write");
	CHECK(krs_fstat(fa, &st) == 0 && (st.st_mode & 0777) == 0600 &&
	    st.st_uid == 1000 && st.st_gid == 1000, "umask 077 and owner (mode %o)",
	    st.st_mode & 0777);
	CHECK_ERR(krs_mkdir("/home/x", 0755), EACCES);
	CHECK_ERR(krs_mount("t", "/home", "tmpfs", 0, NULL, 0), EPERM);
	int fs = krs_open("/shared/a-file", KRS_O_WRONLY | KRS_O_CREAT, 0644);
	CHECK(fs >= 0 && krs_close(fs) == 0, "a: file in sticky dir");
	krs_ctx_leave();

	krs_ctx_enter(b);
	CHECK(krs_getcwd(buf, sizeof(buf)) && strcmp(buf, "/") == 0, "b: own cwd %s", buf);
	CHECK_ERR(krs_read(fa, buf, 1), EBADF);		/* a's fd 0 is not b's */
	CHECK_ERR(krs_open("/home/alice/secret", KRS_O_RDONLY), EACCES);
	CHECK_ERR(krs_open("/home/alice/new", KRS_O_WRONLY | KRS_O_CREAT, 0644), EACCES);
	CHECK_ERR(krs_unlink("/shared/a-file"), EPERM);
	CHECK_ERR(krs_rename("/shared/a-file", "/shared/mine"), EPERM);
	CHECK_ERR(krs_chmod("/shared/a-file", 0777), EPERM);
	CHECK_ERR(krs_chown("/shared/a-file", 2000, 2000), EPERM);
	struct krs_timespec ts[2] = { { 1, 0 }, { 1, 0 } };
	CHECK_ERR(krs_utimens("/shared/a-file", ts), EPERM);
	CHECK(krs_utimens("/shared/a-file", NULL) != 0 && errno == EACCES,
	    "b: touch now without write permission");
	CHECK(krs_stat("/shared/a-file", &st) == 0, "b: may stat");
	int fb = krs_open("/shared/b-file", KRS_O_WRONLY | KRS_O_CREAT, 0644);
	CHECK(fb == 0, "b: its own fd 0");
	krs_ctx_leave();
	PASS("contexts: own fd tables (both start at 0), own cwd, own umask; EACCES on modes, EPERM in sticky dir, chmod/chown/utimens, mount");

	krs_ctx_enter(a);
	CHECK(krs_chmod("secret", 0640) == 0, "a: owner chmod");
	CHECK_ERR(krs_chown("secret", 1000, 2000), EPERM);	/* not a's group */
	krs_ctx_leave();

	/* Group access: root puts secret in b's group, g+r lets b read. */
	CHECK(krs_chown("/home/alice/secret", 1000, 2000) == 0, "root chown");
	krs_ctx_enter(b);
	int fr = krs_open("/home/alice/secret", KRS_O_RDONLY);
	CHECK(fr >= 0 && krs_read(fr, buf, 5) == 5 && memcmp(buf, "alice", 5) == 0, "group read");
	CHECK_ERR(krs_open("/home/alice/secret", KRS_O_WRONLY), EACCES);
	krs_close(fr);
	krs_ctx_leave();
	PASS("group permission bits grant read but not write");

	/* Destroying a context closes its files: an unlinked one is freed. */
	CHECK(krs_unlink("/home/alice/secret") == 0, "unlink while a holds it");
	CHECK(krs_statvfs("/", &sv1) == 0, "statvfs");
	CHECK(krs_ctx_destroy(a) == 0, "destroy a");
	CHECK(krs_statvfs("/", &sv2) == 0 && sv2.f_ffree == sv1.f_ffree + 1,
	    "a's open unlinked file freed on destroy (%llu -> %llu)",
	    (unsigned long long)sv1.f_ffree, (unsigned long long)sv2.f_ffree);
	krs_ctx_enter(b);
	CHECK(krs_close(0) == 0, "b's fd untouched");
	krs_ctx_leave();
	CHECK(krs_ctx_destroy(b) == 0, "destroy b");
	PASS("krs_ctx_destroy closes the context's descriptors only");

	/* Threads, each in its own context, at the same time. */
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		CHECK(krs_ctx_create(3000 + (uint32_t)i, 3000, &w[i].ctx) == 0, "ctx");
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		CHECK(!w[i].failed, "worker %d: %s", i, w[i].msg);
		CHECK(krs_ctx_destroy(w[i].ctx) == 0, "destroy worker ctx");
	}
	for (int i = 0; i < NTHREADS; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/work/w%d/data", i);
		CHECK(krs_stat(p, &st) == 0 && st.st_size == 512 && st.st_uid == 3000u + (unsigned)i,
		    "worker file %s", p);
	}
	PASS("4 threads in 4 contexts: 300 rounds each of write, atomic rename, verify, shared-dir create/unlink");

	/* chroot: a context confined to /jail sees it as /, cannot climb
	 * out with "..", and getcwd is relative to it; others are not. */
	struct krs_ctx *j;
	CHECK(krs_mkdir("/jail", 0755) == 0 && krs_mkdir("/jail/etc", 0755) == 0,
	    "jail layout");
	int jf = krs_open("/jail/etc/inside", KRS_O_WRONLY | KRS_O_CREAT, 0644);
	CHECK(jf >= 0 && krs_close(jf) == 0, "a file inside the jail");
	CHECK(krs_ctx_create(0, 0, &j) == 0, "ctx j");
	krs_ctx_enter(j);
	CHECK(krs_chroot("/jail") == 0, "chroot /jail");
	CHECK(krs_stat("/etc/inside", &st) == 0, "/etc/inside resolves in the jail");
	CHECK_ERR(krs_stat("/jail", &st), ENOENT);
	CHECK_ERR(krs_stat("/../../home", &st), ENOENT);
	CHECK(krs_chdir("/etc") == 0 && krs_getcwd(buf, sizeof(buf)) &&
	    strcmp(buf, "/etc") == 0, "getcwd inside the jail is /etc (%s)", buf);
	CHECK_ERR(krs_stat("../../../home", &st), ENOENT);
	CHECK_ERR(krs_chroot("/etc/inside"), ENOTDIR);
	krs_ctx_leave();
	CHECK(krs_stat("/home", &st) == 0, "the default context is not confined");
	CHECK(krs_ctx_destroy(j) == 0, "destroy the jailed context");
	PASS("krs_chroot confines a context: absolute paths, .., getcwd");

	krs_shutdown();
	DONE();
}
