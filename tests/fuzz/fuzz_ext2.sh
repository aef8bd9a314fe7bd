#!/bin/sh
exec "${top_srcdir:-.}/tests/fuzz/run-fuzz.sh" fuzz_ext2 "${KRANK_FUZZ_SECONDS:-10}"
