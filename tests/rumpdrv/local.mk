# tests/rumpdrv: unit and rump-style component tests of rumpdrv.
RDTEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/rumpdrv -I$(srcdir)/rumpdrv/include \
	-I$(srcdir)/tests/rumpdrv
EXTRA_DIST += tests/rumpdrv/rdtest.h tests/rumpdrv/rdtest_net.h

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

# Component model: registration, ordering and refusals.
check_PROGRAMS += tests/rumpdrv/test_components
TESTS += tests/rumpdrv/test_components
tests_rumpdrv_test_components_SOURCES = tests/rumpdrv/test_components.c
tests_rumpdrv_test_components_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_test_components_LDFLAGS = $(RUMPDRV_LINK_KERN)
tests_rumpdrv_test_components_LDADD = $(RUMPDRV_HYP_LIBS)
tests_rumpdrv_test_components_DEPENDENCIES = rumpdrv/kern/librumpkern.a libkrank-hypercall.la

# Several process contexts and threads over one tmpfs.
check_PROGRAMS += tests/rumpdrv/test_contexts
TESTS += tests/rumpdrv/test_contexts
tests_rumpdrv_test_contexts_SOURCES = tests/rumpdrv/test_contexts.c
tests_rumpdrv_test_contexts_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_test_contexts_LDFLAGS = $(RD_TMPFS_LINK)
tests_rumpdrv_test_contexts_LDADD = $(RUMPDRV_HYP_LIBS)
tests_rumpdrv_test_contexts_DEPENDENCIES = $(RD_TMPFS_DEPS)

# The same component test built with ASan+UBSan from the sources, kmem
# passing every buffer to the host allocator (KMEM_DIRECT) so bounds are seen.
RD_SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
check_PROGRAMS += tests/rumpdrv/test_vfs_tmpfs_san
TESTS += tests/rumpdrv/test_vfs_tmpfs_san
tests_rumpdrv_test_vfs_tmpfs_san_SOURCES = tests/rumpdrv/test_vfs_tmpfs.c \
	$(rumpdrv_kern_librumpkern_a_SOURCES) $(rumpdrv_vfs_librumpvfs_a_SOURCES) \
	$(rumpdrv_fs_tmpfs_librumpfs_tmpfs_a_SOURCES)
tests_rumpdrv_test_vfs_tmpfs_san_CPPFLAGS = $(RDTEST_CPPFLAGS) -DKMEM_DIRECT
tests_rumpdrv_test_vfs_tmpfs_san_CFLAGS = $(AM_CFLAGS) $(RD_SAN_FLAGS)
tests_rumpdrv_test_vfs_tmpfs_san_LDFLAGS = $(RD_SAN_FLAGS)
tests_rumpdrv_test_vfs_tmpfs_san_LDADD = $(RUMPDRV_HYP_LIBS)
check_PROGRAMS += tests/rumpdrv/test_contexts_san
TESTS += tests/rumpdrv/test_contexts_san
tests_rumpdrv_test_contexts_san_SOURCES = tests/rumpdrv/test_contexts.c \
	$(rumpdrv_kern_librumpkern_a_SOURCES) $(rumpdrv_vfs_librumpvfs_a_SOURCES) \
	$(rumpdrv_fs_tmpfs_librumpfs_tmpfs_a_SOURCES)
tests_rumpdrv_test_contexts_san_CPPFLAGS = $(RDTEST_CPPFLAGS) -DKMEM_DIRECT
tests_rumpdrv_test_contexts_san_CFLAGS = $(AM_CFLAGS) $(RD_SAN_FLAGS)
tests_rumpdrv_test_contexts_san_LDFLAGS = $(RD_SAN_FLAGS)
tests_rumpdrv_test_contexts_san_LDADD = $(RUMPDRV_HYP_LIBS)

# Benchmark (built, never run by make check): tests/bench/bench_vfs_tmpfs.
noinst_PROGRAMS += tests/bench/bench_vfs_tmpfs
tests_bench_bench_vfs_tmpfs_SOURCES = tests/bench/bench_vfs_tmpfs.c \
	tests/bench/bench_krs_io.c tests/bench/bench_krs_io.h
tests_bench_bench_vfs_tmpfs_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_bench_bench_vfs_tmpfs_CFLAGS = $(AM_CFLAGS) -O2
tests_bench_bench_vfs_tmpfs_LDFLAGS = $(RD_TMPFS_LINK)
tests_bench_bench_vfs_tmpfs_LDADD = $(RUMPDRV_HYP_LIBS)
tests_bench_bench_vfs_tmpfs_DEPENDENCIES = $(RD_TMPFS_DEPS)

# Seeded concurrent stress of the VFS name space on tmpfs.
check_PROGRAMS += tests/rumpdrv/test_vfs_stress
TESTS += tests/rumpdrv/test_vfs_stress
tests_rumpdrv_test_vfs_stress_SOURCES = tests/rumpdrv/test_vfs_stress.c
tests_rumpdrv_test_vfs_stress_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_test_vfs_stress_LDFLAGS = $(RD_TMPFS_LINK)
tests_rumpdrv_test_vfs_stress_LDADD = $(RUMPDRV_HYP_LIBS)
tests_rumpdrv_test_vfs_stress_DEPENDENCIES = $(RD_TMPFS_DEPS)
check_PROGRAMS += tests/rumpdrv/test_vfs_stress_san
TESTS += tests/rumpdrv/test_vfs_stress_san
tests_rumpdrv_test_vfs_stress_san_SOURCES = tests/rumpdrv/test_vfs_stress.c \
	$(rumpdrv_kern_librumpkern_a_SOURCES) $(rumpdrv_vfs_librumpvfs_a_SOURCES) \
	$(rumpdrv_fs_tmpfs_librumpfs_tmpfs_a_SOURCES)
