#!/bin/sh
# test_ext2_damage - feature policy, damaged images and full images, seen
# through krank-fs: ext3/ext4-only incompatible features are refused with a
# message naming them; an unsupported read-only-compatible feature gives a
# read-only mount; truncated images, bad magic, a damaged group descriptor
# and a damaged directory block give clear errors (EIO on the damaged
# directory only) and never a crash; a full image gives ENOSPC with the
# free counts, and stays e2fsck-clean.
. "${top_srcdir:-.}/tests/rumpdrv/ext2/ext2_lib.sh"

img="$work/img"
mkfs() { mke2fs -q -F "$@" > "$work/mkfs.out" 2>&1 || bad "mke2fs $*"; }
# expect_fail DESC STATUS PATTERN COMMAND...: exit status and stderr text.
expect_fail() {
	d=$1 want=$2 pat=$3
	shift 3
	"$@" > "$work/out" 2> "$work/err"
	rc=$?
	if [ $rc -eq "$want" ] && grep -q -- "$pat" "$work/err"; then
		ok "$d: exit $rc, \"$(head -1 "$work/err")\""
	else
		bad "$d: exit $rc (want $want), stderr: $(cat "$work/err")"
	fi
}

# ext4: extents, flex_bg, 64bit ... refused.
mkfs -t ext4 "$img" 8M
expect_fail "ext4 image refused" 2 "unsupported incompatible features:.*extent" \
	"$KFS" "$img" ls /

# ext2 with huge_file (read-only-compatible, unsupported): read-only.
mkfs -t ext2 -O huge_file "$img" 8M
check "huge_file image still lists" sh -c "'$KFS' '$img' ls / | grep -q lost+found"
expect_fail "huge_file image is read-only" 1 "read-only file system" \
	"$KFS" "$img" mkdir /x
check "read-only mount says why" grep -q "huge_file" "$work/err"
fsck_clean "$img" "huge_file image untouched"

# Not ext2 at all, and too small.
head -c 1048576 /dev/zero > "$img"
expect_fail "zero image: bad magic" 2 "not an ext2 file system" "$KFS" "$img" ls /
head -c 1000 /dev/zero > "$img"
expect_fail "1000-byte image" 2 "too small" "$KFS" "$img" ls /
expect_fail "missing image" 2 "nonexistent: no such file or directory" "$KFS" "$work/nonexistent" ls /

# Truncated image.
mkfs -t ext2 "$img" 8M
truncate -s 4M "$img"
expect_fail "truncated image" 2 "image is truncated" "$KFS" "$img" ls /

# Damaged group descriptor: block bitmap of group 0 out of range.
mkfs -t ext2 -b 1024 "$img" 8M
printf '\377\377\377\177' | dd of="$img" bs=1 seek=2048 conv=notrunc 2>/dev/null
expect_fail "damaged group descriptor" 2 \
	"Block bitmap for group 0 not in the file system (block 2147483647)!" \
	"$KFS" "$img" ls /

# Damaged directory block: EIO on that directory, the rest still works.
mkfs -t ext2 -b 1024 "$img" 8M
"$KFS" "$img" mkdir /good /broken
printf 'data\n' > "$work/f"
"$KFS" "$img" put "$work/f" /good/f
blk=$(debugfs -R "bmap /broken 0" "$img" 2>/dev/null)
printf '\001\000\000\000\003\000' | dd of="$img" bs=1 seek=$((blk * 1024)) \
	conv=notrunc 2>/dev/null
expect_fail "ls of a damaged directory" 1 "input/output error (directory inode" \
	"$KFS" "$img" ls /broken
check "other files still readable" sh -c "'$KFS' '$img' cat /good/f | grep -q data"

# Garbage in a file's indirect block: EIO on that file, removing it works
# and does not follow the garbage (nothing else is freed by it).
mkfs -t ext2 -b 1024 "$img" 8M
head -c 20000 /dev/urandom > "$work/f20k"
"$KFS" "$img" put "$work/f20k" /f
"$KFS" "$img" put "$work/f" /keep
ind=$(debugfs -R "stat /f" "$img" 2>/dev/null | sed -n 's/.*(IND):\([0-9]*\).*/\1/p')
head -c 1024 /dev/zero | tr '\000' '\377' | dd of="$img" bs=1024 seek="$ind" \
	conv=notrunc 2>/dev/null
expect_fail "read through a garbage indirect block" 1 "out of range" \
	"$KFS" "$img" cat /f
