# The AF_PACKET backend's PACKET_MMAP rings (issue 16): the slot check
# against hostile headers (plain and ASan+UBSan), and the KRANK stack over
# the rings and over the copy path against Linux in a namespace.
afp_ring_tests = tests/hypercalls/test_afp_ring tests/hypercalls/test_afp_ring_san
check_PROGRAMS += $(afp_ring_tests)
TESTS += $(afp_ring_tests)
tests_hypercalls_test_afp_ring_SOURCES = tests/hypercalls/test_afp_ring.c
tests_hypercalls_test_afp_ring_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/hypercalls/posix
tests_hypercalls_test_afp_ring_LDADD = libkrank-hypercall.la
tests_hypercalls_test_afp_ring_san_SOURCES = tests/hypercalls/test_afp_ring.c
tests_hypercalls_test_afp_ring_san_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/hypercalls/posix
tests_hypercalls_test_afp_ring_san_CFLAGS = $(AM_CFLAGS) $(SAN_FLAGS)
tests_hypercalls_test_afp_ring_san_LDFLAGS = $(SAN_FLAGS)
tests_hypercalls_test_afp_ring_san_LDADD = $(SAN_LIBS)

check_PROGRAMS += tests/hypercalls/afp_fallback
tests_hypercalls_afp_fallback_LDADD = libkrank-hypercall.la
TESTS += tests/hypercalls/test_afp_ring_linux.sh
EXTRA_DIST += tests/hypercalls/test_afp_ring_linux.sh

# Benchmark (tests/bench/run's "afpacket"; not part of make check).
EXTRA_DIST += tests/bench/bench_afpacket.sh
