# summarize.awk - turn the @point lines of repeated benchmark runs
# (bench_point.h) into a Markdown table: per point id, the medians of
# KRANK's value, the baseline's and the ratio over the repeats, the
# spread of the ratio (lowest-highest), and the goal with a verdict.
# Input lines: "@point id=... krank=... base=... unit=... better=...
# ratio=... goal=... what=TEXT"; anything else is ignored.  Points are
# listed in the order they first appear.  Used by tests/bench/run and
# checked by tests/bench/test_bench_summary.sh.
function median(s,    a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	if (n % 2)
		return a[(n + 1) / 2] + 0
	return (a[n / 2] + a[n / 2 + 1]) / 2
}
function lowest(s,    a, n, i, m) {
	n = split(s, a, " "); m = a[1] + 0
	for (i = 2; i <= n; i++) if (a[i] + 0 < m) m = a[i] + 0
	return m
}
function highest(s,    a, n, i, m) {
	n = split(s, a, " "); m = a[1] + 0
	for (i = 2; i <= n; i++) if (a[i] + 0 > m) m = a[i] + 0
	return m
}
function num(x) {
	if (x >= 100) return sprintf("%.0f", x)
	if (x >= 10) return sprintf("%.1f", x)
	return sprintf("%.3g", x)
}
/^@point / {
	delete f
	w = index($0, " what=")
	head = w ? substr($0, 1, w - 1) : $0
	nf = split(head, kv, " ")
	for (i = 2; i <= nf; i++) {
		e = index(kv[i], "=")
		if (e) f[substr(kv[i], 1, e - 1)] = substr(kv[i], e + 1)
	}
	id = f["id"]
	if (id == "" || f["krank"] == "" || f["base"] == "")
		next
	if (!(id in seen)) {
		seen[id] = 1; order[++n] = id
		what[id] = w ? substr($0, w + 6) : ""
		unit[id] = f["unit"]; better[id] = f["better"]
		goal[id] = f["goal"] + 0
	}
	K[id] = K[id] " " f["krank"]; B[id] = B[id] " " f["base"]
	R[id] = R[id] " " f["ratio"]; reps[id]++
}
END {
	print "| point | what | KRANK | Linux | unit | ratio | spread | runs | goal |"
	print "|---|---|---:|---:|---|---:|---|---:|---|"
	for (i = 1; i <= n; i++) {
		id = order[i]
		r = median(R[id])
		g = "-"
		if (goal[id] > 0)
			g = sprintf(">= %gx %s", goal[id], r >= goal[id] ? "met" : "**missed**")
		printf "| %s | %s | %s | %s | %s%s | %.2fx | %.2f-%.2f | %d | %s |\n",
		    id, what[id], num(median(K[id])), num(median(B[id])), unit[id],
		    better[id] == "lower" ? " (lower is better)" : "",
		    r, lowest(R[id]), highest(R[id]), reps[id], g
	}
}
