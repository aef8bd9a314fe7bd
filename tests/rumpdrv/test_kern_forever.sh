#!/bin/sh
# test_kern_forever.sh - test_kern's run-to-completion checks with
# KRANK_SPIN_US=forever (docs/net.md, "Dedicated cores"): polls spin until
# their input, the clock thread's watchdog ends a still beat once, never
# under a poller, and callouts fire on the spinning clock thread.
: "${top_builddir:=.}"
prog="$top_builddir/tests/rumpdrv/test_kern"
[ -x "$prog" ] || { echo "SKIP: $prog not built"; exit 77; }
exec "$prog" forever
