# examples/echo: a TCP and UDP echo server written as a KRANK isolate
# (plain POSIX, non-blocking sockets and poll).  Its Linux build, from the
# same sources, is tests/examples/echo (tests/examples/local.mk); here is
# the isolate, echo.kx, built with the build tree's krank-cc.
#
# The .kx files need the isolate POSIX headers and system-call shims
# (unistd.h, sys/socket.h, poll.h ... in loader/isolate/include); until
# they are in, the isolates are not part of `make all`: build them with
# `make examples-kx`.  To switch them on, add $(examples_kx) to
# noinst_DATA (one line, below).
EXTRA_DIST += examples/echo/echo.c examples/common/ex_util.c \
	examples/common/ex_util.h
KRANK_CC_DEPS = loader/krank-cc loader/libkrank-isolate-stub.so
KRANK_CC_BUILD = KRANK_ISOLATE_INCLUDE=$(abs_top_srcdir)/loader/isolate/include \
	KRANK_ISOLATE_LIBDIR=$(abs_top_builddir)/loader $(SHELL) loader/krank-cc \
	-O2 -Wall -Wextra -Werror -I$(srcdir)/examples/common

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
