#!/bin/sh
# examples/httpd against Linux's curl, in a network namespace this test
# creates (veth pair, AF_PACKET on the KRANK side, transmit checksum
# offload off on the Linux side): Linux pings the server, curl fetches
# files (1 KiB .. 3 MiB, one in a subdirectory) and the checksums match,
# HEAD gives the length without a body, a missing file is 404, and two
# requests in one curl run share one kept-alive connection.
set -u
httpd="$top_builddir/examples/httpd/httpd"
ns="krank-httpd-$$"
work=$(mktemp -d)
fail=0

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root for network namespaces"; rm -rf "$work"; exit 77
fi
for t in curl ping ip sha256sum; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not installed"; rm -rf "$work"; exit 77; }
done
if ! ip netns add "$ns" 2>"$work/err"; then
	echo "SKIP: this machine forbids network namespaces: $(cat "$work/err")"
	rm -rf "$work"; exit 77
fi
killns() {
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
}
cleanup() {
	killns
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
nsx() { ip netns exec "$ns" "$@"; }
nsx ip link set lo up
nsx ip link add kh0 type veth peer name kh1
nsx ip addr add 10.79.1.1/24 dev kh0
command -v ethtool >/dev/null 2>&1 && nsx ethtool -K kh0 tx off >/dev/null 2>&1
nsx ip link set kh0 up
nsx ip link set kh1 up

mkdir -p "$work/www/sub"
echo "<h1>KRANK</h1>" >"$work/www/index.html"
head -c 1024 /dev/urandom >"$work/www/small.bin"
head -c 3145728 /dev/urandom >"$work/www/big.bin"
head -c 70000 /dev/urandom >"$work/www/sub/mid.bin"

mkfifo "$work/fifo"
ip netns exec "$ns" "$httpd" --if afpacket:kh1 --addr 10.79.1.2/24 \
	--root "$work/www" >"$work/fifo" 2>"$work/httpd.err" &
hpid=$!
exec 3<"$work/fifo"
if ! read -r ready <&3; then
	echo "FAIL: httpd did not start: $(cat "$work/httpd.err")"; exit 1
fi
echo "httpd $ready"
url=http://10.79.1.2

if nsx ping -c 2 -i 0.2 -W 3 10.79.1.2 >"$work/ping" 2>&1; then
	echo "ok: Linux pinged the httpd stack"
else
	echo "FAIL: ping: $(cat "$work/ping")"; fail=1
fi
for f in index.html small.bin big.bin sub/mid.bin; do
	if nsx curl -sf --max-time 30 -o "$work/got" "$url/$f" &&
	    [ "$(sha256sum <"$work/got")" = "$(sha256sum <"$work/www/$f")" ]; then
		echo "ok: GET /$f: $(wc -c <"$work/got") bytes, checksum matches"
	else
		echo "FAIL: GET /$f"; fail=1
	fi
done
len=$(nsx curl -sfI --max-time 10 "$url/big.bin" | tr -d '\r' |
	awk 'tolower($1) == "content-length:" { print $2 }')
[ "$len" = 3145728 ] && echo "ok: HEAD /big.bin: Content-Length 3145728" ||
	{ echo "FAIL: HEAD gave length '$len'"; fail=1; }
code=$(nsx curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$url/nope")
[ "$code" = 404 ] && echo "ok: GET /nope: 404" ||
	{ echo "FAIL: missing file gave $code"; fail=1; }
nsx curl -sv --max-time 10 -o /dev/null -o /dev/null "$url/small.bin" \
	"$url/index.html" 2>"$work/ka"
if grep -qi "re-using existing connection" "$work/ka"; then
	echo "ok: keep-alive: the second request reused the connection"
else
	echo "FAIL: keep-alive not used:"; grep -i connect "$work/ka"; fail=1
fi
kill "$hpid"
wait "$hpid"
exec 3<&-
echo "$(cat "$work/httpd.err")"
exit $fail
