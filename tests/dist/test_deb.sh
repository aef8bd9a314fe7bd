#!/bin/bash
# test_deb.sh - the Debian packages, built from a clean copy of the tree
# as it is released (make distdir: exactly what the tarball holds) with
# dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=nocheck, -j2):
#  - dpkg-deb: krank and libkrank-dev, each file where it belongs
#    (commands, libraries, man pages, the unit, the demo, the examples,
#    headers, pkg-config files, static libraries);
#  - the dependencies are satisfiable on this Debian (apt-get -s install
#    ./krank_*.deb ./libkrank-dev_*.deb: what `apt install ./krank_*.deb`
#    would resolve);
#  - unpacked into an empty root (dpkg -x): every library a command
#    needs is found in the package or the system, the packaged krank
#    checks every example deployment and /etc/krank/demo.yaml, krankctl
#    --help works, the man pages render without warnings, the unit
#    verifies with systemd-analyze and names the packaged krank.
# Takes a few minutes (a whole build); KRANK_DEB_KEEP=DIR keeps the .debs.
set -u
src=$(cd "${top_srcdir:-.}" && pwd)
bld=$(cd "${top_builddir:-.}" && pwd)
skip() { echo "SKIP: $*"; exit 77; }
for t in dpkg-buildpackage dpkg-deb dh apt-get; do
	command -v $t >/dev/null || skip "$t is not installed (Debian packages dpkg-dev, debhelper; scripts/install-deps.sh)"
done
[ -f "$bld/Makefile" ] || skip "no configured build tree at $bld (make distdir needs one)"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
t0=$(date +%s)

# ---- build from the release's files -----------------------------------------
ver=$(sed -n 's/^PACKAGE_VERSION = //p' "$bld/Makefile")
tree="$d/krank-$ver"
make -s -C "$bld" distdir distdir="$tree" >"$d/distdir.log" 2>&1 ||
	fail "make distdir: $(tail -5 "$d/distdir.log")"
[ -x "$tree/debian/rules" ] || fail "debian/ is not in the release tarball (EXTRA_DIST)"
(cd "$tree" && dpkg-checkbuilddeps) >"$d/bdeps.log" 2>&1 ||
	skip "build dependencies missing: $(cat "$d/bdeps.log")"
(cd "$tree" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
    dpkg-buildpackage -us -uc -b) >"$d/build.log" 2>&1 ||
	fail "dpkg-buildpackage: $(grep -vE '^(gcc|/bin/bash|libtool|mv|rm|ar|ranlib) ' "$d/build.log" | grep -E -B3 -A12 'error|missing|not installed' | head -60)"
t1=$(date +%s)
arch=$(dpkg --print-architecture)
deb="$d/krank_${ver}_$arch.deb"
dev="$d/libkrank-dev_${ver}_$arch.deb"
[ -f "$deb" ] && [ -f "$dev" ] || fail "the .debs are missing: $(ls "$d")"
ok "dpkg-buildpackage -us -uc -b from make distdir: $(basename "$deb"), $(basename "$dev") in $((t1 - t0)) s"
[ -n "${KRANK_DEB_KEEP:-}" ] && cp "$deb" "$dev" "$KRANK_DEB_KEEP"/

# ---- the file lists ----------------------------------------------------------
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$d/krank.list"
dpkg-deb -c "$dev" | awk '{print $6}' | sed 's|^\./|/|' >"$d/dev.list"
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
need() {	# need LIST PATH-REGEX WHAT
	grep -Eq "^$2\$" "$1" || fail "$(basename "$1" .list): no $3 ($2)"
}
L="$d/krank.list" D="$d/dev.list"
for c in krank krankctl krank-ld krank-fs krank-attach; do need "$L" "/usr/bin/$c" "command $c"; done
need "$L" "/usr/lib/$ma/libkrank-preload\\.so" "the preload library (krank-attach's)"
grep -q "libkrank-preload" "$D" && fail "libkrank-dev carries the preload library too"
for l in libkrank libkrank-hypercall libkrank-loader; do
	need "$L" "/usr/lib/$ma/$l\\.so\\.0" "library $l"
	need "$D" "/usr/lib/$ma/$l\\.so" "link $l.so"
	need "$D" "/usr/lib/$ma/$l\\.a" "static $l.a"
done
for m in man8/krank.8 man8/krankctl.8 man5/krank-deployment.5; do
	need "$L" "/usr/share/man/$m\\.gz" "man page $m"
