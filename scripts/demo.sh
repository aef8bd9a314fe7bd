#!/bin/sh
# Install dependencies, build, and show what KRANK does so far:
#  1. the hypercall layer (examples/hypdemo): block I/O through io_uring,
#     frames across an in-process wire;
#  2. KRANK's own ext2 driver and buffer cache (tools/krank-fs) working on
#     an image made by mke2fs, which e2fsck then checks;
#  3. a KRANK node: krank run of examples/deployments/httpd.yaml (boot
#     report, an httpd isolate serving an ext2 disk over a tap to Linux's
#     curl), krankctl ps and ifconfig, and a capture read by tcpdump.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

echo "== hypercall layer"
./examples/hypdemo/hypdemo

if [ -x tools/krank-fs/krank-fs ]; then
	echo "== ext2 through KRANK's file system components"
	img=$(mktemp /tmp/krank-demo.XXXXXX)
	out=$(mktemp /tmp/krank-demo.XXXXXX)
	trap 'rm -f "$img" "$out"' EXIT
	mke2fs -q -F -t ext2 "$img" 16M
	set -x
	tools/krank-fs/krank-fs "$img" mkdir -p /docs
	tools/krank-fs/krank-fs "$img" put README.md /docs/README.md
	tools/krank-fs/krank-fs "$img" ln -s /docs/README.md /readme
	tools/krank-fs/krank-fs "$img" ls -l / /docs
	tools/krank-fs/krank-fs "$img" df
	e2fsck -fn "$img"
	tools/krank-fs/krank-fs "$img" get /readme "$out"
	set +x
	cmp README.md "$out" && echo "README.md came back out through the symlink, byte for byte"
fi

# 3. KRANK itself: a node booted from examples/deployments/httpd.yaml in a
#    network namespace of the demo's own, serving a site from an ext2 disk
#    over a tap to Linux's curl, inspected with krankctl.
if [ "$(id -u)" -ne 0 ]; then
	echo "== (the KRANK node demo needs root: network namespaces and taps)"
	exit 0
fi
echo "== KRANK: krank run examples/deployments/httpd.yaml"
demo=$(mktemp -d /tmp/krank-demo.XXXXXX)
ns=krank-demo-$$
kpid=
cleanup_node() {
	[ -n "$kpid" ] && kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$demo"
}
trap 'cleanup_node; rm -f "${img:-}" "${out:-}"' EXIT
mkdir -p "$demo/site"
printf '<h1>Served by an isolate from an ext2 disk</h1>\n' >"$demo/site/index.html"
cp README.md "$demo/site/README.md"
mke2fs -q -F -t ext2 -d "$demo/site" "$demo/site.img" 8M
core=$(($(nproc) - 1))
sed -e "s|path: site.img|path: $demo/site.img|" \
    -e "s|elf: ../httpd/httpd.kx|elf: $PWD/examples/httpd/httpd.kx|" \
    -e "s|^cores: \[1\]|cores: [$core]|" -e "s|core: 1$|core: $core|" \
    examples/deployments/httpd.yaml >"$demo/httpd.yaml"
echo "control: {socket: $demo/krank.sock}" >>"$demo/httpd.yaml"
krank/krank check "$demo/httpd.yaml"
ip netns add "$ns"
ip netns exec "$ns" krank/krank run "$demo/httpd.yaml" >"$demo/out" 2>"$demo/err" &
kpid=$!
n=0
until grep -q ready "$demo/out" 2>/dev/null; do
	n=$((n + 1))
	if [ $n -gt 100 ] || ! kill -0 "$kpid" 2>/dev/null; then
		cat "$demo/out" "$demo/err"
		exit 1
	fi
	sleep 0.1
done
cat "$demo/out"
ctl() { krank/krankctl -s "$demo/krank.sock" "$@"; }
krank/krankctl -s "$demo/krank.sock" capture krank0 "$demo/cap.pcap" --count 20 &
cpid=$!
set -x
ip netns exec "$ns" curl -s http://10.99.0.2/
ip netns exec "$ns" curl -s -o "$demo/README.back" http://10.99.0.2/README.md
set +x
cmp README.md "$demo/README.back" && echo "README.md came back over HTTP from KRANK, byte for byte"
ip netns exec "$ns" curl -s -o /dev/null http://10.99.0.2/README.md
wait "$cpid" || true
set -x
ctl ps
ctl ifconfig
tcpdump -nn -r "$demo/cap.pcap" 2>/dev/null | head -8
set +x
kill -TERM "$kpid"
wait "$kpid" || true
kpid=
tail -1 "$demo/out"
