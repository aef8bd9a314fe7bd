#!/bin/bash
# test_metrics_format.sh - `krankctl metrics` is the Prometheus text
# exposition format, checked on real output: tests/krank/ctl_server boots
# KRANK's stack (an interface, TCP connections, tmpfs) with the real
# isolate code running tick.kx as "ticker", a second isolate is spawned
# and one crashes, and tests/dist/prom_check.py checks every line (HELP
# and TYPE first, names, quoted labels, counters in _total, no series
# twice); promtool check metrics too when it is installed (Debian's
# prometheus package has it).  Every family the output has is documented
# in docs/metrics.md, and every family documented is in the output.
# dist/metrics-http, the HTTP helper Prometheus scrapes, answers 200 with
# the same format and its length, 404, 405, and 503 without a KRANK.
# First, the checker itself must refuse broken inputs.
set -u
top_builddir=$(cd "${top_builddir:-.}" && pwd)
top_srcdir=$(cd "${top_srcdir:-.}" && pwd)
kc="$top_builddir/krank/krankctl"
check="$top_srcdir/tests/dist/prom_check.py"
for t in python3; do
	command -v $t >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
[ -x "$top_builddir/tests/krank/ctl_server" ] ||
	{ echo "SKIP: tests/krank/ctl_server is not built (make check builds it)"; exit 77; }

