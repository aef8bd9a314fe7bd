# rumpdrv/hostnet: component "hostnet" (needs socket): sockets of the
# domain KRS_AF_HOSTNET forwarded to the host's TCP/IP, limited to the
# deployment's allow list (docs/hostnet.md).  Its host half,
# bridge/hostnet/hostnet_user.c, is part of the hypercall library.  This
# fragment is included last: it adds hostnet to krank's link line and the
# allow-list parser to the deployment parser's sources.
noinst_LIBRARIES += rumpdrv/hostnet/librumphostnet.a
rumpdrv_hostnet_librumphostnet_a_CPPFLAGS = $(RUMPDRV_CPPFLAGS) \
	-I$(srcdir)/bridge/hostnet
rumpdrv_hostnet_librumphostnet_a_CFLAGS = $(RUMPDRV_CFLAGS)
rumpdrv_hostnet_librumphostnet_a_SOURCES = \
	rumpdrv/hostnet/hostnet.c \
	bridge/hostnet/hostnet_user.h
# The allow-list parser is its own archive, linked normally (in LDADD):
# krank's programs already carry it through the deployment parser
# (KRK_CONFIG_SRCS), and a second copy from a whole archive would clash.
noinst_LIBRARIES += rumpdrv/hostnet/librumphostnet_rule.a
rumpdrv_hostnet_librumphostnet_rule_a_CPPFLAGS = $(RUMPDRV_CPPFLAGS)
rumpdrv_hostnet_librumphostnet_rule_a_CFLAGS = $(RUMPDRV_CFLAGS)
rumpdrv_hostnet_librumphostnet_rule_a_SOURCES = rumpdrv/hostnet/hostnet_rule.c
kranksubinclude_HEADERS += rumpdrv/include/krank/krs_hostnet.h

libkrank_hypercall_la_SOURCES += bridge/hostnet/hostnet_user.c \
	bridge/hostnet/hostnet_user.h

RUMPDRV_LINK_HOSTNET = -Wl,--whole-archive,rumpdrv/hostnet/librumphostnet.a,--no-whole-archive
KRANK_LINK += $(RUMPDRV_LINK_HOSTNET)
KRK_DEPS += rumpdrv/hostnet/librumphostnet.a \
	rumpdrv/hostnet/librumphostnet_rule.a
# For programs that link krank/libkrk.a (krk_boot.c installs the allow
# list) without $(KRANK_LINK): the archive pulled in by reference.
KRANK_LINK_LIBS += rumpdrv/hostnet/librumphostnet.a \
	rumpdrv/hostnet/librumphostnet_rule.a
# The deployment parser checks hostnet.allow with the component's parser.
KRK_CONFIG_SRCS += rumpdrv/hostnet/hostnet_rule.c


# The allow-list parser alone, plain and under ASan+UBSan.
check_PROGRAMS += tests/rumpdrv/hostnet/test_hostnet_rule \
	tests/rumpdrv/hostnet/test_hostnet_rule_san
tests_rumpdrv_hostnet_test_hostnet_rule_SOURCES = \
	tests/rumpdrv/hostnet/test_hostnet_rule.c rumpdrv/hostnet/hostnet_rule.c
tests_rumpdrv_hostnet_test_hostnet_rule_san_SOURCES = \
	$(tests_rumpdrv_hostnet_test_hostnet_rule_SOURCES)
HOSTNET_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
tests_rumpdrv_hostnet_test_hostnet_rule_san_CFLAGS = $(AM_CFLAGS) $(HOSTNET_SAN)
tests_rumpdrv_hostnet_test_hostnet_rule_san_LDFLAGS = $(HOSTNET_SAN)

# The component against Linux sockets in a network namespace the test
# makes: the program links the stack's socket layer, the vfs and hostnet.
check_PROGRAMS += tests/rumpdrv/hostnet/test_hostnet \
	tests/rumpdrv/hostnet/test_hostnet_san
