# krank/: the per-CPU shared-memory queues (issue 12).  KRANK's side
# (KRQ_SERVER_SRCS: region, server threads, the hostile-input consumer)
# goes into the krank binary with the control socket's `attach` command;
# the client side (KRQ_CLIENT_SRCS, public header krank/krq.h) is for
# libkrank, which lists $(KRQ_CLIENT_SRCS) in its sources.
KRQ_LAYOUT_HDRS = krank/krq_layout.h krank/krq_bell.h
KRQ_SERVER_SRCS = krank/krq_server.c krank/krq_server.h $(KRQ_LAYOUT_HDRS)
KRQ_CLIENT_SRCS = krank/krq_client.c krank/include/krank/krq.h \
	krank/krk_ctl_proto.h $(KRQ_LAYOUT_HDRS)
KRQ_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/krank -I$(srcdir)/krank/include
kranksubinclude_HEADERS += krank/include/krank/krq.h
KRK_CTL_SRCS += krank/krk_ctl_attach.c krank/krk_attach.h $(KRQ_SERVER_SRCS)
KRK_CTL_CPPFLAGS += -I$(srcdir)/krank/include
KRK_CPPFLAGS += -I$(srcdir)/krank/include
KRQ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer

# test_krq_ring: both sides with real threads and a real memfd, hostile
# clients included, under ASan and UBSan.
check_PROGRAMS += tests/krank/test_krq_ring
TESTS += tests/krank/test_krq_ring
tests_krank_test_krq_ring_SOURCES = tests/krank/test_krq_ring.c \
	$(KRQ_SERVER_SRCS) $(KRQ_CLIENT_SRCS)
tests_krank_test_krq_ring_CPPFLAGS = $(KRQ_CPPFLAGS)
tests_krank_test_krq_ring_CFLAGS = $(AM_CFLAGS) $(KRQ_SAN)
tests_krank_test_krq_ring_LDFLAGS = $(KRQ_SAN)

# test_krq_attach: a process attaches over a real control socket
# (krk_ctl.c with the attach command, over a booted stack as ctl_server),
# round trips from a forked client, the attachment ends when the client
# closes or dies; and `attach` without a registered dispatcher fails.
check_PROGRAMS += tests/krank/test_krq_attach
TESTS += tests/krank/test_krq_attach
tests_krank_test_krq_attach_SOURCES = tests/krank/test_krq_attach.c \
	$(KRK_CTL_SRCS) $(KRQ_CLIENT_SRCS) krank/krk.h krank/krk_config.h
tests_krank_test_krq_attach_CPPFLAGS = $(RDTEST_CPPFLAGS) $(KRK_CTL_CPPFLAGS)
tests_krank_test_krq_attach_CFLAGS = $(AM_CFLAGS) $(KRQ_SAN)
tests_krank_test_krq_attach_LDFLAGS = $(KRQ_SAN) $(KRANK_LINK)
tests_krank_test_krq_attach_LDADD = krank/libkrk.a $(KRANK_LINK_LIBS)
tests_krank_test_krq_attach_DEPENDENCIES = krank/libkrk.a $(KRK_DEPS)

# The ring consumer under libFuzzer: arbitrary region contents (header
# excluded) against krq_sclient_poll (see tests/fuzz/local.mk).
fuzz_targets += tests/fuzz/fuzz_krq_ring
TESTS += tests/fuzz/fuzz_krq_ring.sh
EXTRA_DIST += tests/fuzz/fuzz_krq_ring.sh tests/fuzz/fuzz_krq_ring.c
tests/fuzz/fuzz_krq_ring: tests/fuzz/fuzz_krq_ring.c $(KRQ_SERVER_SRCS)
	@mkdir -p tests/fuzz
	$(AM_V_CC)$(FUZZ_BUILD) -I$(srcdir)/krank -o $@ \
		$(srcdir)/tests/fuzz/fuzz_krq_ring.c $(srcdir)/krank/krq_server.c \
		-lpthread

# Benchmark (not in make check): make tests/bench/bench_krq_ring, then
# tests/bench/bench_krq_ring [SECONDS]: bare cache-line ping-pong, queue
# round trip, batched calls/s and getppid in one run.
EXTRA_PROGRAMS += tests/bench/bench_krq_ring
tests_bench_bench_krq_ring_SOURCES = tests/bench/bench_krq_ring.c \
	$(KRQ_SERVER_SRCS) $(KRQ_CLIENT_SRCS)
tests_bench_bench_krq_ring_CPPFLAGS = $(KRQ_CPPFLAGS)
tests_bench_bench_krq_ring_CFLAGS = $(AM_CFLAGS) -O2
CLEANFILES += tests/bench/bench_krq_ring
