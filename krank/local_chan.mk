# Channels between isolates (issue 12): rumpdrv's channel descriptor type
# is built with the vfs (rumpdrv/vfs/vfs_chan.c); KRANK's named channels
# with zero-copy buffer pools (krank/krk_chan.c) join the krank core;
# their tests and benchmark are here.  Include after krank/local.mk.
KRK_CHAN_SRCS = krank/krk_chan.h krank/krk_chan.c krank/krk_sys_chan.c
KRK_ALL_SRCS += $(KRK_CHAN_SRCS)
# The isolates' header, installed with the other isolate headers.
kldisolatekrank_HEADERS += loader/isolate/include/krank/chan.h

# Component test of the channel type: kern + vfs, rump style, and the same
# built from the sources with ASan+UBSan.
check_PROGRAMS += tests/rumpdrv/test_chan tests/rumpdrv/test_chan_san
TESTS += tests/rumpdrv/test_chan tests/rumpdrv/test_chan_san
tests_rumpdrv_test_chan_SOURCES = tests/rumpdrv/test_chan.c
tests_rumpdrv_test_chan_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_test_chan_LDFLAGS = $(RUMPDRV_LINK_VFS) $(RUMPDRV_LINK_KERN)
tests_rumpdrv_test_chan_LDADD = $(RUMPDRV_HYP_LIBS)
tests_rumpdrv_test_chan_DEPENDENCIES = rumpdrv/vfs/librumpvfs.a \
	rumpdrv/kern/librumpkern.a libkrank-hypercall.la
tests_rumpdrv_test_chan_san_SOURCES = tests/rumpdrv/test_chan.c \
	$(rumpdrv_kern_librumpkern_a_SOURCES) $(rumpdrv_vfs_librumpvfs_a_SOURCES)
tests_rumpdrv_test_chan_san_CPPFLAGS = $(RDTEST_CPPFLAGS) -DKMEM_DIRECT
tests_rumpdrv_test_chan_san_CFLAGS = $(AM_CFLAGS) $(RD_SAN_FLAGS)
tests_rumpdrv_test_chan_san_LDFLAGS = $(RD_SAN_FLAGS)
tests_rumpdrv_test_chan_san_LDADD = $(RUMPDRV_HYP_LIBS)

# Two isolates built by krank-cc exchanging messages, hostile use, kills.
check_PROGRAMS += tests/krank/test_krk_chan tests/krank/test_krk_chan_san
TESTS += tests/krank/test_krk_chan.sh tests/krank/test_krk_chan_san.sh
EXTRA_DIST += tests/krank/test_krk_chan.sh tests/krank/test_krk_chan_san.sh \
	tests/krank/iso/chan_recv.c tests/krank/iso/chan_send.c \
	tests/krank/iso/chan_hostile.c
tests_krank_test_krk_chan_SOURCES = tests/krank/test_krk_chan.c
tests_krank_test_krk_chan_CPPFLAGS = $(KRK_CPPFLAGS)
tests_krank_test_krk_chan_LDFLAGS = $(KRANK_LINK)
tests_krank_test_krk_chan_LDADD = krank/libkrk.a $(KRANK_LINK_LIBS)
tests_krank_test_krk_chan_DEPENDENCIES = krank/libkrk.a $(KRK_DEPS) \
	loader/libkrank-isolate-stub.so loader/krank-cc-uninstalled
# KRANK's code from the sources under ASan+UBSan (as krk_sys_run_san).
tests_krank_test_krk_chan_san_SOURCES = tests/krank/test_krk_chan.c $(KRK_SYS_SAN_SRCS)
tests_krank_test_krk_chan_san_CPPFLAGS = $(KRK_SYS_SAN_CPP)
tests_krank_test_krk_chan_san_CFLAGS = $(KRK_SYS_SAN_CC)
tests_krank_test_krk_chan_san_LDFLAGS = $(KRK_SYS_SAN_LD)
tests_krank_test_krk_chan_san_LDADD = $(KRK_SYS_SAN_LIBS)
tests_krank_test_krk_chan_san_DEPENDENCIES = $(KRK_DEPS)

# Benchmark (not in make check): make tests/bench/bench_krk_chan
# loader/krank-cc-uninstalled, then sh tests/bench/bench_krk_chan.sh; it
# prints KRANK (threads, isolates) and the Linux pipe and unix socket of
# the same run.
EXTRA_PROGRAMS += tests/bench/bench_krk_chan
tests_bench_bench_krk_chan_SOURCES = tests/bench/bench_krk_chan.c
tests_bench_bench_krk_chan_CPPFLAGS = $(KRK_CPPFLAGS)
tests_bench_bench_krk_chan_LDFLAGS = $(KRANK_LINK)
tests_bench_bench_krk_chan_LDADD = krank/libkrk.a $(KRANK_LINK_LIBS)
tests_bench_bench_krk_chan_DEPENDENCIES = krank/libkrk.a $(KRK_DEPS)
CLEANFILES += tests/bench/bench_krk_chan
EXTRA_DIST += tests/bench/bench_krk_chan.sh tests/bench/iso_chanbench.c

# The channel's lock-free rings and wakeups under ThreadSanitizer (against
# the hypercall layer's TSan build, as tests/rumpdrv/local.mk's).
check_PROGRAMS += tests/rumpdrv/test_chan_tsan
TESTS += tests/rumpdrv/test_chan_tsan
tests_rumpdrv_test_chan_tsan_SOURCES = tests/rumpdrv/test_chan.c \
	$(rumpdrv_kern_librumpkern_a_SOURCES) $(rumpdrv_vfs_librumpvfs_a_SOURCES)
tests_rumpdrv_test_chan_tsan_CPPFLAGS = $(RDTEST_CPPFLAGS) -DKMEM_DIRECT
tests_rumpdrv_test_chan_tsan_CFLAGS = $(AM_CFLAGS) $(RD_TSAN_FLAGS)
tests_rumpdrv_test_chan_tsan_LDFLAGS = $(RD_TSAN_FLAGS)
tests_rumpdrv_test_chan_tsan_LDADD = tests/hypercalls/libkrank-hypercall-tsan.la -lpthread

# test_krank_chan_foreign.sh: a channel between an in-process isolate
# (iso_chanbench) and a foreign isolate (krq_e2e --chan-send/--chan-recv),
# both ways, under krank run (issue 13).
TESTS += tests/krank/test_krank_chan_foreign.sh
EXTRA_DIST += tests/krank/test_krank_chan_foreign.sh
