#!/bin/sh
# Install dependencies, build, and show what KRANK does so far:
#  1. the hypercall layer (examples/hypdemo): block I/O through io_uring,
#     frames across an in-process wire;
#  2. KRANK's own ext2 driver and buffer cache (tools/krank-fs) working on
#     an image made by mke2fs, which e2fsck then checks.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

echo "== hypercall layer"
./examples/hypdemo/hypdemo

if [ -x tools/krank-fs/krank-fs ]; then
	echo "== ext2 through KRANK's file system components"
	img=$(mktemp /tmp/krank-demo.XXXXXX)
	out=$(mktemp /tmp/krank-demo.XXXXXX)
	trap 'rm -f "$img" "$out"' EXIT
	mke2fs -q -F -t ext2 "$img" 16M
	set -x
	tools/krank-fs/krank-fs "$img" mkdir -p /docs
	tools/krank-fs/krank-fs "$img" put README.md /docs/README.md
	tools/krank-fs/krank-fs "$img" ln -s /docs/README.md /readme
	tools/krank-fs/krank-fs "$img" ls -l / /docs
	tools/krank-fs/krank-fs "$img" df
	e2fsck -fn "$img"
	tools/krank-fs/krank-fs "$img" get /readme "$out"
	set +x
	cmp README.md "$out" && echo "README.md came back out through the symlink, byte for byte"
fi
