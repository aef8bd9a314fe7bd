#!/bin/sh
# test_ext2_inode_bitmap - an inode bitmap that calls a live inode free
# must not make ext2 hand that inode out again (issue 14).  Images made by
# mke2fs, lied about by debugfs freei:
#  1. a live file (links_count 1) marked free: files created through
#     krank-fs get other inodes, the driver logs the inode and the field
#     (links_count), the live file reads back byte for byte, and e2fsck -fn
#     finds the file system clean (the driver marked the bit again and
#     corrected the counts, as e2fsck would);
#  2. an inode with links_count 0 but a mode and no dtime (in use as far as
#     its inode says) marked free: skipped too, the log names mode/dtime,
#     and once debugfs's links_count 0 is undone e2fsck finds it clean;
#  3. the same image allocates normally afterwards (many files, e2fsck).
. "${top_srcdir:-.}/tests/rumpdrv/ext2/ext2_lib.sh"

img="$work/img"
dbg() { debugfs -w -R "$1" "$img" > /dev/null 2>&1; }
ino_of() { debugfs -R "stat $1" "$img" 2>/dev/null |
	awk '/^Inode:/ { print $2; exit }'; }

rm -f "$img"
mke2fs -q -F -t ext2 -b 1024 "$img" 8M > "$work/mkfs.out" 2>&1 || bad "mke2fs"
head -c 30000 /dev/urandom > "$work/victim"
head -c 5000 /dev/urandom > "$work/other"
echo new > "$work/new"
dbg "write $work/victim victim"
dbg "write $work/other other"
vi=$(ino_of /victim)
oi=$(ino_of /other)
check "debugfs wrote /victim (inode $vi) and /other (inode $oi)" \
	test -n "$vi" -a -n "$oi"
fsck_clean "$img" "before the lie"

# ---- 1. a live file's bit cleared ----
dbg "freei /victim"
debugfs -R "testi /victim" "$img" 2>/dev/null | grep -q "not in use" &&
	ok "debugfs freei: the bitmap now calls inode $vi free" ||
	bad "debugfs freei did not clear inode $vi's bit"
"$KFS" "$img" put "$work/new" /new1 > "$work/out" 2> "$work/err"
rc=$?
check "krank-fs put /new1 succeeds (exit $rc)" test $rc -eq 0
ni=$(ino_of /new1)
check "/new1 got inode $ni, not the live inode $vi" test -n "$ni" -a "$ni" != "$vi"
if grep -q "inode bitmap says inode $vi is free but its links_count is 1" \
    "$work/err"; then
	ok "logged: $(grep "inode bitmap says" "$work/err" | head -1)"
else
	bad "no log line naming inode $vi and links_count: $(cat "$work/err")"
fi
dbg_same "$img" /victim "$work/victim"
debugfs -R "testi /victim" "$img" 2>/dev/null | grep -q "marked in use" &&
	ok "inode $vi is marked in use again" ||
	bad "inode $vi still free in the bitmap"
fsck_clean "$img" "after writing through the lie"

# ---- 2. links_count 0, but a mode and no dtime ----
dbg "sif /other links_count 0"
dbg "freei /other"
"$KFS" "$img" mkdir /d > "$work/out" 2> "$work/err"
rc=$?
check "krank-fs mkdir /d succeeds (exit $rc)" test $rc -eq 0
di=$(ino_of /d)
check "/d got inode $di, not inode $oi" test -n "$di" -a "$di" != "$oi"
if grep -q "inode bitmap says inode $oi is free but its mode is 0100[0-7]* with dtime 0" \
    "$work/err"; then
	ok "logged: $(grep "inode bitmap says" "$work/err" | head -1)"
else
	bad "no log line naming inode $oi, mode and dtime: $(cat "$work/err")"
fi
dbg_same "$img" /other "$work/other"
# e2fsck calls a links_count of 0 deleted; with debugfs's damage undone
# the image must be clean: the driver marked inode 13 in use again.
dbg "sif /other links_count 1"
fsck_clean "$img" "after mkdir through the second lie (links_count put back)"

# ---- 3. normal allocation afterwards ----
i=0
while [ $i -lt 20 ]; do
	"$KFS" "$img" put "$work/new" "/f$i" 2>> "$work/err3" || bad "put /f$i"
	i=$((i + 1))
done
check "20 more files created" test "$("$KFS" -r "$img" ls / | grep -c '^f[0-9]')" -eq 20
dbg_same "$img" /victim "$work/victim"
dbg_same "$img" /other "$work/other"
fsck_clean "$img" "after 20 more files"
finish
