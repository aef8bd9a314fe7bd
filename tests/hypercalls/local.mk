# tests/hypercalls: the conformance suite every host of the layer passes.
check_LTLIBRARIES += tests/hypercalls/libhyptest.la
tests_hypercalls_libhyptest_la_SOURCES = tests/hypercalls/hyptest.c \
	tests/hypercalls/hyptest.h
tests_hypercalls_libhyptest_la_LIBADD = libkrank-hypercall.la

HYPTEST_LIBS = tests/hypercalls/libhyptest.la libkrank-hypercall.la -lpthread

hyp_tests = \
	tests/hypercalls/test_params \
	tests/hypercalls/test_memory
check_PROGRAMS += $(hyp_tests)
TESTS += $(hyp_tests)
tests_hypercalls_test_params_LDADD = $(HYPTEST_LIBS)
tests_hypercalls_test_memory_LDADD = $(HYPTEST_LIBS)