done
need "$L" "/lib/systemd/system/krank@\\.service" "systemd unit"
need "$L" "/etc/krank/demo\\.yaml" "demo deployment"
need "$L" "/usr/lib/krank/examples/echo/echo\\.kx" "example isolate echo.kx"
need "$L" "/usr/libexec/krank/metrics-http" "metrics HTTP helper"
need "$D" "/usr/bin/krank-cc" "krank-cc"
need "$D" "/usr/include/krank/krq\\.h" "libkrank's header"
need "$D" "/usr/include/krank/isolate/stdio\\.h" "the isolates' headers"
need "$D" "/usr/lib/$ma/pkgconfig/krank\\.pc" "krank.pc"
need "$D" "/usr/lib/$ma/pkgconfig/libkrank\\.pc" "libkrank.pc"
grep -E '\.(la|o)$' "$L" "$D" && fail "libtool archives or objects in a package"
grep -E '^/usr/local|^/home|^/work' "$L" "$D" && fail "files outside Debian's paths"
dpkg-deb -e "$deb" "$d/ctl" || fail "dpkg-deb -e"
grep -q '^/etc/krank/demo.yaml$' "$d/ctl/conffiles" 2>/dev/null ||
	fail "/etc/krank/demo.yaml is not a conffile"
ok "krank: $(grep -vc '/$' "$L") files, libkrank-dev: $(grep -vc '/$' "$D") files, each where it belongs; demo.yaml a conffile"

# ---- dependencies -------------------------------------------------------------
echo "    krank Depends: $(dpkg-deb -f "$deb" Depends)"
echo "    libkrank-dev Depends: $(dpkg-deb -f "$dev" Depends)"
if [ "$(id -u)" -eq 0 ]; then
	apt-get -s -q install "$deb" "$dev" >"$d/apt.log" 2>&1 ||
		fail "apt-get -s install: the dependencies cannot be met: $(grep -E '^ |E:' "$d/apt.log" | head)"
	ok "apt-get -s install ./krank_*.deb ./libkrank-dev_*.deb: the dependencies can be met"
else
	echo "note: apt-get -s needs root here: dependency resolution not checked"
fi

# ---- unpacked into an empty root ----------------------------------------------
root="$d/root"
dpkg -x "$deb" "$root" && dpkg -x "$dev" "$root" || fail "dpkg -x"
export LD_LIBRARY_PATH="$root/usr/lib/$ma"
for c in krank krankctl krank-ld krank-fs; do
	ldd "$root/usr/bin/$c" >"$d/ldd" 2>&1 || fail "ldd $c: $(cat "$d/ldd")"
	grep -q 'not found' "$d/ldd" && fail "$c needs a library nobody has: $(grep 'not found' "$d/ldd")"
	# Its own libraries come from the package, not from a build tree.
	grep -E 'libkrank' "$d/ldd" | grep -v "$root" && fail "$c takes libkrank from outside the package"
done
ok "every packaged command finds its libraries (the package's own and the system's)"
n=0
for y in "$root"/usr/lib/krank/examples/deployments/*.yaml "$root/etc/krank/demo.yaml"; do
	"$root/usr/bin/krank" check "$y" >"$d/check.out" 2>&1 ||
		fail "packaged krank check $y: $(cat "$d/check.out")"
	n=$((n + 1))
done
ok "the packaged krank checks the $((n - 1)) example deployments and /etc/krank/demo.yaml"
grep -q '^    elf: /usr/lib/krank/examples/echo/echo.kx$' "$root/etc/krank/demo.yaml" ||
	fail "demo.yaml does not run the packaged echo.kx"
"$root/usr/bin/krankctl" --help >"$d/help" || fail "krankctl --help: exit $?"
grep -q -- '--name NAME' "$d/help" || fail "krankctl --help: no --name"
"$root/usr/bin/krank" --version | grep -q "^krank $ver$" || fail "krank --version is not $ver"
ok "krankctl --help, krank --version $ver"
if command -v man >/dev/null; then
	for m in "$root"/usr/share/man/man*/*.gz; do
		MANWIDTH=80 man --warnings -l "$m" >/dev/null 2>"$d/man.err"
		[ -s "$d/man.err" ] && fail "man $(basename "$m"): $(head -3 "$d/man.err")"
	done
	ok "the man pages render without warnings"
fi
unit="$root/lib/systemd/system/krank@.service"
grep -q '^ExecStart=/usr/bin/krank run /etc/krank/%i.yaml$' "$unit" ||
	fail "the unit does not run /usr/bin/krank: $(grep ExecStart "$unit")"
if command -v systemd-analyze >/dev/null; then
	mkdir "$d/unit"
	sed "s|/usr/bin/|$root/usr/bin/|g" "$unit" >"$d/unit/krank@demo.service"
	systemd-analyze verify --man=no "$d/unit/krank@demo.service" >"$d/verify" 2>&1 ||
		fail "systemd-analyze verify of the packaged unit: $(cat "$d/verify")"
	ok "the packaged unit verifies"
fi
echo "test_deb: $(( $(date +%s) - t0 )) s in all"
exit 0
