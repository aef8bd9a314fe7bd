#!/bin/sh
# Run to completion on the DPDK host (KRANK_SPIN_US=forever, docs/net.md):
# two KRANK stacks in one process over a crossed net_ring pair
# (net_echo_client_dpdkhost ring, --no-huge), 64-byte TCP round trips.
# perf counts each thread's system calls (raw_syscalls:sys_enter,
# --per-thread) over a window of WINDOW round trips in steady state,
# opened and closed through perf's control fifo while the client waits
# (NET_ECHO_WINDOW).  With forever: no thread makes a call in the window
# but the client's own two to say the window ended (a write and the read
# it waits in) -- not the pollers, not the ports' receive threads, not
# the clock thread.  Without it (today's default, 50 us spins): the
# parked receive threads look every millisecond, so they make calls; the
# default is unchanged.  Every round trip is checked byte for byte by the
# client, which exits 0 only if all came back.
set -u
bld=${top_builddir:-.}
client="$bld/tests/rumpdrv/net/net_echo_client_dpdkhost"
window=${WINDOW:-10000}
rts=$((window + 4000))
fail=0

skip() { echo "SKIP: $*"; exit 77; }
[ -x "$client" ] || skip "built without DPDK (no $client)"
[ "$(id -u)" -eq 0 ] || skip "needs root to count system calls with perf"
command -v perf >/dev/null 2>&1 || skip "perf not installed"
work=$(mktemp -d)
kpid= ppid=
cleanup() {
	[ -n "$kpid" ] && kill "$kpid" 2>/dev/null
	[ -n "$ppid" ] && kill "$ppid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
perf stat -e raw_syscalls:sys_enter -o /dev/null true >/dev/null 2>&1 ||
	skip "perf cannot count raw_syscalls:sys_enter here"

# flag C: the window flag's byte, written in place (the client maps it).
flag() { printf %s "$1" | dd of="$work/flag" bs=1 count=1 conv=notrunc status=none; }

# window NAME SPIN: one run; per-thread calls in the window into
# $work/NAME.calls ("comm tid count" lines), the client's pid in cpid.
window() {
	name=$1
	mkfifo "$work/in" "$work/out" "$work/ctl" "$work/ack"
	# The window's flag: '1' starts it, '2' lets the client go on; till
	# then its round trips go on uncounted, so its pollers never pause
	# (a pause lets the receive threads take their ports back, and their
	# way back to parking would fall in the window).
	printf 0 >"$work/flag"
	env ${2:+KRANK_SPIN_US=$2} NET_ECHO_WINDOW=$window KRANK_DPDK_HUGE=no \
	    NET_ECHO_WINDOW_FLAG="$work/flag" KRANK_DPDK_MEM=128 \
	    "$client" ring 10.96.77.1/24 10.96.77.2 $rts 0 20 \
	    <"$work/in" >"$work/out" 2>"$work/$name.err" &
	kpid=$!
	exec 4>"$work/in" 3<"$work/out"
	ok=0
	while read -r l <&3; do
		case $l in "@window begin") ok=1; break ;; esac
	done
	if [ $ok -ne 1 ]; then
		echo "FAIL: $name: the client did not reach its window: $(tail -3 "$work/$name.err")"
		fail=1; exec 3<&- 4>&-; wait "$kpid"; kpid=; rm -f "$work"/in "$work"/out "$work"/ctl "$work"/ack
		return 1
	fi
	# Every thread exists by now: perf attaches to all of them, counting
	# nothing until told to.
	perf stat -e raw_syscalls:sys_enter --per-thread -x, -D -1 \
	    --control "fifo:$work/ctl,$work/ack" -p "$kpid" \
	    -o "$work/$name.perf" 2>"$work/$name.perferr" &
	ppid=$!
	exec 5>"$work/ctl" 6<"$work/ack"
	echo enable >&5; read -r a <&6
	flag 1				# the window's round trips
	while read -r l <&3; do
		case $l in "@window end") break ;; esac
	done
	echo disable >&5; read -r a <&6
	exec 5>&- 6<&-
	kill -INT "$ppid" 2>/dev/null; wait "$ppid"; ppid=
	flag 2
	cat <&3 >"$work/$name.result"
	exec 3<&- 4>&-
	wait "$kpid"; rc=$?; kpid=
	rm -f "$work"/in "$work"/out "$work"/ctl "$work"/ack
	if [ $rc -ne 0 ]; then
		echo "FAIL: $name: client exit $rc: $(cat "$work/$name.result") $(tail -3 "$work/$name.err")"
		fail=1; return 1
	fi
	# "comm-tid,count,,raw_syscalls:sys_enter,..."
	awk -F, '/raw_syscalls/ { n = split($1, a, "-"); tid = a[n];
	    comm = substr($1, 1, length($1) - length(tid) - 1);
	    print comm, tid, $2 }' "$work/$name.perf" >"$work/$name.calls"
	if [ ! -s "$work/$name.calls" ]; then
		echo "FAIL: $name: no per-thread counts from perf: $(cat "$work/$name.perferr")"
		fail=1; return 1
	fi
	cpid=$kpid
	return 0
}

