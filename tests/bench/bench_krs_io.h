/*
 * bench_krs_io.h - the read/write latency harness shared by the file system
 * benchmarks (bench_vfs_tmpfs, bench_ext2): the same calls through KRANK's
 * krs_* functions on a file of the mounted file system and through Linux's
 * system calls on a /dev/shm file, in the same run, median of 7 runs.
 */
#ifndef BENCH_KRS_IO_H
#define BENCH_KRS_IO_H

/* Boot KRANK's kernel with vfs and tmpfs and mount a tmpfs on "/".
 * Returns 0, or 1 after a message on stderr naming the step. */
int bench_krs_tmpfs_boot(void);

/* Take the number of calls per run from argv[1] (default 200000). */
void bench_krs_io_args(int argc, char **argv);

/*
 * Create kpath through krs_open and a scratch file in /dev/shm, fill both
 * with 1 MiB, print the title and the table of 64-byte and 4 KiB
 * read/write/pread/pwrite latencies with Linux/KRANK ratios (and their
 * @point lines, ids ID.CALLSIZE), close both.
 * Returns 0, or 1 after a message on stderr.
 */
int bench_krs_io(const char *kpath, const char *id, const char *title);

#endif
