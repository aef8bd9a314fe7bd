# krank/local_config.mk: the deployment file parser (krk_config.c), which
# krank/local.mk compiles into the krank binary, and its tests: the check
# driver (plain and ASan+UBSan) and the libFuzzer target.
KRK_CONFIG_SRCS = krank/krk_config.c krank/krk_config_value.c \
	krank/krk_config_print.c krank/krk_config.h krank/krk_config_int.h
KRK_CONFIG_CFLAGS = $(YAML_CFLAGS)
KRK_CONFIG_LIBS = $(YAML_LIBS)

dist_man5_MANS = docs/man/krank-deployment.5
EXTRA_DIST += examples/deployments

check_PROGRAMS += tests/krank/krk_config_check
tests_krank_krk_config_check_SOURCES = tests/krank/krk_config_check.c \
	$(KRK_CONFIG_SRCS)
tests_krank_krk_config_check_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/krank
tests_krank_krk_config_check_CFLAGS = $(AM_CFLAGS) $(KRK_CONFIG_CFLAGS)
tests_krank_krk_config_check_LDADD = $(KRK_CONFIG_LIBS)

# The same driver under ASan+UBSan, every finding fatal.
KRK_SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
check_PROGRAMS += tests/krank/krk_config_check_san
tests_krank_krk_config_check_san_SOURCES = $(tests_krank_krk_config_check_SOURCES)
tests_krank_krk_config_check_san_CPPFLAGS = $(tests_krank_krk_config_check_CPPFLAGS)
tests_krank_krk_config_check_san_CFLAGS = $(AM_CFLAGS) $(KRK_CONFIG_CFLAGS) \
	$(KRK_SAN_FLAGS)
tests_krank_krk_config_check_san_LDFLAGS = $(KRK_SAN_FLAGS)
tests_krank_krk_config_check_san_LDADD = $(KRK_CONFIG_LIBS)

krk_config_tests = tests/krank/test_krk_config.sh \
	tests/krank/test_krk_config_san.sh
TESTS += $(krk_config_tests)
EXTRA_DIST += $(krk_config_tests)

# libFuzzer target (see tests/fuzz/local.mk).
fuzz_targets += tests/fuzz/fuzz_krk_config
TESTS += tests/fuzz/fuzz_krk_config.sh
EXTRA_DIST += tests/fuzz/fuzz_krk_config.sh tests/fuzz/fuzz_krk_config.c \
	tests/fuzz/fuzz_krk_config.dict
tests/fuzz/fuzz_krk_config: tests/fuzz/fuzz_krk_config.c $(KRK_CONFIG_SRCS)
	@mkdir -p tests/fuzz
	$(AM_V_CC)$(FUZZ_BUILD) -I$(srcdir)/krank $(YAML_CFLAGS) -o $@ \
		$(srcdir)/tests/fuzz/fuzz_krk_config.c \
		`for f in $(KRK_CONFIG_SRCS); do case $$f in *.c) echo $(srcdir)/$$f;; esac; done` \
		$(YAML_LIBS)
