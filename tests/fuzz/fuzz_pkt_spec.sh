#!/bin/sh
exec "${top_srcdir:-.}/tests/fuzz/run-fuzz.sh" fuzz_pkt_spec "${KRANK_FUZZ_SECONDS:-10}"
