# krank/: foreign isolates (krk_foreign.c): the attach socket and its
# policy, `spawn --foreign` (pidfd), and their place in ps.  Part of
# libkrk.a (krk_ctl_attach.c and the control commands call it).
krank_libkrk_a_SOURCES += krank/krk_foreign.c krank/krk_foreign.h
# The preload library spawn --foreign puts in LD_PRELOAD by default
# (bridge/ builds it; attach.preload or $KRANK_PRELOAD override).
krank_libkrk_a_CPPFLAGS += -DKRK_PRELOAD_PATH='"$(libdir)/libkrank-preload.so"'

# test_krank_foreign.sh: krank run with an attach socket; krq_foreign (a
# plain Linux program on libkrank) is the good client, the hostile ones
# and the process that spawn --foreign starts and SIGKILL ends.
check_PROGRAMS += tests/krank/krq_foreign
tests_krank_krq_foreign_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/krank/include
tests_krank_krq_foreign_LDADD = libkrank.la -lpthread
TESTS += tests/krank/test_krank_foreign.sh
EXTRA_DIST += tests/krank/test_krank_foreign.sh

# test_ctx_revoke: krs_ctx_revoke (rumpdrv/vfs) on its own: threads of a
# context blocked in accept, recv and poll return when it is revoked.
check_PROGRAMS += tests/rumpdrv/net/test_ctx_revoke
TESTS += tests/rumpdrv/net/test_ctx_revoke
tests_rumpdrv_net_test_ctx_revoke_SOURCES = tests/rumpdrv/net/test_ctx_revoke.c
tests_rumpdrv_net_test_ctx_revoke_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_net_test_ctx_revoke_LDFLAGS = $(NET_TLINK) $(RUMPDRV_LINK_TMPFS)
tests_rumpdrv_net_test_ctx_revoke_LDADD = $(NET_TLIBS) -lpthread
tests_rumpdrv_net_test_ctx_revoke_DEPENDENCIES = $(NET_TDEPS) \
	rumpdrv/fs/tmpfs/librumpfs_tmpfs.a
