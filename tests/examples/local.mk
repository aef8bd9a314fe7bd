# tests/examples: the example isolates (examples/echo, examples/httpd's
# httpd_iso) built with the host's gcc, under ASan+UBSan, and run against
# Linux's own TCP/IP stack in a network namespace each test creates.
EX_SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
check_PROGRAMS += tests/examples/echo tests/examples/httpd
tests_examples_echo_SOURCES = examples/echo/echo.c examples/common/ex_util.c \
	examples/common/ex_util.h
tests_examples_echo_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/examples/common
tests_examples_echo_CFLAGS = $(AM_CFLAGS) $(EX_SAN_FLAGS)
tests_examples_echo_LDFLAGS = $(EX_SAN_FLAGS)
tests_examples_httpd_SOURCES = examples/httpd/httpd_iso.c \
	examples/httpd/http.c examples/httpd/http.h \
	examples/common/ex_util.c examples/common/ex_util.h
tests_examples_httpd_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/examples/common \
	-I$(srcdir)/examples/httpd
tests_examples_httpd_CFLAGS = $(AM_CFLAGS) $(EX_SAN_FLAGS)
tests_examples_httpd_LDFLAGS = $(EX_SAN_FLAGS)

examples_test_scripts = tests/examples/test_echo.sh tests/examples/test_httpd.sh \
	tests/examples/test_isolates.sh
TESTS += $(examples_test_scripts)
EXTRA_DIST += $(examples_test_scripts)

# libFuzzer over the HTTP server whole (parsing, paths, the state machine)
# through a fake I/O table; see tests/fuzz/local.mk for the pattern.
fuzz_targets += tests/fuzz/fuzz_http
TESTS += tests/fuzz/fuzz_http.sh
EXTRA_DIST += tests/fuzz/fuzz_http.sh tests/fuzz/fuzz_http.c \
	tests/examples/ex_lib.sh tests/examples/ex_clients.py
tests/fuzz/fuzz_http: tests/fuzz/fuzz_http.c examples/httpd/http.c \
	examples/httpd/http.h
	@mkdir -p tests/fuzz
	$(AM_V_CC)$(FUZZ_BUILD) -I$(srcdir)/examples/httpd -o $@ \
		$(srcdir)/tests/fuzz/fuzz_http.c $(srcdir)/examples/httpd/http.c
