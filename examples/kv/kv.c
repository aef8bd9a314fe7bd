/*
 * kv.c - examples/kv: a key-value server speaking RESP2 (the Redis
 * protocol), written as a KRANK isolate on plain POSIX calls (non-blocking
 * sockets and poll), so krank-cc builds it into kv.kx for KRANK's TCP/IP
 * stack and gcc builds it for Linux.  This file is the event loop and the
 * options; the commands are kv_cmd.c, the keyspace kv_table.c, the
 * protocol resp.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* accept4 */
#endif
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ex_util.h"
#include "kv_cmd.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0		/* isolates get no signals anyway */
#endif

#define KV_READ_CHUNK	(16 * 1024)
#define KV_CRON_MS	100	/* expiry sweep and rehash steps */
#define KV_IDLE_BUF	(64 * 1024)	/* buffers larger are freed when empty */

static void
usage(int fd)
{
	dprintf(fd,
"NAME\n"
"    kv - a key-value server speaking the Redis protocol, a KRANK isolate\n"
"\n"
"SYNOPSIS\n"
"    kv [--port P] [--maxmemory SIZE] [--max-clients N]\n"
"       [--max-request SIZE] [--max-output SIZE] [--until-eof]\n"
"    kv --help\n"
"\n"
"DESCRIPTION\n"
"    Keeps string keys and values in memory and serves them over TCP in\n"
"    RESP2, the protocol of Redis, so redis-cli, redis-benchmark and Redis\n"
"    client libraries work with it unchanged.  Requests may be pipelined\n"
"    (every complete request received is answered, and the answers leave\n"
"    in one send) or sent inline (\"SET k v\" and a newline; arguments\n"
"    split on spaces, no quoting).  Keys may expire; an expired key is\n"
"    removed when it is touched, and a sweep every 100 ms removes the\n"
"    others.  The table grows and shrinks a bucket at a time, so no\n"
"    request waits for a whole resize.  Nothing is written to disk.\n"
"\n"
"    It is a plain POSIX program: built with krank-cc (kv.kx) it runs as\n"
"    an isolate of a KRANK deployment on KRANK's TCP/IP stack; built with\n"
"    gcc it runs on Linux.  Once listening it prints \"ready PORT\" on\n"
"    standard output.  It runs until it is ended or, with --until-eof,\n"
"    until standard input reaches end of file.\n"
"\n"
"OPTIONS\n"
"    --port P\n"
"        TCP port on every address (default 6379; 0: any free port,\n"
"        printed in \"ready\").\n"
"    --maxmemory SIZE\n"
"        Bytes the keys and values (with the table's own overhead) may\n"
"        take (default 0: no limit but the heap's).  A command that would\n"
"        pass it is refused with \"-OOM command not allowed when used\n"
"        memory > 'maxmemory'.\" and nothing is evicted (Redis's\n"
"        noeviction policy); reads and DEL still work.\n"
"    --max-clients N\n"
"        Connections served at once (default 1024, 1..65536).  One more\n"
"        gets \"-ERR max number of clients reached\" and is closed.\n"
"    --max-request SIZE\n"
"        Bytes of one request (default 8m; 1k..1g).  A longer request, a\n"
"        bulk length beyond it, more than 1048576 arguments, an inline\n"
"        line over 64 KiB or a malformed request is answered with\n"
"        \"-ERR Protocol error: ...\" and the connection is closed; the\n"
"        other clients are not affected.\n"
"    --max-output SIZE\n"
"        Bytes of answers that may wait for one client that does not read\n"
"        them (default 64m); beyond it the client is closed.\n"
"    --until-eof\n"
"        Stop at end of file on standard input and print the counters\n"
"        (for scripts).\n"
"    --help\n"
"        This text.\n"
"    SIZE is a number of bytes with an optional unit k, kb, m, mb, g, gb\n"
"    (powers of 1024, any case).\n"
"\n"
"COMMANDS\n"
"    PING [msg], ECHO msg, GET k, SET k v [EX s | PX ms | KEEPTTL]\n"
"    [NX | XX], DEL k..., EXISTS k..., INCR k, DECR k, INCRBY k n,\n"
"    DECRBY k n, EXPIRE k s, PEXPIRE k ms, TTL k, PTTL k, PERSIST k,\n"
"    MGET k..., MSET k v ..., DBSIZE, FLUSHALL and FLUSHDB [SYNC|ASYNC],\n"
"    SELECT 0, INFO (counters), COMMAND [COUNT], CONFIG GET name...\n"
"    (save, appendonly, maxmemory, maxclients, maxmemory-policy, port,\n"
"    databases: what benchmarks ask), CONFIG RESETSTAT, CLIENT SETNAME,\n"
"    QUIT.  Answers and error texts are Redis's.  Values are byte\n"
"    strings; INCR and its kin take and give 64-bit decimal integers.\n"
"\n"
"EXIT STATUS\n"
"    0 after --until-eof; 1 when the port cannot be set up (with a\n"
"    message on standard error); 2 on a usage error.\n"
"\n"
"EXAMPLES\n"
"    kv --port 6379 --maxmemory 48mb\n"
"    In a KRANK deployment (examples/deployments/kv.yaml):\n"
"        isolates:\n"
"          - name: kv\n"
"            elf: ../kv/kv.kx\n"
"            argv: [kv, --port, \"6379\", --maxmemory, 48mb]\n"
"    From Linux: redis-cli -h 10.99.0.2 set greeting hello\n"
"\n"
"SEE ALSO\n"
"    redis-cli(1), redis-benchmark(1), examples/kv/README, krank(8).\n");
}

