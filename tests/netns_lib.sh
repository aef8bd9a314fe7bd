# netns_lib.sh - sourced by the tests and benchmarks that run inside
# network namespaces they create and remove themselves (they never open or
# send through the machine's own interfaces).  Set work (the test's
# scratch directory, removed at exit) before sourcing it.
#
#   skip MSG, ok MSG, bad MSG
#             unless the test defined its own first: print SKIP and exit 77
#             (removing $work), print a passed check, print a failed one
#             and set fail=1
#   netns_need TOOL...
#             a skip unless this is root and every TOOL is installed
#   netns_add NAME...
#             create the namespaces (a skip, naming the reason, when the
#             machine forbids them), loopback up in each; from then on, at
#             exit: netns_atexit (when the test defines one), the pids in
#             the variables named by netns_stopvars (default kpid: the
#             test's own children, each sent TERM and waited for, so that
#             krank removes its taps), every process still in the
#             namespaces (KILL), the namespaces, $work
#   nsx CMD...
#             run CMD in the namespace $ns
command -v skip >/dev/null 2>&1 ||
	skip() { echo "SKIP: $*"; rm -rf "$work"; exit 77; }
command -v ok >/dev/null 2>&1 || ok() { echo "ok: $*"; }
command -v bad >/dev/null 2>&1 || bad() { echo "FAIL: $*"; fail=1; }
nsx() { ip netns exec "$ns" "$@"; }

netns_names=
netns_stopvars=${netns_stopvars-kpid}
netns_need() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
	for netns_t in ip "$@"; do
		command -v "$netns_t" >/dev/null 2>&1 || skip "$netns_t not installed"
	done
}
netns_cleanup() {
	command -v netns_atexit >/dev/null 2>&1 && netns_atexit
	for netns_v in $netns_stopvars; do
		for netns_p in $(eval echo "\${$netns_v:-}"); do
			kill "$netns_p" 2>/dev/null && wait "$netns_p" 2>/dev/null
		done
	done
	for netns_n in $netns_names; do
		for netns_p in $(ip netns pids "$netns_n" 2>/dev/null); do
			kill -9 "$netns_p" 2>/dev/null
		done
		ip netns del "$netns_n" 2>/dev/null
	done
	rm -rf "$work"
}
netns_add() {
	for netns_n in "$@"; do
		ip netns add "$netns_n" 2>"$work/netns.err" ||
			skip "this machine forbids network namespaces: $(cat "$work/netns.err")"
		netns_names="$netns_names $netns_n"
		trap netns_cleanup EXIT
		ip -n "$netns_n" link set lo up
	done
}
