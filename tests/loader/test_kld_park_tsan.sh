#!/bin/sh
# test_kld_park.sh with the loader built under ThreadSanitizer (deferred
# parking's worker thread against loads and unloads from four threads).
KLD_PARK_PROG=test_kld_park_tsan
export KLD_PARK_PROG
TSAN_OPTIONS="halt_on_error=1 exitcode=66${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
export TSAN_OPTIONS
exec sh "${top_srcdir:-.}/tests/loader/test_kld_park.sh"
