#!/bin/sh
# hostfs in a deployment: the parser's errors (with line:column) for a
# missing or non-directory path, a missing component and a mount point
# used twice; the effective deployment prints the hostfs entry; then
# krank run serves a host directory read-only at /host, an isolate reads a
# file from it, and isolates that try a symbolic link to a secret file
# outside, a relative link and "../.." get nothing of it.  Last, a Linux
# process attached through libkrank (tests/krank/krq_e2e, the queue path)
# runs its whole file workload in a read-write hostfs mount.
set -u
bld=${top_builddir:-.}
src=${top_srcdir:-.}
krank="$bld/krank/krank"
chk="$bld/tests/krank/krk_config_check"
work=$(mktemp -d)
fail=0
trap 'rm -rf "$work"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
[ -x "$chk" ] || { echo "FAIL: $chk not built"; exit 1; }

mkdir -p "$work/shared/sub" "$work/outside"
echo "TOPSECRET" >"$work/secret"
echo "TOPSECRET" >"$work/outside/secret"
echo "hello from the host" >"$work/shared/hello.txt"
ln -s "$work/secret" "$work/shared/abs"
ln -s ../secret "$work/shared/rel"
: >"$work/afile"

# expect_err NAME YAML LINE:COL: MESSAGE
expect_err() {
	f="$work/$1.yaml"
	printf '%s' "$2" >"$f"
	"$chk" "$f" >"$work/out" 2>"$work/err"
	rc=$?
	if [ $rc -eq 1 ] && grep -qxF "$f:$3" "$work/err"; then
		ok "$1: $3"
	else
		bad "$1: exit $rc, want the line $f:$3; got: $(cat "$work/err")"
	fi
}
HEAD='cores: [0]
components: [vfs, tmpfs, hostfs]
'
expect_err missing "${HEAD}hostfs:
  - {path: $work/nonexistent, mount: /host}
" "4:12: hostfs[0].path: expected an existing host directory, found \"$work/nonexistent\" (No such file or directory)"
expect_err notdir "${HEAD}hostfs:
  - {path: $work/afile, mount: /host}
" "4:12: hostfs[0].path: expected a host directory, found \"$work/afile\", which is not a directory"
expect_err nopath "${HEAD}hostfs:
  - {mount: /host}
" "4:5: hostfs[0].path: expected a host directory, found nothing"
expect_err twice "${HEAD}tmpfs: [{mount: /host}]
hostfs:
  - {path: $work/shared, mount: /host}
" "5:$((28 + ${#work})): hostfs[0].mount: expected each mount point once, found \"/host\" again (first at line 3)"
expect_err nocomp "cores: [0]
components: [vfs, tmpfs]
hostfs:
  - {path: $work/shared, mount: /host}
" "3:1: hostfs: expected hostfs in components (it serves these directories), found it missing"
expect_err badbool "${HEAD}hostfs:
  - {path: $work/shared, mount: /host, readonly: maybe}
" "4:$((45 + ${#work})): hostfs[0].readonly: expected yes or no, found \"maybe\""

printf '%s' "${HEAD}hostfs:
  - {path: shared, mount: /host, readonly: yes}
" >"$work/good.yaml"
if "$chk" "$work/good.yaml" >"$work/good.out" 2>"$work/good.err" &&
    grep -q "path: \"*$work/shared\"*\$" "$work/good.out" &&
    grep -q "readonly: yes" "$work/good.out" &&
    grep -q "cross_mounts: no" "$work/good.out"; then
	ok "a relative path is resolved against the deployment's directory; readonly and cross_mounts print"
else
	bad "good.yaml: $(cat "$work/good.err" "$work/good.out")"
fi

# krank run: isolates read through a read-only hostfs.
"$bld/loader/krank-cc-uninstalled" -O1 -o "$work/readfile.kx" \
	"$src/tests/krank/iso/readfile.c" || { echo "FAIL: krank-cc readfile.c"; exit 1; }
core=$(($(nproc) - 1))
cat >"$work/run.yaml" <<EOY
cores: [$core]
memory: {size: 64M, mlock: no}
components: [vfs, tmpfs, hostfs]
hostfs:
  - {path: $work/shared, mount: /host, readonly: yes}
isolates:
  - {name: reader, elf: $work/readfile.kx, argv: [readfile, /host/hello.txt], core: $core, heap: 4M}
  - {name: absln, elf: $work/readfile.kx, argv: [readfile, /host/abs], core: $core, heap: 4M}
  - {name: relln, elf: $work/readfile.kx, argv: [readfile, /host/rel], core: $core, heap: 4M}
  - {name: dotdot, elf: $work/readfile.kx, argv: [readfile, /host/sub/../../../secret], core: $core, heap: 4M}
control: {socket: $work/run.sock}
EOY
"$krank" run -v "$work/run.yaml" >"$work/run.out" 2>"$work/run.err" &
kp=$!
i=0
while [ "$(grep -c 'readfile: \|: read: ' "$work/run.err" 2>/dev/null)" -lt 4 ] && [ $i -lt 200 ]; do
	kill -0 $kp 2>/dev/null || break
	sleep 0.05
	i=$((i + 1))
done
kill -TERM $kp 2>/dev/null
wait $kp
grep -q "hostfs /host: host directory $work/shared, read-only" "$work/run.out" &&
	ok "the boot report names the hostfs mount" ||
	bad "no hostfs line in the boot report: $(cat "$work/run.out")"
grep -q "reader: read: hello from the host" "$work/run.err" &&
	ok "an isolate reads /host/hello.txt from the host directory" ||
	bad "the reader did not read the file: $(cat "$work/run.err")"
for n in absln relln dotdot; do
	grep -q "$n: readfile: cannot open" "$work/run.err" &&
		ok "isolate $n: cannot open (the link or .. resolves in KRANK's name space)" ||
		bad "isolate $n: $(grep "$n" "$work/run.err")"
done
grep -q TOPSECRET "$work/run.err" "$work/run.out" &&
	bad "the secret reached an isolate" || ok "no isolate read the secret"

# A queue client's file workload on a read-write hostfs.
mkdir "$work/rw"
cat >"$work/q.yaml" <<EOY
name: hostfs-queue
cores: [$core]
memory: {size: 64M, mlock: no}
components: [vfs, tmpfs, hostfs, net, ether, socket, inet]
hostfs:
  - {path: $work/rw, mount: /host}
control: {socket: $work/q.sock}
queues: {spin: 20us, slots: 64, area: 4M, rings: 2}
EOY
"$krank" run "$work/q.yaml" >"$work/q.out" 2>&1 &
kp=$!
i=0
until grep -q "ready in" "$work/q.out"; do
	kill -0 $kp 2>/dev/null || break
	i=$((i + 1)); [ $i -lt 200 ] || break
	sleep 0.05
done
"$bld/tests/krank/krq_e2e" "$work/q.sock" /host >"$work/e2e.out" 2>&1 &&
	ok "krq_e2e (libkrank over the queues) passes every check in a hostfs mount" ||
	bad "krq_e2e on /host: $(grep -v '^ok' "$work/e2e.out")"
kill -TERM $kp 2>/dev/null
wait $kp
exit $fail
