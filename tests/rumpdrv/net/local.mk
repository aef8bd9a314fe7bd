# tests/rumpdrv/net: unit, two-stack and Linux interop tests of the stack.
NET_TLINK = $(RUMPDRV_LINK_NET) $(RUMPDRV_LINK_VFS)
NET_TLIBS = $(RUMPDRV_HYP_LIBS)
NET_TDEPS = rumpdrv/net/librumpnet.a rumpdrv/vfs/librumpvfs.a \
	rumpdrv/kern/librumpkern.a \
	libkrank-hypercall.la

net_tests = tests/rumpdrv/net/test_net_unit tests/rumpdrv/net/test_net_wire \
	tests/rumpdrv/net/test_net_hostile tests/rumpdrv/net/test_net_tcp \
	tests/rumpdrv/net/test_net_fd tests/rumpdrv/net/test_net_txdefer
check_PROGRAMS += $(net_tests)
TESTS += $(net_tests)

tests_rumpdrv_net_test_net_unit_SOURCES = tests/rumpdrv/net/test_net_unit.c
tests_rumpdrv_net_test_net_unit_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_net_test_net_unit_LDFLAGS = $(NET_TLINK)
tests_rumpdrv_net_test_net_unit_LDADD = $(NET_TLIBS)
tests_rumpdrv_net_test_net_unit_DEPENDENCIES = $(NET_TDEPS)

tests_rumpdrv_net_test_net_wire_SOURCES = tests/rumpdrv/net/test_net_wire.c
tests_rumpdrv_net_test_net_wire_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_net_test_net_wire_LDFLAGS = $(NET_TLINK)
tests_rumpdrv_net_test_net_wire_LDADD = $(NET_TLIBS)
tests_rumpdrv_net_test_net_wire_DEPENDENCIES = $(NET_TDEPS)

tests_rumpdrv_net_test_net_hostile_SOURCES = tests/rumpdrv/net/test_net_hostile.c
tests_rumpdrv_net_test_net_hostile_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_net_test_net_hostile_LDFLAGS = $(NET_TLINK)
tests_rumpdrv_net_test_net_hostile_LDADD = $(NET_TLIBS)
tests_rumpdrv_net_test_net_hostile_DEPENDENCIES = $(NET_TDEPS)

# No host send with the stack lock held (a tap in a private namespace).
tests_rumpdrv_net_test_net_txdefer_SOURCES = tests/rumpdrv/net/test_net_txdefer.c
tests_rumpdrv_net_test_net_txdefer_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_net_test_net_txdefer_LDFLAGS = $(NET_TLINK)
tests_rumpdrv_net_test_net_txdefer_LDADD = $(NET_TLIBS)
tests_rumpdrv_net_test_net_txdefer_DEPENDENCIES = $(NET_TDEPS)

# Sockets and tmpfs files in one descriptor table.
tests_rumpdrv_net_test_net_fd_SOURCES = tests/rumpdrv/net/test_net_fd.c
tests_rumpdrv_net_test_net_fd_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_net_test_net_fd_LDFLAGS = $(NET_TLINK) $(RUMPDRV_LINK_TMPFS)
tests_rumpdrv_net_test_net_fd_LDADD = $(NET_TLIBS)
tests_rumpdrv_net_test_net_fd_DEPENDENCIES = $(NET_TDEPS) \
	rumpdrv/fs/tmpfs/librumpfs_tmpfs.a

# Interop with Linux's stack in a private network namespace.
check_PROGRAMS += tests/rumpdrv/net/net_peer
TESTS += tests/rumpdrv/net/test_net_linux.sh tests/rumpdrv/net/test_net_httpd.sh \
	tests/rumpdrv/net/test_net_afp_bulk.sh
EXTRA_DIST += tests/rumpdrv/net/test_net_linux.sh tests/rumpdrv/net/test_net_httpd.sh \
	tests/rumpdrv/net/test_net_afp_bulk.sh
tests_rumpdrv_net_net_peer_SOURCES = tests/rumpdrv/net/net_peer.c
tests_rumpdrv_net_net_peer_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_net_net_peer_LDFLAGS = $(NET_TLINK)
tests_rumpdrv_net_net_peer_LDADD = $(NET_TLIBS)
tests_rumpdrv_net_net_peer_DEPENDENCIES = $(NET_TDEPS)

tests_rumpdrv_net_test_net_tcp_SOURCES = tests/rumpdrv/net/test_net_tcp.c
tests_rumpdrv_net_test_net_tcp_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_net_test_net_tcp_LDFLAGS = $(NET_TLINK)
tests_rumpdrv_net_test_net_tcp_LDADD = $(NET_TLIBS)
tests_rumpdrv_net_test_net_tcp_DEPENDENCIES = $(NET_TDEPS)

