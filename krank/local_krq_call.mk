# krank/: the system-call API (issue 12, hA's part): krank.proto, compiled
# by protoc-c into the build tree; the dispatcher and its handler table
# (krq_call.c, krq_calls.def, krq_files.c, krq_sockets.c, krq_misc.c) in
# krank/libkrq.a; libkrank's synchronous calls (krank_calls.c,
# <krank/krank.h>) in krank/libkrank_calls.la, for libkrank.la to
# LIBADD.  The generated code and the errno table sit in
# krank/libkrank_proto.la, shared by both sides.
KRQ_PB = krank/krank.pb-c.c krank/krank.pb-c.h
BUILT_SOURCES += $(KRQ_PB)
CLEANFILES += $(KRQ_PB)
EXTRA_DIST += krank/krank.proto krank/krq_calls.def

# protoc-c writes both files at once; the header follows the source.
krank/krank.pb-c.c: $(srcdir)/krank/krank.proto
	$(AM_V_GEN)$(MKDIR_P) krank && $(PROTOC_C) \
		--proto_path=$(srcdir)/krank --c_out=krank \
		$(srcdir)/krank/krank.proto
krank/krank.pb-c.h: krank/krank.pb-c.c
	@test -f $@ || { rm -f krank/krank.pb-c.c; \
		$(MAKE) $(AM_MAKEFLAGS) krank/krank.pb-c.c; }

KRQ_CALL_CPPFLAGS = $(KRK_CPPFLAGS) -I$(top_builddir)/krank \
	-I$(srcdir)/krank/include $(PROTOBUF_C_CFLAGS)
KRQ_CALL_SRCS = krank/krq_call.h krank/krq_fixed.h krank/krq_call.c krank/krq_files.c \
	krank/krq_sockets.c krank/krq_misc.c

noinst_LTLIBRARIES += krank/libkrank_proto.la
nodist_krank_libkrank_proto_la_SOURCES = $(KRQ_PB)
krank_libkrank_proto_la_SOURCES = krank/krq_errno.c krank/krq_wire.c
krank_libkrank_proto_la_CPPFLAGS = $(KRQ_CALL_CPPFLAGS)
# protoc-c's initialiser macros of messages with a oneof lack inner braces.
KRQ_PB_CFLAGS = -Wno-missing-braces
krank_libkrank_proto_la_CFLAGS = $(AM_CFLAGS) $(KRQ_PB_CFLAGS)
krank_libkrank_proto_la_LIBADD = $(PROTOBUF_C_LIBS)

noinst_LIBRARIES += krank/libkrq.a
krank_libkrq_a_SOURCES = $(KRQ_CALL_SRCS)
krank_libkrq_a_CPPFLAGS = $(KRQ_CALL_CPPFLAGS)

kranksubinclude_HEADERS += krank/include/krank/krank.h
noinst_LTLIBRARIES += krank/libkrank_calls.la
krank_libkrank_calls_la_SOURCES = krank/krank_calls.c
krank_libkrank_calls_la_CPPFLAGS = $(KRQ_CALL_CPPFLAGS)
krank_libkrank_calls_la_LIBADD = krank/libkrank_proto.la

# What links the dispatcher: KRANK's core, the components, protobuf-c.
KRQ_CALL_LINK_LIBS = krank/libkrk.a $(KRANK_LINK_LIBS) $(PROTOBUF_C_LIBS)
KRQ_CALL_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

# test_krq_dispatch: the table against the .proto's descriptor, hostile
# requests, both paths; test_krank_calls: libkrank over a loopback
# transport into krq_dispatch (tmpfs files, TCP over the stack's
# loopback, errors).  Both build the dispatcher, the generated code and
# the client under ASan+UBSan (they parse input and manage buffers).
check_PROGRAMS += tests/krank/test_krq_dispatch tests/krank/test_krank_calls
TESTS += tests/krank/test_krq_dispatch tests/krank/test_krank_calls.sh
EXTRA_DIST += tests/krank/test_krank_calls.sh
KRQ_CALL_SAN_SRCS = $(KRQ_CALL_SRCS) krank/krq_errno.c krank/krq_wire.c
tests_krank_test_krq_dispatch_SOURCES = tests/krank/test_krq_dispatch.c \
	$(KRQ_CALL_SAN_SRCS)
nodist_tests_krank_test_krq_dispatch_SOURCES = $(KRQ_PB)
tests_krank_test_krq_dispatch_CPPFLAGS = $(KRQ_CALL_CPPFLAGS) -I$(srcdir)/tests/rumpdrv
tests_krank_test_krq_dispatch_CFLAGS = $(AM_CFLAGS) $(KRQ_CALL_SAN) $(KRQ_PB_CFLAGS)
tests_krank_test_krq_dispatch_LDFLAGS = $(KRANK_LINK) $(KRQ_CALL_SAN)
tests_krank_test_krq_dispatch_LDADD = $(KRQ_CALL_LINK_LIBS)
tests_krank_test_krq_dispatch_DEPENDENCIES = krank/libkrk.a $(KRK_DEPS)
tests_krank_test_krank_calls_SOURCES = tests/krank/test_krank_calls.c \
	$(KRQ_CALL_SAN_SRCS) krank/krank_calls.c
