#!/bin/sh
exec "${top_srcdir:-.}/tests/fuzz/run-fuzz.sh" fuzz_krq_dispatch "${KRANK_FUZZ_SECONDS:-10}"
