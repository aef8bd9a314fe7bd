# tests/fuzz: the network stack's input path (see tests/fuzz/local.mk for
# the pattern).  Built from the net, vfs and kern sources with the fuzzer's
# instrumentation, linked to the shared hypercall library.  The socket
# component needs the vfs (descriptor tables), so its sources come too.
fuzz_targets += tests/fuzz/fuzz_net_input
TESTS += tests/fuzz/fuzz_net_input.sh
EXTRA_DIST += tests/fuzz/fuzz_net_input.sh tests/fuzz/fuzz_net_input.c

FUZZ_NET_SRCS = \
	rumpdrv/net/core/net_mbuf.c rumpdrv/net/core/net_if.c \
	rumpdrv/net/core/net_route.c rumpdrv/net/core/net_stack.c \
	rumpdrv/net/core/if_loop.c rumpdrv/net/core/net_krs.c \
	rumpdrv/net/ether/if_ethersubr.c rumpdrv/net/ether/if_arp.c \
	rumpdrv/net/socket/uipc_socket.c rumpdrv/net/socket/sys_socket.c \
	rumpdrv/net/inet/in_cksum.c rumpdrv/net/inet/ip_input.c \
	rumpdrv/net/inet/ip_reass.c rumpdrv/net/inet/ip_output.c \
	rumpdrv/net/inet/ip_icmp.c rumpdrv/net/inet/udp_usrreq.c \
	rumpdrv/net/inet/in_proto.c rumpdrv/net/inet/in_show.c \
	rumpdrv/net/inet/tcp_subr.c rumpdrv/net/inet/tcp_input.c \
	rumpdrv/net/inet/tcp_output.c rumpdrv/net/inet/tcp_sack.c \
	rumpdrv/net/inet/tcp_syncookie.c rumpdrv/net/inet/tcp_usrreq.c \
	rumpdrv/vfs/vfs_vnode.c rumpdrv/vfs/vfs_lookup.c \
	rumpdrv/vfs/vfs_mount.c rumpdrv/vfs/vfs_descrip.c \
	rumpdrv/vfs/vfs_vnops.c rumpdrv/vfs/vfs_syscalls.c \
	rumpdrv/kern/kern_log.c rumpdrv/kern/kern_kmem.c \
	rumpdrv/kern/kern_lock.c rumpdrv/kern/kern_time.c \
	rumpdrv/kern/kern_lwp.c rumpdrv/kern/kern_kthread.c \
	rumpdrv/kern/kern_callout.c rumpdrv/kern/kern_workqueue.c \
	rumpdrv/kern/kern_rmtable.c rumpdrv/kern/kern_component.c \
	rumpdrv/kern/kern_errtrans.c

tests/fuzz/fuzz_net_input: tests/fuzz/fuzz_net_input.c libkrank-hypercall.la \
		rumpdrv/net/librumpnet.a rumpdrv/vfs/librumpvfs.a \
		rumpdrv/kern/librumpkern.a
	@mkdir -p tests/fuzz
	$(AM_V_CC)cd $(srcdir) && $(FUZZ_CC) $(FUZZ_FLAGS) \
		-include $(abs_top_builddir)/config.h -Ihypercalls/include \
		-Irumpdrv -Irumpdrv/include -o $(abs_top_builddir)/$@ \
		tests/fuzz/fuzz_net_input.c $(FUZZ_NET_SRCS) \
		-L$(abs_top_builddir)/.libs -lkrank-hypercall \
		-Wl,-rpath,$(abs_top_builddir)/.libs -lpthread
