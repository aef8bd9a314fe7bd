# libkrank (installed): the client side of the system-call API -- the
# ring transport (krq_client.c, <krank/krq.h>), libkrank's calls
# (krank_calls.c, <krank/krank.h>) and their adapter (krank_ring.c), the
# generated krank.proto code.  And the krank command's registration of
# the dispatcher with the control socket's attach (krk_queues.c).
lib_LTLIBRARIES += libkrank.la
libkrank_la_SOURCES = $(KRQ_CLIENT_SRCS) krank/krank_ring.c
libkrank_la_CPPFLAGS = $(KRQ_CALL_CPPFLAGS)
libkrank_la_LIBADD = krank/libkrank_calls.la \
	$(PROTOBUF_C_LIBS)
libkrank_la_LDFLAGS = -version-info 0:0:0 -no-undefined \
	-Wl,--version-script=$(srcdir)/krank/libkrank.map
EXTRA_libkrank_la_DEPENDENCIES = krank/libkrank.map
EXTRA_DIST += krank/libkrank.map libkrank.pc.in
pkgconfig_DATA += libkrank.pc
$(libkrank_la_OBJECTS): krank/krank.pb-c.h

krank_krank_SOURCES += krank/krk_queues.c
krank_krank_CPPFLAGS += -I$(top_builddir)/krank $(PROTOBUF_C_CFLAGS)
krank_krank_LDADD += krank/libkrank_proto.la $(PROTOBUF_C_LIBS)
krank_krank_DEPENDENCIES += krank/libkrq.a krank/libkrank_proto.la
$(krank_krank_OBJECTS): krank/krank.pb-c.h

# test_krank_queue.sh: krank run, and krq_e2e (a plain Linux program built
# against libkrank alone) attaches and uses KRANK's tmpfs and TCP/IP
# stack over the rings.
check_PROGRAMS += tests/krank/krq_e2e
TESTS += tests/krank/test_krank_queue.sh
EXTRA_DIST += tests/krank/test_krank_queue.sh
tests_krank_krq_e2e_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/krank/include
tests_krank_krq_e2e_LDADD = libkrank.la -lpthread
