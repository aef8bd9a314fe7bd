#!/bin/sh
# The DPDK host's library passes the same export check as the POSIX
# host's: every rumpuser v17 function, nothing but rumpuser_* and hyp_*.
HYP_LIB=krank-hypercall-dpdk exec ${SHELL:-/bin/sh} \
	"$top_srcdir/tests/hypercalls/test_link_exports.sh"
