#!/bin/sh
# A channel between an in-process isolate and a foreign isolate (a Linux
# process attached over the queues), both ways (issue 13): krank run; a
# krank-cc isolate (tests/bench/iso_chanbench.c) spawned with krankctl
# creates a channel and receives while krq_e2e, a plain Linux program on
# libkrank, writes 2000 messages straight into the mapped pool; then
# krq_e2e creates a channel and receives while a spawned isolate sends.
# Sequence numbers are checked on both sides, and the end of stream
# arrives when the sender closes.
set -u
bld=${top_builddir:-.}
src=${top_srcdir:-.}
krank="$bld/krank/krank"
kc="$bld/krank/krankctl"
e2e="$bld/tests/krank/krq_e2e"
work=$(mktemp -d)
kpid=
cleanup() {
	[ -n "$kpid" ] && kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

export KRANK_ISOLATE_INCLUDE="$src/loader/isolate/include"
export KRANK_ISOLATE_LIBDIR="$bld/loader"
"$bld/loader/krank-cc" -O2 -o "$work/chan.kx" \
	"$src/tests/bench/iso_chanbench.c" ||
	{ echo "FAIL: krank-cc iso_chanbench.c"; exit 1; }
core=$(($(nproc) - 1))
cat >"$work/k.yaml" <<EOT
name: chan-foreign
cores: [$core]
memory: {size: 256M, mlock: no}
components: [vfs, tmpfs]
control: {socket: $work/k.sock}
queues: {spin: 0us, slots: 64, area: 4M, rings: 1}
EOT
"$krank" run "$work/k.yaml" >"$work/out" 2>&1 &
kpid=$!
i=0
until grep -q "ready in" "$work/out"; do
	kill -0 "$kpid" 2>/dev/null || { cat "$work/out"; echo "FAIL: krank exited"; exit 1; }
	i=$((i + 1)); [ $i -lt 200 ] || { cat "$work/out"; echo "FAIL: no ready line"; exit 1; }
	sleep 0.05
done
K() { "$kc" -s "$work/k.sock" "$@"; }

# Isolate receives, foreign sends.
K spawn --name rx --core "$core" "$work/chan.kx" recv toiso 512 0 8 >"$work/s1" ||
	bad "spawn the receiving isolate: $(cat "$work/s1")"
"$e2e" "$work/k.sock" --chan-send toiso 2000 >"$work/f1" 2>&1; rc=$?
[ $rc -eq 0 ] && ok "foreign: $(cat "$work/f1")" || bad "foreign sender exit $rc: $(cat "$work/f1")"
K wait rx --timeout 20s >"$work/w1" 2>&1
grep -Eq 'exited .*exit status 0' "$work/w1" &&
	ok "the isolate received every message in order and exited 0" ||
	bad "receiving isolate: $(cat "$work/w1")"
K log | grep -q "chanbench-result: toiso oneway 512 2000 [0-9]* 0" &&
	ok "the isolate counted 2000 messages of 512 bytes, none out of order" ||
	bad "no result line from the isolate: $(K log | grep chanbench)"

# Foreign receives, isolate sends.
mkfifo "$work/f2pipe"
"$e2e" "$work/k.sock" --chan-recv fromiso 2000 >"$work/f2pipe" 2>&1 &
fpid=$!
exec 3<"$work/f2pipe"
read -r line <&3
[ "${line%% *}" = created ] || bad "foreign receiver: $line"
K spawn --name tx --core "$core" "$work/chan.kx" send fromiso 512 2000 8 >"$work/s2" ||
	bad "spawn the sending isolate: $(cat "$work/s2")"
cat <&3 >"$work/f2"
exec 3<&-
wait $fpid; rc=$?
[ $rc -eq 0 ] && ok "foreign: $(cat "$work/f2")" || bad "foreign receiver exit $rc: $(cat "$work/f2")"
K wait tx --timeout 20s >"$work/w2" 2>&1
grep -Eq 'exited .*exit status 0' "$work/w2" && ok "the sending isolate exited 0" ||
	bad "sending isolate: $(cat "$work/w2")"
kill -0 "$kpid" 2>/dev/null && ok "krank still runs" || bad "krank died"
[ $fail -eq 0 ] && echo PASS || echo FAIL
exit $fail
