# bench_net's cross-process variant and the tools benchmark (issue 16):
# the Linux build of examples/echo used as their Linux server, built
# plainly with -O2 (tests/examples/echo carries sanitizers, which would
# slow the baseline), and the scripts.  Not part of make check.
EXTRA_PROGRAMS += tests/bench/bench_echo
tests_bench_bench_echo_SOURCES = examples/echo/echo.c examples/common/ex_util.c \
	examples/common/ex_util.h
tests_bench_bench_echo_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/examples/common
tests_bench_bench_echo_CFLAGS = $(AM_CFLAGS) -O2
CLEANFILES += tests/bench/bench_echo
EXTRA_DIST += tests/bench/bench_net_cross.sh tests/bench/bench_net_tools.sh
# Two KRANK stacks over net_memif (DPDK host) vs tap and AF_PACKET (POSIX
# host) vs Linux across a veth, and DPDK host system calls per packet.
EXTRA_DIST += tests/bench/bench_dpdk.sh tests/bench/dpdk_ns.sh
# One KRANK stack on a DPDK port of 1 and of 2 queue pairs (queues: N)
# vs Linux across a veth; BEFORE=DIR for the single-queue path's A/B.
EXTRA_DIST += tests/bench/bench_dpdk_queues.sh
