# krank/ syscall shims: what an isolate's system calls reach (direct calls
# into krs_*).  krank/local.mk compiles KRK_SYS_SRCS into the krank binary.
KRK_SYS_SRCS = krank/krk_sys_int.h krank/krk_sys.c krank/krk_sys_net.c \
	krank/krk_sys_poll.c krank/krk_sys_time.c krank/krk_sys_mem.c \
	krank/krk_sys_thread.c krank/krk_sys_exports.c
KRK_SYS_CPPFLAGS = -I$(srcdir)/krank -I$(srcdir)/rumpdrv \
	-I$(srcdir)/rumpdrv/include -I$(srcdir)/loader/include
EXTRA_DIST += krank/krk_sys_exports.def

# tests/krank: an ordinary POSIX program built twice - by krank-cc into an
# isolate run over KRANK's syscall layer, and by gcc for Linux - must print
# the same; krk_sys_run is the loader/runner (with a test-only stand-in for
# krank/krk_isolate.c).
check_PROGRAMS += tests/krank/krk_sys_run tests/krank/iso_posix_linux
TESTS += tests/krank/test_krk_sys.sh
EXTRA_DIST += tests/krank/test_krk_sys.sh
tests_krank_krk_sys_run_SOURCES = tests/krank/krk_sys_run.c \
	tests/krank/krk_iso_testimpl.c $(KRK_SYS_SRCS)
tests_krank_krk_sys_run_CPPFLAGS = $(AM_CPPFLAGS) $(KRK_SYS_CPPFLAGS)
tests_krank_krk_sys_run_LDFLAGS = $(RUMPDRV_LINK_NET) $(RUMPDRV_LINK_VFS) \
	$(RUMPDRV_LINK_TMPFS)
tests_krank_krk_sys_run_LDADD = libkrank-loader.la $(RUMPDRV_HYP_LIBS)
tests_krank_krk_sys_run_DEPENDENCIES = rumpdrv/net/librumpnet.a \
	rumpdrv/vfs/librumpvfs.a rumpdrv/kern/librumpkern.a \
	rumpdrv/fs/tmpfs/librumpfs_tmpfs.a libkrank-loader.la \
	libkrank-hypercall.la
# The same source as a Linux program (the reference run).
tests_krank_iso_posix_linux_SOURCES = tests/krank/iso_posix.c
tests_krank_iso_posix_linux_CPPFLAGS = -D_GNU_SOURCE
