# loader/: parked objects (kld_park.c, kld_set_park), tested plain and
# with the loader compiled in under ASan+UBSan.
check_PROGRAMS += tests/loader/test_kld_park tests/loader/test_kld_park_san
tests_loader_test_kld_park_SOURCES = tests/loader/test_kld_park.c
tests_loader_test_kld_park_CPPFLAGS = $(AM_CPPFLAGS) $(KLD_CPPFLAGS)
tests_loader_test_kld_park_LDADD = libkrank-loader.la
tests_loader_test_kld_park_san_SOURCES = tests/loader/test_kld_park.c \
	$(libkrank_loader_la_SOURCES)
nodist_tests_loader_test_kld_park_san_SOURCES = loader/kld_verifier_id.c
tests_loader_test_kld_park_san_CPPFLAGS = $(AM_CPPFLAGS) $(KLD_CPPFLAGS)
tests_loader_test_kld_park_san_CFLAGS = $(AM_CFLAGS) $(LIBELF_CFLAGS) \
	$(KLD_SAN_FLAGS)
tests_loader_test_kld_park_san_LDFLAGS = $(KLD_SAN_FLAGS)
tests_loader_test_kld_park_san_LDADD = $(LIBELF_LIBS) $(ZYDIS_LIBS) -lm \
	-lpthread
TESTS += tests/loader/test_kld_park.sh tests/loader/test_kld_park_san.sh
EXTRA_DIST += tests/loader/test_kld_park.sh tests/loader/test_kld_park_san.sh
# And under ThreadSanitizer: deferred parking's queue, its worker thread
# and loads and unloads from several threads (test_deferred).  Without
# the random placement hint (KLD_NO_RANDOM_HINT: the kernel places the
# objects), whose fixed addresses may lie in TSan's shadow memory.
check_PROGRAMS += tests/loader/test_kld_park_tsan
tests_loader_test_kld_park_tsan_SOURCES = tests/loader/test_kld_park.c \
	$(libkrank_loader_la_SOURCES)
nodist_tests_loader_test_kld_park_tsan_SOURCES = loader/kld_verifier_id.c
tests_loader_test_kld_park_tsan_CPPFLAGS = $(AM_CPPFLAGS) $(KLD_CPPFLAGS) \
	-DKLD_NO_RANDOM_HINT
tests_loader_test_kld_park_tsan_CFLAGS = $(AM_CFLAGS) $(LIBELF_CFLAGS) \
	-fsanitize=thread -fno-omit-frame-pointer
tests_loader_test_kld_park_tsan_LDFLAGS = -fsanitize=thread
tests_loader_test_kld_park_tsan_LDADD = $(LIBELF_LIBS) $(ZYDIS_LIBS) -lm \
	-lpthread
TESTS += tests/loader/test_kld_park_tsan.sh
EXTRA_DIST += tests/loader/test_kld_park_tsan.sh
