#!/bin/sh
exec "${top_srcdir:-.}/tests/fuzz/run-fuzz.sh" fuzz_resp "${KRANK_FUZZ_SECONDS:-10}"
