# tests/krank: the control socket and krankctl.  ctl_server runs
# krk_ctl.c and krk_log.c (built with ASan and UBSan: they parse requests
# and manage buffers) over a booted stack, with real isolates
# (krank/krk_isolate.c and the rest of KRANK from krank/libkrk.a, whose
# own copies of the control files the linker leaves out, as the objects
# given first define their symbols); test_krankctl.sh drives the real
# krankctl against it, with isolates built by krank-cc (tests/krank/iso).
check_PROGRAMS += tests/krank/ctl_server
TESTS += tests/krank/test_krankctl.sh
EXTRA_DIST += tests/krank/test_krankctl.sh tests/krank/iso/tick.c \
	tests/krank/iso/hidden.c
CTL_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
tests_krank_ctl_server_SOURCES = tests/krank/ctl_server.c \
	$(KRK_CTL_SRCS) krank/krk.h krank/krk_config.h
tests_krank_ctl_server_CPPFLAGS = $(RDTEST_CPPFLAGS) $(KRK_CTL_CPPFLAGS)
tests_krank_ctl_server_CFLAGS = $(AM_CFLAGS) $(CTL_SAN)
tests_krank_ctl_server_LDFLAGS = $(CTL_SAN) $(KRANK_LINK)
tests_krank_ctl_server_LDADD = krank/libkrk.a $(KRANK_LINK_LIBS)
tests_krank_ctl_server_DEPENDENCIES = krank/libkrk.a $(KRK_DEPS)

# The parts one by one: frame tap, krs_mounts, log ring, parser, escaping.
check_PROGRAMS += tests/krank/test_ctl_parts
TESTS += tests/krank/test_ctl_parts
tests_krank_test_ctl_parts_SOURCES = tests/krank/test_ctl_parts.c \
	$(KRK_CTL_SRCS)
tests_krank_test_ctl_parts_CPPFLAGS = $(RDTEST_CPPFLAGS) $(KRK_CTL_CPPFLAGS)
tests_krank_test_ctl_parts_CFLAGS = $(AM_CFLAGS) $(CTL_SAN)
tests_krank_test_ctl_parts_LDFLAGS = $(tests_krank_ctl_server_LDFLAGS)
tests_krank_test_ctl_parts_LDADD = $(tests_krank_ctl_server_LDADD)
tests_krank_test_ctl_parts_DEPENDENCIES = $(tests_krank_ctl_server_DEPENDENCIES)

# The request parser under libFuzzer (see tests/fuzz/local.mk).
fuzz_targets += tests/fuzz/fuzz_ctl_req
TESTS += tests/fuzz/fuzz_ctl_req.sh
EXTRA_DIST += tests/fuzz/fuzz_ctl_req.sh tests/fuzz/fuzz_ctl_req.c
tests/fuzz/fuzz_ctl_req: tests/fuzz/fuzz_ctl_req.c krank/krk_ctl_proto.h
	@mkdir -p tests/fuzz
	$(AM_V_CC)$(FUZZ_BUILD) -I$(srcdir)/krank -o $@ \
		$(srcdir)/tests/fuzz/fuzz_ctl_req.c

# A whole request through krk_ctl_serve (commands' argument parsing too),
# over the prebuilt rumpdrv archives and krank/libkrk.a for the isolate
# calls (neither booted nor initialised: those commands fail).
fuzz_targets += tests/fuzz/fuzz_ctl_serve
TESTS += tests/fuzz/fuzz_ctl_serve.sh
EXTRA_DIST += tests/fuzz/fuzz_ctl_serve.sh tests/fuzz/fuzz_ctl_serve.c
FUZZ_CTL_SRCS = krank/krk_ctl.c krank/krk_ctl_cmd.c krank/krk_ctl_capture.c \
	krank/krk_log.c
tests/fuzz/fuzz_ctl_serve: tests/fuzz/fuzz_ctl_serve.c $(KRK_CTL_SRCS) \
		krank/libkrk.a $(KRK_DEPS)
	@mkdir -p tests/fuzz
	$(AM_V_CC)cd $(srcdir) && $(FUZZ_CC) $(FUZZ_FLAGS) \
		-include $(abs_top_builddir)/config.h -Ihypercalls/include \
		-Ikrank -Irumpdrv -Irumpdrv/include -o $(abs_top_builddir)/$@ \
		tests/fuzz/fuzz_ctl_serve.c $(FUZZ_CTL_SRCS) \
		-Wl,--start-group $(abs_top_builddir)/krank/libkrk.a \
		$(abs_top_builddir)/rumpdrv/fs/ext2/librumpfs_ext2.a \
		$(abs_top_builddir)/rumpdrv/fs/tmpfs/librumpfs_tmpfs.a \
		$(abs_top_builddir)/rumpdrv/dev/blk/librumpdev_blk.a \
		$(abs_top_builddir)/rumpdrv/net/librumpnet.a \
		$(abs_top_builddir)/rumpdrv/vfs/librumpvfs.a \
		$(abs_top_builddir)/rumpdrv/hostnet/librumphostnet.a \
		$(abs_top_builddir)/rumpdrv/kern/librumpkern.a -Wl,--end-group \
		-L$(abs_top_builddir)/.libs -lkrank-loader -lkrank-hypercall \
		-Wl,-rpath,$(abs_top_builddir)/.libs $(KRK_CONFIG_LIBS) \
		$(LIBELF_LIBS) $(ZYDIS_LIBS) -lm -lpthread
