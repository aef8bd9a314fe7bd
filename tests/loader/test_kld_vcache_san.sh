#!/bin/sh
# test_kld_vcache.sh with the loader built under ASan+UBSan.
KLD_VCACHE_PROG=test_kld_vcache_san
export KLD_VCACHE_PROG
exec sh "${top_srcdir:-.}/tests/loader/test_kld_vcache.sh"
