#!/bin/sh
# examples/httpd as a KRANK isolate behind a tap against nginx on Linux
# behind a veth, both driven by wrk from one Linux network namespace over
# Linux's own TCP (issue 16: >= 1.5x requests/s for a 612-byte file with 1
# and 50 connections, >= 1x for a 1 MiB file).  Same run, the same files,
# one core each: KRANK's isolate and service threads on the last core,
# nginx with one worker pinned there too; wrk on the other cores.  CPU
# per request is the server's CPU time (krank's whole process, or nginx's
# worker) over the requests served.  Needs root, wrk and nginx.
#   make examples/httpd/httpd.kx krank/krank &&
#   sh tests/bench/bench_httpd.sh [SECONDS]
# BENCH_HTTPD_POINTS="small1 small50" runs only the points named (small1,
# small50, big1, big50); all four by default.
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${top_builddir:-$src}
secs=${1:-5}
. "$src/tests/bench/point.sh"
"${top_builddir:-.}/tests/bench/bench_machine" --quick || echo "machine: costs not measured (make tests/bench/bench_machine)"
for t in wrk nginx ip; do
	command -v $t >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v $t >/dev/null 2>&1 ||
		{ echo "bench_httpd: needs $t"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench_httpd: needs root"; exit 77; }
work=$(mktemp -d)
cli=kbh-cli-$$ srv=kbh-srv-$$
kpid= npid=
cleanup() {
	[ -n "$kpid" ] && kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
	[ -n "$npid" ] && kill "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
	ip netns del "$cli" 2>/dev/null
	ip netns del "$srv" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
core=$(($(nproc) - 1))
others=0
[ "$core" -gt 0 ] && others=0-$((core - 1))

# The site: nginx's own 612-byte welcome page size, and 1 MiB; readable
# by nginx's worker (www-data).
chmod 755 "$work"
mkdir -p "$work/www"
head -c 612 /dev/zero | tr '\0' 'k' >"$work/www/index.html"
head -c 1048576 /dev/urandom >"$work/www/big.bin"
PATH=$PATH:/sbin:/usr/sbin mke2fs -q -F -t ext2 -d "$work/www" "$work/site.img" 8M ||
	{ echo "bench_httpd: mke2fs failed"; exit 1; }

ip netns add "$cli" && ip netns add "$srv" || exit 1
ip -n "$cli" link set lo up
ip -n "$srv" link set lo up
# nginx behind a veth pair: client 10.98.1.1, server 10.98.1.2.
ip link add kbh0 netns "$cli" type veth peer name kbh1 netns "$srv"
ip -n "$cli" addr add 10.98.1.1/24 dev kbh0
ip -n "$srv" addr add 10.98.1.2/24 dev kbh1
ip -n "$cli" link set kbh0 up
ip -n "$srv" link set kbh1 up

cat >"$work/nginx.conf" <<EOT
daemon off;
worker_processes 1;
worker_cpu_affinity $(printf '%s' "1$(printf '%*s' "$core" '' | tr ' ' 0)");
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	server {
		listen 10.98.1.2:80;
		root $work/www;
	}
}
EOT
ip netns exec "$srv" nginx -c "$work/nginx.conf" -p "$work" 2>"$work/nginx.start" &
npid=$!

# KRANK: the tap krank0 in the client's namespace (KRANK 10.98.2.2).
cat >"$work/k.yaml" <<EOT
name: bench-httpd
cores: [$core]
memory: {size: 256M, mlock: no}
components: [vfs, tmpfs, ext2, net, ether, virtif, socket, inet]
interfaces:
  - {name: krank0, backend: tap, device: kbhtap, address: 10.98.2.2/24,
     host_address: 10.98.2.1/24}
disks:
  - {path: $work/site.img, fs: ext2, mount: /www, readonly: yes}
isolates:
  - {name: httpd, elf: $bld/examples/httpd/httpd.kx,
     argv: [httpd, --root, /www, --port, "80", --max-conn, "1000"],
     core: $core, heap: 64M, fds: 2048}
control: {socket: $work/k.sock}
EOT
ip netns exec "$cli" "$bld/krank/krank" run "$work/k.yaml" >"$work/k.out" 2>&1 &
kpid=$!
i=0
until grep -q "ready in" "$work/k.out" 2>/dev/null; do
	kill -0 "$kpid" 2>/dev/null || { cat "$work/k.out"; exit 1; }
	i=$((i + 1)); [ $i -lt 400 ] || { echo "bench_httpd: krank not ready"; exit 1; }
	sleep 0.05
done
# Both answer before we measure (deadline 10 s).
for u in http://10.98.2.2/index.html http://10.98.1.2/index.html; do
	i=0
	until ip netns exec "$cli" curl -sf -o /dev/null --max-time 1 "$u"; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "bench_httpd: $u does not answer"; cat "$work/nginx.err" "$work/k.out" 2>/dev/null; exit 1; }
		sleep 0.1
	done
done
nworker=$(pgrep -P "$npid" nginx | head -1)
[ -n "$nworker" ] || nworker=$npid

# cpu_us PID: user+system CPU time of the process, in microseconds.
tick=$(getconf CLK_TCK)
cpu_us() {
	awk -v t="$tick" '{ sub(/.*\) /, ""); print ($12 + $13) * 1000000 / t }' "/proc/$1/stat"
}
# run URL CONNS PID: requests/s and server CPU microseconds per request.
run() {
	c0=$(cpu_us "$3")
	ip netns exec "$cli" taskset -c "$others" wrk -t 1 -c "$2" -d "${secs}s" \
		"$1" >"$work/wrk.out" 2>&1
	c1=$(cpu_us "$3")
	rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$work/wrk.out")
	n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$work/wrk.out")
	errs=$(grep -c "Non-2xx\|Socket errors" "$work/wrk.out")
	[ "$errs" -eq 0 ] || { echo "bench_httpd: wrk saw errors on $1:"; cat "$work/wrk.out"; }
	cpr=$(awk -v a="$c0" -v b="$c1" -v n="${n:-0}" 'BEGIN { printf "%.1f", (n > 0 ? (b - a) / n : 0) }')
	echo "${rps:-0} $cpr"
}
echo "bench_httpd: wrk from a Linux namespace over Linux's TCP, ${secs} s per point;"
echo "  KRANK: examples/httpd isolate on core $core behind a tap (offloads on)"
echo "  Linux: nginx, one worker on core $core, behind a veth"
printf '%-26s %12s %12s %8s %14s %14s\n' point "KRANK req/s" "nginx req/s" ratio "KRANK us CPU" "nginx us CPU"
for spec in "small1 index.html 1 1.5" "small50 index.html 50 1.5" "big1 big.bin 1 1" "big50 big.bin 50 1"; do
	set -- $spec
	case " ${BENCH_HTTPD_POINTS:-$1} " in *" $1 "*) ;; *) continue ;; esac
	k=$(run "http://10.98.2.2/$2" "$3" "$kpid")
	l=$(run "http://10.98.1.2/$2" "$3" "$nworker")
	kr=${k% *} kc=${k#* } lr=${l% *} lc=${l#* }
	ratio=$(awk -v a="$kr" -v b="$lr" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	printf '%-26s %12s %12s %7sx %14s %14s\n' "$2, $3 conn" "$kr" "$lr" "$ratio" "$kc" "$lc"
	point "httpd.$1" "$kr" "$lr" req/s higher "$4" \
		"wrk, $2 over $3 keep-alive connection(s): examples/httpd behind a tap vs nginx behind a veth"
done
