#!/bin/sh
# The example isolates as KRANK runs them: echo.kx and httpd.kx (built by
# krank-cc) pass krank-ld verify --strict, print their manual under
# KRANK's system-call layer (tests/krank/krk_sys_run: vfs, tmpfs and the
# IPv4 stack in one process), and get as far as "ready PORT" there - a
# TCP listener (and echo's UDP socket) bound on KRANK's stack.  Serving
# real clients over a tap is test_krank_run.sh's part.
set -u
bld=${top_builddir:-.}
run="$bld/tests/krank/krk_sys_run"
work=$(mktemp -d)
fail=0
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
for f in "$bld/examples/echo/echo.kx" "$bld/examples/httpd/httpd.kx" "$run"; do
	[ -x "$f" ] || { echo "SKIP: $f not built"; exit 77; }
done

for p in echo/echo httpd/httpd; do
	kx="$bld/examples/$p.kx"
	name=${p#*/}
	if "$bld/loader/krank-ld" verify --strict "$kx" >"$work/v" 2>&1; then
		ok "$name.kx: krank-ld verify --strict: $(cat "$work/v")"
	else
		bad "$name.kx: $(cat "$work/v")"
	fi
	"$run" "$kx" --help >"$work/help" 2>&1
	grep -q "^NAME" "$work/help" && grep -q "^OPTIONS" "$work/help" &&
		ok "$name.kx --help under KRANK's system calls" ||
		bad "$name.kx --help: $(head -5 "$work/help")"

	mkfifo "$work/out.$name"
	if [ "$name" = httpd ]; then
		timeout 30 "$run" "$kx" --root / --port 8080 >"$work/out.$name" 2>&1 &
	else
		timeout 30 "$run" "$kx" --port 7 >"$work/out.$name" 2>&1 &
	fi
	pid=$!
	pids="$pids $pid"
	exec 3<"$work/out.$name"
	# The read ends at "ready" or at end of file when the run fails.
	if read -r line <&3 && [ "${line%% *}" = ready ]; then
		ok "$name.kx listening on KRANK's stack: $line"
	else
		bad "$name.kx did not get ready: $line $(cat <&3)"
	fi
	exec 3<&-
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
exit $fail
