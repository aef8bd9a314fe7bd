#!/bin/sh
exec "${top_srcdir:-.}/tests/fuzz/run-fuzz.sh" fuzz_kld "${KRANK_FUZZ_SECONDS:-10}"
