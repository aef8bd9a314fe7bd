# Benchmark (not in make check; root): make tests/bench/bench_fio, then
# sh tests/bench/bench_fio.sh [SECONDS [FILE_MIB [JOBS]]]: fio-style random
# 4 KiB reads and writes on KRANK's ext2 (image opened O_DIRECT) against
# ext4 on a loop device with O_DIRECT (C loop and fio), the same backing
# file, in one run.  tests/bench/test_fio_verify.sh (make check) runs the
# KRANK side small and checks the data and e2fsck.
check_PROGRAMS += tests/bench/bench_fio
tests_bench_bench_fio_SOURCES = tests/bench/bench_fio.c
tests_bench_bench_fio_CPPFLAGS = $(EXT2TEST_CPPFLAGS)
tests_bench_bench_fio_CFLAGS = $(AM_CFLAGS) -O2
tests_bench_bench_fio_LDFLAGS = $(tests_rumpdrv_ext2_test_ext2_vfs_LDFLAGS)
tests_bench_bench_fio_LDADD = $(tests_rumpdrv_ext2_test_ext2_vfs_LDADD) -lpthread
tests_bench_bench_fio_DEPENDENCIES = $(tests_rumpdrv_ext2_test_ext2_vfs_DEPENDENCIES)
TESTS += tests/bench/test_fio_verify.sh
EXTRA_DIST += tests/bench/bench_fio.sh tests/bench/test_fio_verify.sh
