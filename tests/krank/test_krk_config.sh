#!/bin/sh
# The deployment parser (krank/krk_config.c) through its check driver: one
# case per class of error, each asserting the message text and its
# line:column; the examples and valid files round-trip (print, parse the
# print, print again: the same); relative paths; defaults.
# KRK_CONFIG_CHECK selects the driver (the ASan+UBSan one reuses this).
set -u
bld=${top_builddir:-.}
src=${top_srcdir:-.}
chk=${KRK_CONFIG_CHECK:-$bld/tests/krank/krk_config_check}
[ -x "$chk" ] || { echo "FAIL: $chk not built"; exit 1; }
chk=$(realpath "$chk")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
n=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# A valid head that the error cases extend.
HEAD='cores: [1, 2]
components: [vfs, tmpfs]
'

# expect_err NAME 'YAML' 'LINE:COL: KEY: expected ..., found ...'
# The file must be rejected (exit 1) and its errors contain the line,
# prefixed with the file name, exactly.
expect_err() {
	n=$((n + 1))
	f="$work/$1.yaml"
	printf '%s' "$2" > "$f"
	"$chk" "$f" > "$work/out" 2> "$work/err"
	rc=$?
	if [ $rc -ne 1 ]; then
		fail "$1: exit $rc, expected 1 (rejected)"; cat "$work/err"
		return
	fi
	if ! grep -qxF "$f:$3" "$work/err"; then
		fail "$1: missing error line: $f:$3"
		sed 's/^/    got: /' "$work/err"
		return
	fi
	echo "ok: $1: $3"
}

# expect_ok NAME 'YAML': accepted; the print goes to $work/NAME.out.
expect_ok() {
	n=$((n + 1))
	f="$work/$1.yaml"
	printf '%s' "$2" > "$f"
	if ! "$chk" "$f" > "$work/$1.out" 2> "$work/err"; then
		fail "$1: rejected"; cat "$work/err"; return 1
	fi
	echo "ok: $1: accepted"
}

# roundtrip FILE: print, parse the print, print: identical (but for the
# first line, a comment naming the file printed).
roundtrip() {
	n=$((n + 1))
	b=$(basename "$1" .yaml)
	if ! "$chk" "$1" > "$work/rt1-$b.yaml" 2> "$work/err"; then
		fail "round trip $1: rejected"; cat "$work/err"; return
	fi
	if ! "$chk" "$work/rt1-$b.yaml" > "$work/rt2-$b.yaml" 2> "$work/err"; then
		fail "round trip $1: the print was rejected"; cat "$work/err"
		return
	fi
	sed 1d "$work/rt1-$b.yaml" > "$work/a"
	sed 1d "$work/rt2-$b.yaml" > "$work/b"
	if ! cmp -s "$work/a" "$work/b"; then
		fail "round trip $1: second print differs"
		diff "$work/a" "$work/b" | head -20
		return
	fi
	echo "ok: round trip $1 ($(wc -l < "$work/a") lines)"
}

echo "== errors, one per class"
expect_err unknown_top "${HEAD}memroy: {size: 1M}
" "3:1: memroy: expected a key of the deployment (one of name, cores, realtime, memory, components, interfaces, disks, tmpfs, hostfs, isolates, control, attach, log, queues, hostnet), found unknown key \"memroy\""
expect_err unknown_nested "${HEAD}memory:
  size: 64M
  huge: yes
" "5:3: memory.huge: expected a key of memory (one of size, hugepages, mlock, isolate_pool), found unknown key \"huge\""
expect_err unknown_isolate_key "${HEAD}isolates:
  - elf: a.kx
    argc: 3
