# hypercalls/dpdk: the DPDK host of the hypercall layer,
# libkrank-hypercall-dpdk (included from hypercalls/local.mk when configure
# found DPDK).  The same exported names as libkrank-hypercall, so a program
# picks its host at link time.  Built from posix/'s host-neutral files
# (hyp_shared_sources) compiled with KRANK_HOST_DPDK, which gives them the
# DPDK heap (hostcalls.c) and the EAL start (rumpuser.c), plus its own:
# EAL start and parameters, heap, TSC clocks, the dpdk: packet backend.
lib_LTLIBRARIES += libkrank-hypercall-dpdk.la
libkrank_hypercall_dpdk_la_SOURCES = $(hyp_shared_sources) \
	hypercalls/posix/hyp_hostfs.c \
	hypercalls/dpdk/dpdk_int.h \
	hypercalls/dpdk/dpdk_eal.c \
	hypercalls/dpdk/dpdk_mem.c \
	hypercalls/dpdk/rumpuser_clock.c \
	hypercalls/dpdk/pkt_dpdk.c
libkrank_hypercall_dpdk_la_CPPFLAGS = $(AM_CPPFLAGS) -DKRANK_HOST_DPDK \
	-I$(srcdir)/hypercalls/posix -I$(srcdir)/hypercalls/dpdk
libkrank_hypercall_dpdk_la_CFLAGS = $(AM_CFLAGS) $(URING_CFLAGS) \
	$(URCU_BP_CFLAGS) $(DPDK_CFLAGS)
libkrank_hypercall_dpdk_la_LIBADD = $(URING_LIBS) $(URCU_BP_LIBS) $(DPDK_LIBS) -lpthread
libkrank_hypercall_dpdk_la_LDFLAGS = -version-info 0:0:0 -no-undefined \
	-Wl,--version-script=$(srcdir)/hypercalls/libkrank-hypercall.map
EXTRA_libkrank_hypercall_dpdk_la_DEPENDENCIES = hypercalls/libkrank-hypercall.map
# Its pkg-config file (configure makes it from krank-hypercall-dpdk.pc.in,
# always, so that the tarball carries it; installed only with this host).
pkgconfig_DATA += krank-hypercall-dpdk.pc

# The conformance suite once more, unchanged, on this host: one program per
# test of tests/hypercalls/local.mk, from the same sources.  HYPTEST_HOST_DPDK
# lets the harness skip (77) when DPDK's EAL cannot start on the machine.
HYPTEST_DPDK_CPPFLAGS = $(AM_CPPFLAGS) -DHYPTEST_HOST_DPDK
HYPTEST_DPDK_LIBS = libkrank-hypercall-dpdk.la -lpthread
hyp_dpdk_tests = \
	tests/hypercalls/test_params_dpdk \
	tests/hypercalls/test_memory_dpdk \
	tests/hypercalls/test_files_dpdk \
	tests/hypercalls/test_bio_dpdk \
	tests/hypercalls/test_clock_random_dpdk \
	tests/hypercalls/test_threads_dpdk \
	tests/hypercalls/test_mutex_dpdk \
	tests/hypercalls/test_rwlock_dpdk \
	tests/hypercalls/test_condvar_dpdk \
	tests/hypercalls/test_pkt_wire_dpdk \
	tests/hypercalls/test_arena_cpu_dpdk \
	tests/hypercalls/test_component_dpdk \
	tests/hypercalls/test_rcu_dpdk \
	tests/hypercalls/test_dl_dpdk
