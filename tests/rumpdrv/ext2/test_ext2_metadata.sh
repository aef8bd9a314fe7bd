#!/bin/sh
# test_ext2_metadata - a read-write mount trusts no on-disk field before it
# is checked (issue 14).  Images made by mke2fs, damaged by debugfs:
#  - a group descriptor whose bitmap or inode table is outside its group,
#    over the descriptors, or over each other: the mount is read-only with
#    Linux's ext2_check_descriptors message naming the group and field, and
#    the image is byte-for-byte unchanged; outside the file system: refused;
#  - a block bitmap that calls inode-table blocks free: allocation refused
#    with EIO, the inode-table blocks unchanged;
#  - a directory with a size that is not whole blocks, or a block pointer
#    into the inode table: EIO, nothing written there;
#  - a name for a reserved inode (the resize inode 7): EIO on rm, put, ln;
#    inode 7 unchanged.
# After each, e2fsck -fn reports what debugfs damaged, and nothing more.
. "${top_srcdir:-.}/tests/rumpdrv/ext2/ext2_lib.sh"

img="$work/img"
# 2 groups of 8192 1-KiB blocks; group 0: bitmaps 66/67, inode table
# 68-579; group 1: backup superblock 8193, bitmaps 8258/8259, table 8260-.
mkfs() {
	rm -f "$img"
	mke2fs -q -F -t ext2 -b 1024 "$img" 16M > "$work/mkfs.out" 2>&1 ||
		bad "mke2fs"
}
dbg() { debugfs -w -R "$1" "$img" > /dev/null 2>&1; }
# field GROUP NAME: a descriptor field as dumpe2fs reads it.
field() {
	dumpe2fs "$img" 2>/dev/null | awk -v g="Group $1:" -v f="$2" '
		index($0, g) == 1 { in_g = 1; next }
		/^Group / { in_g = 0 }
		in_g && index($0, "  " f " at ") == 1 {
			split($0, a, " at "); split(a[2], b, /[- ]/); print b[1] }'
}
# blocks FIRST COUNT OUT: copy of those blocks.
blocks() {
	dd if="$img" of="$3" bs=1024 skip="$1" count="$2" 2>/dev/null
}
# expect_fail DESC STATUS PATTERN COMMAND...: exit status and stderr text.
expect_fail() {
	d=$1 want=$2 pat=$3
	shift 3
	"$@" > "$work/out" 2> "$work/err"
	rc=$?
	if [ $rc -eq "$want" ] && grep -q -- "$pat" "$work/err"; then
		ok "$d: exit $rc, \"$(grep -- "$pat" "$work/err" | head -1)\""
	else
		bad "$d: exit $rc (want $want), stderr: $(cat "$work/err")"
	fi
}
fsck_out() { e2fsck -fn "$img" 2>&1 | grep -v '^e2fsck [0-9]'; }

mkfs
it0=$(field 0 "Inode table")
bb0=$(field 0 "Block bitmap")
bb1=$(field 1 "Block bitmap")
check "dumpe2fs gives the layout (bitmap $bb0, table $it0, group 1 bitmap $bb1)" \
	test -n "$it0" -a -n "$bb0" -a -n "$bb1"

# ---- 1. descriptors: read-only mount, nothing written ----
# misplace DESC FIELD VALUE PATTERN: set_bg 1 or 0, then a write attempt.
misplace() {
	mkfs
	"$KFS" "$img" mkdir /d
	dbg "set_bg $2 $3 $4"
	cp "$img" "$work/before"
	expect_fail "$1: read-only" 1 "read-only file system" \
		"$KFS" "$img" mkdir /new
	check "$1: the message names group and field" grep -q -- "$5" "$work/err"
	check "$1: image unchanged (cmp)" cmp -s "$img" "$work/before"
	check "$1: still readable" sh -c "'$KFS' '$img' ls / | grep -qx d"
}
misplace "group 1 block bitmap in group 0" 1 block_bitmap 1000 \
	"ext2_check_descriptors: Block bitmap for group 1 not in group (block 1000)!"
misplace "group 1 inode bitmap on its backup superblock" 1 inode_bitmap 8193 \
	"ext2_check_descriptors: Inode bitmap for group 1 not in group (block 8193)!"
misplace "group 1 inode table over its descriptors" 1 inode_table 8194 \
	"ext2_check_descriptors: Inode table for group 1 not in group (block 8194)!"
misplace "group 1 inode table in group 0" 1 inode_table 7000 \
	"ext2_check_descriptors: Inode table for group 1 not in group (block 7000)!"
misplace "group 0 block bitmap inside the inode table" 0 block_bitmap $((it0 + 3)) \
	"Block bitmap for group 0 inside its inode table (block $((it0 + 3)))!"
misplace "group 0 inode bitmap = block bitmap" 0 inode_bitmap "$bb0" \
	"Block and inode bitmap for group 0 are the same block ($bb0)!"