" "5:5: isolates[0].argc: expected a key of isolates[0] (one of name, elf, argv, env, cwd, root, core, heap, fds, uid, gid, restart, backoff, backoff_max, lax, hardened), found unknown key \"argc\""
expect_err queues_slots_pow2 "${HEAD}queues: {slots: 100}
" "3:17: queues.slots: expected a power of two 16..4096, found \"100\""
expect_err queues_spin_range "${HEAD}queues: {spin: 1s}
" "3:16: queues.spin: expected a duration 0..10ms (ns, us, ms), found \"1s\""
expect_err queues_unknown "${HEAD}queues: {ring: 4}
" "3:10: queues.ring: expected a key of queues (one of spin, slots, area, rings, client_spin), found unknown key \"ring\""
expect_err queues_client_spin_range "${HEAD}queues: {client_spin: 20ms}
" "3:23: queues.client_spin: expected a duration 0..10ms (ns, us, ms), found \"20ms\""
expect_err type_list "cores: [1]
components: vfs
" "2:13: components: expected a list, found \"vfs\""
expect_err type_map "${HEAD}log: [1M]
" "3:6: log: expected a mapping, found a list"
expect_err type_scalar "${HEAD}isolates:
  - elf: {path: a.kx}
" "4:10: isolates[0].elf: expected a string, found a mapping"
expect_err type_bool "${HEAD}memory: {mlock: maybe}
" "3:17: memory.mlock: expected yes or no, found \"maybe\""
expect_err pool_small "${HEAD}memory: {isolate_pool: 8K}
" "3:24: memory.isolate_pool: expected 0 or at least 64K, found \"8K\""
expect_err pool_over_budget "${HEAD}memory: {size: 64M, isolate_pool: 128M}
" "3:35: memory.isolate_pool: expected at most memory.size (64M), found \"128M\""
expect_err duplicate_key "${HEAD}log: {size: 1M}
log: {size: 2M}
" "4:1: log: expected each key once, found it again (first at line 3)"
expect_err duplicate_nested_key "${HEAD}isolates:
  - elf: a.kx
    heap: 1M
    heap: 2M
" "6:5: isolates[0].heap: expected each key once, found it again (first at line 5)"
expect_err duplicate_isolate "${HEAD}isolates:
  - name: web
    elf: a.kx
  - name: web
    elf: b.kx
" "6:5: isolates[1]: expected unique isolate names, found \"web\" again (first at line 4)"
expect_err duplicate_isolate_default "${HEAD}isolates:
  - elf: one/httpd.kx
  - elf: two/httpd.kx
" "5:5: isolates[1]: expected unique isolate names, found \"httpd\" again (first at line 4)"
expect_err duplicate_iface "${HEAD}interfaces:
  - {name: n0, backend: tap, device: tap0, address: 10.0.0.2/24}
  - {name: n0, backend: tap, device: tap1, address: 10.0.1.2/24}
" "5:5: interfaces[1]: expected unique interface names, found \"n0\" again (first at line 4)"
expect_err duplicate_mount "${HEAD}disks:
  - {path: a.img, mount: /data}
tmpfs:
  - mount: /data
" "6:12: tmpfs[0].mount: expected each mount point once, found \"/data\" again (first at line 4)"
expect_err core_not_in_cores "${HEAD}isolates:
  - elf: a.kx
    core: 3
" "5:11: isolates[0].core: expected one of the deployment's cores (1, 2), found \"3\""
expect_err bad_cidr "${HEAD}interfaces:
  - backend: tap
    device: tap0
    address: 10.0.0.256/24
" "6:14: interfaces[0].address: expected an address A.B.C.D/N (N 1..32), found \"10.0.0.256/24\""
expect_err bad_prefix "${HEAD}interfaces:
  - {backend: tap, device: tap0, address: 10.0.0.2/33}
" "4:43: interfaces[0].address: expected an address A.B.C.D/N (N 1..32), found \"10.0.0.2/33\""
expect_err missing_prefix "${HEAD}interfaces:
  - {backend: tap, device: tap0, address: 10.0.0.2}
