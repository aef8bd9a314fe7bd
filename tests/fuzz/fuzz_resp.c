/*
 * fuzz_resp.c - libFuzzer target for examples/kv's untrusted input: the
 * RESP parser alone (every prefix of the input, each in a buffer of
 * exactly its size, so ASan sees any read past the bytes received, and
 * every argument must lie inside them), then the whole command layer
 * (kv_process) fed the input in pieces, with answers drained in odd
 * amounts, the clock jumping (expiry) and tight limits (maxmemory, output,
 * request size) chosen by the first byte.  Answers must always start with
 * a RESP type byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kv_cmd.h"

static void
check_parser(const uint8_t *data, size_t size, const struct resp_limits *lim)
{
	struct resp_parser p;
	size_t start = 0, end = 0;
	resp_init(&p);
	while (end < size) {
		end += 1 + data[end] % 7;	/* the next piece arrives */
		if (end > size)
			end = size;
		for (;;) {
			size_t len = end - start, want;
			char *buf = malloc(len ? len : 1);
			if (buf == NULL)
				abort();
			memcpy(buf, data + start, len);
			enum resp_status st = resp_parse(&p, buf, len, lim,
			    &want);
			free(buf);
			if (st == RESP_ERR || st == RESP_NOMEM) {
				if (st == RESP_ERR && p.err == NULL)
					abort();
				resp_free(&p);
				return;
			}
			if (st == RESP_MORE) {
				if (want != 0 && want <= len)
					abort();
				break;
			}
			if (p.pos == 0 || p.pos > len)
				abort();
			for (size_t i = 0; i < p.argc; i++)
				if (p.argv[i].off > p.pos ||
				    p.argv[i].len > p.pos - p.argv[i].off)
					abort();
			start += p.pos;
			resp_next(&p);
			if (start == end)
				break;
		}
	}
	resp_free(&p);
}

/* The table's counts (entries, expiries, memory) match its contents. */
static void
check_table(const struct kv_table *t)
{
	size_t mem = 0, nexp = 0;
	for (int h = 0; h < 2; h++) {
		size_t used = 0;
		mem += t->ht[h].size * sizeof(*t->ht[h].b);
		for (size_t i = 0; i < t->ht[h].size; i++) {
			for (struct kv_entry *e = t->ht[h].b[i]; e != NULL;
			    e = e->next) {
				if ((e->hash & (t->ht[h].size - 1)) != i)
					abort();
				used++;
				nexp += e->expire != 0;
				mem += kv_entry_cost(e->klen, e->vlen);
			}
		}
		if (used != t->ht[h].used)
			abort();
	}
	if (mem != t->mem || nexp != t->nexpire)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	static struct kv_server s;
	memset(&s, 0, sizeof(s));
	s.cfg.port = 6379;
	s.cfg.max_clients = 4;
	s.cfg.maxmemory = (mode & 1) ? 2048 : 0;
	s.cfg.max_output = (mode & 2) ? 1024 : (size_t)1 << 20;
	s.cfg.lim.max_request = (mode & 4) ? 64 : 4096;
	s.cfg.lim.max_bulk = s.cfg.lim.max_request;
	s.cfg.lim.max_args = (mode & 8) ? 4 : 1024;
	s.cfg.lim.max_inline = (mode & 16) ? 16 : 1024;
	kv_init(&s.table, 1, 2);

	check_parser(data, size, &s.cfg.lim);

	struct kv_client c;
	kv_client_init(&c);
	int64_t now = 1000000;
	size_t i = 0;
	while (i < size && !c.close && !c.overflow) {
		size_t n = 1 + data[i] % 23;
		if (n > size - i)
			n = size - i;
		if (kv_rbuf_reserve(&s, &c, n) != 0)
			abort();
		memcpy(c.rbuf + c.rlen, data + i, n);
		c.rlen += n;
		i += n;
		size_t w0 = c.wlen;
		kv_process(&s, &c, now);
		if (w0 == 0 && c.wlen > 0 && memchr("+-:$*", c.wbuf[0], 5) ==
		    NULL)
			abort();
		check_table(&s.table);
		/* The client reads some of the answers; time passes. */
		size_t drain = (size_t)data[i - 1] * 37;
		c.wsent += drain < c.wlen - c.wsent ? drain : c.wlen - c.wsent;
		if (c.wsent == c.wlen)
			c.wsent = c.wlen = 0;
		now += data[i - 1] * 13;
		if (data[i - 1] & 1)
			kv_expire_cycle(&s.table, now, 8);
		if (data[i - 1] & 2)
			kv_rehash(&s.table, 4);
	}
	kv_client_free(&c);
	kv_flush(&s.table);
	return 0;
}
