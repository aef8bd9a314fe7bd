# bridge/: libkrank-preload.so, with which an unmodified Linux program
# runs on KRANK's TCP/IP stack and file systems (docs/bridge.md), and the
# krank-attach wrapper that runs a program with it.
lib_LTLIBRARIES += libkrank-preload.la
libkrank_preload_la_SOURCES = bridge/kbr_preload.c bridge/kbr_preload_poll.c \
	bridge/kbr_preload_sig.c \
	bridge/kbr_preload_file.c bridge/kbr_fdtab.c bridge/kbr_fdtab.h \
	bridge/kbr_preload_int.h
libkrank_preload_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/krank/include
# Only the interposed calls are exported (KBR_EXPORT); the rest is ours.
libkrank_preload_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
libkrank_preload_la_LDFLAGS = -module -avoid-version -shared -no-undefined
libkrank_preload_la_LIBADD = libkrank.la -ldl -lpthread

bin_SCRIPTS += bridge/krank-attach
bridge/krank-attach: bridge/krank-attach.in Makefile
	@mkdir -p bridge
	$(AM_V_GEN)sed -e 's|%PRELOAD%|$(libdir)/libkrank-preload.so|g' \
		$(srcdir)/bridge/krank-attach.in > $@.tmp && chmod +x $@.tmp && \
		mv $@.tmp $@
CLEANFILES += bridge/krank-attach
EXTRA_DIST += bridge/krank-attach.in
dist_man1_MANS = docs/man/krank-attach.1

# test_kbr_fdtab: the descriptor table and epoll shadow lists alone,
# under ASan+UBSan.
KBR_SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
check_PROGRAMS += tests/bridge/test_kbr_fdtab tests/bridge/preload_probe
tests_bridge_test_kbr_fdtab_SOURCES = tests/bridge/test_kbr_fdtab.c \
	bridge/kbr_fdtab.c bridge/kbr_fdtab.h
tests_bridge_test_kbr_fdtab_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/bridge
tests_bridge_test_kbr_fdtab_CFLAGS = $(AM_CFLAGS) $(KBR_SAN_FLAGS)
tests_bridge_test_kbr_fdtab_LDFLAGS = $(KBR_SAN_FLAGS)
# preload_probe: a plain Linux program (libc only) the preload test runs.
tests_bridge_preload_probe_SOURCES = tests/bridge/preload_probe.c
tests_bridge_preload_probe_LDADD = -lpthread
TESTS += tests/bridge/test_kbr_fdtab tests/bridge/test_preload.sh \
	tests/bridge/test_preload_async.sh \
	tests/bridge/test_bridge_redis.sh tests/bridge/test_bridge_nginx.sh
EXTRA_DIST += tests/bridge/test_preload.sh tests/bridge/test_bridge_redis.sh \
	tests/bridge/test_preload_async.sh \
	tests/bridge/test_bridge_nginx.sh \
	tests/bridge/lib.sh tests/bench/bench_bridge_redis.sh