" "4:43: interfaces[0].address: expected an address A.B.C.D/N (N 1..32), found \"10.0.0.2\""
expect_err bad_mac "${HEAD}interfaces:
  - backend: tap
    device: tap0
    address: 10.0.0.2/24
    mac: 02:00:00:00:00
" "7:10: interfaces[0].mac: expected a unicast MAC address such as \"02:00:00:00:00:01\", found \"02:00:00:00:00\""
expect_err multicast_mac "${HEAD}interfaces:
  - {backend: tap, device: tap0, address: 10.0.0.2/24, mac: \"01:00:5e:00:00:01\"}
" "4:61: interfaces[0].mac: expected a unicast MAC address such as \"02:00:00:00:00:01\", found \"01:00:5e:00:00:01\""
expect_err host_address_not_tap "${HEAD}interfaces:
  - backend: afpacket
    device: eth0
    address: 10.0.0.2/24
    host_address: 10.0.0.1/24
" "7:5: interfaces[0].host_address: expected no host_address (only a tap has a Linux side KRANK configures), found one on backend afpacket"
expect_err gateway_outside "${HEAD}interfaces:
  - {backend: tap, device: tap0, address: 10.0.0.2/24, gateway: 10.0.1.1}
" "4:65: interfaces[0].gateway: expected an address inside 10.0.0.2/24, found \"10.0.1.1\""
expect_err bad_backend "${HEAD}interfaces:
  - {backend: vhost, device: x, address: 10.0.0.2/24}
" "4:15: interfaces[0].backend: expected tap, afpacket, wire or dpdk, found \"vhost\""
expect_err bad_size "${HEAD}memory: {size: 12Q}
" "3:16: memory.size: expected a size 4M..1T (bytes or K, M, G, T), found \"12Q\""
expect_err bad_duration "${HEAD}isolates:
  - elf: a.kx
    backoff: 10
" "5:14: isolates[0].backoff: expected a duration 1ms..1h (ns, us, ms, s, m, h), found \"10\""
expect_err backoff_order "${HEAD}isolates:
  - elf: a.kx
    backoff: 2s
    backoff_max: 1s
" "6:18: isolates[0].backoff_max: expected at least backoff, found \"1s\""
expect_err relative_mount "${HEAD}tmpfs:
  - mount: tmp
" "4:12: tmpfs[0].mount: expected an absolute path without \".\", \"..\" or \"//\", found \"tmp\""
expect_err dotdot_mount "${HEAD}disks:
  - path: a.img
    mount: /www/../etc
" "5:12: disks[0].mount: expected an absolute path without \".\", \"..\" or \"//\", found \"/www/../etc\""
expect_err empty_components "cores: [1]
components: []
" "2:13: components: expected a list of 1 to 64 entries, found an empty list"
expect_err empty_cores "cores: []
components: [vfs]
" "1:8: cores: expected a list of 1 to 256 entries, found an empty list"
expect_err missing_components "cores: [1]
" "1:1: components: expected a list of components, found nothing"
expect_err no_root_fs "cores: [1]
components: [vfs, net]
" "2:1: components: expected tmpfs in components (KRANK then mounts one at /) or a disk or tmpfs mounted at /: the vfs needs a root file system, found neither"
expect_err missing_address "${HEAD}interfaces:
  - {backend: tap, device: tap0}
" "4:5: interfaces[0].address: expected an address A.B.C.D/N, found nothing"
expect_err missing_elf "${HEAD}isolates:
  - name: x
" "4:5: isolates[0].elf: expected the isolate's ELF file, found nothing"
expect_err range_mtu "${HEAD}interfaces:
  - {backend: tap, device: tap0, address: 10.0.0.2/24, mtu: 67}
" "4:61: interfaces[0].mtu: expected an integer 68..65535, found \"67\""
expect_err range_queues "${HEAD}interfaces:
  - {backend: dpdk, device: net_ring0, address: 10.0.0.2/24, queues: 0}
" "4:70: interfaces[0].queues: expected an integer 1..16, found \"0\""
expect_err big_queues "${HEAD}interfaces:
  - {backend: dpdk, device: net_ring0, address: 10.0.0.2/24, queues: 17}
" "4:70: interfaces[0].queues: expected an integer 1..16, found \"17\""
expect_err word_queues "${HEAD}interfaces:
  - {backend: dpdk, device: net_ring0, address: 10.0.0.2/24, queues: two}
" "4:70: interfaces[0].queues: expected an integer 1..16, found \"two\""
expect_err tap_queues "${HEAD}interfaces:
  - {backend: tap, device: tap0, address: 10.0.0.2/24, queues: 2}
" "4:56: interfaces[0].queues: expected no queues (only a dpdk port has several), found some on backend tap"
expect_err range_priority "${HEAD}realtime: {sched_fifo: yes, priority: 100}
" "3:39: realtime.priority: expected an integer 1..99, found \"100\""
expect_err range_core "cores: [1, 256]
components: [vfs]
" "1:12: cores[1]: expected an integer 0..255, found \"256\""
expect_err duplicate_core "cores: \"0-3,2\"
components: [vfs]
" "1:8: cores: expected a core list such as \"0-3,6\" (cores 0..255, each once), found \"0-3,2\""
expect_err negative_uid "${HEAD}isolates:
  - {elf: a.kx, uid: -1}
" "4:22: isolates[0].uid: expected an integer 0..4294967294, found \"-1\""
expect_err heap_over_budget "${HEAD}memory: {size: 16M}
isolates:
  - {elf: a.kx, heap: 32M}
" "5:5: isolates[0].heap: expected at most memory.size (16M), found more"
expect_err unknown_user "${HEAD}attach: {users: [root, no_such_user_krk]}
" "3:24: attach.users[1]: expected a user of this machine, found unknown user \"no_such_user_krk\""
expect_err unknown_group "${HEAD}control: {group: no_such_group_krk}
" "3:18: control.group: expected a group of this machine, found unknown group \"no_such_group_krk\""
expect_err bad_component_name "cores: [1]
components: [vfs, Net]
" "2:19: components[1]: expected a component name ([a-z][a-z0-9_]*, at most 31 bytes), found \"Net\""
expect_err bad_restart "${HEAD}isolates:
  - {elf: a.kx, restart: sometimes}
" "4:26: isolates[0].restart: expected never, on-failure or always, found \"sometimes\""
expect_err bad_env "${HEAD}isolates:
  - {elf: a.kx, env: [LANG]}
" "4:23: isolates[0].env[0]: expected NAME=VALUE, found \"LANG\""
expect_err long_socket "${HEAD}control: {socket: /run/krank/$(printf '%0120d' 0).sock}
" "3:19: control.socket: expected a socket path of at most 107 bytes (after resolving), found 136 bytes"
expect_err yaml_syntax "cores: [1
components: [vfs]
" "2:11: (yaml): expected valid YAML, found: did not find expected ',' or ']' (while parsing a flow sequence at line 1)"
expect_err yaml_tab "cores: [1]
components:
	- vfs
" "3:1: (yaml): expected valid YAML, found: found character that cannot start any token (while scanning for the next token at line 3)"
expect_err yaml_alias "cores: &c [1]
components: [vfs]
isolates:
  - {elf: a.kx, core: *c}
" "4:23: (yaml): expected plain values, found an alias (*c); anchors and aliases are not supported"
expect_err yaml_two_docs "cores: [1]
components: [vfs]
---
cores: [2]
" "3:1: (yaml): expected one document, found a second"
expect_err yaml_deep "$(printf 'a: '; i=0; while [ $i -lt 40 ]; do printf '['; i=$((i+1)); done)
" "1:19: (yaml): expected nesting at most 16 deep, found deeper"
expect_err empty_file "" "1:1: (top): expected a mapping of deployment keys, found an empty file"
expect_err top_not_map "- cores
" "1:1: (top): expected a mapping, found a list"

echo "== all errors reported, in file order"
n=$((n + 1))
f="$work/many.yaml"
printf 'cores: [1]\ncomponents: [vfs]\nlog: {size: 1Q}\nmemory: {size: 1Q}\nfoo: 1\n' > "$f"
"$chk" "$f" > /dev/null 2> "$work/err"
if [ "$(grep -c "^$f:" "$work/err")" -eq 3 ] &&
    [ "$(grep "^$f:" "$work/err" | cut -d: -f2 | tr '\n' ' ')" = "3 4 5 " ]; then
	echo "ok: three errors, lines 3 4 5"
else
	fail "expected three errors at lines 3, 4, 5"; cat "$work/err"
fi
n=$((n + 1))
{ printf 'cores: [1]\ncomponents: [vfs]\n'; i=0; while [ $i -lt 100 ]; do printf 'k%d: 1\n' $i; i=$((i+1)); done; } > "$work/cap.yaml"
"$chk" "$work/cap.yaml" > /dev/null 2> "$work/err"
if [ "$(grep -c "^$work/cap.yaml:" "$work/err")" -eq 32 ] &&
    grep -qxF "... and 68 more errors" "$work/err"; then
	echo "ok: 100 errors: 32 shown, then '... and 68 more errors'"
else
	fail "error cap"; tail -3 "$work/err"
fi

echo "== valid files, defaults and paths"
mkdir -p "$work/site/conf"
# queues.client_spin: printed only when set, and it round-trips.
expect_ok queues_client_spin "${HEAD}queues: {spin: 0us, client_spin: 20us}
" && if grep -q '^queues: {spin: 0.*, client_spin: 20us,' \
    "$work/queues_client_spin.out"; then
	echo "ok: queues.client_spin printed"
	roundtrip "$work/queues_client_spin.yaml"
else
	fail "queues.client_spin not printed: $(grep queues "$work/queues_client_spin.out")"
fi
expect_ok queues_no_client_spin "${HEAD}queues: {spin: 5us}
" && if grep -q 'client_spin:' "$work/queues_no_client_spin.out"; then
	fail "queues.client_spin printed though not set"
else
	echo "ok: queues.client_spin not printed when unset (it follows spin)"
fi
expect_ok minimal "cores: \"0-2,5\"
components: [vfs, tmpfs]
isolates:
  - elf: ../bin/app.kx
disks:
  - {path: data/site.img, mount: /www}
" && {
	out="$work/minimal.out"
	for want in 'name: "minimal"' 'cores: [0, 1, 2, 5]' \
	    'realtime: {sched_fifo: no, priority: 10}' \
	    'memory: {size: 256M, hugepages: auto, mlock: yes, isolate_pool: 2M}' \
	    '  - name: "app"' \
	    "  - path: \"$(realpath "$work")/data/site.img\"" \
	    '    fs: ext2' '    readonly: no' \
	    '    argv: ["app"]' '    cwd: "/"' '    root: "/"' '    heap: 64M' \
	    '    fds: 1024' '    uid: 0' '    restart: never' '    backoff: 100ms' \
	    '    backoff_max: 10s' 'control: {socket: "/run/krank/minimal.sock"}' \
	    'attach: {socket: "/run/krank/minimal.attach"}' 'log: {size: 1M}'; do
		n=$((n + 1))
		if grep -qxF "$want" "$out"; then echo "ok: default/path: $want"
		else fail "minimal: missing line: $want"; fi
	done
}
# elf given as ../bin is taken off the real directory, not kept lexically.
n=$((n + 1))
if grep -qxF "    elf: \"$(dirname "$(realpath "$work")")/bin/app.kx\"" "$work/minimal.out"; then
	echo "ok: ../ resolved against the file's directory"
