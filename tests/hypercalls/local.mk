# tests/hypercalls: the conformance suite every host of the layer passes.
check_LTLIBRARIES += tests/hypercalls/libhyptest.la
tests_hypercalls_libhyptest_la_SOURCES = tests/hypercalls/hyptest.c \
	tests/hypercalls/hyptest.h
tests_hypercalls_libhyptest_la_LIBADD = libkrank-hypercall.la

HYPTEST_LIBS = tests/hypercalls/libhyptest.la libkrank-hypercall.la -lpthread

hyp_tests = \
	tests/hypercalls/test_params \
	tests/hypercalls/test_memory \
	tests/hypercalls/test_files \
	tests/hypercalls/test_bio \
	tests/hypercalls/test_clock_random \
	tests/hypercalls/test_threads \
	tests/hypercalls/test_mutex \
	tests/hypercalls/test_rwlock \
	tests/hypercalls/test_condvar \
	tests/hypercalls/test_pkt_wire \
	tests/hypercalls/test_arena_cpu \
	tests/hypercalls/test_component \
	tests/hypercalls/test_rcu \
	tests/hypercalls/test_heap_huge \
	tests/hypercalls/test_tap_poll
check_PROGRAMS += $(hyp_tests)
TESTS += $(hyp_tests)
tests_hypercalls_test_params_LDADD = $(HYPTEST_LIBS)
tests_hypercalls_test_memory_LDADD = $(HYPTEST_LIBS)
tests_hypercalls_test_files_LDADD = $(HYPTEST_LIBS)
tests_hypercalls_test_bio_LDADD = $(HYPTEST_LIBS)
tests_hypercalls_test_clock_random_LDADD = $(HYPTEST_LIBS)
tests_hypercalls_test_threads_LDADD = $(HYPTEST_LIBS)
tests_hypercalls_test_mutex_LDADD = $(HYPTEST_LIBS)
tests_hypercalls_test_rwlock_LDADD = $(HYPTEST_LIBS)
tests_hypercalls_test_condvar_LDADD = $(HYPTEST_LIBS)
tests_hypercalls_test_pkt_wire_LDADD = $(HYPTEST_LIBS)
tests_hypercalls_test_arena_cpu_LDADD = $(HYPTEST_LIBS)
tests_hypercalls_test_component_LDADD = $(HYPTEST_LIBS)
tests_hypercalls_test_rcu_LDADD = $(HYPTEST_LIBS)
tests_hypercalls_test_heap_huge_LDADD = $(HYPTEST_LIBS)
tests_hypercalls_test_tap_poll_LDADD = $(HYPTEST_LIBS)

# dl_bootstrap: a librump*-named shared library with link sets.
check_LTLIBRARIES += tests/hypercalls/librumptest_comp.la
tests_hypercalls_librumptest_comp_la_SOURCES = tests/hypercalls/rumptest_comp.c
tests_hypercalls_librumptest_comp_la_CFLAGS = $(AM_CFLAGS) -Wno-missing-prototypes
tests_hypercalls_librumptest_comp_la_LDFLAGS = -rpath /nowhere -avoid-version -shared
check_PROGRAMS += tests/hypercalls/test_dl
TESTS += tests/hypercalls/test_dl
tests_hypercalls_test_dl_LDADD = tests/hypercalls/librumptest_comp.la $(HYPTEST_LIBS)
tests_hypercalls_test_dl_LDFLAGS = -Wl,--export-dynamic

# The library exports every rumpuser v17 call and needs nothing of NetBSD.
TESTS += tests/hypercalls/test_link_exports.sh
EXTRA_DIST += tests/hypercalls/test_link_exports.sh tests/hypercalls/rumpuser_v17.syms

# tap and AF_PACKET against Linux, inside a namespace the test makes.
check_PROGRAMS += tests/hypercalls/pkt_responder
tests_hypercalls_pkt_responder_LDADD = libkrank-hypercall.la
TESTS += tests/hypercalls/test_pkt_netns.sh
EXTRA_DIST += tests/hypercalls/test_pkt_netns.sh

# The dpdk: backend is a module loaded on its first open: no DPDK mapped
# before, the build tree's module found, a missing one named.
check_PROGRAMS += tests/hypercalls/pkt_module_probe
tests_hypercalls_pkt_module_probe_LDADD = $(HYPTEST_LIBS)
TESTS += tests/hypercalls/test_pkt_module.sh
EXTRA_DIST += tests/hypercalls/test_pkt_module.sh

