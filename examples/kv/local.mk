# examples/kv: a key-value server speaking RESP2 (the Redis protocol),
# written as a KRANK isolate on POSIX calls.  kv.kx is the isolate, built
# with the build tree's krank-cc (see examples/echo/local.mk for
# KRANK_CC_BUILD); tests/examples/kv is the same source for Linux under
# ASan+UBSan; tests/examples/test_kv_unit tests the parser, the table and
# the commands without sockets; tests/fuzz/fuzz_resp fuzzes them.
kv_core_srcs = examples/kv/resp.c examples/kv/kv_table.c examples/kv/kv_cmd.c
kv_core_hdrs = examples/kv/resp.h examples/kv/kv_table.h examples/kv/kv_cmd.h
examples_kv_kx_srcs = examples/kv/kv.c $(kv_core_srcs) examples/common/ex_util.c
examples/kv/kv.kx: $(examples_kv_kx_srcs) $(kv_core_hdrs) \
	examples/common/ex_util.h $(KRANK_CC_DEPS)
	@mkdir -p examples/kv
	$(AM_V_CC)$(KRANK_CC_BUILD) -I$(srcdir)/examples/kv -o $@ \
		`for f in $(examples_kv_kx_srcs); do echo $(srcdir)/$$f; done`
examples_kx += examples/kv/kv.kx
CLEANFILES += examples/kv/kv.kx
EXTRA_DIST += examples/kv/kv.c $(kv_core_srcs) $(kv_core_hdrs) \
	examples/kv/README.md

check_PROGRAMS += tests/examples/kv tests/examples/test_kv_unit
tests_examples_kv_SOURCES = examples/kv/kv.c $(kv_core_srcs) $(kv_core_hdrs) \
	examples/common/ex_util.c examples/common/ex_util.h
tests_examples_kv_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/examples/common \
	-I$(srcdir)/examples/kv
tests_examples_kv_CFLAGS = $(AM_CFLAGS) $(EX_SAN_FLAGS)
tests_examples_kv_LDFLAGS = $(EX_SAN_FLAGS)
tests_examples_test_kv_unit_SOURCES = tests/examples/test_kv_unit.c \
	$(kv_core_srcs) $(kv_core_hdrs)
tests_examples_test_kv_unit_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/examples/kv
tests_examples_test_kv_unit_CFLAGS = $(AM_CFLAGS) $(EX_SAN_FLAGS)
tests_examples_test_kv_unit_LDFLAGS = $(EX_SAN_FLAGS)

TESTS += tests/examples/test_kv_unit tests/examples/test_kv.sh
EXTRA_DIST += tests/examples/test_kv.sh tests/examples/kv_clients.py

# libFuzzer over the parser and the commands (tests/fuzz/local.mk's pattern).
fuzz_targets += tests/fuzz/fuzz_resp
TESTS += tests/fuzz/fuzz_resp.sh
EXTRA_DIST += tests/fuzz/fuzz_resp.sh tests/fuzz/fuzz_resp.c \
	tests/fuzz/fuzz_resp.dict
tests/fuzz/fuzz_resp: tests/fuzz/fuzz_resp.c $(kv_core_srcs) $(kv_core_hdrs)
	@mkdir -p tests/fuzz
	$(AM_V_CC)$(FUZZ_BUILD) -I$(srcdir)/examples/kv -o $@ \
		$(srcdir)/tests/fuzz/fuzz_resp.c \
		`for f in $(kv_core_srcs); do echo $(srcdir)/$$f; done`

# The benchmark against redis-server (tests/bench/run lists it; not make
# check).
EXTRA_DIST += tests/bench/bench_kv.sh
