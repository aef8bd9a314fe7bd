# krank/: the KRANK process (krank) and its control client (krankctl).
# The parts are listed by the fragments beside them: krank/local_config.mk
# (KRK_CONFIG_SRCS, the deployment parser), krank/local_heap.mk
# (KRK_HEAP_SRCS), krank/local_sys.mk (KRK_SYS_SRCS, the isolates' system
# calls) and krank/local_ctl.mk (KRK_CTL_SRCS, the control socket, log).
KRK_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/krank -I$(srcdir)/rumpdrv \
	-I$(srcdir)/rumpdrv/include -I$(srcdir)/loader/include \
	-I$(srcdir)/loader/libc
KRK_CORE_SRCS = krank/krk.h krank/krk_config.h krank/krk_boot.c \
	krank/krk_isolate.c krank/krk_worker.c krank/krk_worker.h \
	krank/krk_gate.c krank/krk_gate.h
KRK_ALL_SRCS = $(KRK_CORE_SRCS) $(KRK_CONFIG_SRCS) $(KRK_HEAP_SRCS) \
	$(KRK_SYS_SRCS) $(KRK_CTL_SRCS)
KRANK_LINK = $(RUMPDRV_LINK_NET) $(RUMPDRV_LINK_EXT2) \
	$(RUMPDRV_LINK_TMPFS) $(RUMPDRV_LINK_VFS)
KRANK_LINK_LIBS = rumpdrv/dev/blk/librumpdev_blk.a libkrank-loader.la \
	$(RUMPDRV_HYP_LIBS) $(KRK_CONFIG_LIBS) $(KRK_CTL_LIBS)
KRK_DEPS = rumpdrv/net/librumpnet.a rumpdrv/fs/ext2/librumpfs_ext2.a \
	rumpdrv/fs/tmpfs/librumpfs_tmpfs.a rumpdrv/dev/blk/librumpdev_blk.a \
	rumpdrv/vfs/librumpvfs.a rumpdrv/kern/librumpkern.a \
	libkrank-hypercall.la libkrank-loader.la

bin_PROGRAMS += krank/krank
krank_krank_SOURCES = krank/krk_main.c
krank_krank_CPPFLAGS = $(KRK_CPPFLAGS)
krank_krank_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS)
# krank links KRANK's own libraries from their archives (libtool -static:
# libkrank-loader, libkrank-hypercall) and, where configure found them
# (--enable-static-deps, the default), the system libraries' archives:
# krank/static-deps/ holds one file per archive (below), and its -L comes
# before the system's folders, so every -l of the link (libtool writes the
# libraries' own after their archives) finds the archive first.  A start
# then maps 4 shared objects, not 13 (docs/PERFORMANCE.md, issue 11).
krank_krank_LDFLAGS = $(KRANK_LINK) -static
# krank/libkrq.a (the dispatcher, krank/local_krq_call.mk) needs libkrk.a
krank_krank_LDADD = krank/libkrq.a krank/libkrk.a $(KRANK_LINK_LIBS)
krank_krank_DEPENDENCIES = krank/libkrk.a $(KRK_DEPS)
if KRANK_STATIC_DEPS
krank_krank_LDFLAGS += -Lkrank/static-deps
krank_krank_DEPENDENCIES += krank/static-deps/.stamp
# Each krank/static-deps/libNAME.a is a linker script: the group of its
# archive and the others, so that what libelf.a and libpciaccess.a need
# from libz.a, and liburcu-bp.a from liburcu-common.a, is found wherever
# libtool puts their -l.
krank/static-deps/.stamp: Makefile
	$(AM_V_GEN)rm -f krank/static-deps/*.a && \
	$(MKDIR_P) krank/static-deps && \
	for a in $(KRANK_STATIC_ARCHIVES); do \
		echo "GROUP ( $$a $(KRANK_STATIC_ARCHIVES) )" \
		    >"krank/static-deps/$${a##*/}" || exit 1; \
	done && touch $@