d=$(mktemp -d)
pid=
cleanup() {
	exec 3>&- 2>/dev/null
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$d/srv.err" ] && { echo "--- ctl_server:"; cat "$d/srv.err"; }; exit 1; }
ok() { echo "ok: $*"; }

# ---- the checker refuses what Prometheus would refuse ---------------------
bad() {		# bad NAME TEXT: prom_check must fail on TEXT
	printf '%b' "$2" >"$d/bad.prom"
	python3 "$check" "$d/bad.prom" >"$d/bad.out" && fail "prom_check accepted $1"
	:
}
good='# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 3\n'
printf '%b' "$good" >"$d/good.prom"
python3 "$check" "$d/good.prom" || fail "prom_check refused a valid input"
bad "a counter without _total" '# HELP a A.\n# TYPE a counter\na 3\n'
bad "a sample without TYPE" '# HELP a A.\na 3\n'
bad "a sample without HELP" '# TYPE a gauge\na 3\n'
bad "an unquoted label" '# HELP a A.\n# TYPE a gauge\na{x=1} 3\n'
bad "a bad escape" '# HELP a A.\n# TYPE a gauge\na{x="\\t"} 3\n'
bad "a bad name" '# HELP 1a A.\n# TYPE 1a gauge\n1a 3\n'
bad "a series twice" '# HELP a A.\n# TYPE a gauge\na{x="1"} 3\na{x="1"} 4\n'
bad "a split family" '# HELP a A.\n# TYPE a gauge\na 1\n# HELP b B.\n# TYPE b gauge\nb 1\na{x="2"} 2\n'
bad "a value that is no number" '# HELP a A.\n# TYPE a gauge\na 1,5\n'
bad "a negative counter" '# HELP a_total A.\n# TYPE a_total counter\na_total -1\n'
bad "a missing last newline" '# HELP a A.\n# TYPE a gauge\na 1'
bad "a reserved label" '# HELP a A.\n# TYPE a gauge\na{__x="1"} 1\n'
printf '# HELP a A.\n# TYPE a gauge\na{x="q\\"b\\\\s\\nn"} 1\n' >"$d/esc.prom"
python3 "$check" "$d/esc.prom" || fail "prom_check refused a label with \\\", \\\\ and \\n"
ok "prom_check refuses 12 kinds of broken input and accepts a valid one"

# ---- the real output -------------------------------------------------------
for p in tick crash; do
	"$top_builddir/loader/krank-cc-uninstalled" -O1 -o "$d/$p.kx" \
	    "$top_srcdir/tests/krank/iso/$p.c" || fail "krank-cc $p.c"
done
S="$d/k.sock"
mkfifo "$d/srv.in"
"$top_builddir/tests/krank/ctl_server" "$d/tick.kx" "$S" <"$d/srv.in" \
    >"$d/srv.out" 2>"$d/srv.err" &
pid=$!
exec 3>"$d/srv.in"
for _ in $(seq 200); do grep -q '^ready' "$d/srv.out" 2>/dev/null && break; sleep 0.05; done
grep -q '^ready' "$d/srv.out" || fail "ctl_server did not become ready in 10 s"
core=$(python3 -c 'import os; print(max(os.sched_getaffinity(0)))')
# Isolate names are [A-Za-z0-9_.-] (nothing to escape): label escaping
# is the checker's part above.
"$kc" -s "$S" spawn --name tick-2.b --core "$core" "$d/tick.kx" >/dev/null ||
	fail "spawn of a second isolate"
"$kc" -s "$S" spawn --name crash --core "$core" "$d/crash.kx" >/dev/null || fail "spawn crash"
"$kc" -s "$S" wait crash --timeout 10s >/dev/null || fail "wait crash"

"$kc" -s "$S" metrics >"$d/m.prom" || fail "krankctl metrics: exit $?"
python3 "$check" -v "$d/m.prom" >"$d/families" || { cat "$d/families"; fail "krankctl metrics: not the Prometheus text format"; }
nfam=$(wc -l <"$d/families")
nser=$(grep -vc '^#' "$d/m.prom")
ok "krankctl metrics: $nfam families, $nser series, all in the Prometheus text format"
grep -q '^krank_isolate_up{isolate="tick-2.b"} 1$' "$d/m.prom" ||
	fail "the second isolate is not up: $(grep tick-2 "$d/m.prom")"
grep -q '^krank_isolate_up{isolate="crash"} 0$' "$d/m.prom" ||
	fail "the crashed isolate is not down: $(grep crash "$d/m.prom")"
grep -Eq '^krank_interface_receive_packets_total\{interface="virt0"\} [1-9]' "$d/m.prom" ||
	fail "no receive counter for virt0"
ok "two isolates up, a crashed one down, virt0 counts frames"

# Counters only grow: a second scrape is never below the first.
"$kc" -s "$S" metrics >"$d/m2.prom" || fail "second krankctl metrics"
python3 - "$d/m.prom" "$d/m2.prom" <<'PY' || fail "a counter went down between two scrapes"
import sys
def load(p):
    t, v = {}, {}
    for ln in open(p):
        if ln.startswith('# TYPE '):
            _, _, n, k = ln.split(); t[n] = k
        elif not ln.startswith('#') and ln.strip():
            s, val = ln.rsplit(' ', 1); v[s] = float(val)
    return t, v
t, a = load(sys.argv[1]); _, b = load(sys.argv[2])
bad = [s for s in a if t.get(s.split('{')[0]) == 'counter' and s in b and b[s] < a[s]]
for s in bad:
    print('went down: %s %s -> %s' % (s, a[s], b[s]))
sys.exit(1 if bad else 0)
PY
ok "no counter went down between two scrapes"

# ---- the HTTP helper Prometheus scrapes (dist/metrics-http) ----------------
mh="$top_builddir/dist/metrics-http"
if [ -x "$mh" ]; then
	printf 'GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n' |
	    KRANKCTL="$kc" "$mh" "$S" >"$d/http" || fail "metrics-http: exit $?"
	head -1 "$d/http" | grep -q '^HTTP/1.0 200 OK' || fail "metrics-http: $(head -1 "$d/http")"
	grep -q '^Content-Type: text/plain; version=0.0.4' "$d/http" || fail "metrics-http: no text format 0.0.4 Content-Type"
	len=$(sed -n 's/^Content-Length: \([0-9]*\).*/\1/p' "$d/http")
	sed '1,/^\r$/d' "$d/http" >"$d/http.body"
	[ "$(wc -c <"$d/http.body")" = "$len" ] || fail "metrics-http: Content-Length $len, body $(wc -c <"$d/http.body")"
	python3 "$check" "$d/http.body" || fail "metrics-http: the body is not the text format"
	printf 'GET /other HTTP/1.1\r\n\r\n' | KRANKCTL="$kc" "$mh" "$S" | head -1 | grep -q ' 404 ' || fail "metrics-http: /other is not 404"
	printf 'POST /metrics HTTP/1.1\r\n\r\n' | KRANKCTL="$kc" "$mh" "$S" | head -1 | grep -q ' 405 ' || fail "metrics-http: POST is not 405"
	printf 'GET /metrics HTTP/1.1\r\n\r\n' | KRANKCTL="$kc" "$mh" "$d/none.sock" | head -1 | grep -q ' 503 ' || fail "metrics-http: no KRANK is not 503"
	ok "metrics-http: 200 with the text format and its length; 404, 405, and 503 without a KRANK"
fi

# ---- docs/metrics.md documents exactly these families ----------------------
doc="$top_srcdir/docs/metrics.md"
awk '{print $1}' "$d/families" | sort -u >"$d/fam.out"
# hostnet's families appear only while that component is up (not here;
# test_hostnet_krank.sh reads them from a KRANK that has it).
grep -oE '^### `[a-z_:]+`' "$doc" | sed 's/^### `//; s/`$//' |
	grep -v '^krank_hostnet_' | sort -u >"$d/fam.doc"
# The node's TCP counters appear only while it has interfaces (here it has).
diff "$d/fam.doc" "$d/fam.out" >"$d/fam.diff" ||
	fail "docs/metrics.md and krankctl metrics differ (< documented only, > output only): $(cat "$d/fam.diff")"
while read -r fam type _; do
	grep -A3 "^### \`$fam\`" "$doc" | grep -q "^$type" ||
		fail "docs/metrics.md: $fam is not documented as a $type"
done <"$d/families"
ok "docs/metrics.md documents each of the $nfam families with its type, and no other"

# ---- promtool, where installed ---------------------------------------------
if command -v promtool >/dev/null; then
	promtool check metrics <"$d/m.prom" >"$d/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(cat "$d/promtool.out")"
	ok "promtool check metrics: no problem found"
else
	echo "note: promtool not installed (Debian package prometheus); prom_check.py only"
fi
exit 0