else
	fail "../ resolution"; grep elf "$work/minimal.out"
fi
# From another current directory, through a relative file name.
n=$((n + 1))
cp "$work/minimal.yaml" "$work/site/conf/d.yaml"
out=$(cd "$work/site" && "$chk" conf/d.yaml | grep 'path:')
if [ "$out" = "  - path: \"$(realpath "$work")/site/conf/data/site.img\"" ]; then
	echo "ok: relative file name: paths resolved against its directory"
else
	fail "relative file name: got $out"
fi

expect_ok full "name: full-node
cores: [1, 3]
realtime: {sched_fifo: yes, priority: 50}
memory: {size: 1G, hugepages: no, mlock: no, isolate_pool: 0}
components: [vfs, tmpfs, ext2, net, ether, virtif, socket, inet]
interfaces:
  - name: lan
    backend: afpacket
    device: veth0
    mac: \"02:aa:bb:cc:dd:ee\"
    address: 192.168.7.2/24
    gateway: 192.168.7.1
    mtu: 9000
  - {backend: dpdk, device: \"0000:03:00.0\", name: nic, address: 10.1.0.2/16, queues: 2}
disks:
  - {path: /dev/null, fs: ext2, mount: /, readonly: true}
tmpfs:
  - {mount: /tmp, size: 1G}
  - {mount: /run/x, size: 4096}
isolates:
  - name: srv
    elf: /opt/srv.kx
    argv: [srv, \"quote\\\"d\", \"tab\\there\", \"é\", \"\\u2028\"]
    env: [LANG=C, \"EMPTY=\"]
    cwd: /tmp
    root: /
    core: 3
    heap: 128M
    fds: 65536
    uid: 1000
    gid: 1000
    restart: always
    backoff: 1500us
    backoff_max: 2m
control: {socket: ctl.sock, group: root}
attach: {socket: /tmp/a.attach, users: [root, 1000]}
log: {size: 64K}
"
for f in "$src"/examples/deployments/*.yaml "$work/full.yaml" "$work/minimal.yaml"; do
	roundtrip "$f"
done
n=$((n + 1))
if grep -qxF '    argv: ["srv", "quote\"d", "tab\x09here", "é", "\u2028"]' "$work/rt1-full.yaml"; then
	echo "ok: strings printed escaped"
else
	fail "string escapes"; grep argv "$work/rt1-full.yaml"
fi
n=$((n + 1))
if grep -qxF 'memory: {size: 1G, hugepages: no, mlock: no, isolate_pool: 0}' "$work/rt1-full.yaml"; then
	echo "ok: memory.isolate_pool 0 (no pool) kept"
else
	fail "isolate_pool"; grep memory "$work/rt1-full.yaml"
fi
n=$((n + 1))
if grep -qxF 'attach: {socket: "/tmp/a.attach", users: [0, 1000]}' "$work/rt1-full.yaml" &&
    grep -qxF "control: {socket: \"$(realpath "$work")/ctl.sock\", group: \"root\"}" "$work/rt1-full.yaml"; then
	echo "ok: attach users as uids, control socket resolved"
else
	fail "control/attach"; grep -E 'control|attach' "$work/rt1-full.yaml"
fi

n=$((n + 1))
printf 'cores: [1]\ncomponents:\n  - vfs\n  -   tmpfs\n' > "$work/c.yaml"
if [ "$("$chk" -c "$work/c.yaml" | tr '\n' ' ')" = "components 2:1 vfs 3:5 tmpfs 4:7 " ]; then
	echo "ok: component locations (for the registry check) 2:1, 3:5, 4:7"
else
	fail "component locations: $("$chk" -c "$work/c.yaml" | tr '\n' ' ')"
fi
n=$((n + 1))
"$chk" "$work/does-not-exist.yaml" > /dev/null 2> "$work/err"
if grep -qF "does-not-exist.yaml: cannot open: No such file or directory" "$work/err"; then
	echo "ok: missing file named with its reason"
else
	fail "missing file"; cat "$work/err"
fi

echo "$n checks, $fails failed"
[ $fails -eq 0 ]