# The same library and buffer-managing tests under ASan+UBSan (leaks are
# failures too).
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
check_LTLIBRARIES += tests/hypercalls/libkrank-hypercall-san.la
tests_hypercalls_libkrank_hypercall_san_la_SOURCES = $(libkrank_hypercall_la_SOURCES)
tests_hypercalls_libkrank_hypercall_san_la_CPPFLAGS = $(libkrank_hypercall_la_CPPFLAGS)
tests_hypercalls_libkrank_hypercall_san_la_CFLAGS = $(libkrank_hypercall_la_CFLAGS) $(SAN_FLAGS)
tests_hypercalls_libkrank_hypercall_san_la_LIBADD = $(libkrank_hypercall_la_LIBADD)
tests_hypercalls_libkrank_hypercall_san_la_LDFLAGS = $(SAN_FLAGS)
san_tests = tests/hypercalls/test_pkt_wire_san tests/hypercalls/test_bio_san \
	tests/hypercalls/test_files_san tests/hypercalls/test_rcu_san \
	tests/hypercalls/test_heap_huge_san
check_PROGRAMS += $(san_tests)
TESTS += $(san_tests)
SAN_LIBS = tests/hypercalls/libkrank-hypercall-san.la -lpthread
tests_hypercalls_test_pkt_wire_san_SOURCES = tests/hypercalls/test_pkt_wire.c tests/hypercalls/hyptest.c
tests_hypercalls_test_pkt_wire_san_CFLAGS = $(AM_CFLAGS) $(SAN_FLAGS)
tests_hypercalls_test_pkt_wire_san_LDFLAGS = $(SAN_FLAGS)
tests_hypercalls_test_pkt_wire_san_LDADD = $(SAN_LIBS)
tests_hypercalls_test_heap_huge_san_SOURCES = tests/hypercalls/test_heap_huge.c tests/hypercalls/hyptest.c
tests_hypercalls_test_heap_huge_san_CFLAGS = $(AM_CFLAGS) $(SAN_FLAGS)
tests_hypercalls_test_heap_huge_san_LDFLAGS = $(SAN_FLAGS)
tests_hypercalls_test_heap_huge_san_LDADD = $(SAN_LIBS)
tests_hypercalls_test_bio_san_SOURCES = tests/hypercalls/test_bio.c tests/hypercalls/hyptest.c
tests_hypercalls_test_bio_san_CFLAGS = $(AM_CFLAGS) $(SAN_FLAGS)
tests_hypercalls_test_bio_san_LDFLAGS = $(SAN_FLAGS)
tests_hypercalls_test_bio_san_LDADD = $(SAN_LIBS)
tests_hypercalls_test_files_san_SOURCES = tests/hypercalls/test_files.c tests/hypercalls/hyptest.c
tests_hypercalls_test_files_san_CFLAGS = $(AM_CFLAGS) $(SAN_FLAGS)
tests_hypercalls_test_files_san_LDFLAGS = $(SAN_FLAGS)
tests_hypercalls_test_files_san_LDADD = $(SAN_LIBS)
tests_hypercalls_test_rcu_san_SOURCES = tests/hypercalls/test_rcu.c tests/hypercalls/hyptest.c
tests_hypercalls_test_rcu_san_CFLAGS = $(AM_CFLAGS) $(SAN_FLAGS)
tests_hypercalls_test_rcu_san_LDFLAGS = $(SAN_FLAGS)
tests_hypercalls_test_rcu_san_LDADD = $(SAN_LIBS)

# make installcheck (run by distcheck): a program builds against the
# installed headers and library through krank.pc alone, and runs.
installcheck-local:
	@tmp=`mktemp -d` && \
	printf '#include <krank/rumpuser.h>\n#include <krank/hyp.h>\nint main(void){ char b[16]; return rumpuser_getparam(RUMPUSER_PARAM_NCPU, b, sizeof(b)) != 0 || hyp_cpu_count() < 1; }\n' >$$tmp/t.c && \
	PKG_CONFIG_PATH=$(DESTDIR)$(pkgconfigdir) $(CC) -o $$tmp/t $$tmp/t.c \
		`PKG_CONFIG_PATH=$(DESTDIR)$(pkgconfigdir) $(PKG_CONFIG) --cflags --libs krank` && \
	LD_LIBRARY_PATH=$(DESTDIR)$(libdir) $$tmp/t && \
	echo "installcheck: a program built with krank.pc runs" && rm -rf $$tmp

# Benchmark of the hypercall layer (built with the tree, run only by
# `make bench-hypercalls`, never by make check).
noinst_PROGRAMS += tests/bench/bench_hypercalls
tests_bench_bench_hypercalls_SOURCES = tests/bench/bench_hypercalls.c
tests_bench_bench_hypercalls_LDADD = libkrank-hypercall.la
bench-hypercalls: tests/bench/bench_hypercalls$(EXEEXT)
	./tests/bench/bench_hypercalls
