#!/bin/sh
# test_krk_pool.sh with KRANK's code and the loader under ASan+UBSan.
KRK_POOL_TEST=test_krk_pool_san
export KRK_POOL_TEST
exec "${SHELL:-/bin/sh}" "${top_srcdir:-.}/tests/krank/test_krk_pool.sh"
