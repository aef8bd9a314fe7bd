# krank devices: the PCI network and storage devices and whether Linux
# uses them (krank/krk_devices.c, libpciaccess).  Included after
# krank/local.mk, whose krank program it extends.
krank_krank_SOURCES += krank/krk_devices.c krank/krk_devices.h
krank_krank_CFLAGS += $(PCIACCESS_CFLAGS)
krank_krank_LDADD += $(PCIACCESS_LIBS)

# Against what sysfs and lspci report on this machine.
TESTS += tests/krank/test_krank_devices.sh
EXTRA_DIST += tests/krank/test_krank_devices.sh

# The same code under ASan+UBSan (it parses sysfs, mountinfo, swaps); the
# test runs every check against both.
check_PROGRAMS += tests/krank/krk_devices_san
tests_krank_krk_devices_san_SOURCES = tests/krank/krk_devices_main.c \
	krank/krk_devices.c krank/krk_devices.h
tests_krank_krk_devices_san_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/krank
tests_krank_krk_devices_san_CFLAGS = $(AM_CFLAGS) $(PCIACCESS_CFLAGS) $(SAN_FLAGS)
tests_krank_krk_devices_san_LDFLAGS = $(SAN_FLAGS)
tests_krank_krk_devices_san_LDADD = $(PCIACCESS_LIBS)
