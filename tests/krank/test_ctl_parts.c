/*
 * test_ctl_parts - the pieces under krankctl, each on its own: the frame
 * tap (krs_if_capture: both directions, exact bytes, one tap per
 * interface, no call after stop returns), krs_mounts, the log ring
 * (newest whole lines kept, one line per message), the request parser's
 * limits, duration parsing and JSON string escaping.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>
#include "net/krs_net.h"

#include "krk.h"
#include "krk_ctl_int.h"
#include "krk_ctl_proto.h"
#include "rdtest.h"
#include "rdtest_net.h"

struct tap_seen {
	unsigned in, out, after_stop;
	int stopped;
	size_t last_len;
	unsigned char last[2048];
	int found_payload;
};

static void
tap(void *arg, int dir, const struct krs_iovec *iov, unsigned niov,
    size_t len)
{
	struct tap_seen *t = arg;
	if (__atomic_load_n(&t->stopped, __ATOMIC_ACQUIRE))
		__atomic_add_fetch(&t->after_stop, 1, __ATOMIC_RELAXED);
	if (dir == KRS_TAP_IN)
		__atomic_add_fetch(&t->in, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&t->out, 1, __ATOMIC_RELAXED);
	size_t off = 0, total = 0;
	unsigned char f[2048];
	for (unsigned i = 0; i < niov; i++) {
		total += iov[i].iov_len;
		size_t n = iov[i].iov_len;
		if (off + n > sizeof(f))
			n = sizeof(f) - off;
		memcpy(f + off, iov[i].iov_base, n);
		off += n;
	}
	if (total != len)
		abort();	/* the tap's length must be the frame's */
	if (off >= 14 + 20 + 8 + 9 && memmem(f, off, "tap-probe", 9) != NULL)
		__atomic_store_n(&t->found_payload, 1, __ATOMIC_RELAXED);
}

static void
test_tap(void)
{
	char name[32], buf[64];
	CHECK(krs_if_virt_attach("wire:tapw,mac=02:00:00:00:0d:01", name,
	    sizeof(name)) == 0, "attach A");
	CHECK(krs_if_setaddr(name, "10.1.0.1/24") == 0 && krs_if_up(name, 1) == 0,
	    "A up");
	int b = krs_net_stack_create("b");
	CHECK(b > 0, "stack b");
	krs_net_stack_select(b);
	CHECK(krs_if_virt_attach("wire:tapw,mac=02:00:00:00:0d:02", name,
	    sizeof(name)) == 0, "attach B");
	CHECK(krs_if_setaddr(name, "10.1.0.2/24") == 0 && krs_if_up(name, 1) == 0,
	    "B up");
	int sb = krs_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ab = rd_sin4("10.1.0.2", 9000);
	CHECK(sb >= 0 && krs_bind(sb, &ab, sizeof(ab)) == 0, "B socket");
	krs_net_stack_select(0);

	static struct tap_seen t;
	CHECK_ERR(krs_if_capture("nosuch0", tap, &t), ENXIO);
	CHECK_ERR(krs_if_capture("lo0", tap, &t), ENXIO);
	CHECK_ERR(krs_if_capture("virt0", NULL, &t), EINVAL);
	CHECK(krs_if_capture("virt0", tap, &t) == 0, "tap on virt0");
	CHECK_ERR(krs_if_capture("virt0", tap, &t), EBUSY);
	PASS("krs_if_capture: ENXIO for unknown and non-virtif, EBUSY for a second tap");

	int sa = krs_socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(sa >= 0, "A socket");
	for (int i = 0; i < 5; i++)
		CHECK(krs_sendto(sa, "tap-probe", 9, 0, &ab, sizeof(ab)) == 9, "send");
	krs_net_stack_select(b);
	for (int i = 0; i < 5; i++)
		CHECK(krs_recv(sb, buf, sizeof(buf), 0) == 9, "B got probe %d", i);
	struct sockaddr_in aa = rd_sin4("10.1.0.1", 9001);
	CHECK(krs_sendto(sb, "back", 4, 0, &aa, sizeof(aa)) == 4, "B sends back");
	krs_net_stack_select(0);
	/* The ARP request went out, its reply and B's datagram came in. */
	uint64_t deadline = (uint64_t)time(NULL) + 5;
	while (__atomic_load_n(&t.in, __ATOMIC_RELAXED) < 2 &&
	    (uint64_t)time(NULL) < deadline)
		;
	CHECK(t.out >= 6 && t.in >= 2, "tap saw %u out, %u in", t.out, t.in);
	CHECK(t.found_payload, "the probe's bytes were in a tapped frame");
	PASS("the tap sees sent and received frames with their bytes and lengths");

	CHECK(krs_if_capture_stop("virt0") == 0, "stop");
	__atomic_store_n(&t.stopped, 1, __ATOMIC_RELEASE);
	unsigned before = t.out;
	CHECK(krs_sendto(sa, "tap-probe", 9, 0, &ab, sizeof(ab)) == 9, "send");
	CHECK(t.after_stop == 0 && t.out == before, "no tap call after stop");
	CHECK(krs_if_capture("virt0", tap, &t) == 0 &&
	    krs_if_capture_stop("virt0") == 0, "tap again after stop");
	PASS("after krs_if_capture_stop returns, the tap is never called");
	krs_close(sa);
	krs_close(sb);
}

