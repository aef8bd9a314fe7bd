# krank/ heap arenas: the sources the krank binary compiles in, their test
# (plain and under ASan+UBSan) and a benchmark against glibc malloc.
KRK_HEAP_SRCS = krank/krk_heap.c
KRK_HEAP_HDRS = krank/krk.h krank/krk_config.h
KRK_HEAP_SAN_FLAGS = -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer

check_PROGRAMS += tests/krank/test_krk_heap tests/krank/test_krk_heap_san
TESTS += tests/krank/test_krk_heap tests/krank/test_krk_heap_san
tests_krank_test_krk_heap_SOURCES = tests/krank/test_krk_heap.c \
	$(KRK_HEAP_SRCS) $(KRK_HEAP_HDRS)
tests_krank_test_krk_heap_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/krank
tests_krank_test_krk_heap_san_SOURCES = $(tests_krank_test_krk_heap_SOURCES)
tests_krank_test_krk_heap_san_CPPFLAGS = $(tests_krank_test_krk_heap_CPPFLAGS)
tests_krank_test_krk_heap_san_CFLAGS = $(AM_CFLAGS) $(KRK_HEAP_SAN_FLAGS)
tests_krank_test_krk_heap_san_LDFLAGS = $(KRK_HEAP_SAN_FLAGS)

# Benchmark (not in make check): make tests/bench/bench_krk_heap.
EXTRA_PROGRAMS += tests/bench/bench_krk_heap
tests_bench_bench_krk_heap_SOURCES = tests/bench/bench_krk_heap.c \
	$(KRK_HEAP_SRCS) $(KRK_HEAP_HDRS)
tests_bench_bench_krk_heap_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/krank
CLEANFILES += tests/bench/bench_krk_heap
