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