check_PROGRAMS += $(hyp_dpdk_tests)
TESTS += $(hyp_dpdk_tests)
tests_hypercalls_test_params_dpdk_SOURCES = tests/hypercalls/test_params.c tests/hypercalls/hyptest.c
tests_hypercalls_test_params_dpdk_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_params_dpdk_LDADD = $(HYPTEST_DPDK_LIBS)
tests_hypercalls_test_memory_dpdk_SOURCES = tests/hypercalls/test_memory.c tests/hypercalls/hyptest.c
tests_hypercalls_test_memory_dpdk_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_memory_dpdk_LDADD = $(HYPTEST_DPDK_LIBS)
tests_hypercalls_test_files_dpdk_SOURCES = tests/hypercalls/test_files.c tests/hypercalls/hyptest.c
tests_hypercalls_test_files_dpdk_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_files_dpdk_LDADD = $(HYPTEST_DPDK_LIBS)
tests_hypercalls_test_bio_dpdk_SOURCES = tests/hypercalls/test_bio.c tests/hypercalls/hyptest.c
tests_hypercalls_test_bio_dpdk_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_bio_dpdk_LDADD = $(HYPTEST_DPDK_LIBS)
tests_hypercalls_test_clock_random_dpdk_SOURCES = tests/hypercalls/test_clock_random.c tests/hypercalls/hyptest.c
tests_hypercalls_test_clock_random_dpdk_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_clock_random_dpdk_LDADD = $(HYPTEST_DPDK_LIBS)
tests_hypercalls_test_threads_dpdk_SOURCES = tests/hypercalls/test_threads.c tests/hypercalls/hyptest.c
tests_hypercalls_test_threads_dpdk_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_threads_dpdk_LDADD = $(HYPTEST_DPDK_LIBS)
tests_hypercalls_test_mutex_dpdk_SOURCES = tests/hypercalls/test_mutex.c tests/hypercalls/hyptest.c
tests_hypercalls_test_mutex_dpdk_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_mutex_dpdk_LDADD = $(HYPTEST_DPDK_LIBS)
tests_hypercalls_test_rwlock_dpdk_SOURCES = tests/hypercalls/test_rwlock.c tests/hypercalls/hyptest.c
tests_hypercalls_test_rwlock_dpdk_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_rwlock_dpdk_LDADD = $(HYPTEST_DPDK_LIBS)
tests_hypercalls_test_condvar_dpdk_SOURCES = tests/hypercalls/test_condvar.c tests/hypercalls/hyptest.c
tests_hypercalls_test_condvar_dpdk_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_condvar_dpdk_LDADD = $(HYPTEST_DPDK_LIBS)
tests_hypercalls_test_pkt_wire_dpdk_SOURCES = tests/hypercalls/test_pkt_wire.c tests/hypercalls/hyptest.c
tests_hypercalls_test_pkt_wire_dpdk_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_pkt_wire_dpdk_LDADD = $(HYPTEST_DPDK_LIBS)
tests_hypercalls_test_arena_cpu_dpdk_SOURCES = tests/hypercalls/test_arena_cpu.c tests/hypercalls/hyptest.c
tests_hypercalls_test_arena_cpu_dpdk_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_arena_cpu_dpdk_LDADD = $(HYPTEST_DPDK_LIBS)
tests_hypercalls_test_component_dpdk_SOURCES = tests/hypercalls/test_component.c tests/hypercalls/hyptest.c
tests_hypercalls_test_component_dpdk_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_component_dpdk_LDADD = $(HYPTEST_DPDK_LIBS)
tests_hypercalls_test_rcu_dpdk_SOURCES = tests/hypercalls/test_rcu.c tests/hypercalls/hyptest.c
tests_hypercalls_test_rcu_dpdk_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_rcu_dpdk_LDADD = $(HYPTEST_DPDK_LIBS)
tests_hypercalls_test_dl_dpdk_SOURCES = tests/hypercalls/test_dl.c tests/hypercalls/hyptest.c
tests_hypercalls_test_dl_dpdk_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_dl_dpdk_LDADD = tests/hypercalls/librumptest_comp.la $(HYPTEST_DPDK_LIBS)
tests_hypercalls_test_dl_dpdk_LDFLAGS = -Wl,--export-dynamic

# Exports: the same check as the POSIX host's, on this library.
TESTS += tests/hypercalls/test_link_exports_dpdk.sh
EXTRA_DIST += tests/hypercalls/test_link_exports_dpdk.sh

# Bad parameters (cores, memory, hugepages, unknown names) are refused
# with one clear line each, never a crash; then the host starts.
check_PROGRAMS += tests/hypercalls/test_dpdk_params
TESTS += tests/hypercalls/test_dpdk_params
tests_hypercalls_test_dpdk_params_SOURCES = tests/hypercalls/test_dpdk_params.c \
	tests/hypercalls/hyptest.c
tests_hypercalls_test_dpdk_params_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_dpdk_params_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS)
tests_hypercalls_test_dpdk_params_LDADD = $(HYPTEST_DPDK_LIBS) $(DPDK_LIBS)

# Packet I/O on this host through a DPDK virtual device (net_ring).
check_PROGRAMS += tests/hypercalls/test_dpdk_ring
TESTS += tests/hypercalls/test_dpdk_ring
tests_hypercalls_test_dpdk_ring_SOURCES = tests/hypercalls/test_dpdk_ring.c \
	tests/hypercalls/hyptest.c
tests_hypercalls_test_dpdk_ring_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_dpdk_ring_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS)
tests_hypercalls_test_dpdk_ring_LDADD = $(HYPTEST_DPDK_LIBS) $(DPDK_LIBS)

# What a PMD hands up is checked: crafted mbufs (runt, oversized, long
# chain, malformed) on a ring port the test makes; dropped and counted.
check_PROGRAMS += tests/hypercalls/test_dpdk_badrx
TESTS += tests/hypercalls/test_dpdk_badrx
tests_hypercalls_test_dpdk_badrx_SOURCES = tests/hypercalls/test_dpdk_badrx.c \
	tests/hypercalls/hyptest.c
tests_hypercalls_test_dpdk_badrx_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_dpdk_badrx_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS)
tests_hypercalls_test_dpdk_badrx_LDADD = $(HYPTEST_DPDK_LIBS) $(DPDK_LIBS) -lrte_net_ring

# A port of several queues (queues=N): senders use their core's transmit
# queue, a receive thread per queue, pollers take their core's queue
# first; bad queues= values refused with a line saying why.
check_PROGRAMS += tests/hypercalls/test_dpdk_queues
TESTS += tests/hypercalls/test_dpdk_queues
tests_hypercalls_test_dpdk_queues_SOURCES = tests/hypercalls/test_dpdk_queues.c \
	tests/hypercalls/hyptest.c
tests_hypercalls_test_dpdk_queues_CPPFLAGS = $(HYPTEST_DPDK_CPPFLAGS)
tests_hypercalls_test_dpdk_queues_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS)
tests_hypercalls_test_dpdk_queues_LDADD = $(HYPTEST_DPDK_LIBS) $(DPDK_LIBS) -lrte_net_ring
