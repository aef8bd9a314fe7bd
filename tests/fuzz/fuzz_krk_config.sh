#!/bin/sh
exec "${top_srcdir:-.}/tests/fuzz/run-fuzz.sh" fuzz_krk_config "${KRANK_FUZZ_SECONDS:-10}"
