#!/bin/sh
# Disks of krank run: an ext2 image on a host file system that allows
# O_DIRECT is read directly (the boot report says O_DIRECT), one on a
# ramfs (which refuses O_DIRECT) through Linux's page cache, with the
# report saying why; in both an isolate reads a file from the image.
# Needs root (a private mount namespace for the ramfs).
set -u
bld=${top_builddir:-.}
src=${top_srcdir:-.}
krank="$bld/krank/krank"
work=$(mktemp -d)
fail=0
skip() { echo "SKIP: $*"; rm -rf "$work"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root for a private mount namespace"
command -v mke2fs >/dev/null 2>&1 || skip "mke2fs not installed"
command -v unshare >/dev/null 2>&1 || skip "unshare not installed"
trap 'rm -rf "$work"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

mkdir -p "$work/files" "$work/ram"
echo "hello from ext2" >"$work/files/hello.txt"
mke2fs -q -F -t ext2 -b 1024 -d "$work/files" "$work/disk.img" 2M \
	>"$work/mkfs.out" 2>&1 || { echo "FAIL: mke2fs: $(cat "$work/mkfs.out")"; exit 1; }
"$bld/loader/krank-cc-uninstalled" -O1 -o "$work/readfile.kx" \
	"$src/tests/krank/iso/readfile.c" || { echo "FAIL: krank-cc readfile.c"; exit 1; }
core=$(($(nproc) - 1))

# boot DIR NAME: krank run -v of a deployment whose disk is DIR/disk.img,
# until the reader's line is in the log (10 s deadline); output in NAME.*
cat >"$work/boot.sh" <<EOT
#!/bin/sh
dir=\$1 name=\$2
cat >"$work/\$name.yaml" <<EOY
cores: [$core]
components: [vfs, tmpfs, ext2]
disks:
  - {path: \$dir/disk.img, fs: ext2, mount: /d, readonly: yes}
isolates:
  - {name: reader, elf: $work/readfile.kx, argv: [readfile, /d/hello.txt],
     core: $core, heap: 4M}
control: {socket: $work/\$name.sock}
EOY
"$krank" run -v "$work/\$name.yaml" >"$work/\$name.out" 2>"$work/\$name.err" &
kp=\$!
i=0
while ! grep -q "reader: read:" "$work/\$name.err" 2>/dev/null && [ \$i -lt 200 ]; do
	kill -0 \$kp 2>/dev/null || break
	sleep 0.05
	i=\$((i + 1))
done
kill -TERM \$kp 2>/dev/null
wait \$kp
EOT

sh "$work/boot.sh" "$work" direct
disk=$(grep "disk .*disk.img" "$work/direct.out")
case $disk in
*O_DIRECT*) ok "an image on $(stat -f -c %T "$work") is opened O_DIRECT: $disk" ;;
*"refuses O_DIRECT"*) echo "note: $(stat -f -c %T "$work") refuses O_DIRECT here: $disk" ;;
*) bad "no disk line naming its I/O mode: $(cat "$work/direct.out" "$work/direct.err")" ;;
esac
grep -q "direct I/O refused" "$work/direct.err" &&
	bad "the block device did not go direct: $(grep 'direct I/O' "$work/direct.err")"
grep -q "reader: read: hello from ext2" "$work/direct.err" &&
	ok "an isolate reads its file from the directly read image" ||
	bad "the isolate did not read the file: $(cat "$work/direct.err")"

# The same image on a ramfs, in a mount namespace of its own.
if unshare -m sh -c "mount -t ramfs none '$work/ram' && cp '$work/disk.img' '$work/ram/' &&
    sh '$work/boot.sh' '$work/ram' ram" 2>"$work/unshare.err"; then
	disk=$(grep "disk .*disk.img" "$work/ram.out")
	case $disk in
	*"through Linux's page cache: ramfs refuses O_DIRECT"*)
		ok "an image on a ramfs falls back, and the report says why: $disk" ;;
	*) bad "ramfs disk line: $disk $(cat "$work/ram.err")" ;;
	esac
	grep -q "reader: read: hello from ext2" "$work/ram.err" &&
		ok "an isolate reads its file from the image through the page cache" ||
		bad "the isolate did not read the file (ramfs): $(cat "$work/ram.err")"
else
	echo "note: no ramfs in a private mount namespace: $(cat "$work/unshare.err")"
fi
exit $fail
