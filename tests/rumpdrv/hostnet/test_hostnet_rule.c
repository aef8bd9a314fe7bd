/*
 * test_hostnet_rule - hostnet's allow-list entries: what parses, what is
 * refused and where, canonical text round trips, and matching (prefixes,
 * ports, IPv4-mapped addresses).  Built plain and under ASan+UBSan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../rumpdrv/include/krank/krs_hostnet.h"

static int fails;

#define CHECK(c, ...) do { if (!(c)) { fails++; printf("FAIL %s:%d: ", \
	__FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static void
good(const char *s, const char *canon)
{
	struct krs_hostnet_rule r, r2;
	size_t pos = 99;
	const char *why = "x";
	char buf[128];

	int e = krs_hostnet_rule_parse(s, &r, &pos, &why);
	CHECK(e == 0, "\"%s\" refused: %s at %zu", s, why ? why : "?", pos);
	if (e != 0)
		return;
	krs_hostnet_rule_format(&r, buf, sizeof(buf));
	CHECK(strcmp(buf, canon) == 0, "\"%s\" formats as \"%s\", not \"%s\"",
	    s, buf, canon);
	CHECK(krs_hostnet_rule_parse(buf, &r2, NULL, NULL) == 0 &&
	    memcmp(&r, &r2, sizeof(r)) == 0, "\"%s\" does not round-trip", buf);
}

static void
bad(const char *s, size_t at, const char *whysub)
{
	struct krs_hostnet_rule r;
	size_t pos = 999;
	const char *why = NULL;

	int e = krs_hostnet_rule_parse(s, &r, &pos, &why);
	CHECK(e == 22, "\"%s\" accepted", s);
	if (e == 0)
		return;
	CHECK(pos == at, "\"%s\": error at %zu, expected %zu (%s)", s, pos, at,
	    why);
	CHECK(why != NULL && strstr(why, whysub) != NULL,
	    "\"%s\": reason \"%s\" lacks \"%s\"", s, why ? why : "", whysub);
}

static int
match(const char *rule, int fam, const char *addr, unsigned port)
{
	struct krs_hostnet_rule r;
	uint8_t a[16] = { 0 };
	if (krs_hostnet_rule_parse(rule, &r, NULL, NULL) != 0)
		return -1;
	if (fam == 4) {
		unsigned x[4];
		sscanf(addr, "%u.%u.%u.%u", &x[0], &x[1], &x[2], &x[3]);
		for (int i = 0; i < 4; i++)
			a[i] = (uint8_t)x[i];
	} else {
		struct krs_hostnet_rule t;
		char tmp[96];
		snprintf(tmp, sizeof(tmp), "[%s]:1", addr);
		if (krs_hostnet_rule_parse(tmp, &t, NULL, NULL) != 0)
			return -2;
		memcpy(a, t.hr_addr, 16);
	}
	return krs_hostnet_rule_match(&r, fam, a, (uint16_t)port);
}

int
main(void)
{
	good("127.0.0.1:6379", "127.0.0.1:6379");
	good("10.0.0.0/8:5432", "10.0.0.0/8:5432");
	good("0.0.0.0/0:*", "0.0.0.0/0:*");
	good("192.168.1.0/24:1000-2000", "192.168.1.0/24:1000-2000");
	good("1.2.3.4:1-65535", "1.2.3.4:*");
	good("[::1]:*", "[0:0:0:0:0:0:0:1]:*");
	good("[::]:53", "[0:0:0:0:0:0:0:0]:53");
	good("[fd00::/8]:443", "[fd00:0:0:0:0:0:0:0/8]:443");
	good("[2001:db8::1:2]:80", "[2001:db8:0:0:0:0:1:2]:80");
	good("[1:2:3:4:5:6:7:8]:9", "[1:2:3:4:5:6:7:8]:9");
	good("[1::]:9", "[1:0:0:0:0:0:0:0]:9");
	good("[64:ff9b::192.0.2.33]:80", "[64:ff9b:0:0:0:0:c000:221]:80");
	/* IPv4-mapped is stored as IPv4 */
	good("[::ffff:10.1.2.3]:22", "10.1.2.3:22");
	good("[::ffff:10.0.0.0/104]:22", "10.0.0.0/8:22");
	printf("ok: 15 entries parse and round-trip through their canonical text\n");

	bad("", 0, "IPv4 address byte");
	bad("127.0.0.1", 9, "':PORT'");
	bad("127.0.0.1:", 10, "port");
	bad("127.0.0.1:0", 10, "port 1..65535");
	bad("127.0.0.1:65536", 10, "port");
	bad("127.0.0.1:123456", 10, "port");
	bad("127.0.0.1:80x", 12, "end of the entry");
	bad("127.0.0.1:80-79", 13, "LO <= HI");
	bad("127.0.0.1:80-", 13, "after '-'");
	bad("256.0.0.1:1", 0, "0..255");
	bad("1.2.3:1", 5, "IPv4 address");
	bad("01.2.3.4:1", 0, "0..255");
	bad("10.0.0.1/8:1", 0, "below the prefix");
	bad("10.0.0.0/33:1", 9, "0..32");
	bad("10.0.0.0/:1", 9, "0..32");
	bad("[::1:*", 5, "1..4 hex");
	bad("[::1]", 5, "':PORT'");
	bad("[::1]80", 5, "':PORT'");
	bad("[1::2::3]:1", 6, "one '::'");
	bad("[12345::]:1", 1, "1..4 hex");
	bad("[1:2:3:4:5:6:7]:1", 1, "8 IPv6 groups");
	bad("[1:2:3:4:5:6:7:8:9]:1", 17, "at most 8");
	bad("[1::2:3:4:5:6:7:8]:1", 1, "at least one group");
	bad("[::/129]:1", 4, "0..128");
	bad("[fd00::1/8]:1", 0, "below the prefix");
	bad("[1:]:1", 3, "group after");
	bad("[g::]:1", 1, "1..4 hex");
	bad("[::1.2.3]:1", 3, "IPv4 tail");
	bad(" 1.2.3.4:1", 0, "IPv4");
	char longs[300];
	memset(longs, '1', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	bad(longs, 128, "at most 128 bytes");
	printf("ok: 30 malformed entries refused with the offending offset and "
	    "reason\n");

	CHECK(match("10.0.0.0/8:5432", 4, "10.200.3.4", 5432) == 1, "in /8");
	CHECK(match("10.0.0.0/8:5432", 4, "11.0.0.1", 5432) == 0, "outside /8");
	CHECK(match("10.0.0.0/8:5432", 4, "10.0.0.1", 5433) == 0, "other port");
	CHECK(match("10.0.0.0/8:5432", 6, "::1", 5432) == 0, "family");
	CHECK(match("192.168.0.0/23:*", 4, "192.168.1.255", 1) == 1, "/23 in");
	CHECK(match("192.168.0.0/23:*", 4, "192.168.2.0", 1) == 0, "/23 out");
	CHECK(match("0.0.0.0/0:1000-2000", 4, "8.8.8.8", 1000) == 1, "lo");
	CHECK(match("0.0.0.0/0:1000-2000", 4, "8.8.8.8", 2000) == 1, "hi");
	CHECK(match("0.0.0.0/0:1000-2000", 4, "8.8.8.8", 2001) == 0, "hi+1");
	CHECK(match("0.0.0.0/0:1000-2000", 4, "8.8.8.8", 999) == 0, "lo-1");
	CHECK(match("[::1]:*", 6, "::1", 6379) == 1, "::1");
	CHECK(match("[::1]:*", 6, "::2", 6379) == 0, "::2");
	CHECK(match("[fe80::/10]:22", 6, "febf::1", 22) == 1, "/10 in");
	CHECK(match("[fe80::/10]:22", 6, "fec0::1", 22) == 0, "/10 out");
	CHECK(match("[::/0]:*", 6, "2001:db8::1", 7) == 1, "::/0");
	/* an IPv6 rule never admits IPv4 (mapped destinations match as 4) */
	CHECK(match("[::/0]:*", 4, "10.0.0.1", 7) == 0, "::/0 vs IPv4");
	CHECK(match("[::ffff:10.0.0.0/104]:22", 4, "10.9.9.9", 22) == 1,
	    "mapped rule");
	printf("ok: prefixes, port ranges, families and IPv4-mapped rules "
	    "match as documented\n");

	/* random bytes never crash and every accepted entry round-trips */
	unsigned seed = 12345, accepted = 0;
	for (int n = 0; n < 200000; n++) {
		/* a valid entry with 0..2 random edits: most stay near
		 * the grammar, so both branches get exercised */
		static const char *const seeds[] = { "127.0.0.1:6379",
		    "10.0.0.0/8:5432", "[::1]:*", "[fd00::/8]:1000-2000",
		    "[::ffff:10.0.0.0/104]:22", "[1:2:3:4:5:6:7:8]:9",
		    "[64:ff9b::192.0.2.33]:80" };
		static const char al[] = "0123456789abcdefABCDEF.:/[]*-x ";
		char s[48];
		snprintf(s, sizeof(s), "%s", seeds[rand_r(&seed) % 7]);
		int len = (int)strlen(s);
		for (int k = (int)(rand_r(&seed) % 3); k > 0; k--) {
			int at = (int)(rand_r(&seed) % (unsigned)(len + 1));
			char ch = al[rand_r(&seed) % (sizeof(al) - 1)];
			switch (rand_r(&seed) % 3) {
			case 0:	/* replace */
				if (at < len)
					s[at] = ch;
				break;
			case 1:	/* insert */
				if (len < 46) {
					memmove(s + at + 1, s + at,
					    (size_t)(len - at + 1));
					s[at] = ch;
					len++;
				}
				break;
			default:	/* delete */
				if (at < len) {
					memmove(s + at, s + at + 1,
					    (size_t)(len - at));
					len--;
				}
			}
		}
		struct krs_hostnet_rule r, r2;
		size_t pos;
		const char *why;
		if (krs_hostnet_rule_parse(s, &r, &pos, &why) == 0) {
			char buf[128];
			accepted++;
			krs_hostnet_rule_format(&r, buf, sizeof(buf));
			CHECK(krs_hostnet_rule_parse(buf, &r2, NULL, NULL) == 0
			    && memcmp(&r, &r2, sizeof(r)) == 0,
			    "\"%s\" -> \"%s\" does not round-trip", s, buf);
		} else
			CHECK(pos <= (size_t)len && why != NULL,
			    "\"%s\": error offset %zu past the end", s, pos);
	}
	printf("ok: 200000 random strings (%u accepted) parsed without "
	    "fault; offsets in range, accepted ones round-trip\n", accepted);
	if (fails) {
		printf("FAIL: %d checks\n", fails);
		return 1;
	}
	printf("PASS\n");
	return 0;
}