tests_rumpdrv_test_vfs_stress_san_CPPFLAGS = $(RDTEST_CPPFLAGS) -DKMEM_DIRECT
tests_rumpdrv_test_vfs_stress_san_CFLAGS = $(AM_CFLAGS) $(RD_SAN_FLAGS)
tests_rumpdrv_test_vfs_stress_san_LDFLAGS = $(RD_SAN_FLAGS)
tests_rumpdrv_test_vfs_stress_san_LDADD = $(RUMPDRV_HYP_LIBS)

# ThreadSanitizer builds of the concurrent tests (against the hypercall
# layer's TSan build, so its locks are seen).
RD_TSAN_FLAGS = -fsanitize=thread -fno-omit-frame-pointer
RD_TSAN_SRCS = $(rumpdrv_kern_librumpkern_a_SOURCES) \
	$(rumpdrv_vfs_librumpvfs_a_SOURCES) $(rumpdrv_fs_tmpfs_librumpfs_tmpfs_a_SOURCES)
check_PROGRAMS += tests/rumpdrv/test_vfs_stress_tsan tests/rumpdrv/test_contexts_tsan
TESTS += tests/rumpdrv/test_vfs_stress_tsan tests/rumpdrv/test_contexts_tsan
tests_rumpdrv_test_vfs_stress_tsan_SOURCES = tests/rumpdrv/test_vfs_stress.c $(RD_TSAN_SRCS)
tests_rumpdrv_test_vfs_stress_tsan_CPPFLAGS = $(RDTEST_CPPFLAGS) -DKMEM_DIRECT
tests_rumpdrv_test_vfs_stress_tsan_CFLAGS = $(AM_CFLAGS) $(RD_TSAN_FLAGS)
tests_rumpdrv_test_vfs_stress_tsan_LDFLAGS = $(RD_TSAN_FLAGS)
tests_rumpdrv_test_vfs_stress_tsan_LDADD = tests/hypercalls/libkrank-hypercall-tsan.la -lpthread
tests_rumpdrv_test_contexts_tsan_SOURCES = tests/rumpdrv/test_contexts.c $(RD_TSAN_SRCS)
tests_rumpdrv_test_contexts_tsan_CPPFLAGS = $(RDTEST_CPPFLAGS) -DKMEM_DIRECT
tests_rumpdrv_test_contexts_tsan_CFLAGS = $(AM_CFLAGS) $(RD_TSAN_FLAGS)
tests_rumpdrv_test_contexts_tsan_LDFLAGS = $(RD_TSAN_FLAGS)
tests_rumpdrv_test_contexts_tsan_LDADD = tests/hypercalls/libkrank-hypercall-tsan.la -lpthread

# panic: the message reaches the console and execution stops.
TESTS += tests/rumpdrv/test_kern_panic.sh tests/rumpdrv/test_kern_forever.sh
EXTRA_DIST += tests/rumpdrv/test_kern_panic.sh tests/rumpdrv/test_kern_forever.sh

# kmem bounds (issue 14): sizes above the limit fail even with KM_SLEEP and
# the callers that can ask that much give ENOMEM; plain and ASan+UBSan.
check_PROGRAMS += tests/rumpdrv/test_kmem_bounds tests/rumpdrv/test_kmem_bounds_san
TESTS += tests/rumpdrv/test_kmem_bounds tests/rumpdrv/test_kmem_bounds_san
tests_rumpdrv_test_kmem_bounds_SOURCES = tests/rumpdrv/test_kmem_bounds.c
tests_rumpdrv_test_kmem_bounds_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_test_kmem_bounds_LDFLAGS = $(RUMPDRV_LINK_VFS) $(RUMPDRV_LINK_KERN)
tests_rumpdrv_test_kmem_bounds_LDADD = $(RUMPDRV_HYP_LIBS)
tests_rumpdrv_test_kmem_bounds_DEPENDENCIES = rumpdrv/vfs/librumpvfs.a \
	rumpdrv/kern/librumpkern.a libkrank-hypercall.la
tests_rumpdrv_test_kmem_bounds_san_SOURCES = tests/rumpdrv/test_kmem_bounds.c \
	$(rumpdrv_kern_librumpkern_a_SOURCES) $(rumpdrv_vfs_librumpvfs_a_SOURCES)
tests_rumpdrv_test_kmem_bounds_san_CPPFLAGS = $(RDTEST_CPPFLAGS) -DKMEM_DIRECT
tests_rumpdrv_test_kmem_bounds_san_CFLAGS = $(AM_CFLAGS) $(RD_SAN_FLAGS)
tests_rumpdrv_test_kmem_bounds_san_LDFLAGS = $(RD_SAN_FLAGS)
tests_rumpdrv_test_kmem_bounds_san_LDADD = $(RUMPDRV_HYP_LIBS)

# Layering per archive and object (scripts/check-layering.sh): rumpuser_*
# only from rumpdrv/kern, hyp_pkt_* only from virtif, examples/ and tools/
# on installed headers; exceptions in scripts/layering-exceptions.txt.
TESTS += tests/rumpdrv/test_layering_archives.sh
EXTRA_DIST += tests/rumpdrv/test_layering_archives.sh
