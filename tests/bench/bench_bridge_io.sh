#!/bin/sh
# bench_bridge_io - unmodified programs' file I/O and an unmodified web
# server through libkrank-preload.so, against the same on Linux, in one
# network namespace and one run (issue 13's benchmarks; not make check):
#  1. 64-byte reads and writes: dd bs=64 under the preload on a file in
#     KRANK's tmpfs (a KRANK_PATHS prefix) vs dd on a file in /dev/shm,
#     ns per call (dd's read+write pair minus nothing: the other end is
#     /dev/zero or /dev/null on Linux in both runs);
#  2. wrk against nginx (daemon off, master_process off), both under the
#     preload over KRANK's TCP/IP, vs both on Linux's loopback: 612-byte
#     file, 1 and 50 connections (goal of issue 13: >= 1.5x).
#   bench_bridge_io.sh [CALLS] [SECONDS]   (defaults 200000, 5)
. "${top_srcdir:-.}/tests/bridge/lib.sh"
. "${top_srcdir:-.}/tests/bench/point.sh"
"${top_builddir:-.}/tests/bench/bench_machine" --quick || echo "machine: costs not measured (make tests/bench/bench_machine)"
calls=${1:-200000}
secs=${2:-5}
for t in nginx wrk dd; do
	command -v $t >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v $t >/dev/null 2>&1 ||
		skip "$t not installed"
done
cores=$(seq -s ', ' 0 $(($(nproc) - 1)))
# One ring pair per (single-threaded) program: the preload library then
# sends asynchronously (docs/bridge.md).  BENCH_RINGS overrides.
boot_krank "$cores" "${BENCH_RINGS:-1}" 0us
kxp() { ip netns exec "$ns" env LD_LIBRARY_PATH="$bld/.libs" \
	KRANK_PRELOAD="$preload" "$bld/bridge/krank-attach" -s "$ksock" -p /kb "$@"; }
now_ns() { date +%s%N; }

echo "1. dd bs=64 count=$calls: ns per dd read+write pair"
lf=/dev/shm/kb-bench-$$
kxp dd if=/dev/zero of=/kb/f bs=64 count=1 2>/dev/null || kxp mkdir -p /kb
for dir in w r; do
	if [ $dir = w ]; then
		t0=$(now_ns); kxp dd if=/dev/zero of=/kb/f bs=64 count="$calls" 2>"$work/ddk"; t1=$(now_ns)
		dd if=/dev/zero of="$lf" bs=64 count="$calls" 2>"$work/ddl"; t2=$(now_ns)
	else
		t0=$(now_ns); kxp dd if=/kb/f of=/dev/null bs=64 count="$calls" 2>"$work/ddk"; t1=$(now_ns)
		dd if="$lf" of=/dev/null bs=64 count="$calls" 2>"$work/ddl"; t2=$(now_ns)
	fi
	grep -q "^$calls+0 records out" "$work/ddk" || { echo "dd under the preload:"; cat "$work/ddk"; }
	k=$(( (t1 - t0) / calls )) l=$(( (t2 - t1) / calls ))
	name=$([ $dir = w ] && echo write || echo read)
	printf '  64 B %-5s KRANK %6s ns  Linux %6s ns\n' "$name" "$k" "$l"
	point "bridge.dd_${name}64" "$k" "$l" ns lower 0 \
	    "dd bs=64 $name: under the preload on KRANK's tmpfs vs on Linux's /dev/shm (process start included, $calls calls)"
done
rm -f "$lf"

echo "2. wrk against nginx, ${secs} s per point"
mkdir -p "$work/www" "$work/ngx"
head -c 612 /dev/zero | tr '\0' 'k' >"$work/www/index.html"
for side in k l; do
	port=$([ $side = k ] && echo 7480 || echo 7481)
	cat >"$work/ngx-$side.conf" <<EOT
daemon off;
master_process off;
user root;
worker_processes 1;
pid $work/ngx/nginx-$side.pid;
error_log $work/ngx/error-$side.log;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 1000000;
	client_body_temp_path $work/ngx/body-$side;
	proxy_temp_path $work/ngx/proxy-$side;
	fastcgi_temp_path $work/ngx/fastcgi-$side;
	uwsgi_temp_path $work/ngx/uwsgi-$side;
	scgi_temp_path $work/ngx/scgi-$side;
	server { listen 127.0.0.1:$port; root $work/www; }
}
EOT
done
kx nginx -c "$work/ngx-k.conf" -p "$work/ngx" >"$work/nk.out" 2>&1 &
nsx nginx -c "$work/ngx-l.conf" -p "$work/ngx" >"$work/nl.out" 2>&1 &
wait_for 10 sh -c "ip netns exec $ns env LD_LIBRARY_PATH=$bld/.libs \
    KRANK_PRELOAD=$preload $bld/bridge/krank-attach -s $ksock \
    curl -sf http://127.0.0.1:7480/index.html" ||
	{ cat "$work/nk.out"; echo "FAIL: nginx under the preload not ready"; exit 1; }
wait_for 10 nsx curl -sf http://127.0.0.1:7481/index.html ||
	{ cat "$work/nl.out"; echo "FAIL: nginx on Linux not ready"; exit 1; }
rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
for c in 1 50; do
	kx wrk -t 1 -c $c -d "${secs}s" http://127.0.0.1:7480/index.html >"$work/wk" 2>&1
	nsx wrk -t 1 -c $c -d "${secs}s" http://127.0.0.1:7481/index.html >"$work/wl" 2>&1
	k=$(rps "$work/wk") l=$(rps "$work/wl")
	printf '  %2s connections: KRANK %10s req/s  Linux %10s req/s\n' $c "${k:-0}" "${l:-0}"
	point "bridge.nginx_c$c" "${k:-0}" "${l:-0}" req/s higher 1.5 \
	    "wrk -c $c against nginx, 612 B: both under the preload over KRANK vs both on Linux loopback"
done
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
