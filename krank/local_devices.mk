# krank devices: the PCI network and storage devices and whether Linux
# uses them (krank/krk_devices.c, libpciaccess).  Included after
# krank/local.mk, whose krank program it extends.
krank_krank_SOURCES += krank/krk_devices.c krank/krk_devices.h
krank_krank_CFLAGS += $(PCIACCESS_CFLAGS)
krank_krank_LDADD += $(PCIACCESS_LIBS)

# Against what sysfs and lspci report on this machine.
TESTS += tests/krank/test_krank_devices.sh
EXTRA_DIST += tests/krank/test_krank_devices.sh
