#!/bin/sh
exec "${top_srcdir:-.}/tests/fuzz/run-fuzz.sh" fuzz_hostnet_rule "${KRANK_FUZZ_SECONDS:-10}"
