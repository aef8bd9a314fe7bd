# tests/rumpdrv/ext2: block device, ext2 driver, krank-fs, e2fsprogs interop.
EXT2TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/rumpdrv \
	-I$(srcdir)/rumpdrv/include -I$(srcdir)/tests/rumpdrv
EXT2TEST_DEPS = $(RUMPDRV_EXT2_LIBS) rumpdrv/kern/librumpkern.a \
	libkrank-hypercall.la

ext2_ctests = tests/rumpdrv/ext2/test_blk
check_PROGRAMS += $(ext2_ctests)
TESTS += $(ext2_ctests)
tests_rumpdrv_ext2_test_blk_SOURCES = tests/rumpdrv/ext2/test_blk.c
tests_rumpdrv_ext2_test_blk_CPPFLAGS = $(EXT2TEST_CPPFLAGS)
tests_rumpdrv_ext2_test_blk_LDFLAGS = $(RUMPDRV_LINK_KERN)
tests_rumpdrv_ext2_test_blk_LDADD = $(RUMPDRV_EXT2_LIBS) $(RUMPDRV_HYP_LIBS)
tests_rumpdrv_ext2_test_blk_DEPENDENCIES = $(EXT2TEST_DEPS)

ext2_shtests = tests/rumpdrv/ext2/test_ext2_interop.sh \
	tests/rumpdrv/ext2/test_ext2_damage.sh
TESTS += $(ext2_shtests)
EXTRA_DIST += $(ext2_shtests) tests/rumpdrv/ext2/ext2_lib.sh
