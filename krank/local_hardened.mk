# Hardened isolates (krank/krk_gate.c, compiled with the core in
# krank/local.mk): an isolate that reaches a host system call is stopped,
# ordinary work still goes through the gate (plain and ASan+UBSan runners).
TESTS += tests/krank/test_krk_hardened.sh
EXTRA_DIST += tests/krank/test_krk_hardened.sh tests/krank/iso_escape.c

# Every import an isolate can bind (plain and hardened tables) resolves
# into KRANK's own code, never into libc.so or ld.so.
check_PROGRAMS += tests/krank/test_krk_exports
TESTS += tests/krank/test_krk_exports
tests_krank_test_krk_exports_SOURCES = tests/krank/test_krk_exports.c
tests_krank_test_krk_exports_CPPFLAGS = $(KRK_CPPFLAGS)
tests_krank_test_krk_exports_LDFLAGS = $(KRANK_LINK)
tests_krank_test_krk_exports_LDADD = krank/libkrk.a $(KRANK_LINK_LIBS)
tests_krank_test_krk_exports_DEPENDENCIES = krank/libkrk.a $(KRK_DEPS)
