/*
 * bench_vfs_tmpfs.c - read and write latency through KRANK's system-call
 * functions on tmpfs against Linux's read/write system calls on a tmpfs
 * (/dev/shm) file, measured in the same run.  Not part of make check.
 *
 * Usage: bench_vfs_tmpfs [iterations]   (default 200000 per measurement)
 * Each figure is the median of 7 timed runs, in nanoseconds per call.
 */
#include <stdio.h>

#include <krank/krs.h>

#include "bench_krs_io.h"
#include "bench_point.h"

int
main(int argc, char **argv)
{
	bench_machine_costs();
	bench_krs_io_args(argc, argv);
	if (bench_krs_tmpfs_boot() != 0)
		return 1;
	int rv = bench_krs_io("/bench", "tmpfs",
	    "KRANK krs_* on tmpfs vs Linux syscalls on /dev/shm, same run");
	krs_shutdown();
	return rv;
}
