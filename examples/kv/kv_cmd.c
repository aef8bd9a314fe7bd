/*
 * kv_cmd.c - examples/kv's commands (see kv_cmd.h): RESP2 answers as
 * Redis gives them for the string commands, expiry, and the few
 * administrative commands redis-cli and redis-benchmark send (COMMAND,
 * CONFIG GET, INFO, SELECT 0, CLIENT SETNAME).  Every answer is appended
 * to the client's output buffer; the server sends a batch at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kv_cmd.h"

#define KV_BUF_MIN	(16 * 1024)

/* One request being run. */
struct kv_ctx {
	struct kv_server *s;
	struct kv_client *c;
	const char *base;		/* the request's first byte */
	const struct resp_arg *argv;
	size_t argc;
	int64_t now;
};

#define A(x, i)	((x)->base + (x)->argv[i].off)
#define L(x, i)	((x)->argv[i].len)

void
kv_client_init(struct kv_client *c)
{
	memset(c, 0, sizeof(*c));
	resp_init(&c->p);
}

void
kv_client_free(struct kv_client *c)
{
	resp_free(&c->p);
	free(c->rbuf);
	free(c->wbuf);
	kv_client_init(c);
}

int
kv_out(struct kv_server *s, struct kv_client *c, const void *p, size_t len)
{
	size_t pending = c->wlen - c->wsent;
	if (c->overflow)
		return -1;
	if (pending + len > s->cfg.max_output) {
		c->overflow = 1;
		s->cnt.output_overflows++;
		return -1;
	}
	if (c->wcap - c->wlen < len) {
		if (c->wsent > 0) {	/* drop what is sent */
			memmove(c->wbuf, c->wbuf + c->wsent, pending);
			c->wsent = 0;
			c->wlen = pending;
		}
		if (c->wcap - c->wlen < len) {
			size_t cap = c->wcap < KV_BUF_MIN ? KV_BUF_MIN :
			    c->wcap * 2;
			while (cap - c->wlen < len)
				cap *= 2;
			char *b = realloc(c->wbuf, cap);
			if (b == NULL) {
				c->overflow = 1;
				return -1;
			}
			c->wbuf = b;
			c->wcap = cap;
		}
	}
	memcpy(c->wbuf + c->wlen, p, len);
	c->wlen += len;
	return 0;
}

int
kv_rbuf_reserve(struct kv_server *s, struct kv_client *c, size_t n)
{
	(void)s;
	if (c->rcap - c->rlen >= n)
		return 0;
	if (c->rstart > 0) {	/* parser offsets count from rstart */
		memmove(c->rbuf, c->rbuf + c->rstart, c->rlen - c->rstart);
		c->rlen -= c->rstart;
		c->rstart = 0;
		if (c->rcap - c->rlen >= n)
			return 0;
	}
	size_t cap = c->rcap < KV_BUF_MIN ? KV_BUF_MIN : c->rcap * 2;
	while (cap - c->rlen < n)
		cap *= 2;
	char *b = realloc(c->rbuf, cap);
	if (b == NULL)
		return -1;
	c->rbuf = b;
	c->rcap = cap;
	return 0;
}

/* ---- answers ---- */

static void
out_str(struct kv_ctx *x, const char *s)
{
	(void)kv_out(x->s, x->c, s, strlen(s));
}

#define out_ok(x)	out_str(x, "+OK\r\n")
#define out_nil(x)	out_str(x, "$-1\r\n")

static void
out_hdr(struct kv_ctx *x, char type, int64_t n)
{
	char b[24];
	b[0] = type;
	size_t l = 1 + resp_lltoa(b + 1, n);
	b[l++] = '\r';
	b[l++] = '\n';
	(void)kv_out(x->s, x->c, b, l);
}

#define out_int(x, n)	out_hdr(x, ':', n)
#define out_array(x, n)	out_hdr(x, '*', n)

