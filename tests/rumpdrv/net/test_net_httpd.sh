#!/bin/sh
# examples/httpd against Linux's curl, in a network namespace this test
# creates, over a tap device it creates there.  Twice: with --root DIR (a
# tree of random files copied into KRANK's tmpfs) and with --root
# ext2:IMAGE (the same tree in an image made by mke2fs -d, mounted
# read-only).  Each run: Linux pings the server; curl fetches every file
# (0 B .. 3 MiB, names with spaces via %20, subdirectories) and the
# SHA-256 sums match; "/" and "/sub/" serve index.html, a directory
# without one is 404; HEAD gives Content-Length and no body; a missing
# file is 404; ".." above the root is 403, inside it resolves; a target
# not starting with "/" is 400; POST is 405; a 5000-byte path is 414 and
# a 5000-byte header 431; two requests share a kept-alive connection.
# With tmpfs also the server's defences (tests/examples/ex_clients.py): a
# client sending a byte a second is cut at the header timeout while others
# fetch in under 1 s; a client that never reads big.bin stalls no one; 64
# idle keep-alive connections do not lock a new client out; 64 busy ones
# get the next a 503.
set -u
httpd="$top_builddir/examples/httpd/httpd"
ns="krank-httpd-$$"
tap=kth0
work=$(mktemp -d)
fail=0

hpid=
netns_stopvars=
netns_atexit() { [ -n "$hpid" ] && kill "$hpid" 2>/dev/null; }
. "${top_srcdir:-.}/tests/netns_lib.sh"
netns_need curl ping sha256sum mke2fs python3
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
netns_add "$ns"
nsx ip tuntap add "$tap" mode tap || { echo "FAIL: ip tuntap add"; exit 1; }
nsx ip addr add 10.79.2.1/24 dev "$tap"
nsx ip link set "$tap" up

# The tree: random sizes and contents, an empty file, a name with a
# space, two levels of subdirectories, a directory without index.html.
www="$work/www"
mkdir -p "$www/sub/deeper" "$www/noindex"
echo "<h1>KRANK</h1>" >"$www/index.html"
echo "<h1>sub</h1>" >"$www/sub/index.html"
: >"$www/empty.bin"
head -c 3145728 /dev/urandom >"$www/big.bin"
head -c 70001 /dev/urandom >"$www/sub/mid.bin"
head -c 4096 /dev/urandom >"$www/noindex/page.bin"
printf 'spaced\n' >"$www/a b.txt"
i=0
while [ $i -lt 12 ]; do
	n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	head -c $((n * (i + 1))) /dev/urandom >"$www/sub/deeper/r$i.bin"
	i=$((i + 1))
done
nfiles=$(find "$www" -type f | wc -l)
img="$work/www.img"
mke2fs -q -F -t ext2 -d "$www" "$img" 16M >"$work/mkfs.out" 2>&1 ||
	{ echo "FAIL: mke2fs: $(cat "$work/mkfs.out")"; exit 1; }

url=http://10.79.2.2
ok() { echo "ok: $mode: $*"; }
bad() { echo "FAIL: $mode: $*"; fail=1; }
code() {	# code [curl args]: the status curl saw
	nsx curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$@"
}

