#!/bin/sh
# bench_fio - fio-style random 4 KiB I/O on one backing file, in one run
# (issue 15's I/O-heavy workload; not make check; needs root):
#  1. the file formatted ext2 (mke2fs, 4 KiB blocks); tests/bench/bench_fio
#     boots KRANK's vfs+ext2 in its own process, mounts the image
#     "direct,cache=1" (the image opened O_DIRECT through io_uring, under
#     ext2's 1 MiB write-back buffer cache) and calls krs_pread/krs_pwrite;
#  2. the same file formatted ext4 (no lazy init), attached to a loop
#     device with --direct-io=on and mounted; bench_fio's C loop calls
#     pread/pwrite on a file opened O_DIRECT, then fio (psync, direct=1)
#     runs the same workloads on that file, as a user would measure it;
#  3. the C loop and fio on a file of the host's own file system beside
#     the backing file (O_DIRECT): what a program would do without KRANK,
#     and the fairer baseline where the loop device's direct-I/O path is
#     slow (it was, at depth 1, on the 6.18 VM this was written on).
# Same file size, same offsets (fixed seeds), depth 1 per thread; the
# threaded workload is JOBS threads at depth 1 each (KRANK's krs_* calls
# are synchronous: threads are its only way to more I/O in flight).
# KRANK runs twice, with its default bio engine (io_uring) and with host
# threads (KRANK_BIO=threads).
#   bench_fio.sh [SECONDS [FILE_MIB [JOBS]]]   (defaults 5, 256, 4)
# KRANK_BENCH_DIR: where the backing file goes (default /var/tmp; must
# accept O_DIRECT, so not a tmpfs).
set -u
. "${top_srcdir:-.}/tests/bench/point.sh"
PATH=$PATH:/sbin:/usr/sbin
secs=${1:-5}
mib=${2:-256}
jobs=${3:-4}
prog=${top_builddir:-.}/tests/bench/bench_fio
dir=${KRANK_BENCH_DIR:-/var/tmp}

skip() { echo "bench_fio: skipped: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (losetup, mount)"
for t in mke2fs mkfs.ext4 e2fsck losetup mount umount; do
	command -v $t >/dev/null 2>&1 || skip "$t not installed"
done
[ -x "$prog" ] || { echo "bench_fio: $prog not built (make tests/bench/bench_fio)" >&2; exit 1; }
fstype=$(findmnt -n -o FSTYPE -T "$dir" 2>/dev/null || stat -f -c %T "$dir")
case $fstype in
tmpfs|ramfs) echo "bench_fio: $dir is $fstype, which has no O_DIRECT: set KRANK_BENCH_DIR" >&2; exit 1 ;;
esac
havefio=yes
command -v fio >/dev/null 2>&1 && command -v jq >/dev/null 2>&1 || havefio=no

