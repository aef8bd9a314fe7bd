#!/bin/sh
# Configure (once) and build KRANK in the source tree.
set -eu
cd "$(dirname "$0")/.."
[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure ${KRANK_CONFIGURE_FLAGS:-}
make -j"$(nproc)"
