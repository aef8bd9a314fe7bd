# Hardened isolates (krank/krk_gate.c, compiled with the core in
# krank/local.mk): an isolate that reaches a host system call is stopped,
# ordinary work still goes through the gate (plain and ASan+UBSan runners).
TESTS += tests/krank/test_krk_hardened.sh
EXTRA_DIST += tests/krank/test_krk_hardened.sh tests/krank/iso_escape.c
