# krank/local_pool.mk: the isolate memory pool (memory.isolate_pool,
# krank/krk_pool.c) in KRANK's sources (KRK_ALL_SRCS: libkrk.a and the
# sanitizer builds), and its test.
KRK_ALL_SRCS += krank/krk_pool.c
