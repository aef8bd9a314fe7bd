#!/bin/sh
# System calls of a Linux process over KRANK's queues against Linux's, in
# one run (issue 12): krank run boots a deployment on the last core with
# a tmpfs at / and an ext2 image at /e2; bench_krq_io, pinned to core 0,
# attaches over the control socket and measures the null call (unbatched
# and 32 per bell) against getppid, the bare cross-core cache-line round
# trip between the two cores, and 64 B / 4 KiB pread and pwrite on
# KRANK's tmpfs and ext2 against Linux's on /dev/shm and on an ext2 image
# loop-mounted here (page cache warm: the files are written first and
# every call hits the same 4 KiB).
# Needs root (mount).  From the build tree:
#   make tests/bench/bench_krq_io && sh tests/bench/bench_krq_io.sh \
#       [REPEATS [CALLS]]
# KRQ_SPIN (default 50us) sets the queues' spin.
set -eu
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# The build tree: $top_builddir, else the current directory when it holds
# the program (a VPATH build), else the source tree.
if [ -n "${top_builddir:-}" ]; then bld=$top_builddir
elif [ -x tests/bench/bench_krq_io ]; then bld=$(pwd)
else bld=$src; fi
reps=${1:-51}
calls=${2:-2000}
spin=${KRQ_SPIN:-50us}
bench="$bld/tests/bench/bench_krq_io"
krank="$bld/krank/krank"

[ "$(id -u)" -eq 0 ] || { echo "bench_krq_io.sh: needs root (it loop-mounts an ext2 image)"; exit 77; }
ncpu=$(nproc)
[ "$ncpu" -ge 2 ] || { echo "bench_krq_io.sh: needs two cores (client and KRANK apart)"; exit 77; }
[ -x "$bench" ] || { echo "bench_krq_io.sh: $bench missing: make tests/bench/bench_krq_io"; exit 1; }
command -v mke2fs >/dev/null || { echo "bench_krq_io.sh: mke2fs missing (e2fsprogs)"; exit 77; }

core=$((ncpu - 1))
client=0
work=$(mktemp -d)
shm=/dev/shm/bench_krq_io.$$
kpid=
mounted=
cleanup() {
	[ -n "$kpid" ] && kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
	[ -n "$mounted" ] && umount "$work/mnt"
	rm -f "$shm"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mke2fs -q -F -t ext2 "$work/krank.img" 32M >/dev/null 2>&1
mke2fs -q -F -t ext2 "$work/linux.img" 32M >/dev/null 2>&1
mkdir "$work/mnt"
mount -o loop "$work/linux.img" "$work/mnt"
mounted=1

cat >"$work/io.yaml" <<EOT
name: bench-krq-io
cores: [$core]
components: [vfs, tmpfs, ext2]
tmpfs:
  - mount: /
    size: 32M
disks:
  - {path: $work/krank.img, fs: ext2, mount: /e2}
control: {socket: $work/k.sock}
queues: {spin: $spin, slots: 64, area: 4M, rings: 1}
EOT
"$krank" run "$work/io.yaml" >"$work/out" 2>"$work/err" &
kpid=$!
# Poll for the boot report's last line (10 s deadline).
i=0
until grep -q "ready in" "$work/out"; do
	kill -0 "$kpid" 2>/dev/null || { cat "$work/out" "$work/err"; echo "bench_krq_io.sh: krank exited"; exit 1; }
	i=$((i + 1)); [ $i -lt 200 ] || { cat "$work/out" "$work/err"; echo "bench_krq_io.sh: no ready line"; exit 1; }
	sleep 0.05
done
echo "== KRANK: $(grep -o 'queues:.*' "$work/out")"
echo "== KRANK: $(grep -o 'ready in.*' "$work/out")"
echo "== KRANK on core $core (tmpfs /, ext2 /e2 from a 32 MiB image); client pinned to core $client"
echo "== Linux: /dev/shm (tmpfs) and an ext2 image loop-mounted at $work/mnt; page cache warm"
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
taskset -c "$client" "$bench" "$work/k.sock" "$core" /bench_krq_io /e2/bench_krq_io \
	"$shm" "$work/mnt/bench_krq_io" "$reps" "$calls"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
kill -0 "$kpid" 2>/dev/null || { cat "$work/err"; echo "bench_krq_io.sh: krank died"; exit 1; }
