# rumpdrv/fs/hostfs: the file system component "hostfs" (needs vfs), which
# serves one host directory, and its host half in the hypercall layer
# (hypercalls/posix/hyp_hostfs.c, <krank/hyp_hostfs.h>).  Included after
# hypercalls/, rumpdrv/ and tests/rumpdrv/ fragments.
libkrank_hypercall_la_SOURCES += hypercalls/posix/hyp_hostfs.c
kranksubinclude_HEADERS += hypercalls/include/krank/hyp_hostfs.h

noinst_LIBRARIES += rumpdrv/fs/hostfs/librumpfs_hostfs.a
rumpdrv_fs_hostfs_librumpfs_hostfs_a_CPPFLAGS = $(RUMPDRV_CPPFLAGS)
rumpdrv_fs_hostfs_librumpfs_hostfs_a_CFLAGS = $(RUMPDRV_CFLAGS)
rumpdrv_fs_hostfs_librumpfs_hostfs_a_SOURCES = rumpdrv/fs/hostfs/hostfs.c
RUMPDRV_LINK_HOSTFS = -Wl,--whole-archive,rumpdrv/fs/hostfs/librumpfs_hostfs.a,--no-whole-archive

# Component test: kern + vfs + tmpfs + hostfs through krs_*: normal use,
# read-only mounts and every kind of escape attempt.
RD_HOSTFS_LINK = $(RUMPDRV_LINK_HOSTFS) $(RUMPDRV_LINK_TMPFS) \
	$(RUMPDRV_LINK_VFS) $(RUMPDRV_LINK_KERN)
RD_HOSTFS_DEPS = rumpdrv/fs/hostfs/librumpfs_hostfs.a \
	rumpdrv/fs/tmpfs/librumpfs_tmpfs.a rumpdrv/vfs/librumpvfs.a \
	rumpdrv/kern/librumpkern.a libkrank-hypercall.la
check_PROGRAMS += tests/rumpdrv/hostfs/test_hostfs
TESTS += tests/rumpdrv/hostfs/test_hostfs
tests_rumpdrv_hostfs_test_hostfs_SOURCES = tests/rumpdrv/hostfs/test_hostfs.c
tests_rumpdrv_hostfs_test_hostfs_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_hostfs_test_hostfs_LDFLAGS = $(RD_HOSTFS_LINK)
tests_rumpdrv_hostfs_test_hostfs_LDADD = $(RUMPDRV_HYP_LIBS) 
tests_rumpdrv_hostfs_test_hostfs_DEPENDENCIES = $(RD_HOSTFS_DEPS)

# The same with ASan+UBSan, from the sources (kmem per allocation).
check_PROGRAMS += tests/rumpdrv/hostfs/test_hostfs_san
TESTS += tests/rumpdrv/hostfs/test_hostfs_san
tests_rumpdrv_hostfs_test_hostfs_san_SOURCES = \
	tests/rumpdrv/hostfs/test_hostfs.c \
	$(rumpdrv_kern_librumpkern_a_SOURCES) $(rumpdrv_vfs_librumpvfs_a_SOURCES) \
	$(rumpdrv_fs_tmpfs_librumpfs_tmpfs_a_SOURCES) \
	$(rumpdrv_fs_hostfs_librumpfs_hostfs_a_SOURCES)
tests_rumpdrv_hostfs_test_hostfs_san_CPPFLAGS = $(RDTEST_CPPFLAGS) -DKMEM_DIRECT
tests_rumpdrv_hostfs_test_hostfs_san_CFLAGS = $(AM_CFLAGS) $(RD_SAN_FLAGS)
tests_rumpdrv_hostfs_test_hostfs_san_LDFLAGS = $(RD_SAN_FLAGS)
tests_rumpdrv_hostfs_test_hostfs_san_LDADD = $(RUMPDRV_HYP_LIBS) 

# Benchmark (built, never run by make check): 4 KiB reads through hostfs
# against pread(2) of the same file.
noinst_PROGRAMS += tests/bench/bench_hostfs
tests_bench_bench_hostfs_SOURCES = tests/bench/bench_hostfs.c
tests_bench_bench_hostfs_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_bench_bench_hostfs_CFLAGS = $(AM_CFLAGS) -O2
tests_bench_bench_hostfs_LDFLAGS = $(RD_HOSTFS_LINK)
tests_bench_bench_hostfs_LDADD = $(RUMPDRV_HYP_LIBS)
tests_bench_bench_hostfs_DEPENDENCIES = $(RD_HOSTFS_DEPS)

# krank links the component (the deployment's hostfs: section).
KRANK_LINK += $(RUMPDRV_LINK_HOSTFS)
KRK_DEPS += rumpdrv/fs/hostfs/librumpfs_hostfs.a

# krank run with a hostfs deployment, and the parser's hostfs errors.
TESTS += tests/krank/test_krank_hostfs.sh
EXTRA_DIST += tests/krank/test_krank_hostfs.sh

# And with ThreadSanitizer (the threads and the rename race).
check_PROGRAMS += tests/rumpdrv/hostfs/test_hostfs_tsan
TESTS += tests/rumpdrv/hostfs/test_hostfs_tsan
tests_rumpdrv_hostfs_test_hostfs_tsan_SOURCES = \
	tests/rumpdrv/hostfs/test_hostfs.c $(RD_TSAN_SRCS) \
	$(rumpdrv_fs_hostfs_librumpfs_hostfs_a_SOURCES)
tests_rumpdrv_hostfs_test_hostfs_tsan_CPPFLAGS = $(RDTEST_CPPFLAGS) -DKMEM_DIRECT
tests_rumpdrv_hostfs_test_hostfs_tsan_CFLAGS = $(AM_CFLAGS) $(RD_TSAN_FLAGS)
tests_rumpdrv_hostfs_test_hostfs_tsan_LDFLAGS = $(RD_TSAN_FLAGS)
tests_rumpdrv_hostfs_test_hostfs_tsan_LDADD = tests/hypercalls/libkrank-hypercall-tsan.la -lpthread
