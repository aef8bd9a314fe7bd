#!/bin/bash
# test_krankctl.sh - the real krankctl against a control socket served by
# tests/krank/ctl_server (a booted stack with a wire interface, tmpfs
# mounts, real isolates built by krank-cc from tests/krank/iso: tick,
# crash, exitcode): every command as a table and as JSON
# (checked with python3 -m json.tool), exit statuses, peer credentials,
# malformed and idle clients, live and stale sockets, socket discovery,
# and capture read back with tcpdump -r.
set -u
top_builddir=$(cd "${top_builddir:-.}" && pwd)
top_srcdir=$(cd "${top_srcdir:-.}" && pwd)
kc="$top_builddir/krank/krankctl"
for t in python3 tcpdump; do
	command -v $t >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done

d=$(mktemp -d)
chmod 755 "$d"
pids=()
cleanup() {
	exec 3>&- 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT
for p in tick crash exitcode hidden; do
	"$top_builddir/loader/krank-cc-uninstalled" -O1 -o "$d/$p.kx" \
	    "$top_srcdir/tests/krank/iso/$p.c" || { echo "FAIL: krank-cc $p.c"; exit 1; }
done
# Every server runs tick.kx as its isolate "ticker", on the highest core
# it may use.
srv=("$top_builddir/tests/krank/ctl_server" "$d/tick.kx")
core=$(python3 -c 'import os; print(max(os.sched_getaffinity(0)))')
fail() { echo "FAIL: $*"; for f in "$d"/*.err; do echo "--- $f"; cat "$f"; done; exit 1; }
ok() { echo "ok: $*"; }

# wait_for FILE PATTERN: poll (5 s deadline) until FILE contains PATTERN.
wait_for() {
	for _ in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# start NAME SOCKET [GROUP]: a server whose stdin is the fifo $d/NAME.in.
start() {
	mkfifo "$d/$1.in"
	"${srv[@]}" "$2" ${3:-} <"$d/$1.in" >"$d/$1.out" 2>"$d/$1.err" &
	pids+=($!)
	eval "exec $4>\"$d/$1.in\""
	wait_for "$d/$1.out" '^ready' || fail "$1 did not become ready"
}

S="$d/k.sock"
start main "$S" "" 3
K() { "$kc" -s "$S" "$@"; }
json() { K --json "$@" >"$d/j" || fail "--json $*: exit $?"; \
	python3 -m json.tool "$d/j" >/dev/null || fail "--json $*: invalid JSON: $(head -c 300 "$d/j")"; }
jq_() { python3 -c "import json,sys; d=json.load(open('$d/j')); sys.exit(0 if ($1) else 1)" ||
	fail "JSON check $1 on $(head -c 300 "$d/j")"; }

[ "$(stat -c %a "$S")" = 600 ] || fail "socket mode $(stat -c %a "$S"), want 600"
ok "socket created with mode 0600"

# ---- every command, table and JSON --------------------------------------
K ps >"$d/t" || fail "ps"
grep -Eq '^ID +NAME +STATE' "$d/t" && grep -Eq "^1 +ticker +running +$core " "$d/t" ||
	fail "ps table: $(cat "$d/t")"
json ps; jq_ 'd["isolates"][0]["name"]=="ticker" and d["isolates"][0]["state"]=="running"'
ok "ps lists ticker running on core $core (table and JSON)"

K top --interval 200ms >"$d/t" || fail "top"
grep -Eq '^1 +ticker +running .* 3/1024$' "$d/t" || fail "top table: $(cat "$d/t")"
json top --interval 100ms
jq_ 'd["isolates"][0]["syscalls_per_second"] > 100 and d["isolates"][0]["heap_limit"]==64<<20 and d["isolates"][0]["heap_in_use"] > 0'
ok "top: system calls/s over the interval (a 1 ms sleep loop), heap, descriptors"

K ifconfig >"$d/t" || fail "ifconfig"
grep -Eq '^virt0 +up +1500 10\.0\.0\.1/24 +02:00:00:00:0c:01 +[1-9]' "$d/t" ||
	fail "ifconfig table: $(cat "$d/t")"
json ifconfig
jq_ 'any(i["name"]=="virt0" and i["inet"]=="10.0.0.1/24" and i["ipackets"]>0 for i in d["interfaces"])'
ok "ifconfig: virt0 with its address, MAC and counters"

K netstat >"$d/t" || fail "netstat"
grep -Eq '^tcp +10\.0\.0\.1:80 +10\.0\.0\.2:[0-9]+ +ESTABLISHED' "$d/t" &&
	grep -Eq '^tcp +10\.0\.0\.1:80 +0\.0\.0\.0:0 +LISTEN' "$d/t" ||
	fail "netstat table: $(cat "$d/t")"
json netstat
jq_ 'sorted(c["state"] for c in d["connections"] if c["proto"]=="tcp")==["ESTABLISHED","LISTEN"]'
ok "netstat: a LISTEN and an ESTABLISHED TCP connection"

K mounts >"$d/t" || fail "mounts"
grep -Eq '^tmpfs +/ +tmpfs +rw' "$d/t" && grep -Eq '^datafs +/data +tmpfs +rw' "$d/t" ||
	fail "mounts table: $(cat "$d/t")"
json mounts; jq_ '[m["target"] for m in d["mounts"]]==["/","/data"]'
K df >"$d/t" || fail "df"
grep -Eq '^datafs +tmpfs +1024 +256 +768 +25% ' "$d/t" || fail "df table: $(cat "$d/t")"
json df
jq_ 'any(f["target"]=="/data" and f["used_bytes"]==256*1024 and f["size_bytes"]==1024*1024 for f in d["filesystems"])'
ok "mounts and df: / and /data (1 MiB, 256 KiB used)"

K log >"$d/t" || fail "log"
grep -q 'info ctl_server: booted; a "quoted" word' "$d/t" || fail "log: $(cat "$d/t")"
json log
jq_ 'any("\"quoted\" word, a back\\slash and a\ttab" in l for l in d["lines"])'
ok "log: timestamped lines; JSON escapes quotes, backslash and tab"

K metrics >"$d/t" || fail "metrics"
grep -q '^krank_isolate_cpu_seconds_total{isolate="ticker"} [0-9.]*$' "$d/t" &&
	grep -q '^# TYPE krank_isolate_cpu_seconds_total counter$' "$d/t" &&
	grep -q '^krank_interface_receive_packets_total{interface="virt0"} [1-9]' "$d/t" &&
	grep -q '^krank_tcp_accepts_total 1$' "$d/t" ||
	fail "metrics: $(cat "$d/t")"
# Every line is a comment or NAME{LABELS} VALUE, every metric has HELP/TYPE.
python3 - "$d/t" <<'EOF' || fail "metrics: not the Prometheus text format"
import re, sys
seen_type, names = set(), set()
for ln in open(sys.argv[1]):
    ln = ln.rstrip("\n")
    m = re.match(r'# TYPE ([a-z_]+) (counter|gauge)$', ln)
    if m: seen_type.add(m.group(1)); continue
    if re.match(r'# HELP [a-z_]+ .+$', ln): continue
    m = re.match(r'([a-z_]+)(\{[a-z_]+="(?:[^"\\]|\\.)*"(?:,[a-z_]+="(?:[^"\\]|\\.)*")*\})? -?[0-9.e+]+$', ln)
    if not m: print("bad line:", ln); sys.exit(1)
    names.add(m.group(1))
sys.exit(0 if names and names <= seen_type else 1)
EOF
ok "metrics: Prometheus text format with HELP/TYPE, isolate, interface and TCP series"

K version | grep -q 'control protocol 1' || fail "version"
json version; jq_ 'd["protocol"]==1'
ok "version names the protocol"

# ---- isolate lifecycle (real isolates: ends are asynchronous) ----------
K spawn --name crash --core "$core" "$d/crash.kx" a b >"$d/t" || fail "spawn"
grep -q '^spawned 2 crash$' "$d/t" || fail "spawn: $(cat "$d/t")"
K wait crash --timeout 10s >"$d/t" || fail "wait crash: $(cat "$d/t")"
K ps | grep -Eq "^2 +crash +faulted +$core .*signal 11 at 0 \(NULL dereference\) pc crash_here\+0x[0-9a-f]+" ||
	fail "ps after spawn: $(K ps)"
json ps; jq_ 'd["isolates"][1]["fault"]["address"]=="0" and d["isolates"][1]["fault"]["symbol"].startswith("crash_here+0x")'
K log | grep -q 'info crash: crash: about to dereference NULL' || fail "crash's console line not in the log"
ok "spawn of a NULL-dereferencing ELF: ps shows it faulted with address and symbol; its console line is in the log"
cp "$d/exitcode.kx" "$d/exit3.kx"
(cd "$d" && K --json spawn exit3.kx) >"$d/j" || fail "spawn exit3.kx"
jq_ 'd["id"]==3 and d["name"]=="exit3.kx"'
K --json ps >"$d/j"; jq_ 'd["isolates"][2]["elf"]=="'"$d"'/exit3.kx"'
ok "spawn sends a relative ELF path as an absolute one"
K wait 3 --timeout 10s | grep -Eq '^3 +exit3.kx +exited .*exit status 3' || fail "wait 3"
# Strict by default: a syscall encoding hidden in an immediate refuses the
# object; --lax runs it.
K spawn "$d/hidden.kx" 2>"$d/e" && fail "spawn of hidden.kx was accepted"
grep -q "hidden syscall (0f 05) inside other instructions (strict mode; --lax accepts it)" "$d/e" ||
	fail "spawn hidden.kx: $(cat "$d/e")"
K spawn --lax --name hid "$d/hidden.kx" >"$d/t" || fail "spawn --lax hidden.kx: $(cat "$d/t")"
K wait hid --timeout 10s | grep -Eq '^[0-9]+ +hid +exited .*exit status 0' || fail "wait hid"
ok "spawn refuses hidden syscall encodings (strict) and runs them with --lax"
K wait ticker --timeout 150ms 2>"$d/e"; rc=$?
[ $rc = 1 ] && grep -q "k.sock: wait ticker: still running after 150ms" "$d/e" ||
	fail "wait timeout: rc $rc $(cat "$d/e")"
ok "wait: returns the exit status; times out with exit 1 and a message"
K kill ticker | grep -q '^killed 1$' || fail "kill"
K wait ticker --timeout 5s | grep -Eq '^1 +ticker +killed' || fail "wait after kill"
K ps | grep -Eq '^1 +ticker +killed' || fail "ps after kill"
K restart 1 | grep -q '^restarted 1$' || fail "restart"
# restart answers once the isolate runs again: no polling here.
K --json ps >"$d/j" || fail "ps after restart"
jq_ 'd["isolates"][0]["state"]=="running" and d["isolates"][0]["restarts"]==1'
ok "kill and restart by name and id; restart returns with the isolate running"
# A restart that cannot start the isolate says why, and exits 1.
cp "$d/tick.kx" "$d/tick2.kx"
K spawn --name tick2 "$d/tick2.kx" >/dev/null || fail "spawn tick2"
K restart tick2 | grep -q '^restarted ' || fail "restart tick2"
K --json ps >"$d/j"
jq_ 'any(i["name"]=="tick2" and i["state"]=="running" and i["restarts"]==1 for i in d["isolates"])'
printf 'not an ELF\n' >"$d/tick2.kx"
K restart tick2 2>"$d/e" >"$d/t"; rc=$?
[ $rc = 1 ] && [ ! -s "$d/t" ] && grep -q "restart tick2: .*tick2.kx" "$d/e" ||
	fail "restart of a broken ELF: rc $rc: $(cat "$d/t" "$d/e")"
K --json ps >"$d/j"
jq_ 'any(i["name"]=="tick2" and i["state"]=="failed" for i in d["isolates"])'
ok "restart of an isolate whose ELF broke: exit 1, $(sed 's/^krankctl: [^:]*: //' "$d/e")"

# ---- errors and exit statuses -------------------------------------------
K kill nosuch 2>"$d/e"; rc=$?
[ $rc = 1 ] && [ "$(cat "$d/e")" = "krankctl: $S: nosuch: no such isolate" ] ||
	fail "kill nosuch: rc $rc: $(cat "$d/e")"
K frobnicate 2>"$d/e"; [ $? = 1 ] && grep -q 'frobnicate: no such command' "$d/e" || fail "unknown command"
"$kc" -s "$d/none.sock" ps 2>"$d/e"; rc=$?
[ $rc = 2 ] && grep -q "krankctl: $d/none.sock: cannot connect: No such file" "$d/e" ||
	fail "missing socket: rc $rc $(cat "$d/e")"
"$kc" 2>/dev/null; [ $? = 2 ] || fail "no command: want exit 2"
"$kc" --help | grep -q '^EXIT STATUS' || fail "--help"
K spawn 2>"$d/e"; [ $? = 1 ] && grep -q 'spawn: no ELF given' "$d/e" || fail "spawn without ELF"
ok "errors: one line naming the socket; exit 1 for KRANK's errors, 2 for usage/connection"

# ---- malformed requests and clients that stall --------------------------
python3 - "$S" <<'EOF' || fail "malformed requests"
import socket, sys, time
path = sys.argv[1]
def ask(data, shut=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(path)
    s.sendall(data)
    if shut: s.shutdown(socket.SHUT_WR)
    s.settimeout(5); out = b""
    while True:
        b = s.recv(4096)
        if not b: break
        out += b
    s.close(); return out.decode()
def expect(name, data, want):
    got = ask(data)
    if not got.startswith("error: ") or want not in got:
        print("FAIL", name, repr(got)); sys.exit(1)
    print("ok: malformed request refused:", name, "->", got.strip())
expect("65 arguments", b"ps\0" * 65 + b"\0", "more than 64 arguments")
expect("no terminator", b"ps\0--json\0", "before the terminating empty string")
expect("huge request", b"x" * 10000, "longer than 4096 bytes")
expect("empty request", b"\0", "no command")
expect("bytes after the end", b"ps\0\0junk", "after the terminating empty string")
assert ask(b"ps\0" * 63 + b"\0").startswith("error: ps: takes no arguments")
# A client that connects and sends nothing, and one that asks for a capture
# and never reads: others are still served, at once.
idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); idle.connect(path)
deaf = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); deaf.connect(path)
deaf.sendall(b"capture\0virt0\0--duration\0003s\0\0")
time.sleep(0.1)
t = time.time(); out = ask(b"ps\0\0")
if not out.startswith("ok\n") or time.time() - t > 1:
    print("FAIL: ps behind an idle client", repr(out), time.time() - t); sys.exit(1)
print("ok: served in %.0f ms while a client idles and one does not read" % ((time.time() - t) * 1e3))
idle.settimeout(5); t = time.time(); r = idle.recv(200).decode()
if "no whole request within 2000 ms" not in r:
    print("FAIL: idle client got", repr(r)); sys.exit(1)
print("ok: the idle client was dropped after %.1f s: %s" % (time.time() - t + 0.1, r.strip()))
EOF
K metrics | grep -Eq '^krank_ctl_malformed_requests_total ([6-9]|[1-9][0-9])$' ||
	fail "malformed requests not counted: $(K metrics | grep malformed)"
ok "malformed requests counted"

# ---- capture ------------------------------------------------------------
K capture virt0 "$d/c.pcap" --count 8 2>"$d/e" || fail "capture: $(cat "$d/e")"
grep -q "8 frames written, 0 dropped" "$d/e" || fail "capture summary: $(cat "$d/e")"
tcpdump -nn -r "$d/c.pcap" >"$d/t" 2>/dev/null || fail "tcpdump -r"
[ "$(wc -l <"$d/t")" = 8 ] || fail "tcpdump read $(wc -l <"$d/t") packets, want 8"
grep -Eq 'IP 10\.0\.0\.2\.[0-9]+ > 10\.0\.0\.1\.7777: UDP' "$d/t" &&
	grep -Eq 'IP 10\.0\.0\.1\.7777 > 10\.0\.0\.2\.[0-9]+: UDP' "$d/t" ||
	fail "capture lacks the known datagrams: $(cat "$d/t")"
tcpdump -nn -A -r "$d/c.pcap" 2>/dev/null | grep -q 'krank-capture [0-9]' ||
	fail "capture payloads"
ok "capture --count 8: tcpdump -r reads 8 frames, both directions, payloads intact"
K capture virt0 - --duration 300ms >"$d/d.pcap" 2>/dev/null || fail "capture --duration"
n=$(tcpdump -nn -r "$d/d.pcap" 2>/dev/null | wc -l)
[ "$n" -ge 5 ] && [ "$n" -le 60 ] || fail "capture --duration 300ms: $n frames"
ok "capture --duration 300ms to standard output: $n frames"
K capture nosuch0 "$d/x.pcap" --count 1 2>"$d/e"; [ $? = 1 ] &&
	grep -q 'capture nosuch0: no such interface' "$d/e" || fail "capture nosuch0: $(cat "$d/e")"
K capture virt0 "$d/y.pcap" --duration 2s 2>/dev/null &
cp=$!
sleep 0.3
K capture virt0 "$d/z.pcap" --count 1 2>"$d/e"; rc=$?
wait $cp
[ $rc = 1 ] && grep -q 'another capture runs on it' "$d/e" || fail "second capture: $(cat "$d/e")"
ok "capture: unknown interface and a second capture at once are refused"

# A capture whose client does not read while the peer floods: the ring
# fills, frames are dropped and counted, the stack goes on, and every
# record that does arrive is whole.
echo "flood on" >&3
wait_for "$d/main.out" '^did flood on' || fail "flood on"
python3 - "$S" <<'EOF' || fail "capture under overload"
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"capture\0virt0\0--duration\0002s\0\0")
time.sleep(1.5)		# read nothing: the socket and then the ring fill up
s.settimeout(10); data = b""
while True:
    b = s.recv(1 << 20)
    if not b: break
    data += b
assert data.startswith(b"ok\n"), data[:80]
off, n = 3, 0
while True:
    magic, ver, flags, ts, caplen, origlen, drops, count = struct.unpack_from("<IHHQIIQQ", data, off)
    assert magic == 0x4b43504b and ver == 1, (hex(magic), ver)
    off += 40
    if flags & 0x8000: break
    assert caplen == origlen and 42 <= caplen <= 1514, (caplen, origlen)
    off += (caplen + 7) & ~7; n += 1
assert off == len(data) and count == n, (off, len(data), count, n)
assert drops > 0, "no drops counted"
print("ok: %d frames delivered whole, %d dropped and counted while the client stalled" % (n, drops))
EOF
echo "flood off" >&3
wait_for "$d/main.out" '^did flood off' || fail "flood off"
K metrics | grep -Eq '^krank_capture_dropped_frames_total [1-9]' || fail "capture drops not in metrics"
K ps | grep -q ticker || fail "ps after the flood"
ok "capture overload: drops counted (END record, metrics), stack and server unharmed"

# ---- live and stale sockets, discovery ----------------------------------
"${srv[@]}" "$S" >"$d/dup.out" 2>"$d/dup.err" </dev/null; rc=$?
[ $rc = 1 ] && grep -q "$S: a live KRANK already answers" "$d/dup.err" || fail "second server: $(cat "$d/dup.err")"
ok "a second KRANK on a live socket refuses to start"
S2="$d/s.sock"
mkfifo "$d/st.in"
"${srv[@]}" "$S2" <"$d/st.in" >"$d/st.out" 2>"$d/st.err" & sp=$!
exec 4>"$d/st.in"
wait_for "$d/st.out" '^ready' || fail "stale: server did not start"
kill -9 $sp; wait $sp 2>/dev/null; exec 4>&-
[ -S "$S2" ] || fail "stale socket file missing after kill -9"
start stale2 "$S2" "" 5
"$kc" -s "$S2" log | grep -q 'removed a stale socket' || fail "stale socket not reported"
exec 5>&-
ok "a stale socket file is removed and replaced"

if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
	unshare -m bash -c "mount -t tmpfs tmpfs /run && mkdir /run/krank &&
		ln -s '$S' /run/krank/a.sock && '$kc' ps | grep -q ticker &&
		ln -s '$S' /run/krank/b.sock && { '$kc' ps 2>&1; true; } | grep -q '2 KRANKs are running; choose one with -s: /run/krank/a.sock /run/krank/b.sock' &&
		rm /run/krank/*.sock && { '$kc' ps 2>&1; [ \$? = 2 ]; } | grep -q 'no KRANK is running: no \*.sock in /run/krank'" ||
		fail "socket discovery in /run/krank"
	ok "no -s: the only socket in /run/krank is used; several or none is a clear error"
else
	echo "skip: socket discovery (needs root and a mount namespace)"
fi

# ---- credentials --------------------------------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	as_nobody "$kc" -s "$S" ps 2>"$d/e"; rc=$?
	[ $rc = 2 ] && grep -q 'cannot connect: Permission denied' "$d/e" || fail "0600 socket: rc $rc $(cat "$d/e")"
	chmod 0666 "$S"	# past the file mode: SO_PEERCRED still refuses
	as_nobody "$kc" -s "$S" ps 2>"$d/e"; rc=$?
	chmod 0600 "$S"
	[ $rc = 1 ] && grep -q 'permission denied: neither root nor in the control socket' "$d/e" ||
		fail "SO_PEERCRED: rc $rc $(cat "$d/e")"
	K metrics | grep -q '^krank_ctl_refused_total 1$' || fail "refusal not counted"
	ok "a non-root peer outside the group is refused (file mode, then SO_PEERCRED)"
	grp=$(getent group 65534 | cut -d: -f1)
	if [ -n "$grp" ]; then
		start grp "$d/g.sock" "$grp" 6
		[ "$(stat -c '%a %g' "$d/g.sock")" = "660 65534" ] || fail "group socket mode $(stat -c '%a %g' "$d/g.sock")"
		as_nobody "$kc" -s "$d/g.sock" ps | grep -q ticker || fail "group member refused"
		exec 6>&-
		ok "with a group: mode 0660, the group's members are served"
	fi
else
	echo "skip: credential checks (need root and setpriv)"
fi

# ---- stop ---------------------------------------------------------------
exec 3>&-
wait_for "$d/main.out" '^stopped' || fail "server did not stop"
[ ! -e "$S" ] || fail "socket left behind after stop"
grep '^stopped' "$d/main.out"
ok "krk_ctl_stop closes clients and removes the socket"
echo "PASS"
