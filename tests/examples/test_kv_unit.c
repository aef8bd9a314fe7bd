/*
 * test_kv_unit.c - examples/kv's parser, table and commands without
 * sockets, built with ASan+UBSan: requests whole, split at every byte,
 * pipelined and inline; each limit and malformation an error; int64
 * edges; 200000 keys through incremental growth and shrinking with the
 * memory count exact; lazy and swept expiry; and the commands' answers
 * byte for byte, with maxmemory, max_output and QUIT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_cmd.h"

static int fails, mark;

/* "ok: ..." only when no check failed since the last one. */
#define OK(...) do { \
	if (fails == mark) \
		printf("ok: " __VA_ARGS__); \
	mark = fails; \
} while (0)

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		printf("FAIL: %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		fails++; \
	} \
} while (0)

static const struct resp_limits lim = { .max_request = 1024,
	.max_bulk = 512, .max_args = 8, .max_inline = 64 };

/* Parse req whole; its status, argument count and first error. */
static enum resp_status
parse_all(const char *req, size_t len, size_t *argc, const char **err)
{
	struct resp_parser p;
	resp_init(&p);
	char *b = malloc(len + 1);
	memcpy(b, req, len);
	enum resp_status st = resp_parse(&p, b, len, &lim, NULL);
	*argc = p.argc;
	*err = p.err;
	free(b);
	resp_free(&p);
	return st;
}

static void
test_parser(void)
{
	static const char req[] = "*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n"
	    "$0\r\n\r\n";
	size_t len = sizeof(req) - 1, argc;
	const char *err;

	/* Split at every byte: MORE until the last, then the same request. */
	int split_ok = 1;
	for (size_t cut = 0; cut <= len; cut++) {
		struct resp_parser p;
		resp_init(&p);
		char *b = malloc(len);
		memcpy(b, req, len);
		enum resp_status st = resp_parse(&p, b, cut, &lim, NULL);
		if (cut < len && st != RESP_MORE)
			split_ok = 0;
		st = resp_parse(&p, b, len, &lim, NULL);
		if (st != RESP_DONE || p.argc != 3 || p.pos != len ||
		    p.argv[1].len != 5 || memcmp(b + p.argv[1].off, "hello", 5) ||
		    p.argv[2].len != 0)
			split_ok = 0;
		free(b);
		resp_free(&p);
	}
	CHECK(split_ok, "a request split at any byte parses the same");
	OK("a request split at each of %zu bytes parses the same\n",
	    len + 1);

	/* A pending argument says how many bytes it needs. */
	{
		struct resp_parser p;
		size_t want;
		resp_init(&p);
		const char *r = "*2\r\n$3\r\nGET\r\n$100\r\nab";
		CHECK(resp_parse(&p, r, strlen(r), &lim, &want) == RESP_MORE &&
		    want == strlen("*2\r\n$3\r\nGET\r\n$100\r\n") + 102,
		    "want after a bulk header: %zu", want);
		resp_free(&p);
	}

	/* Pipelined requests come out one by one. */
	{
		static const char pipe[] = "*1\r\n$4\r\nPING\r\nPING x\r\n"
		    "*2\r\n$4\r\nECHO\r\n$1\r\nz\r\n";
		struct resp_parser p;
		size_t off = 0, n = 0;
		resp_init(&p);
		while (off < sizeof(pipe) - 1 && resp_parse(&p, pipe + off,
		    sizeof(pipe) - 1 - off, &lim, NULL) == RESP_DONE) {
			off += p.pos;
			n++;
			resp_next(&p);
		}
		CHECK(n == 3 && off == sizeof(pipe) - 1, "pipelined: %zu", n);
		resp_free(&p);
		OK("three pipelined requests (multibulk and inline)\n");
	}

	CHECK(parse_all("GET  k\t v\r\n", 11, &argc, &err) == RESP_DONE &&
	    argc == 3, "inline with spaces and a tab");
	CHECK(parse_all("\r\n", 2, &argc, &err) == RESP_DONE && argc == 0,
	    "an empty inline line");
	CHECK(parse_all("*0\r\n", 4, &argc, &err) == RESP_DONE && argc == 0,
	    "*0");

	static const struct { const char *req; const char *err; } bad[] = {
		{ "*9\r\n", "invalid multibulk length" },	/* > max_args */
		{ "*x\r\n", "invalid multibulk length" },
		{ "*1\n", "invalid multibulk length" },	/* no CR */
		{ "*01\r\n", "invalid multibulk length" },
		{ "*1\r\n$513\r\n", "invalid bulk length" },	/* > max_bulk */
		{ "*1\r\n$-1\r\n", "invalid bulk length" },
		{ "*1\r\n$99999999999999999999\r\n", "invalid bulk length" },
		{ "*1\r\n:3\r\n", "expected '$'" },
		{ "*1\r\n$1\r\nab\r\n", "bulk without CRLF" },
		{ "*3\r\n$510\r\n", "request too large" },	/* 2 * 512 > 1024 */
		{ "*1\r\n$1111111111111111111111111111111", "invalid bulk length" },
	};
	int nbad = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char big[1100];
		const char *r = bad[i].req;
		size_t l = strlen(r);
		if (i == 9) {	/* two 500-byte arguments */
			l = (size_t)snprintf(big, sizeof(big), "*3\r\n$510\r\n"
			    "%0510d\r\n$510\r\n", 0);
			r = big;
		}
		enum resp_status st = parse_all(r, l, &argc, &err);
		if (st == RESP_ERR && strstr(err, bad[i].err) != NULL)
			nbad++;
		else
			CHECK(0, "bad request %zu: status %d, %s", i, st,
			    err ? err : "no error");
	}
	char longline[100];
	memset(longline, 'a', sizeof(longline));
	CHECK(parse_all(longline, sizeof(longline), &argc, &err) == RESP_ERR &&
	    strstr(err, "too big inline") != NULL, "a long inline line");
	CHECK(parse_all("a b c d e f g h i\r\n", 19, &argc, &err) == RESP_ERR,
	    "too many inline arguments");
	OK("%d malformed or oversized requests are errors, "
	    "with Redis's texts\n", nbad + 2);

	int64_t v;
	CHECK(resp_ll("9223372036854775807", 19, &v) == 0 && v == INT64_MAX,
	    "INT64_MAX");
	CHECK(resp_ll("-9223372036854775808", 20, &v) == 0 && v == INT64_MIN,
	    "INT64_MIN");
	CHECK(resp_ll("9223372036854775808", 19, &v) != 0, "past INT64_MAX");
	CHECK(resp_ll("-0", 2, &v) != 0 && resp_ll("007", 3, &v) != 0 &&
	    resp_ll("+1", 2, &v) != 0 && resp_ll("", 0, &v) != 0 &&
	    resp_ll(" 1", 2, &v) != 0, "non-canonical integers");
	char b[24];
	b[resp_lltoa(b, INT64_MIN)] = '\0';
	CHECK(strcmp(b, "-9223372036854775808") == 0, "lltoa: %s", b);
	OK("64-bit integers: both ends, overflow, non-canonical forms\n");
}

