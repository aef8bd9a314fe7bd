# rumpdrv/net: the TCP/IP stack.  One archive; components "net" (core,
# loopback), "ether" (Ethernet, ARP), "virtif" (interfaces over the packet
# hypercalls), "inet" (IPv4, ICMP, UDP) and "socket" (krs_ socket calls).
noinst_LIBRARIES += rumpdrv/net/librumpnet.a
rumpdrv_net_librumpnet_a_CPPFLAGS = $(RUMPDRV_CPPFLAGS)
rumpdrv_net_librumpnet_a_CFLAGS = $(RUMPDRV_CFLAGS)
rumpdrv_net_librumpnet_a_SOURCES = \
	rumpdrv/net/core/mbuf.h \
	rumpdrv/net/core/net.h \
	rumpdrv/net/core/net_mbuf.c \
	rumpdrv/net/core/net_if.c \
	rumpdrv/net/core/net_route.c \
	rumpdrv/net/core/net_stack.c \
	rumpdrv/net/core/if_loop.c \
	rumpdrv/net/krs_net.h \
	rumpdrv/net/ether/if_ether.h \
	rumpdrv/net/ether/if_ethersubr.c \
	rumpdrv/net/ether/if_arp.c \
	rumpdrv/net/socket/socketvar.h \
	rumpdrv/net/socket/sys_socket.h \
	rumpdrv/net/socket/uipc_socket.c \
	rumpdrv/net/socket/sys_socket.c \
	rumpdrv/net/inet/in_var.h \
	rumpdrv/net/inet/in_cksum.c \
	rumpdrv/net/inet/ip_input.c \
	rumpdrv/net/inet/ip_reass.c \
	rumpdrv/net/inet/ip_output.c \
	rumpdrv/net/inet/ip_icmp.c \
	rumpdrv/net/inet/udp_usrreq.c \
	rumpdrv/net/inet/tcp_var.h \
	rumpdrv/net/inet/tcp_subr.c \
	rumpdrv/net/inet/tcp_input.c \
	rumpdrv/net/inet/tcp_output.c \
	rumpdrv/net/inet/tcp_sack.c \
	rumpdrv/net/inet/tcp_syncookie.c \
	rumpdrv/net/inet/tcp_usrreq.c \
	rumpdrv/net/inet/in_proto.c \
	rumpdrv/net/inet/in_show.c \
	rumpdrv/net/core/net_krs.c \
	rumpdrv/net/virtif/if_virt.c

# The socket component needs the vfs (descriptor tables): link
# $(RUMPDRV_LINK_VFS) too.
RUMPDRV_LINK_NET = -Wl,--whole-archive,rumpdrv/net/librumpnet.a,rumpdrv/kern/librumpkern.a,--no-whole-archive