static void
out_bulk(struct kv_ctx *x, const char *p, size_t len)
{
	out_hdr(x, '$', (int64_t)len);
	(void)kv_out(x->s, x->c, p, len);
	(void)kv_out(x->s, x->c, "\r\n", 2);
}

#define out_cbulk(x, s)	out_bulk(x, s, strlen(s))

static void
out_err(struct kv_ctx *x, const char *msg)
{
	(void)kv_out(x->s, x->c, "-", 1);
	(void)kv_out(x->s, x->c, msg, strlen(msg));
	(void)kv_out(x->s, x->c, "\r\n", 2);
}

/* An error naming a client-given string: at most 64 bytes of it, and no
 * CR, LF or other control byte (it would end the error line early). */
static void
out_err_named(struct kv_ctx *x, const char *pre, const char *name,
    size_t len, const char *post)
{
	char n[65];
	size_t i;
	for (i = 0; i < len && i < 64; i++)
		n[i] = (name[i] >= 0x20 && name[i] < 0x7f) ? name[i] : '?';
	n[i] = '\0';
	char b[160];
	snprintf(b, sizeof(b), "%s%s%s", pre, n, post);
	out_err(x, b);
}

static int
arg_is(struct kv_ctx *x, size_t i, const char *word)
{
	size_t n = strlen(word);
	return L(x, i) == n && strncasecmp(A(x, i), word, n) == 0;
}

/* ---- commands ---- */

#define E_INT	"ERR value is not an integer or out of range"
#define E_SYNTAX "ERR syntax error"
#define E_OOM	"OOM command not allowed when used memory > 'maxmemory'."
#define E_NOMEM	"OOM out of memory"

/* Refuse a write that would take the data past maxmemory: 1 if so. */
static int
over_memory(struct kv_ctx *x, size_t add)
{
	size_t max = x->s->cfg.maxmemory;
	if (max == 0 || x->s->table.mem + add <= max)
		return 0;
	x->s->cnt.oom_rejections++;
	out_err(x, E_OOM);
	return 1;
}

/* ms added to now, or -1 when n (in unit ms) overflows or is not > 0
 * (allow_nonpos: then 0 means "already expired"). */
static int64_t
expire_at(struct kv_ctx *x, int64_t n, int64_t unit, int allow_nonpos)
{
	if (n <= 0)
		return allow_nonpos ? 0 : -1;
	if (n > (INT64_MAX - x->now) / unit)
		return -1;
	return x->now + n * unit;
}

static void
c_ping(struct kv_ctx *x)
{
	if (x->argc == 1)
		out_str(x, "+PONG\r\n");
	else if (x->argc == 2)
		out_bulk(x, A(x, 1), L(x, 1));
	else
		out_err(x, "ERR wrong number of arguments for 'ping' command");
}

static void
c_echo(struct kv_ctx *x)
{
	out_bulk(x, A(x, 1), L(x, 1));
}

static void
c_get(struct kv_ctx *x)
{
	struct kv_entry *e = kv_find(&x->s->table, A(x, 1), L(x, 1), x->now);
	if (e == NULL)
		out_nil(x);
	else
		out_bulk(x, kv_val(e), e->vlen);
}

