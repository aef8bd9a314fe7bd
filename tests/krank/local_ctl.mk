# tests/krank: the control socket and krankctl.  ctl_server runs
# krk_ctl.c and krk_log.c (built with ASan and UBSan: they parse requests
# and manage buffers) over a booted stack; test_krankctl.sh drives the
# real krankctl against it.  The isolate calls come from a test-only
# implementation until krank/krk_isolate.c is linked here instead.
check_PROGRAMS += tests/krank/ctl_server
TESTS += tests/krank/test_krankctl.sh
EXTRA_DIST += tests/krank/test_krankctl.sh
CTL_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
tests_krank_ctl_server_SOURCES = tests/krank/ctl_server.c \
	tests/krank/krk_isolate_testimpl.c $(KRK_CTL_SRCS)
tests_krank_ctl_server_CPPFLAGS = $(RDTEST_CPPFLAGS) $(KRK_CTL_CPPFLAGS)
tests_krank_ctl_server_CFLAGS = $(AM_CFLAGS) $(CTL_SAN)
tests_krank_ctl_server_LDFLAGS = $(CTL_SAN) $(RUMPDRV_LINK_NET) \
	$(RUMPDRV_LINK_VFS) $(RUMPDRV_LINK_TMPFS)
tests_krank_ctl_server_LDADD = $(RUMPDRV_HYP_LIBS)
tests_krank_ctl_server_DEPENDENCIES = rumpdrv/net/librumpnet.a \
	rumpdrv/vfs/librumpvfs.a rumpdrv/kern/librumpkern.a \
	rumpdrv/fs/tmpfs/librumpfs_tmpfs.a libkrank-hypercall.la

# The request parser under libFuzzer (see tests/fuzz/local.mk).
fuzz_targets += tests/fuzz/fuzz_ctl_req
TESTS += tests/fuzz/fuzz_ctl_req.sh
EXTRA_DIST += tests/fuzz/fuzz_ctl_req.sh tests/fuzz/fuzz_ctl_req.c
tests/fuzz/fuzz_ctl_req: tests/fuzz/fuzz_ctl_req.c krank/krk_ctl_proto.h
	@mkdir -p tests/fuzz
	$(AM_V_CC)$(FUZZ_BUILD) -I$(srcdir)/krank -o $@ \
		$(srcdir)/tests/fuzz/fuzz_ctl_req.c
