#!/bin/sh
# Unmodified Debian redis-server, redis-cli and redis-benchmark on KRANK's
# TCP/IP stack through libkrank-preload.so (issue 13's proof): in a
# network namespace of its own, krank runs a loopback-only deployment;
# redis-server --port 7000 runs under krank-attach; redis-cli answers
# PONG and round-trips a SET/GET (and a plain Linux redis-cli reaches it
# through a tap), redis-benchmark completes SET and GET
# with non-zero rates, all under the preload; krankctl netstat shows
# :7000, krankctl ps lists redis-server as a foreign isolate with its
# pid, and Linux's ss shows nothing on 7000.
. "${top_srcdir:-.}/tests/bridge/lib.sh"
for t in redis-server redis-cli redis-benchmark; do
	command -v $t >/dev/null 2>&1 ||
		skip "$t not installed (scripts/install-deps.sh installs redis-server, redis-tools)"
done

# KRANK on every CPU without spinning: on a small machine shared with
# other work, spinning ring servers on one core starve their clients.
# One ring pair per program, as in the benchmark: the preload library
# then sends asynchronously (docs/bridge.md).
boot_krank "$(seq -s ', ' 0 $(($(nproc) - 1)))" 1 0us yes
kx redis-server --port 7000 --save '' --appendonly no --protected-mode no \
	--bind 127.0.0.1 10.77.0.2 \
	--dir "$work" >"$work/redis.out" 2>&1 &
rpid=$!
if wait_for 10 sh -c "ip netns exec $ns env LD_LIBRARY_PATH=$bld/.libs \
    KRANK_PRELOAD=$preload $bld/bridge/krank-attach -s $ksock \
    redis-cli -p 7000 ping | grep -q PONG"; then
	ok "redis-cli -p 7000 ping under the preload: PONG"
else
	bad "no PONG from redis-server in 10 s:"; cat "$work/redis.out"
	exit 1
fi
# A plain Linux redis-cli (no preload) in the namespace reaches it
# through the tap: Linux's TCP to KRANK's.
v=$(nsx redis-cli -h 10.77.0.2 -p 7000 ping 2>&1)
[ "$v" = PONG ] && ok "plain Linux redis-cli -h 10.77.0.2 (through the tap): PONG" ||
	bad "plain Linux redis-cli through the tap: $v"
v=$(kx redis-cli -p 7000 set krank-key "over KRANK" 2>&1)
[ "$v" = OK ] && ok "SET krank-key: OK" || bad "SET: $v"
v=$(kx redis-cli -p 7000 get krank-key 2>&1)
[ "$v" = "over KRANK" ] && ok "GET krank-key: \"$v\"" || bad "GET: $v"
# Many commands on one connection, large and small values, through the
# asynchronous sends and the bytes a wait brings: every reply in order.
python3 -c '
import sys
for i in range(2000):
	v = ("v%d-" % i) * (1 + (i * 37) % 3000)
	sys.stdout.write("SET k%d %s\nGET k%d\n" % (i, v, i))
' >"$work/cmds"
kx redis-cli -p 7000 <"$work/cmds" >"$work/replies" 2>&1
python3 -c '
import sys
r = open(sys.argv[1]).read().split("\n")
want = []
for i in range(2000):
	want += ["OK", ("v%d-" % i) * (1 + (i * 37) % 3000)]
sys.exit(0 if r[:4000] == want else 1)' "$work/replies" &&
	ok "2000 SET/GET pairs of 4 B..29 KB values on one connection: every reply in order" ||
	bad "SET/GET pairs: replies differ ($(head -c 200 "$work/replies"))"

"$krankctl" -s "$ksock" netstat >"$work/netstat" 2>&1
grep -q ":7000" "$work/netstat" &&
	ok "krankctl netstat shows :7000" ||
	{ bad "krankctl netstat lacks :7000:"; cat "$work/netstat"; }
# redis-server is a foreign isolate of KRANK's, listed with its Linux pid
# (the process of that pid is redis-server).
"$krankctl" -s "$ksock" ps >"$work/ps" 2>&1
fpid=$(awk '$2 == "foreign" && $3 == "redis-server" && $4 == "attached" { print $5 }' "$work/ps")
[ -n "$fpid" ] && [ "$(cat /proc/"$fpid"/comm 2>/dev/null)" = redis-server ] &&
	ok "krankctl ps lists redis-server as an attached foreign isolate with its Linux pid $fpid" ||
	{ bad "krankctl ps does not list redis-server with its pid:"; cat "$work/ps"; }
nsx ss -tlnH >"$work/ss"
grep -q ":7000" "$work/ss" &&
	{ bad "Linux listens on :7000:"; cat "$work/ss"; } ||
	ok "Linux's ss -tln shows nothing listening on :7000 in the namespace"

kx redis-benchmark -p 7000 -q -n 20000 -t set,get >"$work/bench" 2>&1
rc=$?
tr '\r' '\n' <"$work/bench" | grep "requests per second" | tail -2 >"$work/rates"
cat "$work/rates"
set_rate=$(awk '/^SET/ {print $2}' "$work/rates")
get_rate=$(awk '/^GET/ {print $2}' "$work/rates")
[ $rc -eq 0 ] && [ -n "$set_rate" ] && [ -n "$get_rate" ] &&
	awk -v s="$set_rate" -v g="$get_rate" 'BEGIN { exit !(s > 0 && g > 0) }' &&
	ok "redis-benchmark -n 20000 -t set,get under the preload: SET $set_rate/s, GET $get_rate/s" ||
	{ bad "redis-benchmark (exit $rc):"; tail -5 "$work/bench"; }

v=$(kx redis-cli -p 7000 dbsize 2>&1)
[ -n "$v" ] && [ "$v" -ge 1 ] 2>/dev/null &&
	ok "redis-server still answers after the benchmark (dbsize $v)" ||
	bad "dbsize after the benchmark: $v"
kx redis-cli -p 7000 shutdown nosave >/dev/null 2>&1
i=0
while kill -0 $rpid 2>/dev/null && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.05; done
kill -0 $rpid 2>/dev/null && { bad "redis-server did not stop on SHUTDOWN"; kill $rpid; } ||
	ok "redis-server stopped on SHUTDOWN NOSAVE"
kill -0 "$kpid" 2>/dev/null && ok "krank still runs" || bad "krank died"
[ $fail -eq 0 ] && echo PASS || echo FAIL
exit $fail
