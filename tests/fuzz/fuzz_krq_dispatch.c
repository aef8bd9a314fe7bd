/*
 * fuzz_krq_dispatch.c - libFuzzer target: requests from a hostile queue
 * client through krq_dispatch, the whole way (bounded decode, argument
 * checks, the handlers, the real tmpfs and socket calls, encode).  The
 * input is up to 8 requests, each [length: 2 bytes LE][bytes], run in
 * order on one fresh caller context (so an open can feed a read) with a
 * fixed 64 KiB buffer area; each input gets its own small tmpfs (mounted
 * at /w, the caller's root) and descriptor table, removed afterwards, so
 * inputs do not accumulate state.  The caller is KRQ_CALLER_NOBLOCK:
 * nothing the fuzzer sends may block.  Every request must be answered
 * within the response slot.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <krank/krs.h>
#include "net/krs_net.h"

#include "krq_call.h"

#define AREA_LEN 65536
static uint8_t *area;
static uint8_t resp[16384];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	if (krs_boot("vfs,tmpfs,net,ether,socket,inet", err, sizeof(err)) != 0 ||
	    krs_mount("t", "/", "tmpfs", 0, NULL, 0) != 0 ||
	    krs_mkdir("/w", 0777) != 0 || krs_net_stack_select(0) != 0) {
		fprintf(stderr, "fuzz_krq_dispatch: boot: %s\n", err);
		abort();
	}
	area = aligned_alloc(4096, AREA_LEN);
	if (area == NULL)
		abort();
	for (size_t i = 0; i < AREA_LEN; i++)
		area[i] = (uint8_t)i;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char opts[] = "size=1m";
	struct krs_ctx *ctx;
	struct krq_caller c;

	if (krs_mount("w", "/w", "tmpfs", 0, opts, sizeof(opts)) != 0)
		abort();
	if (krs_ctx_create(0, 0, &ctx) != 0 ||
	    krs_ctx_set_fdlimit(ctx, 32) != 0)
		abort();
	/* The caller sees only its own tmpfs. */
	if (krs_ctx_enter(ctx) != 0 || krs_chroot("/w") != 0)
		abort();
	krs_ctx_leave();
	memset(&c, 0, sizeof(c));
	c.ctx = ctx;
	c.area = area;
	c.area_len = AREA_LEN;
	c.flags = KRQ_CALLER_NOBLOCK;

	for (int n = 0; n < 8 && size >= 2; n++) {
		size_t len = (size_t)data[0] | (size_t)data[1] << 8;
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		size_t rl = 0;
		int bad = krq_dispatch(&c, data, len, resp, sizeof(resp), &rl);
		/* Always an answer, always one that decodes. */
		if (bad == EMSGSIZE && rl == 0)
			abort();
		Krank__Response *r = krank__response__unpack(NULL, rl, resp);
		if (r == NULL)
			abort();
		if (bad != 0 && r->error == KRANK__ERRNO__OK)
			abort();
		krank__response__free_unpacked(r, NULL);
		data += len;
		size -= len;
	}
	krq_leave();
	if (krs_ctx_destroy(ctx) != 0)
		abort();
	if (krs_unmount("/w", KRS_MNT_FORCE) != 0)
		abort();
	return 0;
}
