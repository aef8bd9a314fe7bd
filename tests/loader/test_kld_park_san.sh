#!/bin/sh
# test_kld_park.sh with the loader built under ASan+UBSan.
KLD_PARK_PROG=test_kld_park_san
export KLD_PARK_PROG
exec sh "${top_srcdir:-.}/tests/loader/test_kld_park.sh"
