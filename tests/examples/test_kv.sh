#!/bin/sh
# examples/kv, the RESP key-value server, driven by Redis's own clients in
# a network namespace this test creates.  Twice: first its Linux build
# (ASan+UBSan) on Linux's stack, then kv.kx as an isolate under
# `krank run` with a tap into the namespace, on KRANK's stack.  Each time:
# redis-cli PING, SET/GET, INCR, EXPIRE + TTL (and a PX 2000 key there,
# then gone once the time has passed), MGET, DEL; 1000 SETs through redis-cli --pipe;
# pipelined inline requests through socat answered in order; malformed and
# oversized requests answered with -ERR and closed while another client
# keeps working; --max-clients; --maxmemory (-OOM); a request a byte at a
# time; INFO counts what happened; redis-benchmark -t set,get,incr,mset
# and an MGET benchmark complete with non-zero rates.
. "${top_srcdir:-.}/tests/examples/ex_lib.sh"
bld=${top_builddir:-.}
src=${top_srcdir:-.}
bin="$bld/tests/examples/kv"
kx="$bld/examples/kv/kv.kx"
[ -x "$bin" ] || skip "$bin not built"
[ -f "$kx" ] || skip "$kx not built"
for t in redis-cli redis-benchmark socat; do
	command -v $t >/dev/null 2>&1 ||
		skip "$t not installed (scripts/install-deps.sh: redis-tools, socat)"
done
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

"$bin" --help >"$work/help" 2>&1
for s in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS "EXIT STATUS" EXAMPLES; do
	grep -q "^$s" "$work/help" || bad "--help lacks $s"
done
grep -q -- "--maxmemory SIZE" "$work/help" && ok "--help reads like a man page" ||
	bad "--help lacks the options"
"$bin" --bogus >/dev/null 2>"$work/e1"; r1=$?
"$bin" --maxmemory 5x >/dev/null 2>"$work/e2"; r2=$?
[ $r1 -eq 2 ] && [ $r2 -eq 2 ] && grep -q "5x: not a size" "$work/e2" &&
	ok "a bad option or size: status 2 with a message" ||
	bad "usage errors: $r1 $r2 $(cat "$work/e1" "$work/e2")"

if "$bld/loader/krank-ld" verify --strict "$kx" >"$work/v" 2>&1; then
	ok "kv.kx: krank-ld verify --strict: $(cat "$work/v")"
else
	bad "kv.kx: $(cat "$work/v")"
fi

