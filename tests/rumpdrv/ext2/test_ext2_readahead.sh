#!/bin/sh
# test_ext2_readahead - runs test_ext2_readahead (cold sequential reads go
# to the disk in few merged read-ahead bios; counts, not times) on a fresh
# 4 KiB-block image in /var/tmp (a disk, where O_DIRECT works; /tmp may be
# a tmpfs), with the default bio engine and with the threads engine, then
# checks the image with e2fsck -fn.
. "${top_srcdir:-.}/tests/rumpdrv/ext2/ext2_lib.sh"
bin="${top_builddir:-.}/tests/rumpdrv/ext2"
dir=$(mktemp -d /var/tmp/krank-test-ra.XXXXXX) || dir=$(mktemp -d)
trap 'rm -rf "$work" "$dir"' EXIT

for engine in default threads; do
	img="$dir/ra-$engine.img"
	mke2fs -q -F -t ext2 -b 4096 "$img" 16M > /dev/null 2>&1
	echo "== bio engine: $engine"
	if [ $engine = threads ]; then
		KRANK_BIO=threads "$bin/test_ext2_readahead" "$img"
	else
		"$bin/test_ext2_readahead" "$img"
	fi
	if [ $? -eq 0 ]; then
		ok "cold sequential read merged and correct ($engine engine)"
	else
		bad "test_ext2_readahead ($engine engine)"
	fi
	fsck_clean "$img" "after the read-ahead test ($engine engine)"
done
finish
