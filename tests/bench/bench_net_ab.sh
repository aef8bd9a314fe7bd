#!/bin/sh
# bench_net_ab.sh - bench_net of two builds, alternated in the same
# minutes (a noisy machine moves both alike), and the medians of each.
#
# usage: tests/bench/bench_net_ab.sh BUILD_A BUILD_B [ROUNDS] [VARIANT]
#            [ROUND_TRIPS] [BULK_MIB]
# BUILD_A, BUILD_B: build trees (each with tests/bench/.libs/bench_net
# and .libs/libkrank-hypercall.so), or directories holding a copy of
# bench_net and that library side by side.  Defaults: 10 rounds, spin,
# 2000 round trips, 1024 MiB.  One line per run (build, load average,
# KRANK and Linux RTT median in us, bulk in Mbit/s, ratios), then per
# build the medians of KRANK's RTT and bulk and of the per-run ratios.
# Not run by make check.
set -eu
if [ $# -lt 2 ]; then
	sed -n '4,13p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
a=$1 b=$2 rounds=${3:-10} var=${4:-spin} rtts=${5:-2000} mib=${6:-1024}

# bin DIR LIBVAR: the benchmark of a build tree or of a directory.
bin() {
	if [ -x "$1/tests/bench/.libs/bench_net" ]; then
		echo "$1/tests/bench/.libs/bench_net $1/.libs"
	elif [ -x "$1/bench_net" ]; then
		echo "$1/bench_net $1"
	else
		echo "bench_net_ab.sh: no bench_net in $1" >&2
		exit 2
	fi
}
ba=$(bin "$a")
bb=$(bin "$b")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
i=0
while [ "$i" -lt "$rounds" ]; do
	for which in A B; do
		if [ $which = A ]; then set -- $ba; else set -- $bb; fi
		load=$(cut -d' ' -f1 /proc/loadavg)
		BENCH_NET_VARIANTS=$var LD_LIBRARY_PATH=$2 "$1" "$rtts" "$mib" 2>&1 |
		awk -v w=$which -v l="$load" -v v="$var" '
		    $1 == "@point" {
			split($2, id, "="); split($3, k, "="); split($4, x, "=")
			if (id[2] == "net." v ".rtt_med") { rk = k[2]; rl = x[2] }
			if (id[2] == "net." v ".bulk") { bk = k[2]; bl = x[2] }
		    }
		    END {
			if (rk == "" || bk == "") exit 1
			printf "%s load %s rtt %.2f %.2f %.2fx bulk %.0f %.0f %.2fx\n",
			    w, l, rk, rl, rl / rk, bk, bl, bk / bl
		    }' | tee -a "$out"
	done
	i=$((i + 1))
done
awk '
function med(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ w = $1; rk[w] = rk[w] " " $5; rr[w] = rr[w] " " ($7 + 0)
  bk[w] = bk[w] " " $9; br[w] = br[w] " " ($11 + 0); n[w]++ }
END {
	for (w in n)
		printf "%s medians of %d: RTT %.2f us (%.2fx Linux), bulk %.0f " \
		    "Mbit/s (%.2fx Linux)\n", w, n[w], med(rk[w]), med(rr[w]),
		    med(bk[w]), med(br[w])
}' "$out" | sort
