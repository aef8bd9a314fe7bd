# krank/ heap arenas: the sources the krank binary compiles in, their test
# (plain, under ASan+UBSan and under TSan) and a benchmark against glibc
# malloc.
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
# And under TSan: the thread caches free without the arena lock.
KRK_HEAP_TSAN_FLAGS = -fsanitize=thread -fno-omit-frame-pointer
check_PROGRAMS += tests/krank/test_krk_heap_tsan
TESTS += tests/krank/test_krk_heap_tsan
tests_krank_test_krk_heap_tsan_SOURCES = $(tests_krank_test_krk_heap_SOURCES)
tests_krank_test_krk_heap_tsan_CPPFLAGS = $(tests_krank_test_krk_heap_CPPFLAGS)
tests_krank_test_krk_heap_tsan_CFLAGS = $(AM_CFLAGS) $(KRK_HEAP_TSAN_FLAGS)
tests_krank_test_krk_heap_tsan_LDFLAGS = $(KRK_HEAP_TSAN_FLAGS)

# Benchmark (not in make check): make tests/bench/bench_krk_heap.
EXTRA_PROGRAMS += tests/bench/bench_krk_heap
tests_bench_bench_krk_heap_SOURCES = tests/bench/bench_krk_heap.c \
	$(KRK_HEAP_SRCS) $(KRK_HEAP_HDRS)
tests_bench_bench_krk_heap_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/krank
CLEANFILES += tests/bench/bench_krk_heap

# Benchmark (not in make check): make tests/bench/bench_krank_syscall.
# A system call by direct call into krs_* against Linux's system calls
# (issue 11); it reuses the tmpfs set-up of tests/bench/bench_krs_io.c.
EXTRA_PROGRAMS += tests/bench/bench_krank_syscall
tests_bench_bench_krank_syscall_SOURCES = tests/bench/bench_krank_syscall.c \
	tests/bench/bench_krs_io.c tests/bench/bench_krs_io.h $(KRK_HEAP_HDRS)
tests_bench_bench_krank_syscall_CPPFLAGS = $(RDTEST_CPPFLAGS) -I$(srcdir)/krank
tests_bench_bench_krank_syscall_CFLAGS = $(AM_CFLAGS) -O2
tests_bench_bench_krank_syscall_LDFLAGS = $(RD_TMPFS_LINK)
tests_bench_bench_krank_syscall_LDADD = $(RUMPDRV_HYP_LIBS)
tests_bench_bench_krank_syscall_DEPENDENCIES = $(RD_TMPFS_DEPS)
CLEANFILES += tests/bench/bench_krank_syscall