static void
test_mounts(void)
{
	struct krs_mntent e[4];
	CHECK(krs_mounts(NULL, 0) == 0, "no mounts yet");
	CHECK(krs_mount("tmpfs", "/", "tmpfs", 0, "size=1m", 7) == 0, "mount /");
	CHECK(krs_mkdir("/ro", 0755) == 0, "mkdir");
	CHECK(krs_mount("second", "/ro", "tmpfs", KRS_MNT_RDONLY, NULL, 0) == 0,
	    "mount /ro");
	CHECK(krs_mounts(NULL, 0) == 2, "two mounts counted");
	CHECK(krs_mounts(e, 1) == 2, "count beyond the array");
	CHECK(strcmp(e[0].mnt_on, "/ro") == 0, "newest first");
	CHECK(krs_mounts(e, 4) == 2, "both");
	CHECK(strcmp(e[0].mnt_from, "second") == 0 && e[0].mnt_flag ==
	    KRS_MNT_RDONLY && strcmp(e[0].mnt_fstype, "tmpfs") == 0, "/ro entry");
	CHECK(strcmp(e[1].mnt_on, "/") == 0 && e[1].mnt_flag == 0, "/ entry");
	struct krs_statvfs sv;
	CHECK(krs_statvfs("/ro", &sv) == 0 && sv.f_fsid == e[0].mnt_id,
	    "ids match krs_statvfs");
	CHECK_ERR(krs_mounts(NULL, 3), EFAULT);
	PASS("krs_mounts: newest first, flags, type, source, ids; counts past n");
}

static void
test_log(void)
{
	CHECK(krk_log_init(1024, -1) == 0, "log init (quiet)");
	for (int i = 0; i < 200; i++)
		krk_log(KRK_LOG_INFO, "line %03d of the ring test", i);
	krk_log(KRK_LOG_WARN, "two\nlines");
	size_t len;
	char *t = krk_log_read(&len);
	CHECK(t != NULL && strlen(t) == len && len <= 1024, "read %zu", len);
	CHECK(strstr(t, "line 199 of the ring test\n") != NULL, "newest kept");
	CHECK(strstr(t, "line 000") == NULL, "oldest gone");
	CHECK(t[0] == '2' && strncmp(t, "20", 2) == 0, "starts at a whole "
	    "timestamped line: %.40s", t);
	CHECK(strstr(t, "warn two lines\n") != NULL, "newlines folded");
	free(t);
	PASS("log ring: keeps the newest whole lines, timestamped, one per message");
}