tests_rumpdrv_hostnet_test_hostnet_SOURCES = tests/rumpdrv/hostnet/test_hostnet.c
tests_rumpdrv_hostnet_test_hostnet_CPPFLAGS = $(RDTEST_CPPFLAGS)
tests_rumpdrv_hostnet_test_hostnet_LDFLAGS = $(RUMPDRV_LINK_HOSTNET) \
	$(RUMPDRV_LINK_NET) $(RUMPDRV_LINK_VFS)
tests_rumpdrv_hostnet_test_hostnet_LDADD = \
	rumpdrv/hostnet/librumphostnet_rule.a $(RUMPDRV_HYP_LIBS)
tests_rumpdrv_hostnet_test_hostnet_DEPENDENCIES = \
	rumpdrv/hostnet/librumphostnet.a rumpdrv/hostnet/librumphostnet_rule.a \
	rumpdrv/net/librumpnet.a \
	rumpdrv/vfs/librumpvfs.a rumpdrv/kern/librumpkern.a \
	libkrank-hypercall.la
tests_rumpdrv_hostnet_test_hostnet_san_SOURCES = \
	$(tests_rumpdrv_hostnet_test_hostnet_SOURCES) \
	$(rumpdrv_kern_librumpkern_a_SOURCES) $(rumpdrv_vfs_librumpvfs_a_SOURCES) \
	$(rumpdrv_net_librumpnet_a_SOURCES) \
	$(rumpdrv_hostnet_librumphostnet_a_SOURCES) \
	rumpdrv/hostnet/hostnet_rule.c
tests_rumpdrv_hostnet_test_hostnet_san_CPPFLAGS = $(RDTEST_CPPFLAGS) \
	-DKMEM_DIRECT -I$(srcdir)/bridge/hostnet
tests_rumpdrv_hostnet_test_hostnet_san_CFLAGS = $(AM_CFLAGS) $(HOSTNET_SAN)
tests_rumpdrv_hostnet_test_hostnet_san_LDFLAGS = $(HOSTNET_SAN)
tests_rumpdrv_hostnet_test_hostnet_san_LDADD = $(RUMPDRV_HYP_LIBS)

hostnet_tests = tests/rumpdrv/hostnet/test_hostnet_rule.sh \
	tests/rumpdrv/hostnet/test_hostnet.sh \
	tests/rumpdrv/hostnet/test_hostnet_krank.sh
TESTS += $(hostnet_tests)
EXTRA_DIST += $(hostnet_tests) tests/rumpdrv/hostnet/iso_hostnet.c

# libFuzzer: the allow-list parser (tests/fuzz/local.mk).
fuzz_targets += tests/fuzz/fuzz_hostnet_rule
TESTS += tests/fuzz/fuzz_hostnet_rule.sh
EXTRA_DIST += tests/fuzz/fuzz_hostnet_rule.sh tests/fuzz/fuzz_hostnet_rule.c
tests/fuzz/fuzz_hostnet_rule: tests/fuzz/fuzz_hostnet_rule.c \
		rumpdrv/hostnet/hostnet_rule.c
	@mkdir -p tests/fuzz
	$(AM_V_CC)$(FUZZ_BUILD) -o $@ $(srcdir)/tests/fuzz/fuzz_hostnet_rule.c \
		$(srcdir)/rumpdrv/hostnet/hostnet_rule.c

# test_hostnet_krank.sh: krank run with hostnet, and a libkrank client.
check_PROGRAMS += tests/rumpdrv/hostnet/krq_hostnet
tests_rumpdrv_hostnet_krq_hostnet_SOURCES = tests/rumpdrv/hostnet/krq_hostnet.c
tests_rumpdrv_hostnet_krq_hostnet_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(srcdir)/krank/include
tests_rumpdrv_hostnet_krq_hostnet_LDADD = libkrank.la -lpthread