nodist_tests_krank_test_krank_calls_SOURCES = $(KRQ_PB)
tests_krank_test_krank_calls_CPPFLAGS = $(KRQ_CALL_CPPFLAGS) -I$(srcdir)/tests/rumpdrv
tests_krank_test_krank_calls_CFLAGS = $(AM_CFLAGS) $(KRQ_CALL_SAN) $(KRQ_PB_CFLAGS)
tests_krank_test_krank_calls_LDFLAGS = $(KRANK_LINK) $(KRQ_CALL_SAN)
tests_krank_test_krank_calls_LDADD = $(KRQ_CALL_LINK_LIBS)
tests_krank_test_krank_calls_DEPENDENCIES = krank/libkrk.a $(KRK_DEPS)
# Targets built on their own (make tests/krank/test_krq_dispatch) do not
# see BUILT_SOURCES: their objects wait for the generated header.
$(krank_libkrq_a_OBJECTS) $(krank_libkrank_proto_la_OBJECTS) \
$(krank_libkrank_calls_la_OBJECTS) $(tests_krank_test_krq_dispatch_OBJECTS) \
$(tests_krank_test_krank_calls_OBJECTS): krank/krank.pb-c.h

# Requests through krq_dispatch under libFuzzer (see tests/fuzz/local.mk):
# tmpfs and the net stack booted once, a fixed buffer area.
fuzz_targets += tests/fuzz/fuzz_krq_dispatch
TESTS += tests/fuzz/fuzz_krq_dispatch.sh
EXTRA_DIST += tests/fuzz/fuzz_krq_dispatch.sh tests/fuzz/fuzz_krq_dispatch.c
FUZZ_KRQ_SRCS = krank/krq_call.c krank/krq_files.c krank/krq_sockets.c \
	krank/krq_misc.c krank/krq_errno.c krank/krq_wire.c
tests/fuzz/fuzz_krq_dispatch: tests/fuzz/fuzz_krq_dispatch.c \
		$(FUZZ_KRQ_SRCS) krank/krq_call.h krank/krq_fixed.h krank/krq_calls.def \
		$(KRQ_PB) krank/libkrk.a $(KRK_DEPS)
	@mkdir -p tests/fuzz
	$(AM_V_CC)cd $(srcdir) && $(FUZZ_CC) $(FUZZ_FLAGS) \
		-include $(abs_top_builddir)/config.h -Ihypercalls/include \
		-Ikrank -Irumpdrv -Irumpdrv/include -Iloader/include \
		-I$(abs_top_builddir)/krank $(PROTOBUF_C_CFLAGS) \
		-o $(abs_top_builddir)/$@ tests/fuzz/fuzz_krq_dispatch.c \
		$(FUZZ_KRQ_SRCS) $(abs_top_builddir)/krank/krank.pb-c.c \
		-Wl,--whole-archive \
		$(abs_top_builddir)/rumpdrv/fs/tmpfs/librumpfs_tmpfs.a \
		$(abs_top_builddir)/rumpdrv/net/librumpnet.a \
		$(abs_top_builddir)/rumpdrv/vfs/librumpvfs.a \
		$(abs_top_builddir)/rumpdrv/kern/librumpkern.a \
		-Wl,--no-whole-archive -Wl,--start-group \
		$(abs_top_builddir)/krank/libkrk.a \
		$(abs_top_builddir)/rumpdrv/fs/ext2/librumpfs_ext2.a \
		$(abs_top_builddir)/rumpdrv/hostnet/librumphostnet.a \
		$(abs_top_builddir)/rumpdrv/dev/blk/librumpdev_blk.a \
		-Wl,--end-group \
		-L$(abs_top_builddir)/.libs -lkrank-loader -lkrank-hypercall \
		-Wl,-rpath,$(abs_top_builddir)/.libs $(KRK_CONFIG_LIBS) \
		$(KRK_CTL_LIBS) $(LIBELF_LIBS) $(ZYDIS_LIBS) $(PROTOBUF_C_LIBS) \
		-lm -lpthread

# Benchmark (not in make check): make tests/bench/bench_krq_direct.
# The null call direct (krq_call), through encode+krq_dispatch+decode in
# process, and Linux getppid, in the same run.
EXTRA_PROGRAMS += tests/bench/bench_krq_direct
tests_bench_bench_krq_direct_SOURCES = tests/bench/bench_krq_direct.c
tests_bench_bench_krq_direct_CPPFLAGS = $(KRQ_CALL_CPPFLAGS)
tests_bench_bench_krq_direct_CFLAGS = $(AM_CFLAGS) -O2
tests_bench_bench_krq_direct_LDFLAGS = $(KRANK_LINK)
tests_bench_bench_krq_direct_LDADD = krank/libkrq.a krank/libkrank_proto.la \
	$(KRQ_CALL_LINK_LIBS)
tests_bench_bench_krq_direct_DEPENDENCIES = krank/libkrq.a \
	krank/libkrank_proto.la krank/libkrk.a $(KRK_DEPS)
$(tests_bench_bench_krq_direct_OBJECTS): krank/krank.pb-c.h
CLEANFILES += tests/bench/bench_krq_direct
