#!/bin/sh
# examples/echo, built for Linux (ASan+UBSan), against Linux's TCP/IP stack
# in a network namespace this test creates: 50 TCP clients at once echoed
# intact, UDP on the same port, 1 MiB with the same SHA-256 and a clean
# close after the client's shutdown, a client that sends and never reads
# stalls no one else (round trips under 1 s), --max-conn refuses the next
# connection at once and frees the slot on close, --idle-timeout closes an
# idle connection on time; the counters say the same.
. "${top_srcdir:-.}/tests/examples/ex_lib.sh"
bin="${top_builddir:-.}/tests/examples/echo"
[ -x "$bin" ] || skip "$bin not built"
command -v socat >/dev/null 2>&1 || skip "socat not installed"

start echo "$bin" --max-conn 60 --idle-timeout 1500ms
p=$port_echo

got=$(printf 'hello, krank\n' | nsx socat -t 5 - "TCP:127.0.0.1:$p")
[ "$got" = "hello, krank" ] && ok "socat: a line comes back" ||
	bad "socat got '$got'"
clients echo-many "$p" 50
clients echo-bulk "$p"
clients echo-noread "$p"
clients echo-maxconn "$p" 60
clients echo-idle "$p" 1.5
stop echo

[ "$(counter echo refused)" -ge 1 ] && ok "counted as refused: $(counter echo refused)" ||
	bad "no refusal counted"
[ "$(counter echo idle)" -ge 1 ] && ok "counted as idle: $(counter echo idle)" ||
	bad "no idle close counted"
exit $fail