CLEANFILES += krank/static-deps/*.a krank/static-deps/.stamp
endif
# The dpdk: module is looked for beside the program that links
# libkrank-hypercall's archive (pkt_module.c): in the build tree, a link
# to libtool's copy beside krank.
if HAVE_DPDK
noinst_DATA += krank/krank-pkt-dpdk.so
krank/krank-pkt-dpdk.so: krank-pkt-dpdk.la
	$(AM_V_GEN)rm -f $@ && ln -s ../.libs/krank-pkt-dpdk.so $@
CLEANFILES += krank/krank-pkt-dpdk.so
endif
# The core as a library for the tests and benchmarks that drive isolates
# in-process.
noinst_LIBRARIES += krank/libkrk.a
krank_libkrk_a_SOURCES = $(KRK_ALL_SRCS)
krank_libkrk_a_CPPFLAGS = $(KRK_CPPFLAGS)
krank_libkrk_a_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS)
dist_man8_MANS += docs/man/krank.8
EXTRA_DIST += docs/krank.md

# test_krk_isolate: isolates built by krank-cc (tests/krank/iso) run by
# the real krk_isolate.c: exit status, faults contained, kill, restart,
# heap limit.  test_krank_run.sh: krank run as a user runs it.
check_PROGRAMS += tests/krank/test_krk_isolate
tests_krank_test_krk_isolate_SOURCES = tests/krank/test_krk_isolate.c
tests_krank_test_krk_isolate_CPPFLAGS = $(KRK_CPPFLAGS)
tests_krank_test_krk_isolate_LDFLAGS = $(KRANK_LINK)
tests_krank_test_krk_isolate_LDADD = krank/libkrk.a $(KRANK_LINK_LIBS)
tests_krank_test_krk_isolate_DEPENDENCIES = krank/libkrk.a $(KRK_DEPS)
# test_krank_hugepages.sh: memory.hugepages yes/auto with and without
# huge pages (it reserves them itself), checked in /proc/PID/smaps.
TESTS += tests/krank/test_krk_isolate.sh tests/krank/test_krank_run.sh \
	tests/krank/test_krank_disk.sh tests/krank/test_krank_hugepages.sh
EXTRA_DIST += tests/krank/test_krk_isolate.sh tests/krank/test_krank_run.sh \
	tests/krank/test_krank_disk.sh tests/krank/test_krank_hugepages.sh \
	tests/krank/iso/readfile.c \
	tests/krank/iso/exitcode.c tests/krank/iso/crash.c \
	tests/krank/iso/spin.c tests/krank/iso/stackov.c \
	tests/krank/iso/heapfill.c tests/krank/iso/fdfill.c

# Benchmarks (not in make check): make tests/bench/bench_krank_spawn, then
# sh tests/bench/bench_krank.sh.
EXTRA_PROGRAMS += tests/bench/bench_krank_spawn
tests_bench_bench_krank_spawn_SOURCES = tests/bench/bench_krank_spawn.c
tests_bench_bench_krank_spawn_CPPFLAGS = $(KRK_CPPFLAGS)
tests_bench_bench_krank_spawn_LDFLAGS = $(KRANK_LINK)
tests_bench_bench_krank_spawn_LDADD = krank/libkrk.a $(KRANK_LINK_LIBS)
tests_bench_bench_krank_spawn_DEPENDENCIES = krank/libkrk.a $(KRK_DEPS)
EXTRA_DIST += tests/bench/iso_first.c tests/bench/iso_cyclic.c tests/bench/bench_krank.sh \
	tests/bench/start_floor.c
CLEANFILES += tests/bench/bench_krank_spawn

# KRANK's stack over DPDK's virtual devices (net_af_packet on a veth with
# Linux as the peer, net_memif between two KRANK processes, net_tap), in a
# namespace the test makes; skips when built without DPDK.
TESTS += tests/krank/test_krank_dpdk.sh
EXTRA_DIST += tests/krank/test_krank_dpdk.sh tests/krank/dpdk_lib.sh

# One queue per core on a DPDK port (queues: 2 on net_af_packet with
# qpairs=2): Linux's flows spread over both queues, every byte intact.
TESTS += tests/krank/test_krank_dpdk_queues.sh
EXTRA_DIST += tests/krank/test_krank_dpdk_queues.sh
