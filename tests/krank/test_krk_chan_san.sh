#!/bin/sh
# test_krk_chan with KRANK's code (channels, isolates, shims, heap) under
# ASan+UBSan.
KRK_CHAN_TEST=test_krk_chan_san
export KRK_CHAN_TEST
exec "${SHELL:-/bin/sh}" "${top_srcdir:-.}/tests/krank/test_krk_chan.sh"
