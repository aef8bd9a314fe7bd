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
	tests/rumpdrv/ext2/test_ext2_inode_bitmap.sh \
	tests/rumpdrv/ext2/test_ext2_damage.sh \
	tests/rumpdrv/ext2/test_ext2_metadata.sh
TESTS += $(ext2_shtests)
EXTRA_DIST += $(ext2_shtests) tests/rumpdrv/ext2/ext2_lib.sh

# The block device test again with blk itself built with ASan+UBSan (the
# read-ahead runs' bounce buffers, their error paths, close while in flight).
check_PROGRAMS += tests/rumpdrv/ext2/test_blk_san
TESTS += tests/rumpdrv/ext2/test_blk_san
tests_rumpdrv_ext2_test_blk_san_SOURCES = tests/rumpdrv/ext2/test_blk.c \
	rumpdrv/dev/blk/blk.c
tests_rumpdrv_ext2_test_blk_san_CPPFLAGS = $(EXT2TEST_CPPFLAGS)
tests_rumpdrv_ext2_test_blk_san_CFLAGS = $(AM_CFLAGS) $(EXT2_SAN_FLAGS)
tests_rumpdrv_ext2_test_blk_san_LDFLAGS = $(EXT2_SAN_FLAGS) \
	$(RUMPDRV_LINK_KERN)
tests_rumpdrv_ext2_test_blk_san_LDADD = $(RUMPDRV_HYP_LIBS)
tests_rumpdrv_ext2_test_blk_san_DEPENDENCIES = \
	rumpdrv/kern/librumpkern.a libkrank-hypercall.la

# Randomised stress test against an in-memory model (plain and ASan+UBSan).
check_PROGRAMS += tests/rumpdrv/ext2/test_ext2_stress \
	tests/rumpdrv/ext2/test_ext2_stress_san
tests_rumpdrv_ext2_test_ext2_stress_SOURCES = tests/rumpdrv/ext2/test_ext2_stress.c
tests_rumpdrv_ext2_test_ext2_stress_CPPFLAGS = $(EXT2TEST_CPPFLAGS)
tests_rumpdrv_ext2_test_ext2_stress_LDFLAGS = $(RUMPDRV_LINK_KERN)
tests_rumpdrv_ext2_test_ext2_stress_LDADD = $(RUMPDRV_EXT2_LIBS) $(RUMPDRV_HYP_LIBS)
tests_rumpdrv_ext2_test_ext2_stress_DEPENDENCIES = $(EXT2TEST_DEPS)
# The sanitizer build compiles blk and ext2 themselves with ASan+UBSan.
EXT2_SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
tests_rumpdrv_ext2_test_ext2_stress_san_SOURCES = \
	tests/rumpdrv/ext2/test_ext2_stress.c \
	$(EXT2_CORE_SOURCES) rumpdrv/dev/blk/blk.c
tests_rumpdrv_ext2_test_ext2_stress_san_CPPFLAGS = $(EXT2TEST_CPPFLAGS)
tests_rumpdrv_ext2_test_ext2_stress_san_CFLAGS = $(AM_CFLAGS) $(EXT2_SAN_FLAGS)
tests_rumpdrv_ext2_test_ext2_stress_san_LDFLAGS = $(EXT2_SAN_FLAGS) \
	$(RUMPDRV_LINK_KERN)
tests_rumpdrv_ext2_test_ext2_stress_san_LDADD = $(RUMPDRV_HYP_LIBS)
tests_rumpdrv_ext2_test_ext2_stress_san_DEPENDENCIES = \
	rumpdrv/kern/librumpkern.a libkrank-hypercall.la
TESTS += tests/rumpdrv/ext2/test_ext2_stress.sh
EXTRA_DIST += tests/rumpdrv/ext2/test_ext2_stress.sh

# Cold sequential reads: read-ahead merged into few large bios (counts).
check_PROGRAMS += tests/rumpdrv/ext2/test_ext2_readahead
tests_rumpdrv_ext2_test_ext2_readahead_SOURCES = \
	tests/rumpdrv/ext2/test_ext2_readahead.c
