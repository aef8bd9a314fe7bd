#!/bin/sh
# Isolate start with the verdict cache (issue 16): the programs of
# bench_kld.sh (a hello-world and a large one, >= 1 MiB of code, each as
# a KRANK isolate and a static Linux program), compared by
# tests/bench/bench_kld_start: first start, cached in memory, cached on
# disk, against fork+exec.
#   make tests/bench/bench_kld_start loader/krank-ld && sh tests/bench/bench_kld_start.sh
KLD_BENCH=bench_kld_start exec sh "$(dirname "$0")/bench_kld.sh" "$@"