# Hostile Linux peers (spoofed sources, floods, connection-per-request
# from one port) against a KRANK stack on a tap, in a private namespace.
# net_attack is a plain Linux program (crafted segments, counting).
check_PROGRAMS += tests/rumpdrv/net/net_guard_peer tests/rumpdrv/net/net_attack
TESTS += tests/rumpdrv/net/test_net_guard.sh
EXTRA_DIST += tests/rumpdrv/net/test_net_guard.sh

# Run to completion on the DPDK host (KRANK_SPIN_US=forever): no system
# call in steady state; skips without DPDK, root or perf.
TESTS += tests/rumpdrv/net/test_dpdk_rtc.sh
EXTRA_DIST += tests/rumpdrv/net/test_dpdk_rtc.sh
tests_rumpdrv_net_net_guard_peer_SOURCES = tests/rumpdrv/net/net_guard_peer.c
tests_rumpdrv_net_net_guard_peer_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_net_net_guard_peer_LDFLAGS = $(NET_TLINK)
tests_rumpdrv_net_net_guard_peer_LDADD = $(NET_TLIBS)
tests_rumpdrv_net_net_guard_peer_DEPENDENCIES = $(NET_TDEPS)
tests_rumpdrv_net_net_attack_SOURCES = tests/rumpdrv/net/net_attack.c

# Benchmark (built, never run by make check): tests/bench/bench_net.
noinst_PROGRAMS += tests/bench/bench_net
tests_bench_bench_net_SOURCES = tests/bench/bench_net.c
tests_bench_bench_net_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_bench_bench_net_CFLAGS = $(AM_CFLAGS) -O2
tests_bench_bench_net_LDFLAGS = $(NET_TLINK)
tests_bench_bench_net_LDADD = $(NET_TLIBS)
tests_bench_bench_net_DEPENDENCIES = $(NET_TDEPS)

# A KRANK stack (or Linux's) as an echo client: the DPDK virtual-device
# tests (tests/krank/test_krank_dpdk.sh) and tests/bench/bench_dpdk.sh.
# Once on the POSIX host, once on the DPDK host (same source).
check_PROGRAMS += tests/rumpdrv/net/net_echo_client
tests_rumpdrv_net_net_echo_client_SOURCES = tests/rumpdrv/net/net_echo_client.c
tests_rumpdrv_net_net_echo_client_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_net_net_echo_client_LDFLAGS = $(NET_TLINK)
tests_rumpdrv_net_net_echo_client_LDADD = $(NET_TLIBS)
tests_rumpdrv_net_net_echo_client_DEPENDENCIES = $(NET_TDEPS)
if HAVE_DPDK
check_PROGRAMS += tests/rumpdrv/net/net_echo_client_dpdkhost
tests_rumpdrv_net_net_echo_client_dpdkhost_SOURCES = tests/rumpdrv/net/net_echo_client.c
tests_rumpdrv_net_net_echo_client_dpdkhost_CPPFLAGS = $(RDTEST_CPPFLAGS) -DNET_ECHO_DPDK
tests_rumpdrv_net_net_echo_client_dpdkhost_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS)
tests_rumpdrv_net_net_echo_client_dpdkhost_LDFLAGS = $(NET_TLINK)
tests_rumpdrv_net_net_echo_client_dpdkhost_LDADD = libkrank-hypercall-dpdk.la \
	$(DPDK_LIBS) -lrte_net_ring -lpthread
tests_rumpdrv_net_net_echo_client_dpdkhost_DEPENDENCIES = \
	rumpdrv/net/librumpnet.a rumpdrv/vfs/librumpvfs.a \
	rumpdrv/kern/librumpkern.a libkrank-hypercall-dpdk.la
endif
if !HAVE_DPDK
# tests/bench/run builds it for bench_dpdk.sh, which skips without DPDK.
tests/rumpdrv/net/net_echo_client_dpdkhost:
	@echo "built without DPDK: no $@ (tests/bench/bench_dpdk.sh skips)"
endif

# Benchmark (never run by make check): loopback round trips while other
# threads send out a tap, KRANK and Linux.
noinst_PROGRAMS += tests/bench/bench_net_txlock
tests_bench_bench_net_txlock_SOURCES = tests/bench/bench_net_txlock.c
tests_bench_bench_net_txlock_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_bench_bench_net_txlock_CFLAGS = $(AM_CFLAGS) -O2
tests_bench_bench_net_txlock_LDFLAGS = $(NET_TLINK)
tests_bench_bench_net_txlock_LDADD = $(NET_TLIBS)
tests_bench_bench_net_txlock_DEPENDENCIES = $(NET_TDEPS)
