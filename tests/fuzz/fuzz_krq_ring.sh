#!/bin/sh
exec "${top_srcdir:-.}/tests/fuzz/run-fuzz.sh" fuzz_krq_ring "${KRANK_FUZZ_SECONDS:-10}"
