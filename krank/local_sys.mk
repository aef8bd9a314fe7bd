# krank/ syscall shims: what an isolate's system calls reach (direct calls
# into krs_*).  krank/local.mk compiles KRK_SYS_SRCS into the krank binary.
KRK_SYS_SRCS = krank/krk_sys_int.h krank/krk_sys.c krank/krk_sys_net.c \
	krank/krk_sys_poll.c krank/krk_sys_time.c krank/krk_sys_mem.c \
	krank/krk_sys_thread.c krank/krk_sys_exports.c
KRK_SYS_CPPFLAGS = -I$(srcdir)/krank -I$(srcdir)/rumpdrv \
	-I$(srcdir)/rumpdrv/include -I$(srcdir)/loader/include
EXTRA_DIST += krank/krk_sys_exports.def

# tests/krank: an ordinary POSIX program built twice - by krank-cc into an
# isolate run by the real krank/krk_isolate.c over KRANK's syscall layer
# (krk_sys_run spawns it), and by gcc for Linux - must print the same.
check_PROGRAMS += tests/krank/krk_sys_run tests/krank/iso_posix_linux
TESTS += tests/krank/test_krk_sys.sh
EXTRA_DIST += tests/krank/test_krk_sys.sh tests/krank/iso_block.c \
	tests/krank/iso_bench.c tests/krank/bench_krk_sys.sh
tests_krank_krk_sys_run_SOURCES = tests/krank/krk_sys_run.c
tests_krank_krk_sys_run_CPPFLAGS = $(KRK_CPPFLAGS)
tests_krank_krk_sys_run_LDFLAGS = $(KRANK_LINK)
tests_krank_krk_sys_run_LDADD = krank/libkrk.a $(KRANK_LINK_LIBS)
tests_krank_krk_sys_run_DEPENDENCIES = krank/libkrk.a $(KRK_DEPS)
# The same source as a Linux program (the reference run).
tests_krank_iso_posix_linux_SOURCES = tests/krank/iso_posix.c
tests_krank_iso_posix_linux_CPPFLAGS = -D_GNU_SOURCE

# The same runner with KRANK's own code - the isolate runtime, heap
# arenas, shims, the isolate libc and the loader - under ASan+UBSan (the
# kernel components stay as built).
KRK_SYS_SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
# What every such build takes (krk_sys_run_san here, test_krk_chan_san
# and test_krk_pool_san): KRANK's and the loader's sources, and the flags
# and libraries, beside the test's own source.
KRK_SYS_SAN_SRCS = $(KRK_ALL_SRCS) $(libkrank_loader_la_SOURCES)
KRK_SYS_SAN_CPP = $(KRK_CPPFLAGS) $(KLD_CPPFLAGS)
KRK_SYS_SAN_CC = $(AM_CFLAGS) $(YAML_CFLAGS) $(LIBELF_CFLAGS) \
	$(KRK_SYS_SAN_FLAGS)
KRK_SYS_SAN_LD = $(KRANK_LINK) $(KRK_SYS_SAN_FLAGS)
KRK_SYS_SAN_LIBS = rumpdrv/dev/blk/librumpdev_blk.a \
	$(RUMPDRV_HYP_LIBS) $(KRK_CONFIG_LIBS) $(KRK_CTL_LIBS) \
	$(LIBELF_LIBS) $(ZYDIS_LIBS) -lm
check_PROGRAMS += tests/krank/krk_sys_run_san
tests_krank_krk_sys_run_san_SOURCES = tests/krank/krk_sys_run.c \
	$(KRK_SYS_SAN_SRCS)
tests_krank_krk_sys_run_san_CPPFLAGS = $(KRK_SYS_SAN_CPP)
tests_krank_krk_sys_run_san_CFLAGS = $(KRK_SYS_SAN_CC)
tests_krank_krk_sys_run_san_LDFLAGS = $(KRK_SYS_SAN_LD)
tests_krank_krk_sys_run_san_LDADD = $(KRK_SYS_SAN_LIBS)
tests_krank_krk_sys_run_san_DEPENDENCIES = $(KRK_DEPS)
