#!/bin/sh
# examples/httpd's isolate (httpd_iso.c, built for Linux with ASan+UBSan)
# against Linux's curl and Python clients, in a network namespace this test
# creates.  Server A (--max-conn 200, header timeout 3 s, idle 2 s): curl
# fetches every file (0 B .. 32 MiB, a name with a space, subdirectories)
# with matching SHA-256; index.html for directories, 404 without; HEAD;
# content types; 404; 403 for ".." above the root, plain or encoded
# (%2e%2e), 200 for ".." inside; 400 for NUL (raw and %00), bad escapes and
# a target without "/"; 405; 414; 431 (a long line, a long block);
# keep-alive; 100 curls at once; a client sending a byte a second is cut
# at the header timeout while normal fetches stay under 1 s; a client that
# never reads a 32 MiB file stalls no one and is closed.  Server B
# (--max-conn 64): 64 idle keep-alive connections do not lock a new client
# out; 64 busy ones get the next a 503 with a body.
. "${top_srcdir:-.}/tests/examples/ex_lib.sh"
bin="${top_builddir:-.}/tests/examples/httpd"
[ -x "$bin" ] || skip "$bin not built"
for t in curl sha256sum; do
	command -v $t >/dev/null 2>&1 || skip "$t not installed"
done

"$bin" --help >"$work/help" 2>&1
for s in NAME SYNOPSIS DESCRIPTION OPTIONS REQUESTS CONNECTIONS "EXIT STATUS"; do
	grep -q "^$s" "$work/help" || bad "--help lacks $s"
done
grep -q -- "--header-timeout D" "$work/help" && ok "--help reads like a man page" ||
	bad "--help lacks the options"

"$bin" --port 0 --root "$work/none" >/dev/null 2>"$work/e1"; r1=$?
"$bin" --bogus >/dev/null 2>"$work/e2"; r2=$?
"$bin" --idle-timeout 5x >/dev/null 2>"$work/e3"; r3=$?
[ $r1 -eq 1 ] && grep -q "none: no such file" "$work/e1" && [ $r2 -eq 2 ] &&
    [ $r3 -eq 2 ] && grep -q "5x: not a duration" "$work/e3" &&
    ok "a missing root: status 1; a bad option or duration: status 2" ||
    bad "setup errors: $r1 $r2 $r3 $(cat "$work/e1" "$work/e2" "$work/e3")"

www="$work/www"
mkdir -p "$www/sub/deeper" "$www/noindex"
echo "<h1>KRANK</h1>" >"$www/index.html"
echo "<h1>sub</h1>" >"$www/sub/index.html"
echo "body { }" >"$www/style.css"
: >"$www/empty.bin"
head -c 3145728 /dev/urandom >"$www/big.bin"
head -c 33554432 /dev/urandom >"$www/huge.bin"
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

start A "$bin" --root "$www/" --max-conn 200 --header-timeout 3s \
	--idle-timeout 2s
url=http://127.0.0.1:$port_A
code() {	# code [curl args]: the status curl saw
	nsx curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$@"
}

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
[ $n -eq "$nfiles" ] && ok "GET of all $n files (0 B .. 32 MiB): SHA-256 sums match"

nsx curl -sf --max-time 10 -o "$work/got" "$url/" &&
    cmp -s "$work/got" "$www/index.html" && ok "GET / serves index.html" ||
    bad "GET / is not index.html"
nsx curl -sf --max-time 10 -o "$work/got" "$url/sub" &&
    cmp -s "$work/got" "$www/sub/index.html" &&
    ok "GET /sub serves sub/index.html" || bad "GET /sub"
c=$(code "$url/noindex/")
[ "$c" = 404 ] && ok "a directory without index.html: 404" ||
    bad "directory without index gave $c"
t1=$(nsx curl -s --max-time 10 -o /dev/null -w '%{content_type}' "$url/")
t2=$(nsx curl -s --max-time 10 -o /dev/null -w '%{content_type}' "$url/style.css")
t3=$(nsx curl -s --max-time 10 -o /dev/null -w '%{content_type}' "$url/big.bin")
[ "$t1" = text/html ] && [ "$t2" = text/css ] &&
    [ "$t3" = application/octet-stream ] &&
    ok "content types by extension: $t1, $t2, $t3" || bad "types: $t1 $t2 $t3"
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
c3=$(code --path-as-is "$url/%2e%2e/etc/passwd")
c4=$(code --path-as-is "$url/sub/%2E%2e/.%2E/%2e%2e/x")
c5=$(code --path-as-is "$url/sub/deeper/../../a%20b.txt")
[ "$c" = 403 ] && [ "$c2" = 403 ] && [ "$c3" = 403 ] && [ "$c4" = 403 ] &&
    [ "$c5" = 200 ] &&
    ok "\"..\" above the root, plain or %2e%2e: 403; inside it resolves" ||
    bad "dot-dot: $c $c2 $c3 $c4 $c5"
