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
 * within the response slot.  A request whose first byte is 0 is a
 * fixed-layout frame (krq_fixed.h): its answer must be a well-formed
 * fixed response, with the request's tag when the frame had one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <krank/krs.h>
#include "net/krs_net.h"

#include "krq_call.h"
#include "krq_fixed.h"

#define AREA_LEN 65536
static uint8_t *area;
static uint8_t resp[16384];

int LLVMFuzzerInitialize(int *argc, char ***argv);

static uint8_t *bump_arena;
static size_t bump_cap;

static void *
bump(void *arg, size_t n)
{
	size_t *used = arg;
	if (n > bump_cap - *used)
		return NULL;
	void *p = bump_arena + *used;
	*used += (n + 15) & ~(size_t)15;
	if (*used > bump_cap)
		*used = bump_cap;
	return p;
}

static void
nofree(void *arg, void *p)
{
	(void)arg;
	(void)p;
}

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

/*
 * KRANK's hand-coded envelope (krq_wire.c) against protobuf-c's decoder:
 * whatever krq_request_decode accepts, protobuf-c accepts too, with the
 * same tag and call, and both re-encodings of the request are equal
 * (top-level unknown fields aside: protobuf-c keeps them, krq_wire skips
 * them).  (krq_wire refuses a
 * second call field, which protobuf-c would merge or replace.)
 */
static uint8_t wire_a[1 << 17], wire_b[1 << 17];

static void
krq_same_as_protobuf_c(const uint8_t *data, size_t len)
{
	static uint8_t arena[1 << 18];
	static size_t used;
	Krank__Request mine;

	if (len > KRANK__LIMIT__LIMIT_REQUEST_MAX)
		return;
	ProtobufCAllocator a = { .alloc = bump, .free = nofree,
		.allocator_data = &used };
	bump_arena = arena;
	bump_cap = sizeof(arena);
	used = 0;
	if (krq_request_decode(data, len, &a, &mine) != 0)
		return;
	Krank__Request *ref = krank__request__unpack(NULL, len, data);
	if (ref == NULL) {
		/* Only the bounded arena may make ours fail where protobuf-c
		 * succeeds; never the other way round. */
		fprintf(stderr, "krq_wire accepted what protobuf-c refuses\n");
		abort();
	}
	if (ref->tag != mine.tag || ref->call_case != mine.call_case)
		abort();
	size_t na = 0, nb;
	if (krq_request_encode(&mine, wire_a, sizeof(wire_a), &na) != 0)
		abort();
	/* protobuf-c keeps unknown top-level fields and writes them back;
	 * krq_wire skips them.  Compare without them. */
	Krank__Request known = *ref;
	known.base.n_unknown_fields = 0;
	known.base.unknown_fields = NULL;
	nb = krank__request__pack(&known, wire_b);
	if (na != nb || memcmp(wire_a, wire_b, na) != 0) {
		fprintf(stderr, "krq_wire and protobuf-c encode differently "
		    "(%zu vs %zu bytes)\n", na, nb);
		abort();
	}
	krank__request__free_unpacked(ref, NULL);
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
		krq_same_as_protobuf_c(data, len);
		size_t rl = 0;
		int bad = krq_dispatch(&c, data, len, resp, sizeof(resp), &rl);
		/* Always an answer, always one that decodes. */
		if (bad == EMSGSIZE && rl == 0)
			abort();
		if (len > 0 && data[0] == KRQ_FX_MARK) {
			struct krq_fx_resp fr;
			struct krq_fx_req fq;
			if (rl < KRQ_FX_RESP_SIZE || rl > sizeof(resp))
				abort();
			memcpy(&fr, resp, sizeof(fr));
			if (fr.mark != KRQ_FX_MARK || fr.zero != 0 ||
			    fr.data > 1 ||
			    (fr.data == 0 && rl != KRQ_FX_RESP_SIZE))
				abort();
			if (bad != 0 && fr.error == KRANK__ERRNO__OK)
				abort();
			if (len >= KRQ_FX_REQ_SIZE) {
				memcpy(&fq, data, sizeof(fq));
				if (fr.tag != fq.tag)
					abort();
			}
			data += len;
			size -= len;
			continue;
		}
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