tests_rumpdrv_ext2_test_ext2_readahead_CPPFLAGS = $(EXT2TEST_CPPFLAGS)
tests_rumpdrv_ext2_test_ext2_readahead_LDFLAGS = $(RUMPDRV_LINK_KERN)
tests_rumpdrv_ext2_test_ext2_readahead_LDADD = $(RUMPDRV_EXT2_LIBS) \
	$(RUMPDRV_HYP_LIBS)
tests_rumpdrv_ext2_test_ext2_readahead_DEPENDENCIES = $(EXT2TEST_DEPS)
TESTS += tests/rumpdrv/ext2/test_ext2_readahead.sh
EXTRA_DIST += tests/rumpdrv/ext2/test_ext2_readahead.sh

# libFuzzer target on mutated ext2 images (rule pattern of tests/fuzz).
fuzz_targets += tests/fuzz/fuzz_ext2
TESTS += tests/fuzz/fuzz_ext2.sh
EXTRA_DIST += tests/fuzz/fuzz_ext2.sh tests/fuzz/fuzz_ext2.c
tests/fuzz/fuzz_ext2: tests/fuzz/fuzz_ext2.c $(EXT2_CORE_SOURCES) \
		rumpdrv/dev/blk/blk.c rumpdrv/dev/blk/blk.h \
		rumpdrv/kern/librumpkern.a libkrank-hypercall.la
	@mkdir -p tests/fuzz
	$(AM_V_CC)$(FUZZ_BUILD) -I$(srcdir)/rumpdrv -I$(srcdir)/rumpdrv/include \
		-o $@ $(srcdir)/tests/fuzz/fuzz_ext2.c \
		$(filter %.c,$(addprefix $(srcdir)/,$(EXT2_CORE_SOURCES))) \
		$(srcdir)/rumpdrv/dev/blk/blk.c \
		-Wl,--whole-archive rumpdrv/kern/librumpkern.a -Wl,--no-whole-archive \
		.libs/libkrank-hypercall.a $(URING_LIBS) $(URCU_BP_LIBS) -lpthread

# Rump-style component test: kern + vfs + tmpfs + ext2 through krs_*.
check_PROGRAMS += tests/rumpdrv/ext2/test_ext2_vfs
tests_rumpdrv_ext2_test_ext2_vfs_SOURCES = tests/rumpdrv/ext2/test_ext2_vfs.c
tests_rumpdrv_ext2_test_ext2_vfs_CPPFLAGS = $(EXT2TEST_CPPFLAGS)
tests_rumpdrv_ext2_test_ext2_vfs_LDFLAGS = $(RUMPDRV_LINK_EXT2) \
	$(RUMPDRV_LINK_TMPFS) $(RUMPDRV_LINK_VFS) $(RUMPDRV_LINK_KERN)
tests_rumpdrv_ext2_test_ext2_vfs_LDADD = rumpdrv/dev/blk/librumpdev_blk.a \
	$(RUMPDRV_HYP_LIBS)
tests_rumpdrv_ext2_test_ext2_vfs_DEPENDENCIES = $(EXT2TEST_DEPS) \
	rumpdrv/fs/tmpfs/librumpfs_tmpfs.a rumpdrv/vfs/librumpvfs.a
TESTS += tests/rumpdrv/ext2/test_ext2_vfs.sh
EXTRA_DIST += tests/rumpdrv/ext2/test_ext2_vfs.sh

# Benchmark (built, never run by make check): tests/bench/bench_ext2.
noinst_PROGRAMS += tests/bench/bench_ext2
tests_bench_bench_ext2_SOURCES = tests/bench/bench_ext2.c \
	tests/bench/bench_krs_io.c tests/bench/bench_krs_io.h
tests_bench_bench_ext2_CPPFLAGS = $(EXT2TEST_CPPFLAGS)
tests_bench_bench_ext2_CFLAGS = $(AM_CFLAGS) -O2
tests_bench_bench_ext2_LDFLAGS = $(tests_rumpdrv_ext2_test_ext2_vfs_LDFLAGS)
tests_bench_bench_ext2_LDADD = $(tests_rumpdrv_ext2_test_ext2_vfs_LDADD)
tests_bench_bench_ext2_DEPENDENCIES = $(tests_rumpdrv_ext2_test_ext2_vfs_DEPENDENCIES)