work=$(mktemp -d "$dir/krank-bench-fio.XXXXXX") || exit 1
img=$work/backing.img
mnt=$work/mnt
loop=
cleanup() {
	mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
	[ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

imgmib=$((mib * 5 / 4 + 64))
echo "bench_fio: backing file $img ($imgmib MiB on $fstype, $(df --output=source "$dir" | tail -1)),"
echo "  a $mib MiB file in it, 4 KiB random I/O, $secs s per workload, threaded reads: $jobs jobs"
echo "  machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) (shared with other work: both sides suffer it)"

# 1. KRANK: ext2 through krs_*, twice on a fresh ext2 each time: with the
# default bio engine (io_uring) and with host threads (KRANK_BIO=threads),
# because on an ext4 host io_uring's O_DIRECT writes were the slow part.
kdirect="image O_DIRECT"
run_krank() {
	side=$1 engine=$2
	truncate -s 0 "$img" && truncate -s ${imgmib}M "$img"
	mke2fs -q -F -t ext2 -b 4096 "$img" >/dev/null 2>&1 || { echo "bench_fio: mke2fs failed" >&2; exit 1; }
	echo
	echo "1. KRANK (bench_fio krank, KRANK_BIO=$engine)"
	if ! KRANK_BIO=$engine "$prog" krank "$img" "$mib" "$secs" "$jobs" >"$work/$side.raw" 2>"$work/$side.err"; then
		cat "$work/$side.raw" "$work/$side.err" >&2
		echo "bench_fio: the KRANK side ($engine) failed" >&2
		exit 1
	fi
	sed "s/^@fio side=krank /@fio side=$side /" "$work/$side.raw" >"$work/$side.out"
	cat "$work/$side.out"
	if grep -q 'direct I/O refused' "$work/$side.err"; then
		kdirect="image CACHED BY THE HOST (O_DIRECT refused)"
		echo "  NOTE: KRANK's ext2 could not open the image O_DIRECT: through the host's page cache"
	fi
	if e2fsck -fn "$img" >"$work/fsck.out" 2>&1; then
		echo "  e2fsck -fn: clean after the workloads"
	else
		echo "  e2fsck -fn found problems after KRANK's workloads:"
		sed 's/^/    /' "$work/fsck.out" | head -20
		exit 1
	fi
}
run_krank krank io_uring
run_krank krank-thr threads

# run_c SIDE PATH: bench_fio's O_DIRECT loop on PATH, its lines as SIDE.
run_c() {
	if ! "$prog" linux "$2" "$mib" "$secs" "$jobs" >"$work/$1.raw" 2>"$work/$1.err"; then
		cat "$work/$1.raw" "$work/$1.err" >&2
		echo "bench_fio: the Linux side ($1) failed" >&2
		exit 1
	fi
	sed "s/^@fio side=linux /@fio side=$1 /" "$work/$1.raw" >"$work/$1.out"
	cat "$work/$1.out"
}
# run_fio SIDE PATH: the same workloads with fio (psync, direct=1).
run_fio() {
	[ $havefio = yes ] || return 0
	echo "  fio $(fio --version) (psync, direct=1, same file):"
	: >"$work/$1.out"
	while IFS='|' read -r wl args; do
		[ -n "$wl" ] || continue
		rt=$secs
		[ "$wl" = randwrite-fsync ] && rt=$(awk -v s="$secs" 'BEGIN { print s / 2 }')
		# shellcheck disable=SC2086
		if ! fio --name="$wl" --filename="$2" --size=${mib}M --bs=4k \
		    --direct=1 --ioengine=psync --iodepth=1 --time_based \
		    --runtime="$rt" --randrepeat=0 --norandommap --thread \
		    --group_reporting --output-format=json $args >"$work/fio.json" 2>"$work/fio.err"; then
			echo "  fio $wl failed:"; sed 's/^/    /' "$work/fio.err" | head -5
			continue
		fi
		# Reads' completion latency percentiles (writes' for write-only
		# workloads); psync's completion latency is the whole call.
		jq -r --arg wl "$wl" --arg side "$1" '.jobs[0] as $j |
			(if $j.read.io_bytes > 0 then $j.read else $j.write end) as $d |
			"@fio side=\($side) wl=\($wl) iops=\($j.read.iops + $j.write.iops) p50_us=\($d.clat_ns.percentile["50.000000"] / 1000) p99_us=\($d.clat_ns.percentile["99.000000"] / 1000) p999_us=\($d.clat_ns.percentile["99.900000"] / 1000)"' \
			"$work/fio.json" >>"$work/$1.out"
	done <<EOT
randread|--rw=randread --numjobs=1
randwrite|--rw=randwrite --numjobs=1
randrw70|--rw=randrw --rwmixread=70 --numjobs=1
randwrite-fsync|--rw=randwrite --fsync=1 --numjobs=1
randread-jobs|--rw=randread --numjobs=$jobs
EOT
	awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "  %-16s IOPS %9.0f  p50 %7.1f us  p99 %7.1f us  p99.9 %7.1f us\n",
		    v["wl"], v["iops"], v["p50_us"], v["p99_us"], v["p999_us"] }' "$work/$1.out"
}

# 2. Linux: ext4 on a direct-I/O loop device over the same file.
mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=0,lazy_journal_init=0 "$img" >/dev/null 2>&1 ||
	{ echo "bench_fio: mkfs.ext4 failed" >&2; exit 1; }
loop=$(losetup --find --show --direct-io=on "$img") || { echo "bench_fio: losetup failed" >&2; exit 1; }
ldio=$(cat "/sys/block/$(basename "$loop")/loop/dio" 2>/dev/null || echo 0)
ldirect="loop direct-io"
[ "$ldio" = 1 ] || { ldirect="loop BUFFERED (direct-io refused)";
	echo "  NOTE: $loop does not do direct I/O: the loop device goes through the host's page cache"; }
mkdir "$mnt"
mount -t ext4 "$loop" "$mnt" || { echo "bench_fio: mount $loop failed" >&2; exit 1; }
echo
echo "2. Linux: ext4 on $loop ($ldirect) over the same backing file (bench_fio linux)"
run_c loop "$mnt/data"
run_fio fio-loop "$mnt/data"
umount "$mnt"
losetup -d "$loop" && loop=

# 3. Linux: the host's own file system, where the backing file lives.
echo
echo "3. Linux: a file on the host's $fstype beside the backing file (bench_fio linux)"
run_c host "$work/hostfile"
run_fio fio-host "$work/hostfile"
rm -f "$work/hostfile"
[ $havefio = yes ] || echo "  fio: skipped (install fio and jq: scripts/install-deps.sh --bench)"

# The tables: KRANK against both Linux baselines of the same program (the
# same offsets), fio's figures beside them.
echo
echo "KRANK: krs_pread/krs_pwrite, ext2 mounted \"direct,cache=1\" ($kdirect), in bench_fio's process;"
echo "  KRANK: bio through io_uring (the default); KRANKthr: through host threads (KRANK_BIO=threads)."
echo "  Reads miss ext2's 1 MiB cache (the file is $mib MiB) and go to the image O_DIRECT;"
echo "  writes are WRITE-BACK: a write copies into the cache and returns; the dirty"
echo "  blocks reach the image when evicted, inside some later call (its latency)."
echo "host: pread/pwrite O_DIRECT on a file of the host's $fstype, same disk: what a"
echo "  Linux program would do without KRANK (the fair baseline)."
echo "loop: pread/pwrite O_DIRECT on ext4 mounted from the same backing file through"
echo "  a loop device ($ldirect): the issue's ext4-on-the-same-file setup."
echo "Not spinning on either side; all block in the host for the disk."
echo "Ratios: KRANK IOPS / Linux IOPS (above 1: KRANK better); ratiothr: KRANKthr's."
echo
cat "$work/krank.out" "$work/krank-thr.out" "$work/host.out" "$work/loop.out" \
    "$work/fio-host.out" "$work/fio-loop.out" 2>/dev/null | grep '^@fio ' >"$work/all"
awk '
	{ delete v
	  for (i = 2; i <= NF; i++) { p = index($i, "="); v[substr($i, 1, p - 1)] = substr($i, p + 1) }
	  k = v["side"] SUBSEP v["wl"]
	  iops[k] = v["iops"]; p50[k] = v["p50_us"]; p99[k] = v["p99_us"]; p999[k] = v["p999_us"]
	  if (v["side"] == "krank") { order[++n] = v["wl"]; jobs[v["wl"]] = v["jobs"] } }
	function f(s, w) { return (s SUBSEP w) in iops ? sprintf("%.0f", iops[s SUBSEP w]) : "-" }
	function r(k, s, w) { return iops[s SUBSEP w] > 0 && (k SUBSEP w) in iops ? sprintf("%.2fx", iops[k SUBSEP w] / iops[s SUBSEP w]) : "-" }
	function l(s, w) { return (s SUBSEP w) in iops ? sprintf("%.0f/%.0f/%.0f", p50[s SUBSEP w], p99[s SUBSEP w], p999[s SUBSEP w]) : "-" }
	END {
	  printf "IOPS             jobs |   KRANK KRANKthr |    host   ratio ratiothr |    loop   ratio | fio host fio loop\n"
	  for (i = 1; i <= n; i++) { w = order[i]
		printf "%-16s %5d | %7s %8s | %7s %7s %8s | %7s %7s | %8s %8s\n", w, jobs[w], f("krank", w),
		    f("krank-thr", w), f("host", w), r("krank", "host", w), r("krank-thr", "host", w),
		    f("loop", w), r("krank", "loop", w), f("fio-host", w), f("fio-loop", w) }
	  printf "\nlatency us p50/p99/p99.9 | %-18s | %-18s | %-18s | %-18s | %-18s\n", "KRANK", "KRANK threads", "host", "loop", "fio host"
	  for (i = 1; i <= n; i++) { w = order[i]
		printf "%-25s | %-18s | %-18s | %-18s | %-18s | %-18s\n", w, l("krank", w), l("krank-thr", w),
		    l("host", w), l("loop", w), l("fio-host", w) }
	}' "$work/all"
echo

# @point lines: against the host file system (the fair baseline) IOPS,
# p50 and p99; against ext4 on the loop device IOPS.
awk '{ delete v
	for (i = 2; i <= NF; i++) { p = index($i, "="); v[substr($i, 1, p - 1)] = substr($i, p + 1) }
	print v["side"], v["wl"], v["jobs"] + 0, v["iops"], v["p50_us"], v["p99_us"], v["p999_us"] }' \
	"$work/all" >"$work/pairs"
