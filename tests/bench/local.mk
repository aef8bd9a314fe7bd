# make bench: every benchmark with its Linux baseline in the same run,
# repeated, summarised into docs/PERFORMANCE.md (tests/bench/run --help).
# Not part of make check; the summariser has a test of its own.
EXTRA_PROGRAMS += tests/bench/bench_machine
tests_bench_bench_machine_SOURCES = tests/bench/bench_machine.c
tests_bench_bench_machine_CFLAGS = $(AM_CFLAGS) -O2
EXTRA_PROGRAMS += tests/bench/bench_hwlat
tests_bench_bench_hwlat_SOURCES = tests/bench/bench_hwlat.c
tests_bench_bench_hwlat_CFLAGS = $(AM_CFLAGS) -O2
CLEANFILES += tests/bench/bench_hwlat
CLEANFILES += tests/bench/bench_machine
EXTRA_DIST += tests/bench/run tests/bench/summarize.awk tests/bench/point.sh \
	tests/bench/bench_httpd.sh tests/bench/bench_bridge_io.sh \
	tests/bench/bench_point.h tests/bench/bench_net_ab.sh
TESTS += tests/bench/test_bench_summary.sh
EXTRA_DIST += tests/bench/test_bench_summary.sh

# BENCH_FLAGS: e.g. make bench BENCH_FLAGS='--full' or '--only net'.
bench:
	top_builddir='$(abs_top_builddir)' $(SHELL) $(srcdir)/tests/bench/run $(BENCH_FLAGS)
.PHONY: bench