run() {	# run MODE ROOT
	mode=$1
	nsx ip neigh flush dev "$tap" 2>/dev/null
	mkfifo "$work/fifo.$mode"
	ip netns exec "$ns" "$httpd" --if "tap:$tap" --addr 10.79.2.2/24 \
		--root "$2" --header-timeout 3s --idle-timeout 2s \
		>"$work/fifo.$mode" 2>"$work/httpd.$mode" &
	hpid=$!
	exec 3<"$work/fifo.$mode"
	if ! read -r ready <&3; then
		bad "httpd did not start: $(cat "$work/httpd.$mode")"
		exec 3<&-; hpid=; return
	fi
	echo "$mode: httpd $ready"
	case "$ready" in
	*" $nfiles files") ok "it sees all $nfiles files" ;;
	*) bad "it sees another number of files than $nfiles" ;;
	esac
	if nsx ping -c 2 -i 0.2 -W 3 10.79.2.2 >"$work/ping" 2>&1; then
		ok "Linux pinged the httpd stack"
	else
		bad "ping: $(cat "$work/ping")"
	fi

	# Every file, byte for byte.
	n=0
	(cd "$www" && find . -type f | sed 's|^\./||') >"$work/list"
	while IFS= read -r f; do
		enc=$(printf '%s' "$f" | sed 's/ /%20/g')
		rm -f "$work/got"
		if nsx curl -sf --max-time 30 -o "$work/got" "$url/$enc" &&
		    [ "$(sha256sum <"$work/got")" = "$(sha256sum <"$www/$f")" ]; then
			n=$((n + 1))
		else
			bad "GET /$enc: missing or checksum differs"
		fi
	done <"$work/list"
	[ $n -eq "$nfiles" ] && ok "GET of all $n files: SHA-256 sums match"

	nsx curl -sf --max-time 10 -o "$work/got" "$url/" &&
	    cmp -s "$work/got" "$www/index.html" && ok "GET / serves index.html" ||
	    bad "GET / is not index.html"
	nsx curl -sf --max-time 10 -o "$work/got" "$url/sub/" &&
	    cmp -s "$work/got" "$www/sub/index.html" &&
	    ok "GET /sub/ serves sub/index.html" || bad "GET /sub/"
	c=$(code "$url/noindex/")
	[ "$c" = 404 ] && ok "a directory without index.html: 404" ||
	    bad "directory without index gave $c"

	len=$(nsx curl -sfI --max-time 10 "$url/big.bin" | tr -d '\r' |
		awk 'tolower($1) == "content-length:" { print $2 }')
	body=$(nsx curl -s --max-time 10 -I "$url/big.bin" | wc -c)
	[ "$len" = 3145728 ] && [ "$body" -lt 400 ] &&
	    ok "HEAD /big.bin: Content-Length 3145728, no body" ||
	    bad "HEAD gave length '$len', $body bytes"

	c=$(code "$url/nope")
	[ "$c" = 404 ] && ok "GET /nope: 404" || bad "missing file gave $c"
	c=$(code --path-as-is "$url/../etc/passwd")
	c2=$(code --path-as-is "$url/sub/../../big.bin")
	c3=$(code --path-as-is "$url/sub/deeper/../../a%20b.txt")
	[ "$c" = 403 ] && [ "$c2" = 403 ] && [ "$c3" = 200 ] &&
	    ok "\"..\" above the root: 403; inside it resolves (200)" ||
	    bad "dot-dot: $c $c2 $c3"
	c=$(code --request-target 'index.html' "$url/")
	c2=$(code "$url/bad%zzescape")
	[ "$c" = 400 ] && [ "$c2" = 400 ] &&
	    ok "target without / and a bad escape: 400" || bad "malformed: $c $c2"
	c=$(code -X POST "$url/index.html")
	c2=$(code -X DELETE "$url/index.html")
	[ "$c" = 405 ] && [ "$c2" = 405 ] && ok "POST, DELETE: 405" ||
	    bad "other methods: $c $c2"
	long=$(head -c 5000 /dev/zero | tr '\0' a)
	c=$(code "$url/$long")
	c2=$(code -H "X-Long: $long" "$url/index.html")
	[ "$c" = 414 ] && [ "$c2" = 431 ] &&
	    ok "5000-byte path: 414; 5000-byte header: 431" ||
	    bad "too long: $c $c2"

	nsx curl -sv --max-time 10 -o /dev/null -o /dev/null "$url/empty.bin" \
		"$url/index.html" 2>"$work/ka"
	if grep -qi "re-using existing connection" "$work/ka"; then
		ok "keep-alive: the second request reused the connection"
	else
		bad "keep-alive not used: $(grep -i connect "$work/ka")"
	fi
	if [ "$mode" = tmpfs ]; then
		# The shared server's defences, on KRANK's stack (header
		# timeout 3 s, idle 2 s for this run; --max-conn 64).
		export EX_HOST=10.79.2.2 EX_SERVER=krank
		cl="${top_srcdir:-.}/tests/examples/ex_clients.py"
		nsx python3 "$cl" httpd-slow 80 3 /sub/mid.bin \
			"$www/sub/mid.bin" || fail=1
		nsx python3 "$cl" httpd-noread 80 2 /big.bin "$www/big.bin" \
			/sub/mid.bin "$www/sub/mid.bin" || fail=1
		nsx python3 "$cl" httpd-idle 80 64 /index.html || fail=1
		nsx python3 "$cl" httpd-overload 80 64 || fail=1
	fi
	kill "$hpid"
	wait "$hpid"
	hpid=
	exec 3<&-
	echo "$mode: $(cat "$work/httpd.$mode")"
}

run tmpfs "$www"
run ext2 "ext2:$img"
exit $fail