while read -r side wl j iops p50 p99 p999; do
	[ "$side" = krank ] || continue
	desc="$wl 4 KiB, $j thread(s) QD1, $mib MiB file: KRANK ext2 direct,cache=1"
	set -- $(awk -v w="$wl" '$1 == "host" && $2 == w { print $4, $5, $6 }' "$work/pairs")
	if [ $# -eq 3 ]; then
		what="$desc (io_uring) vs O_DIRECT on the host's $fstype"
		point "fio.$wl.iops" "$iops" "$1" IOPS higher 0 "$what"
		point "fio.$wl.p50" "$p50" "$2" us lower 0 "$what"
		point "fio.$wl.p99" "$p99" "$3" us lower 0 "$what"
	fi
	set -- $(awk -v w="$wl" '$1 == "krank-thr" && $2 == w { print $4 }' "$work/pairs") \
	    $(awk -v w="$wl" '$1 == "host" && $2 == w { print $4 }' "$work/pairs")
	[ $# -eq 2 ] && point "fio-thr.$wl.iops" "$1" "$2" IOPS higher 0 \
	    "$desc (KRANK_BIO=threads) vs O_DIRECT on the host's $fstype"
	set -- $(awk -v w="$wl" '$1 == "loop" && $2 == w { print $4 }' "$work/pairs")
	[ $# -eq 1 ] && point "fio-loop.$wl.iops" "$iops" "$1" IOPS higher 0 \
	    "$desc (io_uring) vs O_DIRECT on ext4 on a direct-io loop on the same backing file"
done <"$work/pairs"
