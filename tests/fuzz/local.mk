# tests/fuzz: libFuzzer targets (clang), built for make check when
# configure found clang, each run briefly by its .sh wrapper.  Longer runs:
#   make fuzz-long FUZZ_SECONDS=600
# Pattern for a new target T: tests/fuzz/T.c, a rule building
# tests/fuzz/T with $(FUZZ_BUILD), seeds in tests/fuzz/corpus/T/, and
# tests/fuzz/T.sh calling run-fuzz.sh; add them to the lists below.
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_BUILD = $(FUZZ_CC) $(FUZZ_FLAGS) -include $(top_builddir)/config.h \
	-I$(srcdir)/hypercalls/include

fuzz_targets = tests/fuzz/fuzz_pkt_spec
TESTS += tests/fuzz/fuzz_pkt_spec.sh
EXTRA_DIST += tests/fuzz/run-fuzz.sh tests/fuzz/fuzz_pkt_spec.sh \
	tests/fuzz/fuzz_pkt_spec.c tests/fuzz/corpus
CLEANFILES += $(fuzz_targets)

if HAVE_FUZZ
check_SCRIPTS = $(fuzz_targets)
endif

tests/fuzz/fuzz_pkt_spec: tests/fuzz/fuzz_pkt_spec.c hypercalls/posix/hyp_pkt_spec.c
	@mkdir -p tests/fuzz
	$(AM_V_CC)$(FUZZ_BUILD) -I$(srcdir)/hypercalls/posix -o $@ \
		$(srcdir)/tests/fuzz/fuzz_pkt_spec.c $(srcdir)/hypercalls/posix/hyp_pkt_spec.c

FUZZ_SECONDS = 600
fuzz-long: $(fuzz_targets)
	for t in $(fuzz_targets); do \
		top_srcdir=$(abs_top_srcdir) top_builddir=$(abs_top_builddir) \
		$(SHELL) $(srcdir)/tests/fuzz/run-fuzz.sh `basename $$t` $(FUZZ_SECONDS) || exit 1; \
	done
.PHONY: fuzz-long