maxmem=2097152
maxcl=64
# checks NAME HOST PORT BENCH_N: everything above against one server.
checks() {
	name=$1 h=$2 p=$3 bn=$4
	cli() { nsx redis-cli -h "$h" -p "$p" "$@" 2>&1; }
	echo "== $name"
	[ "$(cli PING)" = PONG ] && ok "$name: PING: PONG" || bad "$name: PING"
	cli SET greeting "hello world" >/dev/null
	[ "$(cli GET greeting)" = "hello world" ] && ok "$name: SET then GET" ||
		bad "$name: GET: $(cli GET greeting)"
	cli DEL n >/dev/null
	cli INCR n >/dev/null
	cli INCR n >/dev/null
	[ "$(cli INCR n)" = 3 ] && [ "$(cli INCRBY n 40)" = 43 ] &&
		[ "$(cli DECR n)" = 42 ] && ok "$name: INCR, INCRBY, DECR: 42" ||
		bad "$name: INCR: $(cli GET n)"
	case $(cli INCR greeting) in
	*"not an integer"*) ok "$name: INCR of a string: error" ;;
	*) bad "$name: INCR of a string" ;;
	esac
	cli SET t v >/dev/null
	e=$(cli EXPIRE t 100) ttl=$(cli TTL t) ttl2=$(cli TTL greeting)
	[ "$e" = 1 ] && [ "$ttl" -ge 99 ] && [ "$ttl" -le 100 ] &&
		[ "$ttl2" = -1 ] && [ "$(cli TTL nokey)" = -2 ] &&
		ok "$name: EXPIRE t 100: TTL $ttl; no expiry -1; no key -2" ||
		bad "$name: EXPIRE/TTL: $e $ttl $ttl2"
	cli SET short v PX 2000 >/dev/null
	there=$(cli EXISTS short)
	gone=no
	i=0
	while [ $i -lt 100 ]; do	# up to 10 s
		[ "$(cli EXISTS short)" = 0 ] && { gone=yes; break; }
		sleep 0.1
		i=$((i + 1))
	done
	[ "$there" = 1 ] && [ $gone = yes ] &&
		ok "$name: a key SET with PX 2000: there, then gone $((i / 10)).$((i % 10)) s later" ||
		bad "$name: PX 2000 key: there '$there', gone $gone"
	cli MSET a 1 b 2 >/dev/null
	[ "$(cli MGET a b nokey | tr '\n' ,)" = "1,2,," ] &&
		ok "$name: MGET a b nokey: 1, 2, nil" ||
		bad "$name: MGET: $(cli MGET a b nokey | tr '\n' ,)"
	[ "$(cli DEL a b nokey)" = 2 ] && [ "$(cli EXISTS a b)" = 0 ] &&
		ok "$name: DEL a b nokey: 2" || bad "$name: DEL"

	# 1000 SETs pipelined by redis-cli --pipe (it waits for all replies).
	i=0
	while [ $i -lt 1000 ]; do
		printf '*3\r\n$3\r\nSET\r\n$%d\r\npipe:%d\r\n$%d\r\n%d\r\n' \
			$((5 + ${#i})) $i ${#i} $i
		i=$((i + 1))
	done >"$work/pipe"
	nsx redis-cli -h "$h" -p "$p" --pipe <"$work/pipe" >"$work/pipe.out" 2>&1
	grep -q "errors: 0, replies: 1000" "$work/pipe.out" &&
		[ "$(cli GET pipe:999)" = 999 ] &&
		ok "$name: redis-cli --pipe: 1000 SETs, 0 errors, all stored" ||
		bad "$name: --pipe: $(cat "$work/pipe.out")"
	# Inline requests in one write; answers in order, then QUIT closes.
	printf 'PING\r\nSET p 41\r\nINCR p\r\nGET p\r\nGET nokey\r\nQUIT\r\n' |
		nsx socat -t 10 - "TCP:$h:$p" >"$work/inline" 2>&1
	printf '+PONG\r\n+OK\r\n:42\r\n$2\r\n42\r\n$-1\r\n+OK\r\n' >"$work/inline.want"
	cmp -s "$work/inline" "$work/inline.want" &&
		ok "$name: 6 pipelined inline requests in one write: answers in order, QUIT closes" ||
		bad "$name: inline pipeline: $(od -c "$work/inline" | head -5)"
	nsx python3 "$src/tests/examples/kv_clients.py" malformed "$h" "$p" || fail=1
	nsx python3 "$src/tests/examples/kv_clients.py" maxclients "$h" "$p" $maxcl || fail=1
	nsx python3 "$src/tests/examples/kv_clients.py" oom "$h" "$p" $maxmem || fail=1
	nsx python3 "$src/tests/examples/kv_clients.py" pieces "$h" "$p" || fail=1
	cli INFO >"$work/info"
	pe=$(sed -n 's/^protocol_errors:\([0-9]*\).*/\1/p' "$work/info")
	rj=$(sed -n 's/^rejected_connections:\([0-9]*\).*/\1/p' "$work/info")
	oo=$(sed -n 's/^oom_rejections:\([0-9]*\).*/\1/p' "$work/info")
	[ "${pe:-0}" -ge 4 ] && [ "${rj:-0}" -ge 1 ] && [ "${oo:-0}" -ge 1 ] &&
		ok "$name: INFO counts protocol errors $pe, rejected clients $rj, OOM refusals $oo" ||
		bad "$name: INFO: $(tr -d '\r' <"$work/info" | tr '\n' ' ')"
	[ "$(cli FLUSHALL)" = OK ] && [ "$(cli DBSIZE)" = 0 ] &&
		ok "$name: FLUSHALL empties: DBSIZE 0" || bad "$name: FLUSHALL"

	nsx redis-benchmark -h "$h" -p "$p" -q -n "$bn" -t set,get,incr,mset \
		--csv >"$work/bench" 2>"$work/bench.err"
	nsx redis-benchmark -h "$h" -p "$p" -q -n "$bn" --csv \
		MGET k1 k2 k3 k4 >>"$work/bench" 2>>"$work/bench.err"
	# "SET","rps",...: every test present with a rate above 0.
	good=0
	for t in SET GET INCR "MSET (10 keys)" "MGET k1 k2 k3 k4"; do
		r=$(grep "^\"$t\"," "$work/bench" | cut -d, -f2 | tr -d '"')
		if [ -n "$r" ] && awk -v r="$r" 'BEGIN { exit !(r > 0) }'; then
			good=$((good + 1))
			rates="${rates:-}$t $r/s; "
		fi
	done
	[ $good -eq 5 ] &&
		ok "$name: redis-benchmark -n $bn: $rates" ||
		bad "$name: redis-benchmark: $(cat "$work/bench" "$work/bench.err" | tail -8)"
	rates=
}

# 1. The Linux build, ASan+UBSan, on Linux's stack.
start A "$bin" --maxmemory $maxmem --max-clients $maxcl --max-request 1m
checks "Linux build (ASan)" 127.0.0.1 "$port_A" 2000
stop A

# 2. kv.kx under krank run, over a tap krank creates in the namespace.
ncpu=$(nproc)
core=$((ncpu - 1))
cp "$kx" "$work/kv.kx"
cat >"$work/kv.yaml" <<EOT
name: kvtest
cores: [$core]
memory: {size: 256M, hugepages: auto}
components: [vfs, tmpfs, net, ether, virtif, socket, inet]
interfaces:
  - name: krank2
    backend: tap
    device: krank2
    address: 10.99.2.2/24
    host_address: 10.99.2.1/24
isolates:
  - name: kv
    elf: kv.kx
    argv: [kv, --port, "6379", --maxmemory, "$maxmem", --max-clients, "$maxcl", --max-request, 1m]
    core: $core
    heap: 64M
    fds: 256
control:
  socket: $work/krank.sock
EOT
"$bld/krank/krank" check "$work/kv.yaml" >"$work/check" 2>&1 ||
	bad "krank check: $(cat "$work/check")"
"$bld/krank/krank" check "$src/examples/deployments/kv.yaml" >"$work/check" 2>&1 &&
	ok "krank check accepts examples/deployments/kv.yaml" ||
	bad "krank check kv.yaml: $(cat "$work/check")"
mkfifo "$work/kout"
ip netns exec "$ns" "$bld/krank/krank" run "$work/kv.yaml" >"$work/kout" 2>"$work/kerr" &
kpid=$!
exec 7<"$work/kout"
ready=
while read -r l <&7; do
	case $l in *ready*) ready=$l; break ;; esac
done
[ -n "$ready" ] || { bad "krank did not get ready: $(cat "$work/kerr")"; exit 1; }
cat <&7 >"$work/kout.rest" &
ok "krank run: $ready"
# The isolate's listener is up once PING answers (deadline 10 s).
i=0
until [ "$(nsx redis-cli -h 10.99.2.2 PING 2>/dev/null)" = PONG ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { bad "kv.kx never answered PING: $(cat "$work/kerr")"; exit 1; }
	sleep 0.1
done
checks "kv.kx under krank run" 10.99.2.2 6379 20000
"$bld/krank/krankctl" -s "$work/krank.sock" ps >"$work/ps" 2>&1
grep -q 'kv.*running' "$work/ps" && ok "after all that, krankctl ps: kv running" ||
	bad "kv not running: $(cat "$work/ps")"
kill -TERM "$kpid"
wait "$kpid"
rc=$?
kpid=
[ $rc -eq 0 ] && ok "krank stopped on SIGTERM, status 0" ||
	bad "krank exit status $rc on SIGTERM: $(tail -3 "$work/kerr")"
nsx ip link show krank2 >/dev/null 2>&1 && bad "the tap krank2 outlives krank" ||
	ok "the tap is gone with krank"
exec 7<&-
exit $fail
