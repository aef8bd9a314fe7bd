#!/bin/sh
# The deployment parser built with ASan+UBSan (krk_config_check_san): the
# cases of test_krk_config.sh, the fuzz seeds, and inputs built to exhaust
# it (a billion laughs, deep nesting, too many values, an oversized file,
# a huge scalar).  Any sanitizer report or leak fails; rejection must be
# an ordinary exit 1 with a located message.
set -u
bld=${top_builddir:-.}
src=${top_srcdir:-.}
san="$bld/tests/krank/krk_config_check_san"
[ -x "$san" ] || { echo "FAIL: $san not built"; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:exitcode=99:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
fails=0

echo "== the parser's test cases under ASan+UBSan"
KRK_CONFIG_CHECK="$san" sh "$src/tests/krank/test_krk_config.sh" > "${TMPDIR:-/tmp}/krk_san.$$" 2>&1
rc=$?
tail -1 "${TMPDIR:-/tmp}/krk_san.$$"
if [ $rc -ne 0 ] || grep -q "Sanitizer\|runtime error" "${TMPDIR:-/tmp}/krk_san.$$"; then
	grep -B2 -A20 "FAIL\|Sanitizer\|runtime error" "${TMPDIR:-/tmp}/krk_san.$$" | head -60
	fails=$((fails + 1))
fi
rm -f "${TMPDIR:-/tmp}/krk_san.$$"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run FILE WANT: exit status WANT (0 accepted, 1 rejected), no report;
# for a rejection, the first error line names FILE:LINE:COL.
run() {
	"$san" "$1" > "$work/out" 2> "$work/err"
	rc=$?
	if [ $rc -ne "$2" ] || grep -q "Sanitizer\|runtime error" "$work/err"; then
		echo "FAIL: $1: exit $rc (want $2)"; head -30 "$work/err"
		fails=$((fails + 1))
		return
	fi
	if [ "$2" -eq 1 ] && ! head -1 "$work/err" | grep -q "^$1:[0-9]*:[0-9]*: "; then
		echo "FAIL: $1: rejected without a located message"; head -3 "$work/err"
		fails=$((fails + 1))
		return
	fi
	echo "ok: $(basename "$1"): exit $rc, $(head -1 "$work/err" | cut -c1-110)"
}

echo "== fuzz seeds"
for f in "$src"/tests/fuzz/corpus/fuzz_krk_config/*; do
	cp "$f" "$work/"
	b="$work/$(basename "$f")"
	"$san" "$b" > /dev/null 2>&1
	want=$?
	[ $want -le 1 ] || want=0	# a report: run() below shows it
	run "$b" $want
done

echo "== inputs built to exhaust the parser"
# Billion laughs: nine levels of ten aliases each.
{
	echo 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'
	i=1
	while [ $i -le 9 ]; do
		p=$((i - 1))
		echo "a$i: &a$i [*a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p]"
		i=$((i + 1))
	done
	echo 'cores: *a9'
} > "$work/laughs.yaml"
run "$work/laughs.yaml" 1
grep -qF "laughs.yaml:2:10: (yaml): expected plain values, found an alias (*a0)" "$work/err" ||
	{ echo "FAIL: laughs: alias not named at 2:10"; fails=$((fails + 1)); }
# 100000 nested flow lists: refused at depth 17, before a document exists.
awk 'BEGIN { s = "cores: "; for (i = 0; i < 100000; i++) s = s "["; print s }' > "$work/deep.yaml"
run "$work/deep.yaml" 1
# Block mappings nested by indentation (1000 levels, 500 KB).
awk 'BEGIN { for (i = 0; i < 1000; i++) { printf "%*sk%d:\n", i, "", i } print "" }' > "$work/deep_block.yaml"
run "$work/deep_block.yaml" 1
# 30000 values in one list: over the value cap.
awk 'BEGIN { printf "cores: [1]\ncomponents: [vfs]\nx: ["; for (i = 0; i < 30000; i++) printf "1,"; print "1]" }' > "$work/many.yaml"
run "$work/many.yaml" 1
grep -q "expected at most 20000 values, found more" "$work/err" ||
	{ echo "FAIL: many: no value cap message"; fails=$((fails + 1)); }
# Over 1 MiB.
awk 'BEGIN { print "cores: [1]"; for (i = 0; i < 70000; i++) print "# padding padding"; }' > "$work/big.yaml"
"$san" "$work/big.yaml" > /dev/null 2> "$work/err"
if [ $? -eq 1 ] && grep -q "expected a regular file of at most 1048576 bytes" "$work/err"; then
	echo "ok: big.yaml: refused by size"
else
	echo "FAIL: big.yaml"; head -3 "$work/err"; fails=$((fails + 1))
fi
# One 900 KB scalar where a name goes.
awk 'BEGIN { printf "cores: [1]\ncomponents: [vfs]\nname: "; for (i = 0; i < 90000; i++) printf "abcdefghij"; print "" }' > "$work/long.yaml"
run "$work/long.yaml" 1
grep -q "name: expected a deployment name of 1 to 256 bytes, found 900000 bytes" "$work/err" ||
	{ echo "FAIL: long: no length message"; head -2 "$work/err"; fails=$((fails + 1)); }
# NUL bytes and invalid UTF-8.
printf 'cores: [1]\ncomponents: [vfs]\nname: "a\\0b"\n' > "$work/nul.yaml"
run "$work/nul.yaml" 1
printf 'cores: [1]\ncomponents: [v\377fs]\n' > "$work/utf8.yaml"
run "$work/utf8.yaml" 1
grep -qF "utf8.yaml:2:15: (yaml): expected valid YAML, found: invalid leading UTF-8 octet (byte 0xff)" "$work/err" ||
	{ echo "FAIL: utf8: not located at 2:15"; fails=$((fails + 1)); }

[ $fails -eq 0 ] && echo "all passed under ASan+UBSan"
[ $fails -eq 0 ]