static void
c_set(struct kv_ctx *x)
{
	int nx = 0, xx = 0, keepttl = 0, have_exp = 0;
	int64_t expire = 0, n;
	for (size_t i = 3; i < x->argc; i++) {
		if (arg_is(x, i, "NX") && !xx) {
			nx = 1;
		} else if (arg_is(x, i, "XX") && !nx) {
			xx = 1;
		} else if (arg_is(x, i, "KEEPTTL") && !have_exp) {
			keepttl = 1;
		} else if ((arg_is(x, i, "EX") || arg_is(x, i, "PX")) &&
		    !have_exp && !keepttl && i + 1 < x->argc) {
			int64_t unit = arg_is(x, i, "EX") ? 1000 : 1;
			if (resp_ll(A(x, i + 1), L(x, i + 1), &n) != 0) {
				out_err(x, E_INT);
				return;
			}
			if ((expire = expire_at(x, n, unit, 0)) < 0) {
				out_err(x, "ERR invalid expire time in 'set' "
				    "command");
				return;
			}
			have_exp = 1;
			i++;
		} else {
			out_err(x, E_SYNTAX);
			return;
		}
	}
	struct kv_table *t = &x->s->table;
	struct kv_entry *e = NULL;
	if (nx || xx || keepttl)
		e = kv_find(t, A(x, 1), L(x, 1), x->now);
	if ((nx && e != NULL) || (xx && e == NULL)) {
		out_nil(x);
		return;
	}
	if (keepttl && e != NULL)
		expire = e->expire;
	if (over_memory(x, kv_entry_cost(L(x, 1), L(x, 2))))
		return;
	if (kv_set(t, A(x, 1), L(x, 1), A(x, 2), L(x, 2), expire) == NULL)
		out_err(x, E_NOMEM);
	else
		out_ok(x);
}

static void
c_del(struct kv_ctx *x)
{
	int64_t n = 0;
	for (size_t i = 1; i < x->argc; i++)
		n += kv_del(&x->s->table, A(x, i), L(x, i), x->now);
	out_int(x, n);
}

static void
c_exists(struct kv_ctx *x)
{
	int64_t n = 0;
	for (size_t i = 1; i < x->argc; i++)
		n += kv_find(&x->s->table, A(x, i), L(x, i), x->now) != NULL;
	out_int(x, n);
}

static void
incr_by(struct kv_ctx *x, int64_t by)
{
	struct kv_table *t = &x->s->table;
	struct kv_entry *e = kv_find(t, A(x, 1), L(x, 1), x->now);
	int64_t v = 0;
	if (e != NULL && resp_ll(kv_val(e), e->vlen, &v) != 0) {
		out_err(x, E_INT);
		return;
	}
	if ((by > 0 && v > INT64_MAX - by) || (by < 0 && v < INT64_MIN - by)) {
		out_err(x, "ERR increment or decrement would overflow");
		return;
	}
	v += by;
	char b[24];
	size_t n = resp_lltoa(b, v);
	if (e != NULL && e->vlen == n) {	/* same length: in place */
		memcpy(kv_val(e), b, n);
	} else {
		if (over_memory(x, kv_entry_cost(L(x, 1), n)))
			return;
		if (kv_set(t, A(x, 1), L(x, 1), b, n,
		    e != NULL ? e->expire : 0) == NULL) {
			out_err(x, E_NOMEM);
			return;
		}
	}
	out_int(x, v);
}

static void
c_incr(struct kv_ctx *x)
{
	incr_by(x, 1);
}

static void
c_decr(struct kv_ctx *x)
{
	incr_by(x, -1);
}

static void
c_incrby(struct kv_ctx *x)
{
	int64_t by;
	if (resp_ll(A(x, 2), L(x, 2), &by) != 0)
		out_err(x, E_INT);
	else
		incr_by(x, by);
}

static void
c_decrby(struct kv_ctx *x)
{
	int64_t by;
	if (resp_ll(A(x, 2), L(x, 2), &by) != 0)
		out_err(x, E_INT);
	else if (by == INT64_MIN)
		out_err(x, "ERR decrement would overflow");
	else
		incr_by(x, -by);
}

static void
expire_cmd(struct kv_ctx *x, int64_t unit, const char *name)
{
	int64_t n, at;
	if (resp_ll(A(x, 2), L(x, 2), &n) != 0) {
		out_err(x, E_INT);
		return;
	}
	if ((at = expire_at(x, n, unit, 1)) < 0) {
		char b[64];
		snprintf(b, sizeof(b), "ERR invalid expire time in '%s' "
		    "command", name);
		out_err(x, b);
		return;
	}
	struct kv_table *t = &x->s->table;
	struct kv_entry *e = kv_find(t, A(x, 1), L(x, 1), x->now);
	if (e == NULL) {
		out_int(x, 0);
		return;
	}
	if (at == 0)	/* a time not in the future: the key goes now */
		kv_del(t, A(x, 1), L(x, 1), x->now);
	else
		kv_set_expire(t, e, at);
	out_int(x, 1);
}

