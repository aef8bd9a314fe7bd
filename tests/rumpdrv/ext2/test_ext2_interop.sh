#!/bin/sh
# test_ext2_interop - KRANK's ext2 driver (through krank-fs) against
# e2fsprogs: images made by mke2fs -d (1 KiB and 4 KiB blocks, with and
# without sparse_super and dir_index, an htree directory made by e2fsck -D)
# read back byte for byte; then a write workload (put, overwrite, mkdir,
# mv, ln, ln -s, rm, rmdir, cp, rename over a file, entries added to and
# removed from the indexed directory) after which e2fsck -fn finds the
# image clean and debugfs returns the same bytes for every file written.
# A revision-0 image (no features) gets a smaller workload.
. "${top_srcdir:-.}/tests/rumpdrv/ext2/ext2_lib.sh"

# Deterministic pseudo-random bytes: gen SEED SIZE
gen() { head -c "$2" /dev/zero | openssl enc -aes-128-ctr -nosalt \
	-pass "pass:$1" -pbkdf2 2>/dev/null || \
	awk -v s="$1" -v n="$2" 'BEGIN{srand(s); for(i=0;i<n;i++) printf "%c", 65+int(rand()*26)}'; }

populate() {	# populate DIR BLOCKSIZE
	d=$1
	bs=$2
	mkdir -p "$d/sub/deeper" "$d/many"
	printf 'hello, ext2\n' > "$d/small.txt"
	: > "$d/empty"
	gen 1 $((bs - 1)) > "$d/almost_block"
	gen 2 $((12 * bs)) > "$d/direct_full"
	gen 3 $((12 * bs + 1)) > "$d/first_indirect"
	gen 4 $(((12 + bs / 4) * bs + 7)) > "$d/double_indirect"
	gen 5 200000 > "$d/sub/deeper/file"
	# Sparse: a hole, then data past the start of the triple-indirect
	# range for 1 KiB blocks (and far into double-indirect for 4 KiB).
	if [ "$bs" -eq 1024 ]; then off=70000000; else off=300000000; fi
	printf 'tail of a sparse file' | dd of="$d/sparse" bs=1 seek=$off \
		conv=notrunc 2>/dev/null
	ln -s small.txt "$d/fastlink"
	ln -s "sub/deeper/../deeper/file-with-a-long-name-$(printf '%060d' 0)" \
		"$d/slowlink"
	ln "$d/small.txt" "$d/sub/hardlink"
	i=0
	while [ $i -lt 300 ]; do
		printf '%d\n' $i > "$d/many/entry-with-a-longish-name-$i"
		i=$((i + 1))
	done
}