mkfs
dbg "set_bg 1 inode_bitmap 99999"
cp "$img" "$work/before"
expect_fail "inode bitmap outside the file system: refused" 2 \
	"Inode bitmap for group 1 not in the file system (block 99999)!" \
	"$KFS" "$img" ls /
check "refused image unchanged" cmp -s "$img" "$work/before"

# ---- 2. a block bitmap that lies about inode-table blocks ----
# Blocks it0+8 on hold inodes 29 and up (256-byte inodes): the refused
# writes create inodes 12 and 13 legitimately, in blocks it0+2 and it0+3.
mkfs
lie=$((it0 + 8))
n=$((it0 + 500))
i=$lie
cmds="$work/freeb"
: > "$cmds"
while [ $i -lt $n ]; do echo "freeb $i" >> "$cmds"; i=$((i + 1)); done
debugfs -w -f "$cmds" "$img" > /dev/null 2>&1
check "debugfs made the bitmap lie (block $lie free)" sh -c \
	"debugfs -R 'testb $lie' '$img' 2>&1 | grep -q 'not in use'"
blocks $lie 492 "$work/itable.before"
fsck_out > "$work/fsck.before"
head -c 50000 /dev/urandom > "$work/data"
expect_fail "put with a lying bitmap" 1 \
	"input/output error (group 0: block bitmap says metadata block $lie is free; allocation refused" \
	"$KFS" "$img" put "$work/data" /data
expect_fail "mkdir with a lying bitmap" 1 "allocation refused" \
	"$KFS" "$img" mkdir /newdir
blocks $lie 492 "$work/itable.after"
check "inode-table blocks unchanged (cmp)" \
	cmp -s "$work/itable.before" "$work/itable.after"
e2fsck -fn "$img" 2>&1 | grep -i "illegal\|duplicate\|multiply" > "$work/fsck.bad"
check "e2fsck -fn: no illegal or shared blocks after the refused writes" \
	test ! -s "$work/fsck.bad"

# ---- 3. directories: bad size, block pointer into the inode table ----
mkfs
"$KFS" "$img" mkdir /d
printf 'x\n' > "$work/x"
dbg "sif /d size 1000"
fsck_out > "$work/fsck.before"
cp "$img" "$work/before"
expect_fail "put into a directory of 1000 bytes" 1 \
	"size 1000 is not a multiple of the block size" \
	"$KFS" "$img" put "$work/x" /d/x
check "e2fsck -fn output unchanged" sh -c "e2fsck -fn '$img' 2>&1 | \
	grep -v '^e2fsck [0-9]' | cmp -s - '$work/fsck.before'"
dirblk=$(debugfs -R "bmap /d 0" "$img" 2>/dev/null)
check "the directory's block unchanged" sh -c \
	"cmp -s '$img' '$work/before' -i $((dirblk * 1024)):$((dirblk * 1024)) -n 1024"

mkfs
"$KFS" "$img" mkdir /d
target=$((it0 + 100))
dbg "sif /d block[0] $target"
blocks "$target" 1 "$work/blk.before"
fsck_out > "$work/fsck.before"
expect_fail "put into a directory mapped onto the inode table" 1 \
	"block $target out of range or metadata" "$KFS" "$img" put "$work/x" /d/x
expect_fail "ls of that directory" 1 "out of range or metadata" "$KFS" "$img" ls /d
expect_fail "rmdir of that directory" 1 "input/output error" "$KFS" "$img" rmdir /d
blocks "$target" 1 "$work/blk.after"
check "inode-table block $target unchanged (cmp)" \
	cmp -s "$work/blk.before" "$work/blk.after"
check "e2fsck -fn output unchanged" sh -c "e2fsck -fn '$img' 2>&1 | \
	grep -v '^e2fsck [0-9]' | cmp -s - '$work/fsck.before'"

# ---- 4. a name for a reserved inode ----
mkfs
dbg "ln <7> /resize"
debugfs -R "stat <7>" "$img" 2>/dev/null | grep -v time > "$work/ino7.before"
fsck_out > "$work/fsck.before"
expect_fail "rm of a name for inode 7" 1 "names reserved inode 7" \
	"$KFS" "$img" rm /resize
expect_fail "put over a name for inode 7" 1 "names reserved inode 7" \
	"$KFS" "$img" put "$work/x" /resize
expect_fail "ln of a name for inode 7" 1 "names reserved inode 7" \
	"$KFS" "$img" ln /resize /resize2
debugfs -R "stat <7>" "$img" 2>/dev/null | grep -v time > "$work/ino7.after"
check "inode 7 unchanged" cmp -s "$work/ino7.before" "$work/ino7.after"
check "e2fsck -fn output unchanged" sh -c "e2fsck -fn '$img' 2>&1 | \
	grep -v '^e2fsck [0-9]' | cmp -s - '$work/fsck.before'"
check "the root still lists" sh -c "'$KFS' '$img' ls / | grep -q lost+found"
finish