static void
test_parser(void)
{
	const char *argv[KRK_CTL_MAX_ARGS];
	int argc;
	size_t used;
	CHECK(krk_ctl_req_parse("ps\0--json\0", 12, argv, KRK_CTL_MAX_ARGS,
	    &argc, &used) == 0 && argc == 2 && used == 11 &&
	    strcmp(argv[1], "--json") == 0, "ps --json");
	CHECK(krk_ctl_req_parse("ps\0--js", 7, argv, KRK_CTL_MAX_ARGS, &argc,
	    &used) == EAGAIN, "incomplete");
	static char big[KRK_CTL_MAX_REQ];
	memset(big, 'x', sizeof(big));
	CHECK(krk_ctl_req_parse(big, sizeof(big), argv, KRK_CTL_MAX_ARGS, &argc,
	    &used) == EMSGSIZE, "too long");
	static char many[200];
	for (int i = 0; i < 65; i++)
		memcpy(many + 2 * i, "a", 2);
	CHECK(krk_ctl_req_parse(many, 131, argv, KRK_CTL_MAX_ARGS, &argc,
	    &used) == E2BIG, "65 strings");
	CHECK(krk_ctl_req_parse(many + 2, 129, argv, KRK_CTL_MAX_ARGS, &argc,
	    &used) == 0 && argc == 64, "64 strings");
	PASS("request parser: whole, incomplete, too long, too many");

	uint64_t ns;
	CHECK(krk_ctl_parse_duration("250ms", &ns) == 0 && ns == 250000000u, "ms");
	CHECK(krk_ctl_parse_duration("1.5", &ns) == 0 && ns == 1500000000u, "s");
	CHECK(krk_ctl_parse_duration("2m", &ns) == 0 && ns == 120000000000u, "m");
	CHECK(krk_ctl_parse_duration("5x", &ns) == EINVAL, "unit");
	CHECK(krk_ctl_parse_duration("-1", &ns) == EINVAL, "negative");
	CHECK(krk_ctl_parse_duration("1e30", &ns) == ERANGE, "huge");
	PASS("durations: units, fractions, refusals");

	struct sbuf s = SBUF_INIT;
	sb_json_str(&s, "a\"b\\c\n\x01\x7f\xc3\xa9");
	CHECK(strcmp(s.b, "\"a\\\"b\\\\c\\n\\u0001\\u007f\xc3\xa9\"") == 0,
	    "json: %s", s.b);
	sb_free(&s);
	sb_prom_label(&s, "x\"y\\z\n");
	CHECK(strcmp(s.b, "\"x\\\"y\\\\z\\n\"") == 0, "prom: %s", s.b);
	sb_free(&s);
	PASS("JSON and Prometheus label escaping");
}

/* One request through krk_ctl_serve over a socketpair; the answer. */
static char *
serve(const char *req, size_t len)
{
	static char ans[8192];
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	CHECK(write(sv[0], req, len) == (ssize_t)len, "write request");
	krk_ctl_serve(sv[1]);
	close(sv[1]);
	ssize_t n, got = 0;
	while ((n = read(sv[0], ans + got, sizeof(ans) - 1 - (size_t)got)) > 0)
		got += n;
	ans[got] = '\0';
	close(sv[0]);
	return ans;
}

static void
test_unbooted(void)
{
	char *a = serve("ifconfig\0\0", 10);
	CHECK(strncmp(a, "error: network: no stack to show", 32) == 0, "%s", a);
	a = serve("mounts\0--json\0\0", 15);
	CHECK(strstr(a, "error: mounts: cannot read the mount table: no file "
	    "systems booted\n") == a, "%s", a);
	a = serve("ps\0\0", 4);
	CHECK(strncmp(a, "ok\nID ", 6) == 0, "%s", a);
	a = serve("metrics\0\0", 9);
	CHECK(strncmp(a, "ok\n# HELP krank_info", 20) == 0 &&
	    strstr(a, "# HELP krank_isolate_cpu_seconds_total") != NULL &&
	    strstr(a, "krank_tcp_") == NULL, "%.80s", a);
	PASS("before the stack and the vfs are booted: clear errors, ps and "
	    "metrics still answer");
}

int
main(void)
{
	char err[256];
	test_parser();
	test_log();
	test_unbooted();
	CHECK(krs_boot("vfs,tmpfs,net,ether,virtif,socket,inet", err,
	    sizeof(err)) == 0, "boot: %s", err);
	test_mounts();
	test_tap();
	printf("%d checks passed\n", rd_checks);
	return 0;
}
