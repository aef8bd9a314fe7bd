/*
 * bench_ext2.c - read and write latency through KRANK's system-call
 * functions on an ext2 image (mke2fs, 4 KiB blocks, mounted with
 * krs_mount; warm buffer cache) against Linux's read/write system calls
 * on a tmpfs (/dev/shm) file, measured in the same run.  Not part of
 * make check.
 *
 * Usage: bench_ext2 [iterations]   (default 200000 per measurement)
 * Each figure is the median of 7 timed runs, in nanoseconds per call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <krank/krs.h>

#include "bench_krs_io.h"

int
main(int argc, char **argv)
{
	char err[256], img[64], cmd[200];

	bench_krs_io_args(argc, argv);
	snprintf(img, sizeof(img), "/tmp/krank-bench-ext2.%d.img", (int)getpid());
	snprintf(cmd, sizeof(cmd), "PATH=$PATH:/sbin:/usr/sbin mke2fs -q -F "
	    "-t ext2 -b 4096 %s 64M >/dev/null 2>&1", img);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench: mke2fs failed (install e2fsprogs)\n");
		return 1;
	}
	err[0] = '\0';
	if (krs_boot("vfs,tmpfs,ext2", err, sizeof(err)) != 0 ||
	    krs_mount("tmpfs", "/", "tmpfs", 0, NULL, 0) != 0 ||
	    krs_mkdir("/mnt", 0755) != 0 ||
	    krs_mount(img, "/mnt", "ext2", 0, "cache=16", 8) != 0) {
		fprintf(stderr, "bench: boot/mount failed: %s\n", err);
		unlink(img);
		return 1;
	}
	int rv = bench_krs_io("/mnt/bench", "ext2", "KRANK krs_* on ext2 (image "
	    "file, 4 KiB blocks, warm buffer cache) vs Linux syscalls on "
	    "/dev/shm, same run");
	krs_unmount("/mnt", 0);
	krs_shutdown();
	unlink(img);
	return rv;
}