static void
c_expire(struct kv_ctx *x)
{
	expire_cmd(x, 1000, "expire");
}

static void
c_pexpire(struct kv_ctx *x)
{
	expire_cmd(x, 1, "pexpire");
}

static void
ttl_cmd(struct kv_ctx *x, int ms)
{
	struct kv_entry *e = kv_find(&x->s->table, A(x, 1), L(x, 1), x->now);
	if (e == NULL)
		out_int(x, -2);
	else if (e->expire == 0)
		out_int(x, -1);
	else
		out_int(x, ms ? e->expire - x->now :
		    (e->expire - x->now + 500) / 1000);
}

static void
c_ttl(struct kv_ctx *x)
{
	ttl_cmd(x, 0);
}

static void
c_pttl(struct kv_ctx *x)
{
	ttl_cmd(x, 1);
}

static void
c_persist(struct kv_ctx *x)
{
	struct kv_entry *e = kv_find(&x->s->table, A(x, 1), L(x, 1), x->now);
	if (e == NULL || e->expire == 0) {
		out_int(x, 0);
		return;
	}
	kv_set_expire(&x->s->table, e, 0);
	out_int(x, 1);
}

static void
c_mget(struct kv_ctx *x)
{
	out_array(x, (int64_t)x->argc - 1);
	for (size_t i = 1; i < x->argc; i++) {
		struct kv_entry *e = kv_find(&x->s->table, A(x, i), L(x, i),
		    x->now);
		if (e == NULL)
			out_nil(x);
		else
			out_bulk(x, kv_val(e), e->vlen);
	}
}

static void
c_mset(struct kv_ctx *x)
{
	if (x->argc % 2 != 1) {
		out_err(x, "ERR wrong number of arguments for 'mset' command");
		return;
	}
	size_t add = 0;
	for (size_t i = 1; i < x->argc; i += 2)
		add += kv_entry_cost(L(x, i), L(x, i + 1));
	if (over_memory(x, add))
		return;
	for (size_t i = 1; i < x->argc; i += 2) {
		if (kv_set(&x->s->table, A(x, i), L(x, i), A(x, i + 1),
		    L(x, i + 1), 0) == NULL) {
			out_err(x, E_NOMEM);	/* the earlier pairs stay */
			return;
		}
	}
	out_ok(x);
}

static void
c_dbsize(struct kv_ctx *x)
{
	out_int(x, (int64_t)kv_size(&x->s->table));
}

static void
c_flushall(struct kv_ctx *x)
{
	if (x->argc > 2 || (x->argc == 2 && !arg_is(x, 1, "SYNC") &&
	    !arg_is(x, 1, "ASYNC"))) {
		out_err(x, E_SYNTAX);
		return;
	}
	kv_flush(&x->s->table);
	out_ok(x);
}

static void
c_select(struct kv_ctx *x)
{
	int64_t n;
	if (resp_ll(A(x, 1), L(x, 1), &n) != 0)
		out_err(x, E_INT);
	else if (n != 0)
		out_err(x, "ERR DB index is out of range");
	else
		out_ok(x);
}

static void
c_quit(struct kv_ctx *x)
{
	out_ok(x);
	x->c->close = 1;
}

static size_t kv_ncommands(void);

/* COMMAND: enough for redis-cli (COUNT, and empty DOCS/INFO lists it
 * takes as "no hints"); no command metadata. */