.PHONY: bench-hypercalls

# The lock, thread, packet and bio tests again under ThreadSanitizer: a
# data race in the hypercall layer fails the suite.
TSAN_FLAGS = -fsanitize=thread -fno-omit-frame-pointer
check_LTLIBRARIES += tests/hypercalls/libkrank-hypercall-tsan.la
tests_hypercalls_libkrank_hypercall_tsan_la_SOURCES = $(libkrank_hypercall_la_SOURCES)
tests_hypercalls_libkrank_hypercall_tsan_la_CPPFLAGS = $(libkrank_hypercall_la_CPPFLAGS)
tests_hypercalls_libkrank_hypercall_tsan_la_CFLAGS = $(libkrank_hypercall_la_CFLAGS) $(TSAN_FLAGS)
tests_hypercalls_libkrank_hypercall_tsan_la_LIBADD = $(libkrank_hypercall_la_LIBADD)
tests_hypercalls_libkrank_hypercall_tsan_la_LDFLAGS = $(TSAN_FLAGS)
tsan_tests = tests/hypercalls/test_mutex_tsan tests/hypercalls/test_rwlock_tsan \
	tests/hypercalls/test_condvar_tsan tests/hypercalls/test_threads_tsan \
	tests/hypercalls/test_pkt_wire_tsan tests/hypercalls/test_bio_tsan
check_PROGRAMS += $(tsan_tests)
TESTS += $(tsan_tests)
TSAN_LIBS = tests/hypercalls/libkrank-hypercall-tsan.la -lpthread
TSAN_TEST_CFLAGS = $(AM_CFLAGS) $(TSAN_FLAGS)
tests_hypercalls_test_mutex_tsan_SOURCES = tests/hypercalls/test_mutex.c tests/hypercalls/hyptest.c
tests_hypercalls_test_mutex_tsan_CFLAGS = $(TSAN_TEST_CFLAGS)
tests_hypercalls_test_mutex_tsan_LDFLAGS = $(TSAN_FLAGS)
tests_hypercalls_test_mutex_tsan_LDADD = $(TSAN_LIBS)
tests_hypercalls_test_rwlock_tsan_SOURCES = tests/hypercalls/test_rwlock.c tests/hypercalls/hyptest.c
tests_hypercalls_test_rwlock_tsan_CFLAGS = $(TSAN_TEST_CFLAGS)
tests_hypercalls_test_rwlock_tsan_LDFLAGS = $(TSAN_FLAGS)
tests_hypercalls_test_rwlock_tsan_LDADD = $(TSAN_LIBS)
tests_hypercalls_test_condvar_tsan_SOURCES = tests/hypercalls/test_condvar.c tests/hypercalls/hyptest.c
tests_hypercalls_test_condvar_tsan_CFLAGS = $(TSAN_TEST_CFLAGS)
tests_hypercalls_test_condvar_tsan_LDFLAGS = $(TSAN_FLAGS)
tests_hypercalls_test_condvar_tsan_LDADD = $(TSAN_LIBS)
tests_hypercalls_test_threads_tsan_SOURCES = tests/hypercalls/test_threads.c tests/hypercalls/hyptest.c
tests_hypercalls_test_threads_tsan_CFLAGS = $(TSAN_TEST_CFLAGS)
tests_hypercalls_test_threads_tsan_LDFLAGS = $(TSAN_FLAGS)
tests_hypercalls_test_threads_tsan_LDADD = $(TSAN_LIBS)
tests_hypercalls_test_pkt_wire_tsan_SOURCES = tests/hypercalls/test_pkt_wire.c tests/hypercalls/hyptest.c
tests_hypercalls_test_pkt_wire_tsan_CFLAGS = $(TSAN_TEST_CFLAGS)
tests_hypercalls_test_pkt_wire_tsan_LDFLAGS = $(TSAN_FLAGS)
tests_hypercalls_test_pkt_wire_tsan_LDADD = $(TSAN_LIBS)
tests_hypercalls_test_bio_tsan_SOURCES = tests/hypercalls/test_bio.c tests/hypercalls/hyptest.c
tests_hypercalls_test_bio_tsan_CFLAGS = $(TSAN_TEST_CFLAGS)
tests_hypercalls_test_bio_tsan_LDFLAGS = $(TSAN_FLAGS)
tests_hypercalls_test_bio_tsan_LDADD = $(TSAN_LIBS)

# Static links from an installed tree through each host's .pc file.
TESTS += tests/hypercalls/test_pkgconfig_static.sh
EXTRA_DIST += tests/hypercalls/test_pkgconfig_static.sh
