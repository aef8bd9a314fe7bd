# ex_lib.sh - sourced by tests/examples/test_*.sh: a network namespace of
# the test's own with loopback up, and servers started in it that say
# "ready PORT" on standard output and stop, printing their counters, at end
# of file on standard input (--until-eof); krank ($kpid), when a test runs
# one, is stopped at exit.
set -u
work=$(mktemp -d)
fail=0
ns="krank-ex-$$"
spids=

netns_stopvars=kpid
kpid=
netns_atexit() { for p in $spids; do kill "$p" 2>/dev/null; done; }
. "${top_srcdir:-.}/tests/netns_lib.sh"
netns_need python3 ss
netns_add "$ns"
clients() { nsx python3 "${top_srcdir:-.}/tests/examples/ex_clients.py" "$@" ||
	fail=1; }

# start NAME PROGRAM ARGS...: run PROGRAM --port 0 --until-eof ARGS in the
# namespace; its input is held open on fd 8+N, its output read on fd 3+N
# (N the server's number, from 0); sets port_NAME.  Fails the test when
# it does not say "ready".
nserv=0
start() {
	name=$1
	shift
	mkfifo "$work/in.$name" "$work/out.$name"
	nsx "$@" --port 0 --until-eof <"$work/in.$name" >"$work/out.$name" \
		2>"$work/err.$name" &
	spids="$spids $!"
	eval "pid_$name=$!"
	eval "exec $((8 + nserv))>\"\$work/in.\$name\""
	eval "exec $((3 + nserv))<\"\$work/out.\$name\""
	eval "fd_$name=$nserv"
	nserv=$((nserv + 1))
	if ! eval "read -r ready <&$((2 + nserv))"; then
		echo "FAIL: $name did not start: $(cat "$work/err.$name")"
		exit 1
	fi
	case $ready in
	"ready "[0-9]*) eval "port_$name=\${ready#ready }" ;;
	*) echo "FAIL: $name said '$ready'"; exit 1 ;;
	esac
	echo "$name: $ready"
}

# stop NAME: end of file on its input; its counters line in counters_NAME;
# fails the test when it does not exit 0 or ASan/UBSan said anything.
stop() {
	name=$1
	eval "n=\$fd_$name; pid=\$pid_$name"
	eval "exec $((8 + n))>&-"
	eval "counters=\$(cat <&$((3 + n)))"
	eval "exec $((3 + n))<&-"
	wait "$pid"
	rc=$?
	eval "counters_$name=\$counters"
	echo "$name: $counters"
	[ $rc -eq 0 ] && ok "$name stopped at end of input, status 0" ||
		bad "$name exit status $rc: $(cat "$work/err.$name")"
	if grep -q "Sanitizer\|runtime error" "$work/err.$name"; then
		bad "$name: sanitizer report:"
		cat "$work/err.$name"
	fi
}

# counter NAME LABEL: the number before... after LABEL in NAME's counters.
counter() {
	eval "c=\$counters_$1"
	printf '%s\n' "$c" | sed -n "s/.*$2 \([0-9]*\).*/\1/p"
}