static void
c_command(struct kv_ctx *x)
{
	if (x->argc == 1 || arg_is(x, 1, "DOCS") || arg_is(x, 1, "INFO") ||
	    arg_is(x, 1, "LIST"))
		out_array(x, 0);
	else if (arg_is(x, 1, "COUNT") && x->argc == 2)
		out_int(x, (int64_t)kv_ncommands());
	else
		out_err_named(x, "ERR unknown subcommand '", A(x, 1), L(x, 1),
		    "'");
}

/* CONFIG GET: the parameters a client may ask before a run (redis-
 * benchmark reads save and appendonly); no persistence here. */
static void
c_config(struct kv_ctx *x)
{
	if (arg_is(x, 1, "RESETSTAT") && x->argc == 2) {
		memset(&x->s->cnt, 0, sizeof(x->s->cnt));
		out_ok(x);
		return;
	}
	if (!arg_is(x, 1, "GET") || x->argc < 3) {
		out_err_named(x, "ERR unknown subcommand or wrong number of "
		    "arguments for '", A(x, 1), L(x, 1), "'");
		return;
	}
	char mm[24], mc[24], port[24];
	mm[resp_lltoa(mm, (int64_t)x->s->cfg.maxmemory)] = '\0';
	mc[resp_lltoa(mc, (int64_t)x->s->cfg.max_clients)] = '\0';
	port[resp_lltoa(port, x->s->cfg.port)] = '\0';
	const char *p[][2] = { { "save", "" }, { "appendonly", "no" },
	    { "maxmemory", mm }, { "maxclients", mc },
	    { "maxmemory-policy", "noeviction" }, { "port", port },
	    { "databases", "1" } };
	size_t np = sizeof(p) / sizeof(p[0]), n = 0;
	int hit[sizeof(p) / sizeof(p[0])] = { 0 };
	for (size_t i = 2; i < x->argc; i++)
		for (size_t j = 0; j < np; j++)
			if (arg_is(x, i, "*") || arg_is(x, i, p[j][0]))
				hit[j] = 1;
	for (size_t j = 0; j < np; j++)
		n += hit[j];
	out_array(x, (int64_t)(2 * n));
	for (size_t j = 0; j < np; j++) {
		if (hit[j]) {
			out_cbulk(x, p[j][0]);
			out_cbulk(x, p[j][1]);
		}
	}
}

static void
c_client(struct kv_ctx *x)
{
	if (arg_is(x, 1, "SETNAME") || arg_is(x, 1, "SETINFO"))
		out_ok(x);
	else if (arg_is(x, 1, "GETNAME"))
		out_nil(x);
	else
		out_err_named(x, "ERR unknown subcommand '", A(x, 1), L(x, 1),
		    "'");
}

static void
c_info(struct kv_ctx *x)
{
	struct kv_server *s = x->s;
	char b[1024];
	int n = snprintf(b, sizeof(b),
	    "# Server\r\nredis_version:7.0.0\r\nkrank_kv:1\r\n"
	    "tcp_port:%d\r\n"
	    "# Clients\r\nconnected_clients:%zu\r\nmaxclients:%zu\r\n"
	    "# Memory\r\nused_memory:%zu\r\nmaxmemory:%zu\r\n"
	    "maxmemory_policy:noeviction\r\n"
	    "# Stats\r\ntotal_connections_received:%llu\r\n"
	    "total_commands_processed:%llu\r\nrejected_connections:%llu\r\n"
	    "protocol_errors:%llu\r\noom_rejections:%llu\r\n"
	    "output_overflows:%llu\r\nexpired_keys:%llu\r\n"
	    "# Keyspace\r\ndb0:keys=%zu,expires=%zu\r\n",
	    s->cfg.port, s->clients, s->cfg.max_clients, s->table.mem,
	    s->cfg.maxmemory, (unsigned long long)s->cnt.connections,
	    (unsigned long long)s->cnt.commands,
	    (unsigned long long)s->cnt.rejected,
	    (unsigned long long)s->cnt.protocol_errors,
	    (unsigned long long)s->cnt.oom_rejections,
	    (unsigned long long)s->cnt.output_overflows,
	    (unsigned long long)s->table.expired, kv_size(&s->table),
	    s->table.nexpire);
	out_bulk(x, b, n > 0 && (size_t)n < sizeof(b) ? (size_t)n : 0);
}

