#!/bin/sh
exec "${top_srcdir:-.}/tests/fuzz/run-fuzz.sh" fuzz_http "${KRANK_FUZZ_SECONDS:-10}"
