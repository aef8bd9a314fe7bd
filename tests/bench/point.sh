# point.sh - sourced by shell benchmarks: print the machine-readable line
# of one measured point (the format is described in bench_point.h).
#   point ID KRANK BASE UNIT lower|higher GOAL WHAT...
point() {
	_id=$1 _k=$2 _b=$3 _u=$4 _better=$5 _goal=$6
	shift 6
	awk -v id="$_id" -v k="$_k" -v b="$_b" -v u="$_u" -v better="$_better" \
	    -v goal="$_goal" -v what="$*" 'BEGIN {
		r = 0
		if (k > 0 && b > 0)
			r = better == "lower" ? b / k : k / b
		printf "@point id=%s krank=%.6g base=%.6g unit=%s better=%s ratio=%.4g goal=%g what=%s\n",
		    id, k, b, u, better, r, goal, what
	}'
}
