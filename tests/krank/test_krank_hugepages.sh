#!/bin/sh
# memory.hugepages as a user meets it.  With no free huge pages:
# hugepages: yes fails with an error that says why, auto boots and the
# report gives the reason it fell back.  With huge pages that this test
# reserves itself (vm.nr_hugepages, restored after): the kernel heap and
# the packet buffers of a tap come from them -- the report says how many
# MiB, /proc/PID/smaps shows a 2048 kB-page mapping whose Private_Hugetlb
# grows to cover the receive pool once Linux pings KRANK through the tap.
# Skips, saying why, when the kernel gives no huge pages.
set -u
bld=${top_builddir:-.}
krank="$bld/krank/krank"
ns="krank-hp-$$"
tap="khp$$"
work=$(mktemp -d)
fail=0
lock=/tmp/krank-test-hugepages.lock

skip() { echo "SKIP: $*"; rm -rf "$work"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root for vm.nr_hugepages and a tap"
command -v flock >/dev/null 2>&1 || skip "flock not installed"
[ -w /proc/sys/vm/nr_hugepages ] || skip "/proc/sys/vm/nr_hugepages not writable"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
grep -q '^Hugepagesize: *2048 kB' /proc/meminfo ||
	skip "the default huge page size is not 2048 kB"
ip netns add "$ns" 2>"$work/err" ||
	skip "this machine forbids network namespaces: $(cat "$work/err")"

# One test at a time changes vm.nr_hugepages: the lock is held to the end.
exec 9>"$lock"
flock 9
old=$(cat /proc/sys/vm/nr_hugepages)
kpid=
cleanup() {
	[ -n "$kpid" ] && kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	echo "$old" >/proc/sys/vm/nr_hugepages
	rm -rf "$work"
}
trap cleanup EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
core=$(($(nproc) - 1))

deployment() {	# $1 file, $2 hugepages
	cat >"$1" <<EOT
cores: [$core]
memory: {size: 64M, hugepages: $2, isolate_pool: 0}
components: [vfs, tmpfs, net, ether, virtif, socket, inet]
interfaces:
  - {name: krank0, backend: tap, device: $tap, address: 10.96.0.2/24,
     host_address: 10.96.0.1/24}
control: {socket: $work/k.sock}
EOT
}

# Boots $1 in the namespace; returns when ready (or krank ended).
boot() {
	: >"$work/out"
	ip netns exec "$ns" "$krank" run "$1" >"$work/out" 2>"$work/err" &
	kpid=$!
	# The deadline is generous: krank is ready in milliseconds.
	i=0
	while ! grep -q ' ready in ' "$work/out" && [ $i -lt 1000 ]; do
		kill -0 $kpid 2>/dev/null || break
		sleep 0.02
		i=$((i + 1))
	done
	grep -q ' ready in ' "$work/out"
}

stop() {
	kill -TERM "$kpid" 2>/dev/null
	wait "$kpid" 2>/dev/null
	kpid=
}

# No free huge pages: only pages not reserved by someone are given back.
echo 0 >/proc/sys/vm/nr_hugepages
free=$(awk '/^HugePages_Free/ { f = $2 } /^HugePages_Rsvd/ { r = $2 }
	END { print f - r }' /proc/meminfo)
if [ "$free" -gt 0 ]; then
	echo "info: $free huge pages stay free (in use elsewhere): the cases without huge pages are left out"
else
	deployment "$work/yes.yaml" yes
	if boot "$work/yes.yaml"; then
		bad "hugepages: yes booted with no free huge pages"
		stop
	else
		wait "$kpid" 2>/dev/null; kpid=
		if grep -q "memory.hugepages is yes, but huge pages cannot be had: no free huge pages" "$work/err"; then
			ok "hugepages: yes without huge pages fails: $(grep 'boot failed' "$work/err")"
		else
			bad "hugepages: yes without huge pages: unclear error: $(cat "$work/err")"
		fi
	fi
	deployment "$work/auto.yaml" auto
	if boot "$work/auto.yaml"; then
		line=$(grep 'memory: budget' "$work/out")
		case $line in
		*"hugepages no: no free huge pages ("*"from 4 KiB pages"*)
			ok "hugepages: auto falls back and says why: $line" ;;
		*)	bad "hugepages: auto without huge pages: report says: $line" ;;
		esac
		stop
	else
		bad "hugepages: auto did not boot without huge pages: $(cat "$work/err")"
	fi
fi

# Huge pages for the test: 64 MiB budget, all of it for the heap.
want=$((old + 32))
echo "$want" >/proc/sys/vm/nr_hugepages
got=$(cat /proc/sys/vm/nr_hugepages)
[ "$got" -ge $((old + 2)) ] ||
	skip "the kernel gave $got huge pages of $want asked (vm.nr_hugepages was $old)"
deployment "$work/huge.yaml" yes
if ! boot "$work/huge.yaml"; then
	bad "hugepages: yes with $got huge pages did not boot: $(cat "$work/err")"
	exit 1
fi
sed 's/^/  | /' "$work/out"
line=$(grep 'memory: budget' "$work/out")
mib=$(echo "$line" | sed -n 's/.*packet buffers from \([0-9]*\) MiB of 2 MiB pages.*/\1/p')
if [ -n "$mib" ] && [ "$mib" -ge 2 ]; then
	ok "the report says the kernel heap and packet buffers come from $mib MiB of huge pages"
else
	bad "the report does not say how much comes from huge pages: $line"
fi
used=$(sed -n 's/.*huge-page heap: \([0-9]*\) KiB in use.*/\1/p' "$work/out")
# The tap's receive pool is carved from it (16 MiB: buffers for the
# merged 64 KiB frames of a tap with offloads).
if [ -n "$used" ] && [ "$used" -ge 1024 ]; then
	ok "$used KiB of the huge-page heap in use at ready: the receive pool is in it"
else
	bad "huge-page heap in use at ready: '${used:-?}' KiB, less than a receive pool"
fi

# Traffic through the tap: frames land in the receive pool.
if ip netns exec "$ns" ping -c 3 -i 0.2 -W 2 10.96.0.2 >"$work/ping" 2>&1; then
	ok "Linux pings KRANK through the tap"
else
	bad "ping through the tap: $(tail -2 "$work/ping")"
fi
hp=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { ps = 0 }
	/^KernelPageSize: *2048 kB/ { ps = 1 }
	/^Private_Hugetlb:/ && ps { sum += $2 }
	END { print sum + 0 }' "/proc/$kpid/smaps")
# The heap's first page (kmem slabs) and the pool's.
if [ "$hp" -ge 4096 ]; then
	ok "smaps: $hp kB Private_Hugetlb in KernelPageSize 2048 kB mappings"
else
	bad "smaps: $hp kB Private_Hugetlb in 2048 kB-page mappings, want >= 4096"
	grep -B3 -A20 'KernelPageSize: *2048' "/proc/$kpid/smaps" | head -40
fi
stop
exit $fail
