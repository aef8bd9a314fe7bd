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
	tests/hypercalls/test_arena_cpu
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
