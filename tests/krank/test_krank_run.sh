#!/bin/sh
# krank run as a user runs it, in a network namespace this test creates:
# a deployment with a tap that krank itself creates (and addresses on
# Linux's side), an ext2 disk made by mke2fs -d, a tmpfs, and the httpd
# isolate.  Linux's curl fetches the site and every file's SHA-256
# matches; krankctl (finding the socket by itself is tested with -s here,
# since the test must not touch /run/krank) lists httpd as running; a
# krankctl spawn of a program that dereferences NULL leaves httpd serving
# and ps shows it faulted with its address; krankctl capture writes a
# pcap that tcpdump -r reads; SIGTERM stops krank and removes the tap;
# a second krank on the same disk is refused; krank check names an
# unknown key with its line.
set -u
bld=${top_builddir:-.}
src=${top_srcdir:-.}
krank="$bld/krank/krank"
krankctl="$bld/krank/krankctl"
ns="krank-run-$$"
work=$(mktemp -d)
fail=0

kpid=
. "$src/tests/netns_lib.sh"
netns_need curl sha256sum mke2fs tcpdump
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
[ -f "$bld/examples/httpd/httpd.kx" ] || skip "examples/httpd/httpd.kx not built"
netns_add "$ns"

# The site, in an ext2 image.
www="$work/www"
mkdir -p "$www/sub"
echo "<h1>KRANK</h1>" >"$www/index.html"
head -c 1048577 /dev/urandom >"$www/big.bin"
head -c 7001 /dev/urandom >"$www/sub/mid.bin"
mke2fs -q -F -t ext2 -d "$www" "$work/site.img" 8M >"$work/mkfs.out" 2>&1 ||
	{ echo "FAIL: mke2fs: $(cat "$work/mkfs.out")"; exit 1; }
cp "$bld/examples/httpd/httpd.kx" "$work/httpd.kx"
export KRANK_ISOLATE_INCLUDE="$src/loader/isolate/include"
export KRANK_ISOLATE_LIBDIR="$bld/loader"
"$bld/loader/krank-cc" -O1 -o "$work/crash.kx" "$src/tests/krank/iso/crash.c" ||
	{ echo "FAIL: krank-cc crash.c"; exit 1; }

ncpu=$(nproc)
core=$((ncpu - 1))
cat >"$work/site.yaml" <<EOT
name: testsite
cores: [$core]
memory: {size: 256M, hugepages: auto}
components: [vfs, tmpfs, ext2, net, ether, virtif, socket, inet]
interfaces:
  - name: krank0
    backend: tap
    device: krank0
    address: 10.99.0.2/24
    host_address: 10.99.0.1/24
disks:
  - path: site.img
    fs: ext2
    mount: /www
    readonly: yes
tmpfs:
  - mount: /tmp
    size: 8M
isolates:
  - name: httpd
    elf: httpd.kx
    argv: [httpd, --root, /www, --port, "80"]
    core: $core
    heap: 32M
    restart: on-failure
control:
  socket: $work/krank.sock
EOT

# krank check: the file is valid; one unknown key is named with its line.
if out=$("$krank" check "$work/site.yaml" 2>&1); then
	ok "krank check accepts the deployment ($out)"
else
	bad "krank check rejects the deployment: $out"
fi
sed 's/^    heap: 32M$/    heap: 32M\n    colour: blue/' "$work/site.yaml" >"$work/bad.yaml"
line=$(grep -n 'colour:' "$work/bad.yaml" | cut -d: -f1)
if out=$("$krank" check "$work/bad.yaml" 2>&1); then
	bad "krank check accepted an unknown key"
else
	case $out in
	*"bad.yaml:$line:"*colour*) ok "krank check names the unknown key colour at line $line" ;;
	*) bad "krank check's message does not name colour at line $line: $out" ;;
	esac
fi

# Boot.  The tap krank0 does not exist before.
nsx ip link show krank0 >/dev/null 2>&1 && bad "krank0 exists before boot"
mkfifo "$work/out"
ip netns exec "$ns" "$krank" run "$work/site.yaml" >"$work/out" 2>"$work/err" &
kpid=$!
exec 3<"$work/out"
ready=
while read -r l <&3; do
	echo "  | $l"
	case $l in *ready*) ready=$l; break ;; esac
done
[ -n "$ready" ] || { bad "krank did not get ready: $(cat "$work/err")"; exit 1; }
ok "krank printed its boot report and '$ready'"
cat <&3 >"$work/out.rest" &
nsx ip -4 addr show krank0 | grep -q 10.99.0.1/24 &&
	ok "krank created the tap krank0 with Linux's side 10.99.0.1/24" ||
	bad "Linux's side of krank0 is not 10.99.0.1/24"

# curl every file.
for f in index.html big.bin sub/mid.bin; do
	got=$(nsx curl -s --max-time 10 "http://10.99.0.2/$f" | sha256sum | cut -d' ' -f1)
	want=$(sha256sum <"$www/$f" | cut -d' ' -f1)
	[ "$got" = "$want" ] && ok "curl /$f: SHA-256 matches" ||
		bad "curl /$f: SHA-256 $got, want $want"