# The run-to-completion mode: 0 calls in the window, but the client's two.
# On a loaded machine (other builds on its two CPUs) both pollers can be
# preempted between two waits for longer than the clock thread's
# watchdog (10 ms): it then hands the ports back to their receive
# threads (one wake, its only call in this mode, and a few calls of
# theirs until the next poll parks them).  Such a window is disturbed
# and taken again, up to four times; in a window where the clock made
# no call every other thread must have made none either.  A per-packet
# or periodic call shows in every window: in the clock thread's (never
# an undisturbed window) or in another's (fails at once).
forever_ok() {
	window forever forever || return 2
	echo "forever: $window round trips in the window; calls per thread:"
	sed 's/^/  /' "$work/forever.calls"
	bad=$(awk '$3 ~ /^[0-9]+$/ { lim = ($1 ~ /^net_echo_client/) ? 2 : 0;
	    if ($3 > lim) print }' "$work/forever.calls")
	threads=$(wc -l <"$work/forever.calls")
	rx=$(grep -c '^krank-pktrx' "$work/forever.calls")
	clk=$(awk '$1 == "clock" && $3 ~ /^[0-9]+$/ { print $3 }' "$work/forever.calls")
	total=$(awk '$3 ~ /^[0-9]+$/ { s += $3 } END { print s + 0 }' "$work/forever.calls")
	echo "  forever: $total calls in the window, $(awk -v t="$total" -v n="$window" 'BEGIN { printf "%.5f", t / (4 * n) }') per packet"
	if [ "$rx" -lt 2 ] || ! grep -q '^clock ' "$work/forever.calls"; then
		echo "FAIL: forever: expected 2 receive threads and the clock among $threads threads"
		return 2
	fi
	if [ "${clk:-0}" -gt 0 ]; then
		echo "forever: disturbed: the clock thread's watchdog woke the receive threads ($clk calls)"
		return 1
	fi
	if [ -n "$bad" ]; then
		echo "FAIL: forever: threads made system calls in steady state:"
		echo "$bad" | sed 's/^/  /'
		return 2
	fi
	echo "ok: forever: $threads threads (2 receive threads, the clock, both pollers) made no system call in $window round trips"
	return 0
}
forever_ok; rv=$?
for again in 2 3 4; do
	[ $rv -eq 1 ] || break
	echo "forever: window $again (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
	forever_ok; rv=$?
done
if [ $rv -ne 0 ]; then
	echo "FAIL: forever: no window without system calls in steady state"
	fail=1
fi

# The default: the receive threads still look for pollers every 1 ms.
if window default ""; then
	rxcalls=$(awk '/^krank-pktrx/ { s += $3 } END { print s + 0 }' "$work/default.calls")
	total=$(awk '{ s += $3 } END { print s }' "$work/default.calls")
	echo "default: receive threads made $rxcalls calls, all threads $total, in $window round trips"
	if [ "$rxcalls" -eq 0 ]; then
		echo "FAIL: default: the receive threads made no call (they should look every millisecond)"
		sed 's/^/  /' "$work/default.calls"
		fail=1
	else
		echo "ok: default: receive threads keep their timed looks"
	fi
fi
exit $fail
