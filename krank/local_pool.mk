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
# The same with KRANK's code and the loader under ASan+UBSan (as
# krk_sys_run_san): deferred reloads, kills and shutdown with a reload
# queued must neither leak nor touch freed memory.
check_PROGRAMS += tests/krank/test_krk_pool_san
tests_krank_test_krk_pool_san_SOURCES = tests/krank/test_krk_pool.c $(KRK_SYS_SAN_SRCS)
tests_krank_test_krk_pool_san_CPPFLAGS = $(KRK_SYS_SAN_CPP)
tests_krank_test_krk_pool_san_CFLAGS = $(KRK_SYS_SAN_CC)
tests_krank_test_krk_pool_san_LDFLAGS = $(KRK_SYS_SAN_LD)
tests_krank_test_krk_pool_san_LDADD = $(KRK_SYS_SAN_LIBS)
tests_krank_test_krk_pool_san_DEPENDENCIES = $(KRK_DEPS)
TESTS += tests/krank/test_krk_pool_san.sh
EXTRA_DIST += tests/krank/test_krk_pool_san.sh
