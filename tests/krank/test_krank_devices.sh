#!/bin/bash
# test_krank_devices.sh - `krank devices` against what this machine's
# sysfs, lspci (pciutils), ip (iproute2) and findmnt (util-linux) report:
# the same PCI network and storage devices, IDs, class, Linux driver and
# pci.ids names; interfaces and disks below each; a device whose interface
# is up or addressed, or whose disk is mounted, is marked in use and
# `krank devices --check` refuses it naming the reason.  Read-only: it
# never changes a device or interface.
# Every check runs against krank and against the ASan+UBSan build of the
# same code (tests/krank/krk_devices_san).
set -u
: "${top_builddir:?}"
SYS=/sys/bus/pci/devices

[ -d "$SYS" ] && [ -n "$(ls -A "$SYS" 2>/dev/null)" ] ||
	{ echo "SKIP: this machine has no PCI bus ($SYS is missing or empty)"; exit 77; }
for c in python3 ip findmnt; do
	command -v $c >/dev/null ||
		{ echo "SKIP: $c is needed to tell what Linux uses"; exit 77; }
done

fail=0
tmp=$(mktemp -d /tmp/krank-devices.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

check_with() {
KRANK=$1
echo "info: checking $KRANK"

"$KRANK" devices --json >"$tmp/json" 2>"$tmp/err" ||
	{ echo "FAIL: krank devices --json failed: $(cat "$tmp/err")"; fail=1; return; }
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/json" ||
	{ echo "FAIL: krank devices --json is not JSON"; cat "$tmp/json"; fail=1; return; }
echo "ok: krank devices --json is valid JSON"

# What sysfs says: ADDR CLASS VENDOR DEVICE DRIVER, network and storage only.
for d in "$SYS"/*; do
	cls=$(cat "$d/class")
	case $cls in 0x01*|0x02*) ;; *) continue ;; esac
	drv=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)
	echo "$(basename "$d") ${cls#0x} $(sed 's/^0x//' "$d/vendor") $(sed 's/^0x//' "$d/device") ${drv:--}"
done | sort >"$tmp/sysfs"
python3 - "$tmp/json" >"$tmp/ours" <<'EOF'
import json, sys
for d in json.load(open(sys.argv[1])):
    print(d["address"], d["class"], d["vendor_id"], d["device_id"], d["driver"] or "-")
EOF
sort -o "$tmp/ours" "$tmp/ours"
if diff "$tmp/sysfs" "$tmp/ours" >"$tmp/diff"; then
	echo "ok: the same $(wc -l <"$tmp/sysfs") network/storage devices as sysfs, with class, IDs and Linux driver"
else
	echo "FAIL: krank devices differs from sysfs (< sysfs, > krank):"; cat "$tmp/diff"; fail=1
fi
[ -s "$tmp/sysfs" ] || echo "info: this machine has no PCI network or storage device"

python3 - "$tmp/json" <<'EOF' || fail=1
import json, sys
bad = 0
for d in json.load(open(sys.argv[1])):
    want = d["driver"] in ("vfio-pci", "uio_pci_generic", "igb_uio")
    if d["userspace_driver"] != want:
        print("FAIL: %s: userspace_driver %s with driver %r" % (d["address"], d["userspace_driver"], d["driver"]))
        bad = 1
print("ok: userspace_driver is true exactly for vfio-pci/uio drivers" if not bad else "")
sys.exit(bad)
EOF

# lspci: the same devices (by address and numeric IDs) and the same names.
if command -v lspci >/dev/null; then
	lspci -D -mm -nn 2>/dev/null | python3 -c '
import re, shlex, sys
for line in sys.stdin:
    f = shlex.split(line)
    cls = re.search(r"\[([0-9a-f]{4})\]$", f[1]).group(1)
    if cls[:2] not in ("01", "02"):
        continue
    ven = re.match(r"(.*) \[([0-9a-f]{4})\]$", f[2]); dev = re.match(r"(.*) \[([0-9a-f]{4})\]$", f[3])
    print("%s|%s|%s|%s|%s" % (f[0], ven.group(2), dev.group(2), ven.group(1), dev.group(1)))
' | sort >"$tmp/lspci"
	python3 - "$tmp/json" <<'EOF' | sort >"$tmp/ours_names"
import json, sys
for d in json.load(open(sys.argv[1])):
    print("%s|%s|%s|%s|%s" % (d["address"], d["vendor_id"], d["device_id"], d["vendor"], d["device"]))
EOF
	if diff "$tmp/lspci" "$tmp/ours_names" >"$tmp/diff"; then
		echo "ok: lspci -D reports the same devices, IDs and vendor/device names"
	else
		echo "FAIL: krank devices differs from lspci -D (< lspci, > krank):"; cat "$tmp/diff"; fail=1
	fi
else
	echo "info: lspci (pciutils) is not installed: names not cross-checked"
fi

# Per device: interfaces and disks below it, and Linux's use of them.
python3 - "$tmp/json" >"$tmp/list" <<'EOF'
import json, sys
for d in json.load(open(sys.argv[1])):
    print(d["address"], d["kind"], "1" if d["in_use"] else "0", ",".join(d["names"]) or "-", d["in_use_by"].replace(" ", "_") or "-")
EOF
while read -r addr kind inuse names why; do
	expect_use=""
	for n in /sys/class/net/* /sys/class/block/*; do
		[ -e "$n" ] || continue
		case $(readlink -f "$n") in */"$addr"/*) ;; *) continue ;; esac
		name=$(basename "$n")
		case $n in
		/sys/class/net/*)
			case ",$names," in *",$name,"*) ;; *)
				echo "FAIL: $addr: interface $name is below it but not listed ($names)"; fail=1 ;;
			esac
			ip -o link show dev "$name" up 2>/dev/null | grep -q . &&
				expect_use="$expect_use interface $name is up"
			ip -o addr show dev "$name" 2>/dev/null | grep -q inet &&
				expect_use="$expect_use $name has addresses"
			;;
		/sys/class/block/*)
			[ -e "$n/partition" ] || case ",$names," in *",$name,"*) ;; *)
				echo "FAIL: $addr: disk $name is below it but not listed ($names)"; fail=1 ;;
			esac
			mm=$(cat "$n/dev")
			findmnt -rn -o MAJ:MIN 2>/dev/null | grep -qx "$mm" &&
				expect_use="$expect_use $name is mounted"
			;;
		esac
	done
	if [ -n "$expect_use" ]; then
		if [ "$inuse" = 1 ]; then
			echo "ok: $addr ($kind): in use as Linux says ($expect_use ): ${why//_/ }"
		else
			echo "FAIL: $addr ($kind): Linux uses it ($expect_use ) but krank devices says it is free"; fail=1
		fi
		if "$KRANK" devices --check "$addr" >"$tmp/out" 2>&1; then
			echo "FAIL: $addr: --check claims a device Linux uses: $(cat "$tmp/out")"; fail=1
		elif grep -q "in use by Linux" "$tmp/out"; then
			echo "ok: $addr: --check refuses it: $(cat "$tmp/out")"
		else
			echo "FAIL: $addr: --check refuses without saying why: $(cat "$tmp/out")"; fail=1
		fi
	else
		if [ "$inuse" = 0 ] && "$KRANK" devices --check "$addr" >"$tmp/out" 2>&1; then
			echo "ok: $addr ($kind): unused by Linux, --check allows it: $(cat "$tmp/out")"
		else
			echo "FAIL: $addr ($kind): unused by Linux but refused or marked in use: ${why//_/ } $(cat "$tmp/out")"; fail=1
		fi
	fi
done <"$tmp/list"

# The human table: a header and two lines per device.
"$KRANK" devices >"$tmp/table" 2>&1
rows=$(grep -c '^[0-9a-f]\{4\}:' "$tmp/table")
[ "$rows" -eq "$(wc -l <"$tmp/sysfs")" ] &&
	echo "ok: the table has one row per device ($rows)" ||
	{ echo "FAIL: the table has $rows rows:"; cat "$tmp/table"; fail=1; }

# Bad addresses: clear errors, exit 1.
out=$("$KRANK" devices --check 00:zz.9 2>&1); rc=$?
[ $rc -eq 1 ] && [[ $out == *"not a PCI address"* ]] &&
	echo "ok: a malformed address is refused: $out" ||
	{ echo "FAIL: malformed address: rc $rc: $out"; fail=1; }
out=$("$KRANK" devices --check ffff:ff:1f.7 2>&1); rc=$?
[ $rc -eq 1 ] && [[ $out == *"no PCI network or storage device"* ]] &&
	echo "ok: an absent device is refused: $out" ||
	{ echo "FAIL: absent device: rc $rc: $out"; fail=1; }
"$KRANK" devices --bogus >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && echo "ok: an unknown argument is a usage error (2)" ||
	{ echo "FAIL: unknown argument gave $rc"; fail=1; }
}

check_with "$top_builddir/krank/krank"
check_with "$top_builddir/tests/krank/krk_devices_san"
exit $fail