/* The memory count and the entries agree. */
static size_t
table_mem(const struct kv_table *t)
{
	size_t mem = 0;
	for (int h = 0; h < 2; h++) {
		mem += t->ht[h].size * sizeof(*t->ht[h].b);
		for (size_t i = 0; i < t->ht[h].size; i++)
			for (struct kv_entry *e = t->ht[h].b[i]; e; e = e->next)
				mem += kv_entry_cost(e->klen, e->vlen);
	}
	return mem;
}

static void
test_table(void)
{
	struct kv_table t;
	char k[32], val[32];
	const size_t n = 200000;
	kv_init(&t, 42, 43);
	int saw_rehash = 0;
	for (size_t i = 0; i < n; i++) {
		int kl = snprintf(k, sizeof(k), "key:%zu", i);
		int vl = snprintf(val, sizeof(val), "v%zu", i * 7);
		if (kv_set(&t, k, (size_t)kl, val, (size_t)vl,
		    i % 10 == 0 ? 5000 : 0) == NULL)
			CHECK(0, "kv_set %zu", i);
		saw_rehash |= t.rehash >= 0;
	}
	CHECK(kv_size(&t) == n && saw_rehash, "size %zu", kv_size(&t));
	size_t found = 0;
	for (size_t i = 0; i < n; i++) {
		int kl = snprintf(k, sizeof(k), "key:%zu", i);
		int vl = snprintf(val, sizeof(val), "v%zu", i * 7);
		struct kv_entry *e = kv_find(&t, k, (size_t)kl, 1000);
		found += e != NULL && e->vlen == (size_t)vl &&
		    memcmp(kv_val(e), val, (size_t)vl) == 0;
	}
	CHECK(found == n, "found %zu of %zu", found, n);
	CHECK(table_mem(&t) == t.mem, "memory %zu, counted %zu", t.mem,
	    table_mem(&t));
	CHECK(t.nexpire == n / 10, "nexpire %zu", t.nexpire);
	OK("%zu keys through incremental growth: all found, memory "
	    "count exact (%zu bytes)\n", n, t.mem);

	/* Replace one, delete most, then the sweep and lazy expiry. */
	kv_set(&t, "key:1", 5, "new", 3, 0);
	struct kv_entry *e = kv_find(&t, "key:1", 5, 1000);
	CHECK(e != NULL && e->vlen == 3 && kv_size(&t) == n, "replace");
	size_t del = 0;
	for (size_t i = 0; i < n; i++) {
		if (i % 10 == 0 || i % 10 == 1)
			continue;
		int kl = snprintf(k, sizeof(k), "key:%zu", i);
		del += kv_del(&t, k, (size_t)kl, 1000);
	}
	CHECK(del == n / 10 * 8 && kv_size(&t) == n / 5, "deleted %zu", del);
	CHECK(kv_del(&t, "key:2", 5, 1000) == 0, "delete twice");
	/* Key 0 expired at 5000: lazily gone at 6000. */
	CHECK(kv_find(&t, "key:0", 5, 6000) == NULL && t.expired == 1,
	    "lazy expiry");
	size_t swept = 0;
	for (int i = 0; i < 1000 && t.nexpire > 0; i++)
		swept += kv_expire_cycle(&t, 6000, 4096);
	CHECK(swept == n / 10 - 1 && t.nexpire == 0 && kv_size(&t) == n / 10,
	    "swept %zu, left %zu", swept, kv_size(&t));
	size_t before = t.ht[0].size;
	while (kv_rehash(&t, 1024))
		;
	CHECK(t.ht[0].size < before && table_mem(&t) == t.mem,
	    "shrink: %zu -> %zu buckets", before, t.ht[0].size);
	OK("deletes, lazy expiry, %zu swept, shrink %zu -> %zu "
	    "buckets, memory count exact\n", swept, before, t.ht[0].size);
	found = 0;
	for (size_t i = 1; i < n; i += 10) {
		int kl = snprintf(k, sizeof(k), "key:%zu", i);
		found += kv_find(&t, k, (size_t)kl, 6000) != NULL;
	}
	CHECK(found == n / 10, "after the shrink %zu found", found);
	kv_flush(&t);
	CHECK(kv_size(&t) == 0 && t.mem == 0, "flush");
	OK("every kept key survives the shrink; flush empties\n");
}

