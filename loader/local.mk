# loader/: libkrank-loader (ELF parsing with libelf, the Zydis-based
# verifier, loading, the JIT API, the isolate libc), krank-ld and krank-cc.
lib_LTLIBRARIES += libkrank-loader.la
libkrank_loader_la_SOURCES = \
	loader/kld_int.h \
	loader/kld_diag.c \
	loader/kld_elf.c \
	loader/kld_verify.c \
	loader/kld_fastlen.h \
	loader/kld_fastlen.c \
	loader/kld_load.c \
	loader/kld_park.c \
	loader/kld_symtab.c \
	loader/kld_info.c \
	loader/kld_jit.c \
	loader/libc/kld_libc.h \
	loader/libc/kld_libc_exports.c \
	loader/libc/string.c \
	loader/libc/ctype.c \
	loader/libc/stdlib.c \
	loader/libc/stdio.c \
	loader/libc/inet.c \
	loader/libc/stream.c \
	loader/libc/time.c
KLD_CPPFLAGS = -I$(srcdir)/loader/include -I$(srcdir)/loader \
	-I$(srcdir)/loader/libc
libkrank_loader_la_CPPFLAGS = $(AM_CPPFLAGS) $(KLD_CPPFLAGS)
libkrank_loader_la_CFLAGS = $(AM_CFLAGS) $(LIBELF_CFLAGS)
libkrank_loader_la_LIBADD = $(LIBELF_LIBS) $(ZYDIS_LIBS) -lpthread
libkrank_loader_la_LDFLAGS = -version-info 0:0:0 -no-undefined \
	-Wl,--version-script=$(srcdir)/loader/libkrank-loader.map
EXTRA_libkrank_loader_la_DEPENDENCIES = loader/libkrank-loader.map
EXTRA_DIST += loader/libkrank-loader.map loader/libc/exports.def \
	loader/isolate/stub.c loader/krank-cc.in

kranksubinclude_HEADERS += loader/include/krank/kld.h

bin_PROGRAMS += loader/krank-ld
loader_krank_ld_SOURCES = loader/krank-ld.c
loader_krank_ld_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/loader/include
loader_krank_ld_LDADD = libkrank-loader.la

# Isolate toolchain: headers, the link stub, and the krank-cc wrapper.
kldisolatedir = $(pkgincludedir)/isolate
kldisolate_HEADERS = loader/isolate/include/string.h \
	loader/isolate/include/stdlib.h loader/isolate/include/stdio.h \
	loader/isolate/include/ctype.h loader/isolate/include/errno.h \
	loader/isolate/include/unistd.h loader/isolate/include/fcntl.h \
	loader/isolate/include/time.h loader/isolate/include/poll.h \
	loader/isolate/include/pthread.h loader/isolate/include/dirent.h \
	loader/isolate/include/signal.h loader/isolate/include/limits.h \
	loader/isolate/include/inttypes.h loader/isolate/include/strings.h \
	loader/isolate/include/netdb.h
kldisolatesysdir = $(pkgincludedir)/isolate/sys
kldisolatesys_HEADERS = loader/isolate/include/sys/types.h \
	loader/isolate/include/sys/stat.h loader/isolate/include/sys/socket.h \
	loader/isolate/include/sys/uio.h loader/isolate/include/sys/time.h \
	loader/isolate/include/sys/epoll.h loader/isolate/include/sys/random.h
kldisolatenetinetdir = $(pkgincludedir)/isolate/netinet
kldisolatenetinet_HEADERS = loader/isolate/include/netinet/in.h \
	loader/isolate/include/netinet/tcp.h
kldisolatearpadir = $(pkgincludedir)/isolate/arpa
kldisolatearpa_HEADERS = loader/isolate/include/arpa/inet.h
kldisolatekrankdir = $(pkgincludedir)/isolate/krank
kldisolatekrank_HEADERS = loader/isolate/include/krank/isolate.h

kldstubdir = $(libdir)/krank
kldstub_DATA = loader/libkrank-isolate-stub.so
# The stub names the libc's exports and krank's system calls (one list
# each: loader/libc/exports.def, krank/krk_sys_exports.def).
loader/libkrank-isolate-stub.so: loader/isolate/stub.c loader/libc/exports.def \
		krank/krk_sys_exports.def
	@mkdir -p loader
	$(AM_V_CC)$(CC) -shared -nostdlib -fPIC -fno-builtin -w \
		-I$(srcdir)/loader/libc -I$(srcdir)/krank -Wl,-soname,libkrank-isolate-stub.so \
		-o $@ $(srcdir)/loader/isolate/stub.c

bin_SCRIPTS += loader/krank-cc
loader/krank-cc: loader/krank-cc.in Makefile
	@mkdir -p loader
	$(AM_V_GEN)sed -e 's|%CC%|$(CC)|g' \
		-e 's|%ISOLATE_INCLUDE%|$(kldisolatedir)|g' \
		-e 's|%ISOLATE_LIBDIR%|$(kldstubdir)|g' \
		$(srcdir)/loader/krank-cc.in > $@.tmp && chmod +x $@.tmp && \
		mv $@.tmp $@
# krank-cc-uninstalled: the same wrapper pointing at the source tree's
# headers and the build tree's stub, for use without `make install`.
noinst_SCRIPTS = loader/krank-cc-uninstalled
loader/krank-cc-uninstalled: loader/krank-cc.in Makefile \
		loader/libkrank-isolate-stub.so
	@mkdir -p loader
	$(AM_V_GEN)sed -e 's|%CC%|$(CC)|g' \
		-e 's|%ISOLATE_INCLUDE%|$(abs_top_srcdir)/loader/isolate/include|g' \
		-e 's|%ISOLATE_LIBDIR%|$(abs_top_builddir)/loader|g' \
		$(srcdir)/loader/krank-cc.in > $@.tmp && chmod +x $@.tmp && \
		mv $@.tmp $@
CLEANFILES += loader/krank-cc loader/libkrank-isolate-stub.so \
	loader/krank-cc-uninstalled
