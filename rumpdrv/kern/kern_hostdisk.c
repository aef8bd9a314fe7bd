/*
 * kern_hostdisk.c - the host's disk for rumpdrv's block device: thin
 * wrappers of the file and bio hypercalls, so that kern stays the only
 * caller of rumpuser_* (scripts/check-layering.sh).  Completions of
 * rumpuser_bio run on host threads that got a kernel lwp and hold a
 * virtual CPU (hypercalls/posix/rumpuser_bio.c), or inline on the caller;
 * both may take kern mutexes.
 */
#include <krank/hyp.h>
#include "kern/kern.h"

int
hostdisk_info(const char *path, uint64_t *sizep, int *typep)
{
	return rumpuser_getfileinfo(path, sizep, typep);
}

int
hostdisk_open(const char *path, int flags, int *fdp)
{
	return rumpuser_open(path, flags, fdp);
}

int
hostdisk_close(int fd)
{
	return rumpuser_close(fd);
}

int
hostdisk_sync(int fd, int flags)
{
	return rumpuser_syncfd(fd, flags, 0, 0);
}

int
hostdisk_direct(int fd, int on, unsigned *alignp)
{
	return hyp_bio_direct(fd, on, alignp);
}

void
hostdisk_bio(int fd, int op, void *data, size_t len, int64_t off,
    hostdisk_done_fn done, void *arg)
{
	rumpuser_bio(fd, op, data, len, off, done, arg);
}

void
hostdisk_bio_async(int fd, int op, void *data, size_t len, int64_t off,
    hostdisk_done_fn done, void *arg)
{
	hyp_bio_async(fd, op, data, len, off, done, arg);
}
