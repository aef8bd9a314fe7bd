#!/bin/sh
# test_ext2_stress - runs the randomised model comparison (test_ext2_stress)
# on fresh mke2fs images, 1 KiB blocks (indirect levels are reached
# quickly) and 4 KiB blocks, the first also under ASan+UBSan, then checks
# each image with e2fsck -fn.  Reproduce a failure with the printed seed:
#   KRANK_STRESS_SEED=N KRANK_STRESS_OPS=M make check TESTS=...
. "${top_srcdir:-.}/tests/rumpdrv/ext2/ext2_lib.sh"
bin="${top_builddir:-.}/tests/rumpdrv/ext2"
seed=${KRANK_STRESS_SEED:-20261123}
nops=${KRANK_STRESS_OPS:-2000}

run() {	# run PROGRAM BLOCKSIZE SEED OPS [IMAGESIZE [INODES]]
	img="$work/stress-$2-$3.img"
	mke2fs -q -F -t ext2 -b "$2" -N "${6:-1024}" "$img" "${5:-24M}" \
		> /dev/null 2>&1
	echo "== $1, $2-byte blocks, seed $3, $4 operations"
	if "$bin/$1" "$img" "$3" "$4"; then
		ok "$1 ($2-byte blocks, seed $3): model and ext2 agree"
	else
		bad "$1 ($2-byte blocks, seed $3)"
	fi
	fsck_clean "$img" "after $4 random operations ($2-byte blocks)"
}

run test_ext2_stress 1024 "$seed" "$nops"
run test_ext2_stress 4096 $((seed + 1)) "$nops"
# The sanitizer run uses the threads bio engine: every completion comes
# later, on another thread (read-ahead still in flight at remount...).
KRANK_BIO=threads run test_ext2_stress_san 1024 $((seed + 2)) $((nops / 4))
# A 400 KiB image fills up: writes stop short and creates fail with
# ENOSPC, the model keeps what was acknowledged, nothing else changes.
run test_ext2_stress 1024 $((seed + 3)) $((nops / 3)) 400K 128
finish
