#!/bin/sh
# The per-archive layering check (scripts/check-layering.sh) as a test.
# It runs from here so that its log lands under tests/: scripts/ is
# distributed whole, and a log beside the script would go into the
# release tarball and stand in for the test in a VPATH build of it.
exec sh "${top_srcdir:-.}/scripts/check-layering.sh" "$@"