c=$(code --request-target 'index.html' "$url/")
c2=$(code "$url/bad%zzescape")
c3=$(code "$url/index.html%00.txt")
[ "$c" = 400 ] && [ "$c2" = 400 ] && [ "$c3" = 400 ] &&
    ok "target without /, a bad escape, %00: 400" ||
    bad "malformed: $c $c2 $c3"
clients httpd-raw "$port_A" 'GET /index.html\x00 HTTP/1.1\r\nHost: t\r\n\r\n' \
	400 "a raw NUL in the request line"
clients httpd-raw "$port_A" 'GET / HTTP/1.1\r\n\r\n' 400 "HTTP/1.1 without Host"
clients httpd-raw "$port_A" 'GET / HTTP/2.7\r\nHost: t\r\n\r\n' 400 \
	"an unknown HTTP version"
c=$(code -X POST "$url/index.html")
c2=$(code -X DELETE "$url/index.html")
[ "$c" = 405 ] && [ "$c2" = 405 ] && ok "POST, DELETE: 405" ||
    bad "other methods: $c $c2"
long=$(head -c 5000 /dev/zero | tr '\0' a)
mid=$(head -c 3000 /dev/zero | tr '\0' b)
c=$(code "$url/$long")
c2=$(code -H "X-Long: $long" "$url/index.html")
c3=$(code -H "X-1: $mid" -H "X-2: $mid" -H "X-3: $mid" -H "X-4: $mid" \
	-H "X-5: $mid" -H "X-6: $mid" "$url/index.html")
[ "$c" = 414 ] && [ "$c2" = 431 ] && [ "$c3" = 431 ] &&
    ok "5000-byte path: 414; 5000-byte header line, 18000-byte block: 431" ||
    bad "too long: $c $c2 $c3"

nsx curl -sv --max-time 10 -o /dev/null -o /dev/null "$url/empty.bin" \
	"$url/index.html" 2>"$work/ka"
grep -qi "re-using existing connection" "$work/ka" &&
    ok "keep-alive: the second request reused the connection" ||
    bad "keep-alive not used: $(grep -i connect "$work/ka")"

# 100 curls at once: one curl, 100 parallel transfers, each on its own
# connection (--parallel-immediate), files in turn.
set --
i=0
while [ $i -lt 100 ]; do
	f=$(sed -n "$((i % nfiles + 1))p" "$work/list")
	[ "$f" = huge.bin ] && f=index.html
	set -- "$@" -o "$work/par.$i" "$url/$(printf '%s' "$f" | sed 's/ /%20/g')"
	echo "$f" >>"$work/parlist"
	i=$((i + 1))
done
nsx curl -sf --max-time 30 -Z --parallel-max 100 --parallel-immediate "$@" \
	2>"$work/par.err"
i=0
n=0
while IFS= read -r f; do
	[ "$(sha256sum <"$work/par.$i")" = "$(sha256sum <"$www/$f")" ] &&
		n=$((n + 1))
	i=$((i + 1))
done <"$work/parlist"
[ $n -eq 100 ] && ok "100 curls at once: all 100 files intact" ||
    bad "100 curls at once: $n intact $(cat "$work/par.err")"

clients httpd-slow "$port_A" 3 /sub/mid.bin "$www/sub/mid.bin"
clients httpd-noread "$port_A" 2 /huge.bin "$www/huge.bin" /sub/mid.bin \
	"$www/sub/mid.bin"
stop A
[ "$(counter A "header timeouts")" -ge 1 ] &&
    [ "$(counter A "idle timeouts")" -ge 1 ] &&
    ok "counted: header timeouts $(counter A "header timeouts"), idle timeouts $(counter A "idle timeouts")" ||
    bad "timeouts not counted"

start B "$bin" --root "$www" --max-conn 64
clients httpd-idle "$port_B" 64 /index.html
clients httpd-overload "$port_B" 64
stop B
[ "$(counter B evicted)" -ge 1 ] && [ "$(counter B 503)" -ge 1 ] &&
    ok "counted: evicted $(counter B evicted), 503 $(counter B 503)" ||
    bad "eviction or 503 not counted"
exit $fail