/* Run req through kv_process; the answers (as a string in ans). */
static void
run(struct kv_server *s, const char *req, int64_t now, char *ans, size_t max)
{
	struct kv_client c;
	size_t len = strlen(req);
	kv_client_init(&c);
	if (kv_rbuf_reserve(s, &c, len) == 0) {
		memcpy(c.rbuf, req, len);
		c.rlen = len;
		kv_process(s, &c, now);
	}
	size_t n = c.wlen - c.wsent < max - 16 ? c.wlen - c.wsent : max - 16;
	if (n > 0)
		memcpy(ans, c.wbuf + c.wsent, n);
	ans[n] = '\0';
	if (c.close)
		strncat(ans, "<closed>", max - n - 1);
	if (c.overflow)
		strncat(ans, "<overflow>", max - n - 1);
	kv_client_free(&c);
}

static void
test_commands(void)
{
	static struct kv_server s;
	char ans[4096];
	memset(&s, 0, sizeof(s));
	s.cfg.max_clients = 10;
	s.cfg.max_output = 1 << 20;
	s.cfg.lim = (struct resp_limits){ .max_request = 1 << 16,
	    .max_bulk = 1 << 16, .max_args = 1024, .max_inline = 8192 };
	kv_init(&s.table, 7, 8);

	static const struct { const char *req, *ans; } cases[] = {
		{ "PING\r\n", "+PONG\r\n" },
		{ "*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n", "$2\r\nhi\r\n" },
		{ "SET k v\r\nGET k\r\nGET nope\r\n", "+OK\r\n$1\r\nv\r\n$-1\r\n" },
		{ "SET n 10\r\nINCR n\r\nINCRBY n -20\r\nDECR n\r\nDECRBY n 5\r\n",
		  "+OK\r\n:11\r\n:-9\r\n:-10\r\n:-15\r\n" },
		{ "INCR k\r\n", "-ERR value is not an integer or out of range\r\n" },
		{ "SET m 9223372036854775807\r\nINCR m\r\n",
		  "+OK\r\n-ERR increment or decrement would overflow\r\n" },
		{ "DECRBY m -9223372036854775808\r\n",
		  "-ERR decrement would overflow\r\n" },
		{ "SET e 1 EX 10\r\nTTL e\r\nPTTL e\r\nPERSIST e\r\nTTL e\r\n",
		  "+OK\r\n:10\r\n:10000\r\n:1\r\n:-1\r\n" },
		{ "SET e 1 PX 0\r\nSET e 1 EX x\r\nSET e 1 NX XX\r\nSET e 1 EX 1 PX 1\r\n",
		  "-ERR invalid expire time in 'set' command\r\n"
		  "-ERR value is not an integer or out of range\r\n"
		  "-ERR syntax error\r\n-ERR syntax error\r\n" },
		{ "SET k w NX\r\nSET new w XX\r\nSET k w XX\r\nGET k\r\n",
		  "$-1\r\n$-1\r\n+OK\r\n$1\r\nw\r\n" },
		{ "MSET a 1 b 2\r\nMGET a b c\r\nEXISTS a b c a\r\n",
		  "+OK\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n:3\r\n" },
		{ "MSET a\r\n", "-ERR wrong number of arguments for 'mset' command\r\n" },
		{ "DEL a b c\r\nDBSIZE\r\n", ":2\r\n:4\r\n" },
		{ "EXPIRE k 100\r\nTTL k\r\nEXPIRE nope 1\r\nTTL nope\r\n",
		  ":1\r\n:100\r\n:0\r\n:-2\r\n" },
		{ "EXPIRE k -1\r\nEXISTS k\r\n", ":1\r\n:0\r\n" },
		{ "EXPIRE n 9223372036854775807\r\n",
		  "-ERR invalid expire time in 'expire' command\r\n" },
		{ "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$4\r\nsave\r\n"
		  "CONFIG GET appendonly\r\n",
		  "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
		  "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n" },
		{ "COMMAND\r\nSELECT 0\r\nSELECT 1\r\n",
		  "*0\r\n+OK\r\n-ERR DB index is out of range\r\n" },
		{ "GET\r\n", "-ERR wrong number of arguments for 'get' command\r\n" },
		{ "*1\r\n$7\r\nFOO\r\nX!\r\n", "-ERR unknown command 'FOO??X!'\r\n" },
		{ "PING\r\nQUIT\r\nPING\r\n", "+PONG\r\n+OK\r\n<closed>" },
		{ "PING\r\n*1\r\n$x\r\nPING\r\n",
		  "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n<closed>" },
		{ "FLUSHALL\r\nDBSIZE\r\n", "+OK\r\n:0\r\n" },
	};
	int n = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(&s, cases[i].req, 1000000, ans, sizeof(ans));
		if (strcmp(ans, cases[i].ans) == 0)
			n++;
		else
			CHECK(0, "request %zu: got '%s'", i, ans);
	}
	OK("%d request batches answered byte for byte as Redis "
	    "does\n", n);

	/* Expiry by the clock passed in. */
	run(&s, "SET t 1 PX 50\r\n", 1000, ans, sizeof(ans));
	run(&s, "GET t\r\n", 1049, ans, sizeof(ans));
	CHECK(strcmp(ans, "$1\r\n1\r\n") == 0, "before expiry: %s", ans);
	run(&s, "GET t\r\n", 1050, ans, sizeof(ans));
	CHECK(strcmp(ans, "$-1\r\n") == 0, "at expiry: %s", ans);
	OK("PX 50 set at 1000 ms: there at 1049, gone at 1050\n");

	/* maxmemory: refused with Redis's text, reads and DEL still work. */
	s.cfg.maxmemory = 4096;
	char big[3000], req[3100];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(req, sizeof(req), "SET b1 %s\r\n", big);
	run(&s, req, 1000, ans, sizeof(ans));
	CHECK(strcmp(ans, "+OK\r\n") == 0, "first big SET: %s", ans);
	snprintf(req, sizeof(req), "SET b2 %s\r\n", big);
	run(&s, req, 1000, ans, sizeof(ans));
	CHECK(strncmp(ans, "-OOM command not allowed", 24) == 0,
	    "second big SET: %s", ans);
	run(&s, "DEL b1\r\n", 1000, ans, sizeof(ans));
	run(&s, req, 1000, ans, sizeof(ans));
	CHECK(strcmp(ans, "+OK\r\n") == 0 && s.cnt.oom_rejections == 1,
	    "after DEL: %s", ans);
	OK("--maxmemory 4096: a second 3000-byte value gets -OOM; "
	    "after DEL it fits\n");
	s.cfg.maxmemory = 0;

	/* max_output: a client that asks for too much is cut. */
	s.cfg.max_output = 8192;
	run(&s, "MGET b2 b2 b2 b2\r\n", 1000, ans, sizeof(ans));
	CHECK(strstr(ans, "<overflow>") != NULL &&
	    s.cnt.output_overflows == 1, "output limit");
	OK("answers past max_output close the client\n");
	kv_flush(&s.table);
}

int
main(void)
{
	test_parser();
	test_table();
	test_commands();
	if (fails)
		printf("FAIL: %d checks failed\n", fails);
	return fails ? 1 : 0;
}
