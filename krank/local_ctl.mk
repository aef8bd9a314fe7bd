# krank/: the control socket (krk_ctl.c), the log ring (krk_log.c) and
# krankctl.  The krank program (krank/local.mk) compiles $(KRK_CTL_SRCS)
# with $(KRK_CTL_CPPFLAGS) and links $(KRK_CTL_LIBS).
KRK_CTL_SRCS = krank/krk_ctl.c krank/krk_log.c krank/krk_ctl_int.h \
	krank/krk_ctl_proto.h
KRK_CTL_CPPFLAGS = -I$(srcdir)/krank -I$(srcdir)/rumpdrv \
	-I$(srcdir)/rumpdrv/include
KRK_CTL_LIBS = -lpthread

bin_PROGRAMS += krank/krankctl
krank_krankctl_SOURCES = krank/krankctl.c krank/krk_ctl_proto.h
krank_krankctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/krank
krank_krankctl_CFLAGS = $(AM_CFLAGS) $(PCAP_CFLAGS)
krank_krankctl_LDADD = $(PCAP_LIBS)
dist_man8_MANS = docs/man/krankctl.8

include tests/krank/local_ctl.mk
