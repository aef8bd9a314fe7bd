#!/bin/sh
exec "${top_srcdir:-.}/tests/fuzz/run-fuzz.sh" fuzz_ctl_req "${KRANK_FUZZ_SECONDS:-10}"