done

ctl() { "$krankctl" -s "$work/krank.sock" "$@"; }
ctl ps >"$work/ps" 2>&1
grep -q 'httpd.*running' "$work/ps" && ok "krankctl ps lists httpd as running" ||
	bad "krankctl ps: $(cat "$work/ps")"

# A crashing isolate leaves httpd serving.
ctl spawn --name crasher --core "$core" "$work/crash.kx" >"$work/spawn" 2>&1 ||
	bad "krankctl spawn: $(cat "$work/spawn")"
ctl wait crasher --timeout 10s >/dev/null 2>&1
ctl ps >"$work/ps" 2>&1
grep -q 'crasher.*faulted' "$work/ps" && ok "the crashing isolate shows as faulted" ||
	bad "krankctl ps after the crash: $(cat "$work/ps")"
grep -q 'crasher.*0x0\|crasher.*NULL' "$work/ps" &&
	ok "ps shows the faulting address" || bad "ps lacks the fault address: $(cat "$work/ps")"
got=$(nsx curl -s --max-time 10 "http://10.99.0.2/index.html")
[ "$got" = "<h1>KRANK</h1>" ] && ok "httpd still serves after the crash" ||
	bad "httpd after the crash: '$got'"

# Capture while curl fetches.
ctl capture krank0 "$work/cap.pcap" --count 10 >"$work/cap.out" 2>&1 &
cpid=$!
i=0
while kill -0 $cpid 2>/dev/null && [ $i -lt 50 ]; do
	nsx curl -s --max-time 5 -o /dev/null "http://10.99.0.2/sub/mid.bin"
	i=$((i + 1))
done
wait $cpid
n=$(tcpdump -r "$work/cap.pcap" -nn 2>/dev/null | wc -l)
[ "$n" -ge 10 ] && ok "krankctl capture wrote $n packets that tcpdump -r reads" ||
	bad "tcpdump -r read $n packets: $(cat "$work/cap.out")"

# A second krank on the same disk is refused.
sed "s|$work/krank.sock|$work/krank2.sock|; s/krank0/krank1/g; s/10.99.0/10.98.0/g" \
	"$work/site.yaml" >"$work/second.yaml"
if out=$(nsx timeout 20 "$krank" run "$work/second.yaml" 2>&1 </dev/null); then
	bad "a second krank booted on the same disk"
else
	case $out in
	*site.img*use*) ok "a second krank on the same disk is refused" ;;
	*) bad "second krank: unexpected message: $out" ;;
	esac
fi

# Kill: a client connected to httpd sees its connection end (EOF or
# reset), ps shows it killed and no restart follows; restart brings it back.
cat >"$work/peer.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("10.99.0.2", 80), timeout=10)
s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n")   # no blank line
print("connected", flush=True)
sys.stdin.readline()                       # the test kills httpd now
t0 = time.monotonic()
try:
    s.settimeout(8)
    d = s.recv(100)
    print("eof" if d == b"" else "data", "%.3f" % (time.monotonic() - t0))
except ConnectionResetError:
    print("reset %.3f" % (time.monotonic() - t0))
except socket.timeout:
    print("timeout")
PY
mkfifo "$work/peer.in"
nsx python3 "$work/peer.py" <"$work/peer.in" >"$work/peer.out" 2>&1 &
ppid=$!
exec 4>"$work/peer.in"
n=0
until grep -q connected "$work/peer.out" || [ $n -gt 100 ]; do
	sleep 0.1; n=$((n + 1))
done
ctl kill httpd >/dev/null 2>&1 || bad "krankctl kill httpd failed"
echo go >&4
exec 4>&-
wait $ppid
case $(cat "$work/peer.out") in
*eof*|*reset*) ok "killing httpd ends its TCP connection for the peer ($(tail -1 "$work/peer.out"))" ;;
*) bad "the peer of a killed isolate saw: $(cat "$work/peer.out")" ;;
esac
ctl wait httpd --timeout 10s >/dev/null 2>&1
ctl ps >"$work/ps" 2>&1
grep -q 'httpd.*killed' "$work/ps" && ok "ps shows httpd killed" ||
	bad "ps after kill: $(cat "$work/ps")"
ctl restart httpd >"$work/restart" 2>&1 || bad "krankctl restart: $(cat "$work/restart")"
n=0
got=
while [ $n -lt 50 ]; do
	got=$(nsx curl -s --max-time 2 "http://10.99.0.2/index.html")
	[ "$got" = "<h1>KRANK</h1>" ] && break
	sleep 0.1; n=$((n + 1))
done
[ "$got" = "<h1>KRANK</h1>" ] && ok "krankctl restart brings httpd back" ||
	bad "httpd after restart: '$got'"

# Stop.
kill -TERM "$kpid"
wait "$kpid"
rc=$?
kpid=
[ $rc -eq 0 ] && ok "krank stops on SIGTERM with status 0" || bad "krank exited $rc"
nsx ip link show krank0 >/dev/null 2>&1 && bad "krank0 outlives krank" ||
	ok "the tap is gone with krank"
[ $fail -eq 0 ] && echo "PASS" || echo "FAIL"
exit $fail
