/*
 * krq_files.c - the file and directory calls of krank.proto: each checks
 * its arguments (paths bounded, buffers inside the caller's area) and is
 * then one krs_* call on the caller's descriptor table.  Data moves
 * between the caller's buffer and the file system directly (zero copy).
 */
#include <errno.h>
#include <string.h>

#include <krank/krs.h>

#include "krq_call.h"

int
krq_h_open(struct krq_caller *c, const Krank__Open *a, Krank__Response *r)
{
	int err = krq_path(c, a->path);
	if (err != 0)
		return err;
	KRQ_RET(r, krs_openat(KRS_AT_FDCWD, a->path, a->flags, a->mode & 07777));
}

int
krq_h_openat(struct krq_caller *c, const Krank__Openat *a, Krank__Response *r)
{
	int err = krq_path(c, a->path);
	if (err != 0)
		return err;
	KRQ_RET(r, krs_openat(a->dirfd, a->path, a->flags, a->mode & 07777));
}

int
krq_h_close(struct krq_caller *c, const Krank__Close *a, Krank__Response *r)
{
	/* Queued sends go out first; what cannot yet is sent by later
	 * polls, and the descriptor closed after it (as Linux sends a
	 * closed socket's buffer). */
	if (c->sendq != NULL && krq_sendq_close(c, a->fd)) {
		r->value = 0;
		return 0;
	}
	KRQ_RET(r, krs_close(a->fd));
}

int
krq_h_read(struct krq_caller *c, const Krank__Read *a, Krank__Response *r)
{
	void *p;
	size_t n;
	int err = krq_dest(c, a->dest, r, &p, &n);
	if (err != 0)
		return err;
	ssize_t got = krs_read(a->fd, p, n);
	if (got < 0)
		return errno;
	krq_dest_done(r, (size_t)got);
	r->value = got;
	return 0;
}

int
krq_h_pread(struct krq_caller *c, const Krank__Pread *a, Krank__Response *r)
{
	void *p;
	size_t n;
	int err = krq_dest(c, a->dest, r, &p, &n);
	if (err != 0)
		return err;
	ssize_t got = krs_pread(a->fd, p, n, a->offset);
	if (got < 0)
		return errno;
	krq_dest_done(r, (size_t)got);
	r->value = got;
	return 0;
}

int
krq_h_write(struct krq_caller *c, const Krank__Write *a, Krank__Response *r)
{
	const void *p;
	size_t n;
	int err = krq_data(c, a->data, &p, &n);
	if (err != 0)
		return err;
	KRQ_RET(r, krs_write(a->fd, p, n));
}

int
krq_h_pwrite(struct krq_caller *c, const Krank__Pwrite *a, Krank__Response *r)
{
	const void *p;
	size_t n;
	int err = krq_data(c, a->data, &p, &n);
	if (err != 0)
		return err;
	KRQ_RET(r, krs_pwrite(a->fd, p, n, a->offset));
}

int
krq_h_lseek(struct krq_caller *c, const Krank__Lseek *a, Krank__Response *r)
{
	KRQ_RET(r, krs_lseek(a->fd, a->offset, a->whence));
}

static int
krq_stat_result(const struct krs_stat *st, Krank__Response *r)
{
	Krank__StatResult *s = krq_scratch(sizeof(*s));
	Krank__Timespec *t = krq_scratch(3 * sizeof(*t));
	if (s == NULL || t == NULL)
		return ENOMEM;
	krank__stat_result__init(s);
	for (int i = 0; i < 3; i++)
		krank__timespec__init(&t[i]);
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->mode = st->st_mode;
	s->nlink = st->st_nlink;
	s->uid = st->st_uid;
	s->gid = st->st_gid;
	s->rdev = st->st_rdev;
	s->size = st->st_size;
	s->blocks = st->st_blocks;
	s->blksize = st->st_blksize;
	t[0].sec = st->st_atim.tv_sec;
	t[0].nsec = st->st_atim.tv_nsec;
	t[1].sec = st->st_mtim.tv_sec;
	t[1].nsec = st->st_mtim.tv_nsec;
	t[2].sec = st->st_ctim.tv_sec;
	t[2].nsec = st->st_ctim.tv_nsec;
	s->atime = &t[0];
	s->mtime = &t[1];
	s->ctime = &t[2];
	r->result_case = KRANK__RESPONSE__RESULT_STAT;
	r->stat = s;
	r->value = 0;
	return 0;
}

