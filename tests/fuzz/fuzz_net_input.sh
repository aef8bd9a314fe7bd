#!/bin/sh
exec "${top_srcdir:-.}/tests/fuzz/run-fuzz.sh" fuzz_net_input "${KRANK_FUZZ_SECONDS:-10}"
