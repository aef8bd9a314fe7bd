# tests/loader: krank-ld against gcc-built programs, malformed ELF files,
# real shared objects of the machine, the isolate libc and the JIT API.
loader_test_scripts = tests/loader/test_kld_corpus.sh \
	tests/loader/test_kld_syslibs.sh
TESTS += $(loader_test_scripts)
EXTRA_DIST += $(loader_test_scripts) tests/loader/corpus

loader_test_progs = tests/loader/test_kld_jit
check_PROGRAMS += $(loader_test_progs)
TESTS += $(loader_test_progs)
KLD_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/loader/include
tests_loader_test_kld_jit_CPPFLAGS = $(KLD_TEST_CPPFLAGS)
tests_loader_test_kld_jit_LDADD = libkrank-loader.la

check_PROGRAMS += tests/loader/kld_mutate
tests_loader_kld_mutate_CPPFLAGS = $(KLD_TEST_CPPFLAGS)
tests_loader_kld_mutate_LDADD = libkrank-loader.la
loader_test_scripts += tests/loader/test_kld_badelf.sh

# The verifier's hand-decoded fast path against Zydis.
check_PROGRAMS += tests/loader/test_kld_fastlen
TESTS += tests/loader/test_kld_fastlen
tests_loader_test_kld_fastlen_SOURCES = tests/loader/test_kld_fastlen.c \
	loader/kld_fastlen.c
tests_loader_test_kld_fastlen_CPPFLAGS = $(AM_CPPFLAGS) $(KLD_CPPFLAGS)
tests_loader_test_kld_fastlen_LDADD = $(ZYDIS_LIBS)

# The verifier over a megabyte of pathological code (every byte an
# instruction start or a finding): verdicts and counts, in linear time.
check_PROGRAMS += tests/loader/test_kld_dense
TESTS += tests/loader/test_kld_dense
tests_loader_test_kld_dense_CPPFLAGS = $(KLD_TEST_CPPFLAGS)
tests_loader_test_kld_dense_LDADD = libkrank-loader.la

check_PROGRAMS += tests/loader/test_kld_libc
TESTS += tests/loader/test_kld_libc
tests_loader_test_kld_libc_CPPFLAGS = $(KLD_TEST_CPPFLAGS)
tests_loader_test_kld_libc_CFLAGS = $(AM_CFLAGS) -Wno-format-truncation -fno-builtin
tests_loader_test_kld_libc_LDADD = libkrank-loader.la

# libFuzzer target over parser, verifier and loader (see tests/fuzz/local.mk).
fuzz_targets += tests/fuzz/fuzz_kld
TESTS += tests/fuzz/fuzz_kld.sh
EXTRA_DIST += tests/fuzz/fuzz_kld.sh tests/fuzz/fuzz_kld.c
KLD_FUZZ_SRCS = loader/kld_diag.c loader/kld_elf.c loader/kld_verify.c \
	loader/kld_fastlen.c loader/kld_load.c loader/kld_park.c \
	loader/kld_symtab.c loader/kld_info.c \
	loader/kld_jit.c loader/libc/kld_libc_exports.c loader/libc/string.c \
	loader/libc/ctype.c loader/libc/stdlib.c loader/libc/stdio.c \
	loader/libc/inet.c loader/libc/stream.c loader/libc/time.c
tests/fuzz/fuzz_kld: tests/fuzz/fuzz_kld.c $(KLD_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(AM_V_CC)$(FUZZ_BUILD) $(KLD_CPPFLAGS) $(LIBELF_CFLAGS) -o $@ \
		$(srcdir)/tests/fuzz/fuzz_kld.c \
		`for f in $(KLD_FUZZ_SRCS); do echo $(srcdir)/$$f; done` \
		$(LIBELF_LIBS) $(ZYDIS_LIBS) -lm -lpthread

# Benchmark (not in make check): make tests/bench/bench_kld, then
# sh tests/bench/bench_kld.sh.
EXTRA_PROGRAMS = tests/bench/bench_kld
tests_bench_bench_kld_SOURCES = tests/bench/bench_kld.c
tests_bench_bench_kld_CPPFLAGS = $(KLD_TEST_CPPFLAGS)
tests_bench_bench_kld_LDADD = libkrank-loader.la
EXTRA_DIST += tests/bench/bench_kld.sh
CLEANFILES += tests/bench/bench_kld

# The mutation test again, loader compiled in, under ASan+UBSan.
KLD_SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
check_PROGRAMS += tests/loader/kld_mutate_san
tests_loader_kld_mutate_san_SOURCES = tests/loader/kld_mutate.c \
	$(libkrank_loader_la_SOURCES)
tests_loader_kld_mutate_san_CPPFLAGS = $(AM_CPPFLAGS) $(KLD_CPPFLAGS)
tests_loader_kld_mutate_san_CFLAGS = $(AM_CFLAGS) $(LIBELF_CFLAGS) $(KLD_SAN_FLAGS)
tests_loader_kld_mutate_san_LDFLAGS = $(KLD_SAN_FLAGS)
tests_loader_kld_mutate_san_LDADD = $(LIBELF_LIBS) $(ZYDIS_LIBS) -lm -lpthread
loader_test_scripts += tests/loader/test_kld_badelf_san.sh