run_config() {	# run_config NAME BLOCKSIZE FEATURES
	name=$1
	bs=$2
	feat=$3
	src="$work/src-$name"
	img="$work/$name.img"
	mkdir -p "$src"
	populate "$src" "$bs"
	if ! mke2fs -q -F -t ext2 -b "$bs" -O "$feat" -N 512 -d "$src" "$img" \
	    16M > "$work/mkfs.out" 2>&1; then
		bad "$name: mke2fs"
		cat "$work/mkfs.out"
		return
	fi
	case $feat in *^dir_index*) idx=0 ;; *) idx=1 ;; esac
	if [ $idx -eq 1 ]; then
		e2fsck -fyD "$img" > /dev/null 2>&1
		if debugfs -R "stat /many" "$img" 2>/dev/null | grep -q 'Flags: 0x1000'; then
			ok "$name: /many is htree-indexed (e2fsck -D)"
		else
			bad "$name: e2fsck -D did not index /many"
		fi
	fi
	# Read everything back.
	for f in small.txt empty almost_block direct_full first_indirect \
	    double_indirect sub/deeper/file sparse sub/hardlink; do
		"$KFS" "$img" get "/$f" "$work/out" &&
		    cmp -s "$work/out" "$src/$f" &&
		    ok "$name: read /$f ($(wc -c < "$src/$f") bytes)" ||
		    bad "$name: read /$f"
	done
	check "$name: fast symlink target" \
	    test "$("$KFS" "$img" ls -l /fastlink | sed 's/.* -> //')" = small.txt
	check "$name: slow symlink target" \
	    test "$("$KFS" "$img" ls -l /slowlink | sed 's/.* -> //')" = \
	    "$(readlink "$src/slowlink")"
	check "$name: link count of a hard-linked file is 2" \
	    sh -c "'$KFS' '$img' stat /small.txt | grep -q 'Links: 2'"
	"$KFS" "$img" ls /many > "$work/ls.kfs"
	ls "$src/many" | LC_ALL=C sort > "$work/ls.host"
	LC_ALL=C sort "$work/ls.kfs" > "$work/ls.kfs.s"
	check "$name: ls of the 300-entry directory matches" \
	    cmp -s "$work/ls.kfs.s" "$work/ls.host"
	check "$name: reading through a symlink in the path" \
	    sh -c "'$KFS' '$img' cat /fastlink | grep -q 'hello, ext2'"

	# Write workload.
	w="$work/w-$name"
	mkdir -p "$w"
	gen 11 1500000 > "$w/big"
	gen 12 5000 > "$w/mid"
	gen 13 777 > "$w/short"
	gen 14 $(((12 + bs / 4 + 3) * bs)) > "$w/dind"
	set -e
	"$KFS" "$img" mkdir -p /w/a/b/c
	"$KFS" "$img" put "$w/big" /w/big
	"$KFS" "$img" put "$w/mid" /w/
	"$KFS" "$img" put "$w/dind" /w/dind
	"$KFS" "$img" put "$w/short" /w/mid		# overwrite, shorter
	"$KFS" "$img" put "$w/mid" /many/added-big-entry	# index flag cleared
	"$KFS" "$img" cp /w/big /w/a/big.copy
	"$KFS" "$img" mv /w/a/b /w/moved		# directory to a new parent
	"$KFS" "$img" ln /w/big /w/moved/big.hard
	"$KFS" "$img" ln -s ../big /w/moved/big.sym
	"$KFS" "$img" ln -s "/a/very/long/target/$(printf '%080d' 7)" /w/slow
	"$KFS" "$img" mv /w/dind /w/a/big.copy		# rename over a file
	"$KFS" "$img" rm /double_indirect /sparse /fastlink
	"$KFS" "$img" rmdir /w/moved/c
	set +e
	rmlist=
	i=0
	while [ $i -lt 300 ]; do
		[ $((i % 3)) -eq 0 ] && rmlist="$rmlist /many/entry-with-a-longish-name-$i"
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	"$KFS" "$img" rm $rmlist
	check "$name: rm of 100 entries in the indexed directory" test $? -eq 0
	fsck_clean "$img" "$name after the write workload"
	dbg_same "$img" /w/big "$w/big"
	dbg_same "$img" /w/mid "$w/short"
	dbg_same "$img" /w/a/big.copy "$w/dind"
	dbg_same "$img" /w/moved/big.hard "$w/big"
	dbg_same "$img" /many/added-big-entry "$w/mid"
	dbg_same "$img" /first_indirect "$src/first_indirect"
	check "$name: debugfs sees /w/moved/.. as /w" \
	    sh -c "debugfs -R 'ls -l /w/moved/..' '$img' 2>/dev/null | grep -q moved"
	check "$name: removed file is gone for debugfs" \
	    sh -c "! debugfs -R 'stat /sparse' '$img' 2>&1 | grep -q 'Inode:'"
	if [ $idx -eq 1 ]; then
		if debugfs -R "stat /many" "$img" 2>/dev/null | grep -q 'Flags: 0x1000'; then
			bad "$name: index flag still set after modifying /many"
		else
			ok "$name: index flag cleared after modifying /many"
		fi
	fi
	# debugfs also lists emptied entries (inode 0): skip those.
	check "$name: debugfs sees 200 entries left in /many" \
	    test "$(debugfs -R 'ls -l /many' "$img" 2>/dev/null | awk '$1 != 0 && $NF ~ /^entry-/' | wc -l)" -eq 200
}

# Revision 0 (no features at all: 16-bit name lengths, no file types).
rev0() {
	img="$work/rev0.img"
	mke2fs -q -F -r 0 -t ext2 "$img" 8M > /dev/null 2>&1
	gen 21 300000 > "$work/rev0.data"
	"$KFS" "$img" mkdir -p /a/b && "$KFS" "$img" put "$work/rev0.data" /a/b/f &&
	    "$KFS" "$img" ln -s /a/b/f /l && "$KFS" "$img" mv /a/b /c &&
	    "$KFS" "$img" ln /c/f /c/g && "$KFS" "$img" rm /c/f
	check "rev0: workload through krank-fs" test $? -eq 0
	"$KFS" "$img" get /c/g "$work/out"
	check "rev0: file read back" cmp -s "$work/out" "$work/rev0.data"
	fsck_clean "$img" "rev0 image after the workload"
	dbg_same "$img" /c/g "$work/rev0.data"
}
rev0

run_config k1 1024 sparse_super,dir_index
run_config k4 4096 sparse_super,dir_index
run_config k1plain 1024 ^sparse_super,^dir_index,^resize_inode
run_config k4plain 4096 ^sparse_super,^dir_index,^resize_inode
finish
