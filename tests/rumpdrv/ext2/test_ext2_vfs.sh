#!/bin/sh
# test_ext2_vfs - runs test_ext2_vfs (ext2 through krs_* calls) on a fresh
# mke2fs image, then e2fsck -fn must find it clean and debugfs must read
# the bytes the program wrote.
. "${top_srcdir:-.}/tests/rumpdrv/ext2/ext2_lib.sh"
img="$work/vfs.img"
mke2fs -q -F -t ext2 -b 1024 "$img" 16M > /dev/null 2>&1
mke2fs -q -F -t ext4 "$work/ext4.img" 8M > /dev/null 2>&1
mkdir "$work/expect"
if "${top_builddir:-.}/tests/rumpdrv/ext2/test_ext2_vfs" "$img" \
    "$work/ext4.img" "$work/expect"; then
	ok "test_ext2_vfs"
else
	bad "test_ext2_vfs"
fi
fsck_clean "$img" "after the krs_ workload"
dbg_same "$img" /big "$work/expect/big"
dbg_same "$img" /d/data "$work/expect/data"
dbg_same "$img" /retrunc "$work/expect/retrunc"
printf 'one,two' > "$work/expect/appended"
dbg_same "$img" /appended "$work/expect/appended"
check "debugfs: victim has mode 0600, uid 1234" sh -c \
	"debugfs -R 'stat /victim' '$img' 2>/dev/null | grep -q 'Mode:  0600' &&
	 debugfs -R 'stat /victim' '$img' 2>/dev/null | grep -q 'User:  1234'"
finish