check "rm of the damaged file succeeds" "$KFS" "$img" rm /f
check "the damaged file is gone, the other file intact" sh -c \
	"! '$KFS' '$img' ls / | grep -qx f && '$KFS' '$img' cat /keep | grep -q data"

# Full image: ENOSPC with counts; what was written is intact, fsck clean.
mkfs -t ext2 -b 1024 -N 64 "$img" 1M
head -c 2000000 /dev/urandom > "$work/big"
expect_fail "file larger than the image" 1 \
	"no space left on device (image full: 0 of" "$KFS" "$img" put "$work/big" /big
fsck_clean "$img" "after filling the image"
n=$("$KFS" "$img" stat /big | sed -n 's/.*Size: \([0-9]*\).*/\1/p')
"$KFS" "$img" get /big "$work/part"
check "the $n bytes that fit are the file's first bytes" \
	cmp -s "$work/part" "$work/big" -n "$n"
check "... and more than half the image" test "$n" -gt 500000
"$KFS" "$img" rm /big
check "rm frees the space" sh -c "'$KFS' '$img' df | awk 'NR==2 { exit !(\$4 > 900) }'"
fsck_clean "$img" "after rm of the large file"

# Killed while mounted read-write: the image says "not clean" so that
# e2fsck -p would check it; a clean unmount says "clean" again.
mkfs -t ext2 -b 1024 "$img" 8M
(sleep 3) | timeout -s KILL 1 "$KFS" "$img" put - /streaming
check "image killed while mounted is marked not clean" sh -c \
	"dumpe2fs -h '$img' 2>/dev/null | grep -q 'Filesystem state: *not clean'"
e2fsck -fy "$img" > /dev/null 2>&1
"$KFS" "$img" mkdir /after
check "a clean unmount leaves it clean" sh -c \
	"dumpe2fs -h '$img' 2>/dev/null | grep -q 'Filesystem state: *clean'"
fsck_clean "$img" "after the clean unmount"

# Depth chosen by the user: mkdir -p of 2,000 nested directories (a
# 4,000-byte path) walks the path in a loop; recursion per component
# overflowed the stack (exit 139).  A file in the way: EEXIST/ENOTDIR.
mkfs -t ext2 "$img" 8M
deep=$(i=0; while [ $i -lt 2000 ]; do printf 'd/'; i=$((i + 1)); done)
"$KFS" "$img" mkdir -p "/$deep" > "$work/out" 2> "$work/err"
check "mkdir -p of 2000 levels succeeds (exit $?: $(head -1 "$work/err"))" test -z "$(cat "$work/err")"
check "the deepest directory is there" sh -c "'$KFS' '$img' ls -l '/${deep}..' | grep -q '^d.* d$'"
"$KFS" "$img" mkdir -p "/$deep" > "$work/out" 2> "$work/err"
check "mkdir -p again: no error when they exist" test $? -eq 0
"$KFS" "$img" put "$work/mkfs.out" /file
expect_fail "mkdir -p through a file" 1 "/file/x: not a directory" \
	"$KFS" "$img" mkdir -p /file/x
expect_fail "mkdir -p of a file" 1 "/file: file exists" \
	"$KFS" "$img" mkdir -p /file
fsck_clean "$img" "after deep mkdir -p"

# A ".." loop in the image (debugfs points /a/b/.. at /a/b itself): a
# rename into it walks up to check it is not moving a directory below
# itself; that walk ended never (the test's timeout) and now ends in EIO.
mkfs -t ext2 "$img" 8M
"$KFS" "$img" mkdir -p /a/b /x
debugfs -w -R "unlink /a/b/.." "$img" > /dev/null 2>&1
debugfs -w -R "link /a/b /a/b/.." "$img" > /dev/null 2>&1
debugfs -R 'ls -l /a/b' "$img" 2>/dev/null > "$work/ls"
check "debugfs made the loop (/a/b/.. is /a/b)" awk \
	'$NF=="." {a=$1} $NF==".." {b=$1} END {exit !(a != "" && a == b)}' "$work/ls"
expect_fail "rename into a directory whose .. loops" 1 "/x -> /a/b/x: input/output error" \
	timeout 60 "$KFS" "$img" mv /x /a/b/x

# Usage errors.
expect_fail "unknown command" 2 "unknown command" "$KFS" "$img" frobnicate
expect_fail "missing arguments" 2 "wrong arguments" "$KFS" "$img" get /x
check "--help documents every command" sh -c \
	"'$KFS' --help | grep -q 'put HOSTFILE PATH' && '$KFS' --help | grep -q 'Exit status'"
finish
