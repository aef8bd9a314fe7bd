# Benchmark (not in make check; root): make tests/bench/bench_krq_io, then
# sh tests/bench/bench_krq_io.sh [REPEATS [CALLS]]: a Linux process's
# system calls over KRANK's queues (null unbatched and batched, 64 B and
# 4 KiB pread/pwrite on tmpfs and ext2) against Linux's, and the bare
# cross-core round trip, in one run against a running `krank run`.
EXTRA_PROGRAMS += tests/bench/bench_krq_io
tests_bench_bench_krq_io_SOURCES = tests/bench/bench_krq_io.c
tests_bench_bench_krq_io_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/krank/include
tests_bench_bench_krq_io_CFLAGS = $(AM_CFLAGS) -O2
tests_bench_bench_krq_io_LDADD = libkrank.la -lpthread
CLEANFILES += tests/bench/bench_krq_io
EXTRA_DIST += tests/bench/bench_krq_io.sh
