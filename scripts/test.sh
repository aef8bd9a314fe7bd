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
# distcheck builds the release tarball in a fresh VPATH tree, installs
# and uninstalls it, and runs tests there.  The whole suite has just run
# above; in the tarball's tree a subset that reads the distributed
# scripts, fixtures, examples, docs and dist/ files is enough to catch a
# file missing from it, and keeps the run within half an hour on two
# cores (KRANK_DISTCHECK_TESTS overrides; "all" runs everything).
DIST_TESTS=${KRANK_DISTCHECK_TESTS:-"tests/rumpdrv/test_layering_archives.sh
tests/krank/test_krk_config.sh tests/fuzz/fuzz_krk_config.sh
tests/bench/test_bench_summary.sh tests/loader/test_kld_corpus.sh
tests/examples/test_echo.sh tests/krank/test_krank_queue.sh
tests/krank/test_krank_foreign.sh tests/krank/test_krank_hostfs.sh
tests/bridge/test_preload.sh tests/dist/test_k8s_manifests.sh
tests/dist/test_metrics_format.sh"}
if [ "${KRANK_SKIP_DISTCHECK:-0}" != 1 ]; then
	if [ "$DIST_TESTS" = all ]; then
		make -j"$(nproc)" distcheck >distcheck.log 2>&1
	else
		make -j"$(nproc)" distcheck TESTS="$(echo $DIST_TESTS)" >distcheck.log 2>&1
	fi
	dist_rc=$?
	[ $dist_rc -eq 0 ] || tail -60 distcheck.log
fi
exec scripts/summarize-tests.sh $check_rc $dist_rc