/* SIZE: digits and an optional unit (k, kb, m, mb, g, gb; 1024s). */
static int
parse_size(const char *s, size_t min, size_t max, size_t *v)
{
	char num[24];
	size_t n = strspn(s, "0123456789"), scale = 1;
	long x;
	const char *u = s + n;
	if (n == 0 || n >= sizeof(num))
		return -1;
	if (*u != '\0') {
		switch (*u | 0x20) {
		case 'k': scale = (size_t)1 << 10; break;
		case 'm': scale = (size_t)1 << 20; break;
		case 'g': scale = (size_t)1 << 30; break;
		default: return -1;
		}
		u++;
		if ((*u | 0x20) == 'b')
			u++;
		if (*u != '\0')
			return -1;
	}
	memcpy(num, s, n);
	num[n] = '\0';
	if (ex_number(num, 0, (long)(max / scale), &x) != 0 ||
	    (size_t)x * scale < min)
		return -1;
	*v = (size_t)x * scale;
	return 0;
}

struct kv_conn {
	int fd;
	struct kv_client c;
};

static void
conn_close(struct kv_server *s, struct kv_conn *k)
{
	close(k->fd);
	kv_client_free(&k->c);
	k->fd = -1;
	s->clients--;
}

/* Send what is waiting; -1 when the connection is dead. */
static int
conn_flush(struct kv_conn *k)
{
	struct kv_client *c = &k->c;
	while (c->wsent < c->wlen) {
		ssize_t n = send(k->fd, c->wbuf + c->wsent, c->wlen - c->wsent,
		    MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR ? 0 : -1;
		c->wsent += (size_t)n;
	}
	c->wsent = c->wlen = 0;
	if (c->wcap > KV_IDLE_BUF) {	/* a big answer went: its memory too */
		free(c->wbuf);
		c->wbuf = NULL;
		c->wcap = 0;
	}
	return 0;
}

/* Read what is there, run it, send the answers; -1: close the connection. */
static int
conn_input(struct kv_server *s, struct kv_conn *k, int64_t now)
{
	struct kv_client *c = &k->c;
	size_t have = c->rlen - c->rstart;
	size_t need = c->rwant > have ? c->rwant - have : 0;
	if (need < KV_READ_CHUNK)
		need = KV_READ_CHUNK;
	if (kv_rbuf_reserve(s, c, need) != 0)
		return -1;
	ssize_t n = recv(k->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
	if (n == 0)
		return -1;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? 0 : -1;
	c->rlen += (size_t)n;
	kv_process(s, c, now);
	if (c->overflow || conn_flush(k) != 0)
		return -1;
	if (c->rlen == 0 && c->rcap > KV_IDLE_BUF) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
	}
	return 0;
}

static void
conn_accept(struct kv_server *s, int lfd, struct kv_conn *conns,
    size_t *nconns)
{
	for (int i = 0; i < 64; i++) {	/* a burst, then serve the others */
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK), one = 1;
		if (fd < 0)
			return;
		s->cnt.connections++;
		if (s->clients >= s->cfg.max_clients) {
			static const char m[] =
			    "-ERR max number of clients reached\r\n";
			s->cnt.rejected++;
			(void)send(fd, m, sizeof(m) - 1, MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		/* Answers are whole batches: send each one at once. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		size_t j;
		for (j = 0; j < *nconns && conns[j].fd >= 0; j++)
			;
		if (j == *nconns)
			(*nconns)++;
		conns[j].fd = fd;
		kv_client_init(&conns[j].c);
		s->clients++;
	}
}

static void
print_counters(const struct kv_server *s)
{
	const struct kv_counters *n = &s->cnt;
	dprintf(1, "kv: connections %llu rejected %llu commands %llu "
	    "protocol-errors %llu oom %llu output-overflows %llu keys %zu "
	    "expired %llu memory %zu\n", (unsigned long long)n->connections,
	    (unsigned long long)n->rejected, (unsigned long long)n->commands,
	    (unsigned long long)n->protocol_errors,
	    (unsigned long long)n->oom_rejections,
	    (unsigned long long)n->output_overflows, kv_size(&s->table),
	    (unsigned long long)s->table.expired, s->table.mem);
}

static int
serve(struct kv_server *s, int lfd, int quit_fd)
{
	size_t max = s->cfg.max_clients, nconns = 0, i;
	struct kv_conn *conns = calloc(max, sizeof(*conns));
	struct pollfd *pfd = calloc(max + 2, sizeof(*pfd));
	size_t *slot = calloc(max + 2, sizeof(*slot));
	if (conns == NULL || pfd == NULL || slot == NULL) {
		dprintf(2, "kv: a table of %zu connections: out of memory\n",
		    max);
		free(conns);
		free(pfd);
		free(slot);
		return 1;
	}
	int64_t cron = ex_now_ms() + KV_CRON_MS;
	for (;;) {
		size_t n = 0;
		pfd[n].fd = lfd;
		pfd[n++].events = POLLIN;
		if (quit_fd >= 0) {
			pfd[n].fd = quit_fd;
			pfd[n++].events = POLLIN;
		}
		size_t first = n;
		for (i = 0; i < nconns; i++) {
			struct kv_client *c = &conns[i].c;
			if (conns[i].fd < 0)
				continue;
			pfd[n].fd = conns[i].fd;
			pfd[n].revents = 0;
			/* Answers waiting: no more input until they leave. */
			pfd[n].events = c->wsent < c->wlen ? POLLOUT : POLLIN;
			slot[n++] = i;
		}
		int64_t now = ex_now_ms();
		int wait = cron > now ? (int)(cron - now) : 0;
		int r = poll(pfd, (nfds_t)n, wait);
		if (r < 0 && errno != EINTR) {
			dprintf(2, "kv: poll: %s\n", ex_errstr(errno));
			break;
		}
		now = ex_now_ms();
		for (i = first; r > 0 && i < n; i++) {
			struct kv_conn *k = &conns[slot[i]];
			short ev = pfd[i].revents;
			if (ev == 0)
				continue;
			int dead = 0;
			if (ev & POLLOUT) {
				dead = conn_flush(k) != 0;
				/* Drained: run what waited behind it. */
				if (!dead && k->c.wlen == 0 && !k->c.close) {
					kv_process(s, &k->c, now);
					dead = k->c.overflow ||
					    conn_flush(k) != 0;
				}
			} else if (ev & (POLLIN | POLLERR | POLLHUP)) {
				dead = conn_input(s, k, now) != 0;
			} else if (ev & POLLNVAL) {
				dead = 1;
			}
			if (!dead && k->c.close && k->c.wlen == 0)
				dead = 1;
			if (dead)
				conn_close(s, k);
		}
		while (nconns > 0 && conns[nconns - 1].fd < 0)
			nconns--;
		if (r > 0 && (pfd[0].revents & POLLIN))
			conn_accept(s, lfd, conns, &nconns);
		if (quit_fd >= 0 && r > 0 && pfd[1].revents != 0) {
			char b[64];
			if (read(quit_fd, b, sizeof(b)) <= 0)
				break;
		}
		if (now >= cron) {
			(void)kv_expire_cycle(&s->table, now, 4096);
			(void)kv_rehash(&s->table, 1024);
			cron = now + KV_CRON_MS;
		}
	}
	for (i = 0; i < nconns; i++)
		if (conns[i].fd >= 0)
			conn_close(s, &conns[i]);
	free(conns);
	free(pfd);
	free(slot);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct kv_server s;
	long port = 6379, n;
	int quit_fd = -1;
	s.cfg.max_clients = 1024;
	s.cfg.max_output = (size_t)64 << 20;
	s.cfg.lim.max_request = (size_t)8 << 20;
	s.cfg.lim.max_args = 1024 * 1024;
	s.cfg.lim.max_inline = 64 * 1024;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
			usage(1);
			return 0;
		}
		if (strcmp(o, "--until-eof") == 0) {
			quit_fd = 0;
			continue;
		}
		if (strcmp(o, "--port") != 0 && strcmp(o, "--maxmemory") != 0 &&
		    strcmp(o, "--max-clients") != 0 &&
		    strcmp(o, "--max-request") != 0 &&
		    strcmp(o, "--max-output") != 0) {
			dprintf(2, "kv: %s: unknown option (try --help)\n", o);
			return 2;
		}
		if (v == NULL) {
			dprintf(2, "kv: %s: needs a value (try --help)\n", o);
			return 2;
		}
		i++;
		if (strcmp(o, "--port") == 0) {
			if (ex_number(v, 0, 65535, &port) != 0) {
				dprintf(2, "kv: --port %s: not a port "
				    "(0..65535)\n", v);
				return 2;
			}
		} else if (strcmp(o, "--max-clients") == 0) {
			if (ex_number(v, 1, 65536, &n) != 0) {
				dprintf(2, "kv: --max-clients %s: not a number "
				    "in 1..65536\n", v);
				return 2;
			}
			s.cfg.max_clients = (size_t)n;
		} else {
			size_t *dst = strcmp(o, "--maxmemory") == 0 ?
			    &s.cfg.maxmemory : strcmp(o, "--max-request") == 0 ?
			    &s.cfg.lim.max_request : &s.cfg.max_output;
			size_t min = dst == &s.cfg.maxmemory ? 0 : 1024;
			size_t max = dst == &s.cfg.lim.max_request ?
			    (size_t)1 << 30 : (size_t)1 << 50;
			if (parse_size(v, min, max, dst) != 0) {
				dprintf(2, "kv: %s %s: not a size (N with k, "
				    "m or g; %zu..%zu bytes)\n", o, v, min, max);
				return 2;
			}
		}
	}
	s.cfg.lim.max_bulk = s.cfg.lim.max_request;
	s.cfg.port = (int)port;

	uint64_t key[2] = { 0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL };
	/* A secret hash key: clients choose the keys, and a known hash
	 * would let them put every key in one chain. */
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		dprintf(2, "kv: getrandom: %s (the hash key is fixed)\n",
		    ex_errstr(errno));
	kv_init(&s.table, key[0], key[1]);

	int bound, lfd = ex_listen(SOCK_STREAM, (int)port, &bound);
	if (lfd < 0) {
		dprintf(2, "kv: TCP port %ld: %s\n", port, ex_errstr(errno));
		return 1;
	}
	s.cfg.port = bound;
	dprintf(1, "ready %d\n", bound);
	int rv = serve(&s, lfd, quit_fd);
	close(lfd);
	print_counters(&s);
	kv_flush(&s.table);
	return rv;
}
