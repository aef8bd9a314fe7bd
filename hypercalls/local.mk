# hypercalls/: the rumpuser(3) v17 hypercall layer and its POSIX host.
lib_LTLIBRARIES += libkrank-hypercall.la
# The host-neutral files of posix/, which the DPDK host (hypercalls/dpdk/
# local.mk) builds too, beside its own files for the concerns it replaces.
hyp_shared_sources = \
	hypercalls/posix/rumpuser_int.h \
	hypercalls/posix/hostcalls.h \
	hypercalls/posix/hostcalls.c \
	hypercalls/posix/rumpuser.c \
	hypercalls/posix/rumpuser_errtrans.c \
	hypercalls/posix/rumpuser_mem.c \
	hypercalls/posix/rumpuser_file.c \
	hypercalls/posix/rumpuser_bio.c \
	hypercalls/posix/rumpuser_random.c \
	hypercalls/posix/rumpuser_pth.c \
	hypercalls/posix/rumpuser_component.c \
	hypercalls/posix/rumpuser_dl.c \
	hypercalls/posix/hyp_pkt_int.h \
	hypercalls/posix/hyp_pkt.c \
	hypercalls/posix/hyp_pkt_spec.c \
	hypercalls/posix/pkt_wire.c \
	hypercalls/posix/pkt_tap.c \
	hypercalls/posix/pkt_afpacket.c \
	hypercalls/posix/pkt_afpacket_ring.h \
	hypercalls/posix/hyp_arena.c \
	hypercalls/posix/hyp_heap.c \
	hypercalls/posix/hyp_rcu.c \
	hypercalls/posix/hyp_cpu.c
libkrank_hypercall_la_SOURCES = $(hyp_shared_sources) \
	hypercalls/posix/rumpuser_clock.c \
	hypercalls/posix/pkt_module.c
# pkt_module.c finds the dpdk: backend's module from these.
libkrank_hypercall_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/hypercalls/posix \
	-DKRANK_LIBDIR='"$(libdir)"' -DKRANK_PKGLIBDIR='"$(pkglibdir)"' \
	-DKRANK_BINDIR='"$(bindir)"'
libkrank_hypercall_la_CFLAGS = $(AM_CFLAGS) $(URING_CFLAGS) $(URCU_BP_CFLAGS)
libkrank_hypercall_la_LIBADD = $(URING_LIBS) $(URCU_BP_LIBS) -lpthread
libkrank_hypercall_la_LDFLAGS = -version-info 0:0:0 -no-undefined \
	-Wl,--version-script=$(srcdir)/hypercalls/libkrank-hypercall.map
EXTRA_libkrank_hypercall_la_DEPENDENCIES = hypercalls/libkrank-hypercall.map
EXTRA_DIST += hypercalls/libkrank-hypercall.map hypercalls/README.md

kranksubincludedir = $(includedir)/krank
kranksubinclude_HEADERS += \
	hypercalls/include/krank/rumpuser.h \
	hypercalls/include/krank/rumpuser_component.h \
	hypercalls/include/krank/hyp.h \
	hypercalls/include/krank/hyp_posix.h \
	hypercalls/include/krank/hyp_relax.h

# The POSIX host's dpdk: packet backend, when configure found DPDK
# (--with-dpdk): not linked into libkrank-hypercall, whose every process
# would then load DPDK's libraries (~14 ms, ~260 page faults at start),
# but a module it loads on the first dpdk: open (pkt_module.c), installed
# in $(pkglibdir) and, in the build tree, beside the library in .libs/;
# and, for static links, the archive libkrank-pkt-dpdk.a, which krank.pc
# pulls in (-Wl,-u,krank_pkt_dpdk_init: a static program cannot dlopen
# it).  Both from the same source, reaching the core through a table.
if HAVE_DPDK
pkglib_LTLIBRARIES = krank-pkt-dpdk.la
krank_pkt_dpdk_la_SOURCES = hypercalls/dpdk/pkt_dpdk.c
krank_pkt_dpdk_la_CPPFLAGS = $(AM_CPPFLAGS) -DKRANK_PKT_MODULE \
	-I$(srcdir)/hypercalls/posix
krank_pkt_dpdk_la_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS)
krank_pkt_dpdk_la_LIBADD = $(DPDK_LIBS) -lpthread
krank_pkt_dpdk_la_LDFLAGS = -module -avoid-version -shared -no-undefined \
	-export-symbols-regex '^krank_pkt_dpdk_init$$'
lib_LTLIBRARIES += libkrank-pkt-dpdk.la
libkrank_pkt_dpdk_la_SOURCES = hypercalls/dpdk/pkt_dpdk.c
libkrank_pkt_dpdk_la_CPPFLAGS = $(krank_pkt_dpdk_la_CPPFLAGS)
libkrank_pkt_dpdk_la_CFLAGS = $(krank_pkt_dpdk_la_CFLAGS)
libkrank_pkt_dpdk_la_LDFLAGS = -static
# The DPDK host: libkrank-hypercall-dpdk, and the conformance suite on it.
include hypercalls/dpdk/local.mk
endif
