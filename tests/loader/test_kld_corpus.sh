#!/bin/sh
# The loader against a corpus of programs gcc compiles now, through
# krank-cc: legal ones must verify, load, run and give the right results;
# illegal ones must be refused with the right reason.
set -u
src=${top_srcdir:-.}/tests/loader/corpus
bld=${top_builddir:-.}
ld="$bld/loader/krank-ld"
cc="$bld/loader/krank-cc"
export KRANK_ISOLATE_INCLUDE="${top_srcdir:-.}/loader/isolate/include"
export KRANK_ISOLATE_LIBDIR="$bld/loader"
command -v gcc >/dev/null 2>&1 || { echo "SKIP: no gcc to build the corpus"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
n=0

ok() { n=$((n + 1)); echo "ok   $*"; }
bad() { fail=1; echo "FAIL $*"; }

build() {	# build NAME EXTRA-FLAGS...: krank-cc NAME.c -> $work/NAME
	name=$1; shift
	if ! "$cc" -O2 -o "$work/$name" "$src/$name.c" "$@" >"$work/$name.cc" 2>&1; then
		bad "$name: krank-cc failed:"; cat "$work/$name.cc"; return 1
	fi
}

# expect_run NAME STATUS OUTPUT-PATTERN [ARGS]
expect_run() {
	name=$1 want=$2 pat=$3; shift 3
	"$ld" run "$work/$name" "$@" >"$work/$name.out" 2>&1
	st=$?
	if [ "$st" -ne "$want" ]; then
		bad "$name: exit status $st, want $want"; cat "$work/$name.out"; return
	fi
	if [ -n "$pat" ] && ! grep -q -- "$pat" "$work/$name.out"; then
		bad "$name: output lacks '$pat':"; cat "$work/$name.out"; return
	fi
	ok "$name: ran, status $st, output has '$pat'"
}

# expect_refused NAME REASON [verify flags]: verify must fail naming REASON
expect_refused() {
	name=$1 why=$2; shift 2
	if "$ld" verify "$@" "$work/$name" >"$work/$name.v" 2>&1; then
		bad "$name: verified, but must be refused ($why)"; cat "$work/$name.v"; return
	fi
	if ! grep -q -- "$why" "$work/$name.v"; then
		bad "$name: refused without the reason '$why':"; cat "$work/$name.v"; return
	fi
	ok "$name: refused: $(grep -m1 -- "$why" "$work/$name.v")"
}

expect_verified() {
	name=$1; shift
	if "$ld" verify "$@" "$work/$name" >"$work/$name.v" 2>&1; then
		ok "$name: verified $*"
	else
		bad "$name: refused:"; cat "$work/$name.v"
	fi
}

# Legal programs.
for p in ok_features ok_hello ok_exit ok_weak; do build $p; done
expect_verified ok_features
expect_run ok_features 42 "ctor=1 counter=15 ops=5,6 sorted=1379"
expect_run ok_features 42 "names=alpha,beta,gamma copy=beta len=4 argc=1"
expect_run ok_features 42 "parsed=-17 hex=0xff shared=100"
expect_run ok_features 42 "parsed=12345 " 12345
expect_run ok_features 42 "destructor ran"
expect_run ok_hello 0 "hello from an isolate"
expect_run ok_exit 7 ""
expect_run ok_weak 0 ""
if build ok_lib -shared; then
	expect_verified ok_lib
	"$ld" info "$work/ok_lib" >"$work/ok_lib.info" 2>&1
	if grep -q "export lib_len" "$work/ok_lib.info" &&
	   grep -q "import strlen" "$work/ok_lib.info"; then
		ok "ok_lib: info lists export lib_len and import strlen"
	else
		bad "ok_lib: info output:"; cat "$work/ok_lib.info"
	fi
fi

# Illegal programs.
build bad_syscall && expect_refused bad_syscall "syscall: system call instruction"
build bad_int80 && expect_refused bad_int80 "int 0x80: software interrupt"
build bad_wx -Wl,-T,"$src/bad_wx.lds" -Wl,--no-warn-rwx-segments &&
	expect_refused bad_wx "is writable and executable"
build bad_textrel -Wl,-z,notext && {
	expect_refused bad_textrel "has text relocations"
	expect_refused bad_textrel "text relocation R_X86_64_RELATIVE at .text"
}
build bad_tls && expect_refused bad_tls "thread-local storage is not supported"
# A syscall hidden in an immediate: strict (the default of verify and run
# alike) refuses it; --lax only warns, and only then does run run it.
if build bad_hidden; then
	expect_refused bad_hidden "hidden syscall (0f 05) inside other instructions (strict mode; --lax accepts it)"
	expect_refused bad_hidden "hidden syscall (0f 05) inside other instructions" --strict
	expect_verified bad_hidden --lax
	grep -q "^warning: .*hidden syscall (0f 05)" "$work/bad_hidden.v" &&
		ok "bad_hidden: --lax: a warning names the hidden syscall" ||
		bad "bad_hidden: --lax: no hidden-syscall warning"
	if "$ld" run "$work/bad_hidden" >"$work/bad_hidden.run" 2>&1; then
		bad "bad_hidden: run ran what strict verify refuses"
	elif grep -q "hidden syscall" "$work/bad_hidden.run"; then
		ok "bad_hidden: run refuses it too, naming the hidden syscall"
	else
		bad "bad_hidden: run failed without naming why:"; cat "$work/bad_hidden.run"
	fi
	"$ld" run --lax "$work/bad_hidden" >"$work/bad_hidden.run" 2>&1 &&
		ok "bad_hidden: run --lax runs it" ||
		{ bad "bad_hidden: run --lax failed:"; cat "$work/bad_hidden.run"; }
fi
# run jumps only to a function in verified code: a data "main" is refused.
if build bad_datamain; then
	if "$ld" run "$work/bad_datamain" >"$work/bdm.out" 2>&1; then
		bad "bad_datamain: ran"
	elif grep -q "main is not a function in the object's verified code" "$work/bdm.out"; then
		ok "bad_datamain: run refuses a main outside verified code"
	else
		bad "bad_datamain: failed without saying why:"; cat "$work/bdm.out"
	fi
fi
# Unresolved imports: built without the stub, refused at load, all named.
gcc -O2 -fPIE -pie -nostdlib -Wl,--no-dynamic-linker -Wl,-E -Wl,-z,now \
	-Wl,-z,noexecstack -Wl,--unresolved-symbols=ignore-all \
	-o "$work/bad_unresolved" "$src/bad_unresolved.c" 2>"$work/u.cc" ||
	{ bad "bad_unresolved: gcc failed"; cat "$work/u.cc"; }
"$ld" run "$work/bad_unresolved" >"$work/u.out" 2>&1 && bad "bad_unresolved: ran"
if grep -q "2 unresolved symbols (not in the export table): krank_missing_one, krank_missing_two" "$work/u.out" ||
   grep -q "2 unresolved symbols (not in the export table): krank_missing_two, krank_missing_one" "$work/u.out"; then
	ok "bad_unresolved: one error lists both unresolved names"
else
	bad "bad_unresolved: output:"; cat "$work/u.out"
fi
# Non-PIE executable.
gcc -O2 -static -no-pie -nostdlib -Wl,-e,main -o "$work/nonpie" "$src/nonpie.c" 2>"$work/np.cc" &&
	expect_refused nonpie "non-PIE executable (ET_EXEC)"
# A program that needs the Linux dynamic linker and libc.
gcc -O2 -o "$work/linux_prog" "$src/ok_hello.c" 2>/dev/null &&
	expect_refused linux_prog "has PT_INTERP"
# krank-cc: a function the isolate libc lacks is a link error.
if "$cc" -O2 -o "$work/bad_linkerr" "$src/bad_linkerr.c" >"$work/le.out" 2>&1; then
	bad "bad_linkerr: krank-cc linked a program that calls fopen"
elif grep -q "undefined reference to .fopen" "$work/le.out"; then
	ok "bad_linkerr: krank-cc refuses to link fopen (not in the isolate libc)"
else
	bad "bad_linkerr: unexpected krank-cc output:"; cat "$work/le.out"
fi
# An executable stack.
"$cc" -O2 -o "$work/execstack" "$src/ok_hello.c" -Wl,-z,execstack >/dev/null 2>&1 &&
	expect_refused execstack "asks for an executable stack"

echo "$n checks passed"
exit $fail
