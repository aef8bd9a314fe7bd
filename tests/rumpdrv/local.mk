# tests/rumpdrv: unit and rump-style component tests of rumpdrv.
RDTEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/rumpdrv -I$(srcdir)/rumpdrv/include \
	-I$(srcdir)/tests/rumpdrv
EXTRA_DIST += tests/rumpdrv/rdtest.h

rd_tests = tests/rumpdrv/test_kern
check_PROGRAMS += $(rd_tests)
TESTS += $(rd_tests)

tests_rumpdrv_test_kern_SOURCES = tests/rumpdrv/test_kern.c
tests_rumpdrv_test_kern_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_test_kern_LDFLAGS = $(RUMPDRV_LINK_KERN)
tests_rumpdrv_test_kern_LDADD = $(RUMPDRV_HYP_LIBS)
tests_rumpdrv_test_kern_DEPENDENCIES = rumpdrv/kern/librumpkern.a libkrank-hypercall.la

# Layering: rumpdrv objects reference only hypercalls, rumpdrv, pure libc.
TESTS += tests/rumpdrv/check_layering.sh
EXTRA_DIST += tests/rumpdrv/check_layering.sh

# Rump-style component test: kern + vfs + tmpfs, driven through krs_*.
RD_TMPFS_LINK = $(RUMPDRV_LINK_TMPFS) $(RUMPDRV_LINK_VFS) $(RUMPDRV_LINK_KERN)
RD_TMPFS_DEPS = rumpdrv/fs/tmpfs/librumpfs_tmpfs.a rumpdrv/vfs/librumpvfs.a \
	rumpdrv/kern/librumpkern.a libkrank-hypercall.la
check_PROGRAMS += tests/rumpdrv/test_vfs_tmpfs
TESTS += tests/rumpdrv/test_vfs_tmpfs
tests_rumpdrv_test_vfs_tmpfs_SOURCES = tests/rumpdrv/test_vfs_tmpfs.c
tests_rumpdrv_test_vfs_tmpfs_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_test_vfs_tmpfs_LDFLAGS = $(RD_TMPFS_LINK)
tests_rumpdrv_test_vfs_tmpfs_LDADD = $(RUMPDRV_HYP_LIBS)
tests_rumpdrv_test_vfs_tmpfs_DEPENDENCIES = $(RD_TMPFS_DEPS)