/* arity: the exact argument count with the name, or -N for at least N. */
static const struct kv_cmd {
	const char *name;
	int arity;
	void (*fn)(struct kv_ctx *);
} kv_cmds[] = {
	{ "get", 2, c_get }, { "set", -3, c_set }, { "incr", 2, c_incr },
	{ "mget", -2, c_mget }, { "mset", -3, c_mset }, { "del", -2, c_del },
	{ "ping", -1, c_ping }, { "decr", 2, c_decr },
	{ "incrby", 3, c_incrby }, { "decrby", 3, c_decrby },
	{ "exists", -2, c_exists }, { "expire", 3, c_expire },
	{ "pexpire", 3, c_pexpire }, { "ttl", 2, c_ttl }, { "pttl", 2, c_pttl },
	{ "persist", 2, c_persist }, { "echo", 2, c_echo },
	{ "dbsize", 1, c_dbsize }, { "flushall", -1, c_flushall },
	{ "flushdb", -1, c_flushall }, { "select", 2, c_select },
	{ "command", -1, c_command }, { "config", -2, c_config },
	{ "client", -2, c_client }, { "info", -1, c_info },
	{ "quit", -1, c_quit },
};
#define KV_NCMDS	(sizeof(kv_cmds) / sizeof(kv_cmds[0]))

static size_t
kv_ncommands(void)
{
	return KV_NCMDS;
}

static void
kv_exec(struct kv_ctx *x)
{
	const struct kv_cmd *cmd = NULL;
	for (size_t i = 0; i < KV_NCMDS; i++) {
		if (arg_is(x, 0, kv_cmds[i].name)) {
			cmd = &kv_cmds[i];
			break;
		}
	}
	x->s->cnt.commands++;
	if (cmd == NULL) {
		out_err_named(x, "ERR unknown command '", A(x, 0), L(x, 0),
		    "'");
		return;
	}
	if ((cmd->arity > 0 && x->argc != (size_t)cmd->arity) ||
	    (cmd->arity < 0 && x->argc < (size_t)-cmd->arity)) {
		char b[96];
		snprintf(b, sizeof(b), "ERR wrong number of arguments for "
		    "'%s' command", cmd->name);
		out_err(x, b);
		return;
	}
	cmd->fn(x);
}

void
kv_process(struct kv_server *s, struct kv_client *c, int64_t now)
{
	while (!c->close && !c->overflow &&
	    c->wlen - c->wsent < KV_OUTPUT_SOFT) {
		if (c->rstart == c->rlen) {
			c->rwant = 0;
			break;
		}
		const char *base = c->rbuf + c->rstart;
		size_t want;
		enum resp_status st = resp_parse(&c->p, base,
		    c->rlen - c->rstart, &s->cfg.lim, &want);
		if (st == RESP_MORE) {
			c->rwant = want;
			break;
		}
		if (st == RESP_ERR || st == RESP_NOMEM) {
			struct kv_ctx x = { .s = s, .c = c };
			if (st == RESP_ERR)
				s->cnt.protocol_errors++;
			out_err(&x, st == RESP_ERR ? c->p.err : E_NOMEM);
			c->close = 1;
			break;
		}
		if (c->p.argc > 0) {
			struct kv_ctx x = { .s = s, .c = c, .base = base,
			    .argv = c->p.argv, .argc = c->p.argc, .now = now };
			kv_exec(&x);
		}
		c->rstart += c->p.pos;
		resp_next(&c->p);
	}
	if (c->rstart == c->rlen)
		c->rstart = c->rlen = 0;
}
