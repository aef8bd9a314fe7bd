#!/bin/sh
# make bench's plumbing (tests/bench/run, summarize.awk, point.sh) on a
# stand-in benchmark whose numbers are known: medians and spreads over
# the repeats, goal verdicts, lines that are not points ignored, a failing
# run reported, a benchmark that needs a missing program skipped, the
# @machine lines benchmarks print of their own left out of the table and
# of the machine's costs, and the results section of an existing
# PERFORMANCE.md replaced while the hand-written text around it is kept.
set -u
src=${top_srcdir:-.}
bld=${top_builddir:-.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

# The stand-in: run k prints KRANK values 10, 20, 30 ns against 60 ns.
cat >"$work/fake.sh" <<'EOT'
. "$top_srcdir/tests/bench/point.sh"
n=$(cat "$STATE" 2>/dev/null || echo 0); n=$((n + 1)); echo $n >"$STATE"
echo "some human-readable table"
echo "@machine syscall_ns=999999 pagefault_ns=888888"
point fake.lat $((n * 10)) 60 ns lower 4 "a latency, lower is better"
point fake.rate 100 $((n * 100)) MB/s higher 0 "a rate"
[ $n -ne 2 ] || exit 3
EOT
cat >"$work/list" <<EOT
fake|tests/bench/bench_machine|-|STATE=$work/state sh $work/fake.sh|false
absent|tests/bench/bench_machine|no-such-program-krank|true|true
EOT
cat >"$work/perf.md" <<'EOT'
# Performance

hand-written intro
<!-- make bench: begin (old) -->
old table
<!-- make bench: end -->
## Hand-written analysis
kept text
EOT
KRANK_BENCH_LIST="$work/list" top_builddir="$bld" \
	sh "$src/tests/bench/run" --quick --repeat 3 --output "$work/perf.md" \
	--results "$work/results" \
	>"$work/out" 2>&1
rc=$?
cat "$work/out"
[ $rc -eq 0 ] && ok "run exits 0" || bad "run exited $rc"
# Run 2 fails: its points are left out.  Runs 1 and 3: KRANK 10 and 30
# (median 20) against 60; ratios 6 and 2 (median 4, the goal: met).
grep -q '^| fake.lat | a latency, lower is better | 20.0 | 60.0 | ns (lower is better) | 4.00x | 2.00-6.00 | 2 | >= 4x met |$' "$work/perf.md" &&
	ok "latency point: medians and spread over the good runs, goal met" ||
	bad "latency row wrong"
grep -q '^| fake.rate | a rate | 100 | 200 | MB/s | 0.67x | 0.33-1.00 | 2 | - |$' "$work/perf.md" &&
	ok "rate point: higher is better, no goal" || bad "rate row wrong"
grep -q 'fake: run 2 failed (exit 3; its points are left out)' "$work/perf.md" &&
	ok "the failing run is listed" || bad "failing run not listed"
grep -q 'absent: needs no-such-program-krank' "$work/perf.md" &&
	ok "a benchmark needing a missing program is skipped with the reason" ||
	bad "skip not reported"
grep -q 'hand-written intro' "$work/perf.md" && grep -q 'kept text' "$work/perf.md" &&
	! grep -q 'old table' "$work/perf.md" &&
	[ "$(grep -c '^<!-- make bench: begin' "$work/perf.md")" -eq 1 ] &&
	ok "only the results section was replaced" || bad "surrounding text not kept"
grep -q 'a system call costs [0-9]* ns and a fresh' "$work/perf.md" &&
	ok "the machine's system call and page fault costs are recorded" ||
	bad "machine costs missing"
! grep -q '999999\|888888' "$work/perf.md" &&
	ok "a benchmark's own @machine line does not replace the run's machine costs" ||
	bad "a benchmark's @machine line leaked into the results"
# summarize.awk itself: @machine lines among the points change nothing.
printf '%s\n' '@point id=a krank=1 base=2 unit=ns better=lower ratio=2 goal=0 what=x' \
	'@machine syscall_ns=5 pagefault_ns=6' \
	'@point id=a krank=1 base=4 unit=ns better=lower ratio=4 goal=0 what=x' >"$work/mixed"
grep -v '^@machine' "$work/mixed" >"$work/pure"
awk -f "$src/tests/bench/summarize.awk" "$work/mixed" >"$work/mixed.md"
awk -f "$src/tests/bench/summarize.awk" "$work/pure" >"$work/pure.md"
cmp -s "$work/mixed.md" "$work/pure.md" && [ "$(wc -l <"$work/mixed.md")" -eq 3 ] &&
	ok "summarize.awk ignores @machine lines among the points" ||
	bad "summarize.awk output changed by @machine lines"
sh "$src/tests/bench/run" --repeat x >/dev/null 2>&1
[ $? -eq 2 ] && ok "a bad --repeat is a usage error" || bad "--repeat x accepted"
exit $fail
