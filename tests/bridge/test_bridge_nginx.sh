#!/bin/sh
# Unmodified Debian nginx (daemon off, master_process off) serves a file
# from a temporary directory on KRANK's TCP/IP stack through
# libkrank-preload.so, and curl under the preload gets it, as does a
# plain Linux curl through a tap; krankctl netstat shows the port,
# Linux's ss does not (issue 13's nginx proof).
. "${top_srcdir:-.}/tests/bridge/lib.sh"
for t in nginx curl; do
	command -v $t >/dev/null 2>&1 || skip "$t not installed (nginx-light, curl)"
done
nginx=$(command -v nginx)
port=7480
# KRANK on every CPU without spinning: on a small machine shared with
# other work, spinning ring servers on one core starve their clients.
boot_krank "$(seq -s ', ' 0 $(($(nproc) - 1)))" 2 0us yes
mkdir -p "$work/www" "$work/ngx"
head -c 100000 /dev/urandom | base64 >"$work/www/big.txt"
echo "hello from nginx on KRANK" >"$work/www/index.html"
cat >"$work/nginx.conf" <<EOT
daemon off;
master_process off;
user root;
worker_processes 1;
pid $work/ngx/nginx.pid;
error_log $work/ngx/error.log info;
events { worker_connections 64; }
http {
	access_log $work/ngx/access.log;
	client_body_temp_path $work/ngx/body;
	proxy_temp_path $work/ngx/proxy;
	fastcgi_temp_path $work/ngx/fastcgi;
	uwsgi_temp_path $work/ngx/uwsgi;
	scgi_temp_path $work/ngx/scgi;
	server {
		listen 127.0.0.1:$port;
		listen 10.77.0.2:$port;
		root $work/www;
	}
}
EOT
kx "$nginx" -c "$work/nginx.conf" -p "$work/ngx" >"$work/nginx.out" 2>&1 &
npid=$!
if wait_for 10 sh -c "ip netns exec $ns env LD_LIBRARY_PATH=$bld/.libs \
    KRANK_PRELOAD=$preload $bld/bridge/krank-attach -s $ksock \
    curl -sf http://127.0.0.1:$port/index.html"; then
	ok "curl under the preload reaches nginx under the preload"
else
	bad "nginx did not answer in 10 s:"; cat "$work/nginx.out" "$work/ngx/error.log"
	exit 1
fi
v=$(kx curl -sf http://127.0.0.1:$port/index.html)
[ "$v" = "hello from nginx on KRANK" ] && ok "GET /index.html: \"$v\"" ||
	bad "GET /index.html: $v"
kx curl -sf -o "$work/got.txt" http://127.0.0.1:$port/big.txt &&
	cmp -s "$work/got.txt" "$work/www/big.txt" &&
	ok "GET /big.txt: $(wc -c <"$work/got.txt") bytes, identical (sendfile from a Linux file to a KRANK socket)" ||
	bad "GET /big.txt differs or failed"
# A plain Linux curl (no preload) in the namespace, through the tap.
nsx curl -sf --max-time 10 -o "$work/got2.txt" http://10.77.0.2:$port/big.txt &&
	cmp -s "$work/got2.txt" "$work/www/big.txt" &&
	ok "plain Linux curl through the tap: /big.txt identical" ||
	bad "plain Linux curl through the tap failed or differs"
code=$(kx curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/missing)
[ "$code" = 404 ] && ok "GET /missing: 404" || bad "GET /missing: $code"
"$krankctl" -s "$ksock" netstat >"$work/netstat" 2>&1
grep -q ":$port" "$work/netstat" && ok "krankctl netstat shows :$port" ||
	{ bad "krankctl netstat lacks :$port:"; cat "$work/netstat"; }
nsx ss -tlnH >"$work/ss"
grep -q ":$port" "$work/ss" && { bad "Linux listens on :$port"; cat "$work/ss"; } ||
	ok "Linux's ss -tln shows nothing listening on :$port"
kill $npid 2>/dev/null
wait $npid 2>/dev/null
kill -0 "$kpid" 2>/dev/null && ok "krank still runs" || bad "krank died"
[ $fail -eq 0 ] && echo PASS || echo FAIL
exit $fail
