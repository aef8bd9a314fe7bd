# examples/httpd: a static-file HTTP/1.1 server.  http.c is the server
# (parsing, paths, a non-blocking poll loop over a table of I/O calls),
# shared by two programs:
#  - httpd: boots KRANK's stack in its own process and serves from tmpfs
#    (a copied host tree) or a read-only ext2 image, through krs_ calls;
#  - httpd.kx: the same server as a KRANK isolate on POSIX calls
#    (httpd_iso.c), built with krank-cc; its Linux build, from the same
#    sources, is tests/examples/httpd (tests/examples/local.mk).
noinst_PROGRAMS += examples/httpd/httpd
examples_httpd_httpd_SOURCES = examples/httpd/httpd.c examples/httpd/http.c \
	examples/httpd/http.h examples/common/ex_util.c examples/common/ex_util.h
examples_httpd_httpd_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(srcdir)/rumpdrv/include -I$(srcdir)/examples/common
examples_httpd_httpd_LDFLAGS = $(RUMPDRV_LINK_NET) $(RUMPDRV_LINK_EXT2) \
	$(RUMPDRV_LINK_TMPFS) $(RUMPDRV_LINK_VFS)
examples_httpd_httpd_LDADD = rumpdrv/dev/blk/librumpdev_blk.a \
	$(RUMPDRV_HYP_LIBS)
examples_httpd_httpd_DEPENDENCIES = rumpdrv/net/librumpnet.a \
	rumpdrv/fs/ext2/librumpfs_ext2.a rumpdrv/fs/tmpfs/librumpfs_tmpfs.a \
	rumpdrv/dev/blk/librumpdev_blk.a rumpdrv/vfs/librumpvfs.a \
	rumpdrv/kern/librumpkern.a libkrank-hypercall.la
EXTRA_DIST += examples/httpd/httpd_iso.c

# The isolate, built with the build tree's krank-cc (see examples/echo/
# local.mk for KRANK_CC_BUILD and the examples-kx target).
examples_httpd_kx_srcs = examples/httpd/httpd_iso.c examples/httpd/http.c \
	examples/common/ex_util.c
examples/httpd/httpd.kx: $(examples_httpd_kx_srcs) examples/httpd/http.h \
	examples/common/ex_util.h $(KRANK_CC_DEPS)
	@mkdir -p examples/httpd
	$(AM_V_CC)$(KRANK_CC_BUILD) -o $@ \
		`for f in $(examples_httpd_kx_srcs); do echo $(srcdir)/$$f; done`
examples_kx += examples/httpd/httpd.kx
