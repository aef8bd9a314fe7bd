/*
 * kv_cmd.h - examples/kv's commands over a client's buffers: kv_process
 * parses every complete request a client has buffered and appends all the
 * answers to its output buffer, with no I/O, so the server (kv.c), the
 * fuzzer and the unit test share it.
 */
#ifndef KRANK_EXAMPLES_KV_CMD_H
#define KRANK_EXAMPLES_KV_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "kv_table.h"
#include "resp.h"

struct kv_config {
	int port;
	size_t maxmemory;	/* bytes of keys and values; 0: no limit */
	size_t max_clients;
	size_t max_output;	/* bytes of answers waiting for one client */
	struct resp_limits lim;
};

struct kv_counters {
	uint64_t connections, rejected, commands, protocol_errors;
	uint64_t oom_rejections, output_overflows;
};

struct kv_server {
	struct kv_config cfg;
	struct kv_table table;
	struct kv_counters cnt;
	size_t clients;		/* connected now */
};

struct kv_client {
	struct resp_parser p;
	char *rbuf;		/* received bytes: [rstart, rlen) unparsed */
	size_t rstart, rlen, rcap;
	size_t rwant;		/* bytes from rstart a pending argument needs */
	char *wbuf;		/* answers: [wsent, wlen) not sent yet */
	size_t wsent, wlen, wcap;
	int close;		/* close once wbuf is sent (QUIT, errors) */
	int overflow;		/* answers passed max_output: close now */
};

/* Answers waiting past this stop parsing until the client reads some. */
#define KV_OUTPUT_SOFT	(256 * 1024)

void kv_client_init(struct kv_client *c);
void kv_client_free(struct kv_client *c);

/*
 * Run every complete request buffered in c (until close is set or
 * KV_OUTPUT_SOFT answers wait), appending the answers to c->wbuf; now is
 * ms on the monotonic clock.  Consumed input is dropped from rbuf.
 */
void kv_process(struct kv_server *s, struct kv_client *c, int64_t now);

/* Append len bytes to c's answers; -1 (and c->overflow) past max_output
 * or without memory. */
int kv_out(struct kv_server *s, struct kv_client *c, const void *p,
    size_t len);

/* Make room for at least n more received bytes; 0 or -1. */
int kv_rbuf_reserve(struct kv_server *s, struct kv_client *c, size_t n);

#endif /* KRANK_EXAMPLES_KV_CMD_H */
