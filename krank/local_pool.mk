# krank/local_pool.mk: the isolate memory pool (memory.isolate_pool,
# krank/krk_pool.c) in KRANK's sources (KRK_ALL_SRCS: libkrk.a and the
# sanitizer builds), and its test.
KRK_ALL_SRCS += krank/krk_pool.c

# test_krk_pool: the pool under krank-ld and krk_isolate.c (W^X on pool
# pages, zeroed reuse, fallback when full, page faults of a warm spawn).
check_PROGRAMS += tests/krank/test_krk_pool
tests_krank_test_krk_pool_SOURCES = tests/krank/test_krk_pool.c
tests_krank_test_krk_pool_CPPFLAGS = $(KRK_CPPFLAGS)
tests_krank_test_krk_pool_LDFLAGS = $(KRANK_LINK)
tests_krank_test_krk_pool_LDADD = krank/libkrk.a $(KRANK_LINK_LIBS)
tests_krank_test_krk_pool_DEPENDENCIES = krank/libkrk.a $(KRK_DEPS)
TESTS += tests/krank/test_krk_pool.sh
EXTRA_DIST += tests/krank/test_krk_pool.sh tests/krank/iso/poolprobe.c