int
krq_h_fstat(struct krq_caller *c, const Krank__Fstat *a, Krank__Response *r)
{
	struct krs_stat st;

	if (krs_fstat(a->fd, &st) != 0)
		return errno;
	return krq_stat_result(&st, r);
}

int
krq_h_stat(struct krq_caller *c, const Krank__Stat *a, Krank__Response *r)
{
	struct krs_stat st;
	int err = krq_path(c, a->path);
	if (err != 0)
		return err;
	if ((a->nofollow ? krs_lstat(a->path, &st) : krs_stat(a->path, &st)) != 0)
		return errno;
	return krq_stat_result(&st, r);
}

int
krq_h_mkdir(struct krq_caller *c, const Krank__Mkdir *a, Krank__Response *r)
{
	int err = krq_path(c, a->path);
	if (err != 0)
		return err;
	KRQ_RET(r, krs_mkdir(a->path, a->mode & 07777));
}

int
krq_h_rmdir(struct krq_caller *c, const Krank__Rmdir *a, Krank__Response *r)
{
	int err = krq_path(c, a->path);
	if (err != 0)
		return err;
	KRQ_RET(r, krs_rmdir(a->path));
}

int
krq_h_unlink(struct krq_caller *c, const Krank__Unlink *a, Krank__Response *r)
{
	int err = krq_path(c, a->path);
	if (err != 0)
		return err;
	KRQ_RET(r, krs_unlink(a->path));
}

int
krq_h_rename(struct krq_caller *c, const Krank__Rename *a, Krank__Response *r)
{
	int err = krq_path(c, a->from);
	if (err == 0)
		err = krq_path(c, a->to);
	if (err != 0)
		return err;
	KRQ_RET(r, krs_rename(a->from, a->to));
}

int
krq_h_getdents(struct krq_caller *c, const Krank__Getdents *a,
    Krank__Response *r)
{
	void *p;
	size_t n;
	int err = krq_dest(c, a->dest, r, &p, &n);
	if (err != 0)
		return err;
	ssize_t got = krs_getdents(a->fd, p, n);
	if (got < 0)
		return errno;
	krq_dest_done(r, (size_t)got);
	r->value = got;
	return 0;
}

int
krq_h_fsync(struct krq_caller *c, const Krank__Fsync *a, Krank__Response *r)
{
	KRQ_RET(r, krs_fsync(a->fd));
}

int
krq_h_ftruncate(struct krq_caller *c, const Krank__Ftruncate *a,
    Krank__Response *r)
{
	KRQ_RET(r, krs_ftruncate(a->fd, a->length));
}

int
krq_h_dup(struct krq_caller *c, const Krank__Dup *a, Krank__Response *r)
{
	KRQ_RET(r, krs_dup(a->fd));
}

int
krq_h_dup2(struct krq_caller *c, const Krank__Dup2 *a, Krank__Response *r)
{
	KRQ_RET(r, krs_dup2(a->fd, a->newfd));
}

int
krq_h_fcntl(struct krq_caller *c, const Krank__Fcntl *a, Krank__Response *r)
{
	int arg = a->arg;

	switch (a->cmd) {
	case KRS_F_GETFD:
	case KRS_F_GETFL:
		KRQ_RET(r, krs_fcntl(a->fd, a->cmd));
	case KRS_F_SETFL:
		/* A caller that must never wait keeps O_NONBLOCK. */
		if (c->flags & KRQ_CALLER_NOBLOCK)
			arg |= KRS_O_NONBLOCK;
		/* FALLTHROUGH */
	case KRS_F_SETFD:
	case KRS_F_DUPFD:
	case KRS_F_DUPFD_CLOEXEC:
		KRQ_RET(r, krs_fcntl(a->fd, a->cmd, arg));
	default:
		return EINVAL;
	}
}
