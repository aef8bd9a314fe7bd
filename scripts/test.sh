#!/bin/sh
# Install dependencies, build, run the whole test suite (make check) and
# make distcheck; print a summary whose last line is "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
scripts/install-deps.sh || exit 1
scripts/build.sh || { echo "0 passed, 1 failed"; exit 1; }
make -j"$(nproc)" check
check_rc=$?
dist_rc=0
if [ "${KRANK_SKIP_DISTCHECK:-0}" != 1 ]; then
	make -j"$(nproc)" distcheck >distcheck.log 2>&1
	dist_rc=$?
	[ $dist_rc -eq 0 ] || tail -60 distcheck.log
fi
exec scripts/summarize-tests.sh $check_rc $dist_rc
