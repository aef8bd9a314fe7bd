# examples/echo: a TCP and UDP echo server written as a KRANK isolate
# (plain POSIX, non-blocking sockets and poll).  Here is the isolate,
# echo.kx, built with the build tree's krank-cc (krank-cc-uninstalled);
# its Linux build, from the same sources, is tests/examples/echo
# (tests/examples/local.mk).  The isolates are part of `make all`;
# `make examples-kx` builds just them.
EXTRA_DIST += examples/echo/echo.c examples/common/ex_util.c \
	examples/common/ex_util.h
KRANK_CC_DEPS = loader/krank-cc-uninstalled loader/libkrank-isolate-stub.so
KRANK_CC_BUILD = $(SHELL) loader/krank-cc-uninstalled -O2 -Wall -Wextra \
	-Werror -I$(srcdir)/examples/common

examples_echo_kx_srcs = examples/echo/echo.c examples/common/ex_util.c
examples/echo/echo.kx: $(examples_echo_kx_srcs) examples/common/ex_util.h \
	$(KRANK_CC_DEPS)
	@mkdir -p examples/echo
	$(AM_V_CC)$(KRANK_CC_BUILD) -o $@ \
		`for f in $(examples_echo_kx_srcs); do echo $(srcdir)/$$f; done`
examples_kx = examples/echo/echo.kx
noinst_DATA = $(examples_kx)
.PHONY: examples-kx
examples-kx: $(examples_kx)
CLEANFILES += examples/echo/echo.kx examples/httpd/httpd.kx
