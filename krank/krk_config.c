/*
 * krk_config.c - the deployment file (krank-deployment(5)): parsed with
 * libyaml into a document, then walked against a fixed schema into
 * struct krk_config.  All errors are collected (up to a cap), each one line
 * "FILE:LINE:COL: KEY: expected WHAT, found WHAT".  The syntax of single
 * values is in krk_config_value.c, printing in krk_config_print.c.
 *
 * Schema (every key optional unless marked required; unknown keys are
 * errors):
 *   name: STR                 deployment name; default the file stem
 *   cores: [INT...] | "0-3,6" required; core ids 0..255, distinct
 *   realtime: {sched_fifo: BOOL=no, priority: 1..99=10}
 *   memory: {size: SIZE=256M, hugepages: yes|no|auto=auto, mlock: BOOL=yes,
 *            isolate_pool: SIZE=2M (0 or 64K..1G, at most size)}
 *   components: [NAME...]     required, non-empty; names [a-z][a-z0-9_]*
 *   interfaces: [{name=device, backend (required: tap|afpacket|wire|dpdk),
 *                 device (required), mac, address (required, A.B.C.D/N),
 *                 host_address (tap only), gateway, mtu: 68..65535=1500}]
 *   disks: [{path (required), fs: ext2=ext2, mount (required),
 *            readonly: BOOL=no}]
 *   tmpfs: [{mount (required), size: SIZE=64M}]
 *   hostfs: [{path (required, a host directory), mount (required),
 *             readonly: BOOL=no, cross_mounts: BOOL=no}]
 *   isolates: [{name=ELF stem, elf (required), argv=[name], env, cwd=/,
 *               root=/, core (one of cores), heap: SIZE=64M, fds=1024,
 *               uid=0, gid=0, restart: never|on-failure|always=never,
 *               backoff: DURATION=100ms, backoff_max: DURATION=10s,
 *               lax: BOOL=no, hardened: BOOL=no}]
 *   control: {socket=/run/krank/NAME.sock, group}
 *   attach: {socket=control socket with .attach for .sock, users:
 *            [NAME|UID...], fds: 3..65536=1024, rings: 0..64=0, max:
 *            1..4096=64, preload: PATH}
 *   log: {size: SIZE=1M}
 *   queues: {spin: DURATION=50us (0..10ms), slots: 16..4096=256 (a power
 *            of two), area: SIZE=4M (64K..1G), rings: 0..64=0 (0: one per
 *            CPU)}
 *   hostnet: {allow: ["A.B.C.D[/N]:PORT|LO-HI|*", "[V6[/N]]:PORT"...],
 *             max: 1..4096=256}   needs component hostnet
 * Relative host paths (disks[].path, isolates[].elf, the sockets) are
 * resolved against the directory of the deployment file.
 *
 * Input bounds: the file is at most KRK_CFG_MAX_BYTES; a first pass over
 * libyaml's events rejects aliases (no billion laughs), more than one
 * document, nesting deeper than KRK_CFG_MAX_DEPTH and more than
 * KRK_CFG_MAX_NODES nodes before any document is built, so neither
 * libyaml's loader nor this walk (fixed depth, no recursion) can be driven
 * far by the input.  Lists and strings have their own caps below.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "krk_config.h"
#include "krk_config_int.h"
#include "../rumpdrv/include/krank/krs_hostnet.h"

#define KRK_CFG_MAX_BYTES	(1u << 20)	/* the whole file */
#define KRK_CFG_MAX_DEPTH	16		/* schema needs 4 */
#define KRK_CFG_MAX_NODES	20000
#define KRK_CFG_MAX_ERRORS	32		/* then "... more errors" */
#define KRK_CFG_STR_MAX		4096		/* any one string */
#define KRK_CFG_MAX_IFACES	16
#define KRK_CFG_MAX_DISKS	16
#define KRK_CFG_MAX_TMPFS	16
#define KRK_CFG_MAX_HOSTFS	16
#define KRK_CFG_MAX_ISOLATES	64
#define KRK_CFG_MAX_COMPONENTS	64
#define KRK_CFG_MAX_ARGS	256		/* argv and env entries each */
#define KRK_CFG_MAX_USERS	64
#define KRK_CFG_MAX_HOSTNET	256		/* hostnet.allow entries */
#define KRK_CFG_SUN_PATH_MAX	107		/* sockaddr_un.sun_path - NUL */
#define KRK_IFNAME_MAX		15		/* Linux IFNAMSIZ - 1 */

#define KRK_DEF_MEM		(256ull << 20)
#define KRK_DEF_ISOLATE_POOL	(2ull << 20)
#define KRK_DEF_TMPFS		(64ull << 20)
#define KRK_DEF_HEAP		(64ull << 20)
#define KRK_DEF_LOG		(1ull << 20)
#define KRK_DEF_BACKOFF		(100ull * 1000000)
#define KRK_DEF_BACKOFF_MAX	(10ull * 1000000000)

/* Parser state: one per krk_config_parse call. */
struct cfgp {
	const char *file;		/* for messages */
	yaml_document_t doc;
	struct krk_config *cfg;
	char *err;			/* caller's buffer */
	size_t errlen, errused;
	unsigned nerr;
	bool nomem;
	/* Errors are kept until the end and written in file order, so a
	 * reader sees them top to bottom whatever order the walk took. */
	struct cfg_msg {
		unsigned line, col, seq;
		char text[496];
	} msgs[KRK_CFG_MAX_ERRORS];
};

typedef char kpath_t[160];		/* "isolates[12].backoff_max" */

/* ---- messages ------------------------------------------------------- */

static void
cfg_append(struct cfgp *p, const char *s)
{
	size_t n = strlen(s);

	if (p->err == NULL || p->errlen == 0 || p->errused + 1 >= p->errlen)
		return;
	if (n > p->errlen - 1 - p->errused)
		n = p->errlen - 1 - p->errused;
	memcpy(p->err + p->errused, s, n);
	p->errused += n;
	p->err[p->errused] = '\0';
}

static void __attribute__((format(printf, 5, 6)))
cfg_error_at(struct cfgp *p, unsigned line, unsigned col, const char *key,
    const char *fmt, ...)
{
	struct cfg_msg *m;
	int n;
	va_list ap;

	if (p->nerr++ >= KRK_CFG_MAX_ERRORS)
		return;
	m = &p->msgs[p->nerr - 1];
	m->line = line;
	m->col = col;
	m->seq = p->nerr;
	n = snprintf(m->text, sizeof(m->text), "%s:%u:%u: %s: ", p->file,
	    line, col, key);
	if (n < 0 || (size_t)n >= sizeof(m->text))
		n = (int)sizeof(m->text) - 1;
	va_start(ap, fmt);
	vsnprintf(m->text + n, sizeof(m->text) - (size_t)n, fmt, ap);
	va_end(ap);
}

static int
cfg_msg_cmp(const void *a, const void *b)
{
	const struct cfg_msg *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Write the kept errors, in file order, into the caller's buffer. */
static void
cfg_flush_errors(struct cfgp *p)
{
	unsigned i, n = p->nerr < KRK_CFG_MAX_ERRORS ? p->nerr :
	    KRK_CFG_MAX_ERRORS;
	char more[64];

	qsort(p->msgs, n, sizeof(p->msgs[0]), cfg_msg_cmp);
	for (i = 0; i < n; i++) {
		cfg_append(p, p->msgs[i].text);
		cfg_append(p, "\n");
	}
	if (p->nerr > n) {
		snprintf(more, sizeof(more), "... and %u more errors\n",
		    p->nerr - n);
		cfg_append(p, more);
	}
}

#define cfg_error(p, node, key, ...)					\
	cfg_error_at((p), (unsigned)(node)->start_mark.line + 1,	\
	    (unsigned)(node)->start_mark.column + 1, (key), __VA_ARGS__)

static bool
node_is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return (v[0] == '\0' || strcmp(v, "~") == 0 ||
	    strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	    strcmp(v, "NULL") == 0);
}

/* The text of a non-null scalar without NUL bytes, else NULL: what a
 * keyword (yes, tap, on-failure) may be compared with. */
static const char *
node_word(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || node_is_null(n) ||
	    strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* What was found, for "found WHAT": a short, printable rendering. */
static const char *
node_what(const yaml_node_t *n, char *buf, size_t len)
{
	size_t i, o = 0, vl;
	const unsigned char *v;

	switch (n->type) {
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SCALAR_NODE:
		break;
	default:
		return "nothing";
	}
	if (node_is_null(n))
		return "nothing";
	v = n->data.scalar.value;
	vl = n->data.scalar.length;
	buf[o++] = '"';
	for (i = 0; i < vl && o + 8 < len; i++) {
		if (i >= 40) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (v[i] == '"' || v[i] == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)v[i];
		} else if (v[i] >= 0x20 && v[i] < 0x7f)
			buf[o++] = (char)v[i];
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", v[i]);
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

#define WHAT(n)	node_what((n), (char[64]){0}, 64)

/* Key paths are bounded by the schema's depth; a longer one (a huge
 * unknown key) is cut, which only shortens the message. */
static void
path_key(kpath_t out, const char *prefix, const char *key)
{
	int n;

	if (prefix[0] == '\0')
		n = snprintf(out, sizeof(kpath_t), "%.100s", key);
	else
		n = snprintf(out, sizeof(kpath_t), "%s.%.100s", prefix, key);
	if (n < 0)
		out[0] = '\0';
}

static void
path_idx(kpath_t out, const char *prefix, size_t i)
{
	if (snprintf(out, sizeof(kpath_t), "%s[%zu]", prefix, i) < 0)
		out[0] = '\0';
}

static void *
cfg_calloc(struct cfgp *p, size_t n, size_t sz)
{
	void *v = calloc(n ? n : 1, sz);

	if (v == NULL)
		p->nomem = true;
	return v;
}

static char *
cfg_strdup(struct cfgp *p, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		p->nomem = true;
	return d;
}

/* ---- the generic walk ----------------------------------------------- */

static yaml_node_t *
node_at(struct cfgp *p, int idx)
{
	return yaml_document_get_node(&p->doc, idx);
}

/*
 * map_keys - node must be a mapping whose keys are all in valid[]
 * (NULL-terminated), each at most once; vals[i] gets the value of
 * valid[i] (NULL when absent).  False when node is not a mapping.
 */
static bool
map_keys(struct cfgp *p, yaml_node_t *node, const char *path,
    const char *const valid[], yaml_node_t *vals[], yaml_node_t *keys[])
{
	yaml_node_pair_t *pr;
	char list[256];
	size_t i, nvalid, o;
	kpath_t kp;

	for (nvalid = 0; valid[nvalid] != NULL; nvalid++) {
		vals[nvalid] = NULL;
		if (keys != NULL)
			keys[nvalid] = NULL;
	}
	if (node->type != YAML_MAPPING_NODE) {
		cfg_error(p, node, path[0] ? path : "(top)",
		    "expected a mapping, found %s", WHAT(node));
		return false;
	}
	o = 0;
	list[0] = '\0';
	for (i = 0; i < nvalid && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
		    i ? ", " : "", valid[i]);
	for (pr = node->data.mapping.pairs.start;
	    pr < node->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node_at(p, pr->key), *v = node_at(p, pr->value);
		const char *ks;

		if (k == NULL || v == NULL)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			cfg_error(p, k, path[0] ? path : "(top)",
			    "expected a key (one of %s), found %s", list,
			    WHAT(k));
			continue;
		}
		ks = (const char *)k->data.scalar.value;
		for (i = 0; i < nvalid; i++)
			if (k->data.scalar.length == strlen(valid[i]) &&
			    memcmp(ks, valid[i], k->data.scalar.length) == 0)
				break;
		if (i == nvalid) {
			path_key(kp, path, ks);
			cfg_error(p, k, kp, "expected a key of %s (one of %s), "
			    "found unknown key %s", path[0] ? path :
			    "the deployment", list, WHAT(k));
			continue;
		}
		if (vals[i] != NULL) {
			path_key(kp, path, ks);
			cfg_error(p, k, kp, "expected each key once, found it "
			    "again (first at line %u)",
			    (unsigned)keys[i]->start_mark.line + 1);
			continue;
		}
		vals[i] = v;
		keys[i] = k;
	}
	return true;
}

/* A scalar that is not null: a string of at most max bytes, no NULs. */
static const char *
get_scalar(struct cfgp *p, yaml_node_t *n, const char *path,
    const char *expect, size_t max)
{
	if (n->type != YAML_SCALAR_NODE || node_is_null(n)) {
		cfg_error(p, n, path, "expected %s, found %s", expect,
		    WHAT(n));
		return NULL;
	}
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		cfg_error(p, n, path, "expected %s, found a string with a NUL "
		    "byte", expect);
		return NULL;
	}
	if (n->data.scalar.length > max || n->data.scalar.length == 0) {
		cfg_error(p, n, path, "expected %s of 1 to %zu bytes, found "
		    "%zu bytes", expect, max, n->data.scalar.length);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static int
get_str(struct cfgp *p, yaml_node_t *n, const char *path, char **out)
{
	const char *s = get_scalar(p, n, path, "a string", KRK_CFG_STR_MAX);

	if (s == NULL)
		return EINVAL;
	free(*out);
	*out = cfg_strdup(p, s);
	return *out ? 0 : ENOMEM;
}

static bool
bool_word(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", NULL };
	static const char *const no[] = { "no", "false", "off", NULL };
	size_t i;

	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

static int
get_bool(struct cfgp *p, yaml_node_t *n, const char *path, bool *out)
{
	const char *s = node_word(n);

	if (s != NULL && bool_word(s, out))
		return 0;
	cfg_error(p, n, path, "expected yes or no, found %s", WHAT(n));
	return EINVAL;
}

static int
get_uint(struct cfgp *p, yaml_node_t *n, const char *path, uint64_t min,
    uint64_t max, uint64_t *out)
{
	char exp[96];
	const char *s;
	uint64_t v;
	int e;

	snprintf(exp, sizeof(exp), "an integer %" PRIu64 "..%" PRIu64, min,
	    max);
	if ((s = get_scalar(p, n, path, exp, 32)) == NULL)
		return EINVAL;
	e = krk_cfg_parse_u64(s, &v);
	if (e == 0 && (v < min || v > max))
		e = ERANGE;
	if (e != 0) {
		cfg_error(p, n, path, "expected %s, found %s", exp, WHAT(n));
		return e;
	}
	*out = v;
	return 0;
}

/* A scalar that parse turns into a number within [min, max]; exp says
 * what was expected, in the message. */
static int
get_ranged(struct cfgp *p, yaml_node_t *n, const char *path, const char *exp,
    int (*parse)(const char *, uint64_t *), uint64_t min, uint64_t max,
    uint64_t *out)
{
	const char *s;
	uint64_t v;
	int e;

	if ((s = get_scalar(p, n, path, exp, 32)) == NULL)
		return EINVAL;
	e = parse(s, &v);
	if (e == 0 && (v < min || v > max))
		e = ERANGE;
	if (e != 0) {
		cfg_error(p, n, path, "expected %s, found %s", exp, WHAT(n));
		return e;
	}
	*out = v;
	return 0;
}

static int
get_size(struct cfgp *p, yaml_node_t *n, const char *path, uint64_t min,
    uint64_t max, uint64_t *out)
{
	char exp[128], a[24], b[24];

	krk_cfg_fmt_size(min, a, sizeof(a));
	krk_cfg_fmt_size(max, b, sizeof(b));
	snprintf(exp, sizeof(exp), "a size %s..%s (bytes or K, M, G, T)", a, b);
	return get_ranged(p, n, path, exp, krk_parse_size, min, max, out);
}

static int
get_duration(struct cfgp *p, yaml_node_t *n, const char *path,
    uint64_t min, uint64_t max, uint64_t *out)
{
	return get_ranged(p, n, path, "a duration 1ms..1h (ns, us, ms, s, m, h)",
	    krk_parse_duration, min, max, out);
}

/* One of words[] (NULL-terminated); returns its index or -1. */
static int
get_enum(struct cfgp *p, yaml_node_t *n, const char *path,
    const char *const words[])
{
	char list[128];
	size_t i, o = 0;
	const char *s = node_word(n);

	for (i = 0; s != NULL && words[i] != NULL; i++)
		if (strcmp(s, words[i]) == 0)
			return (int)i;
	list[0] = '\0';
	for (i = 0; words[i] != NULL && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
		    i == 0 ? "" : words[i + 1] == NULL ? " or " : ", ",
		    words[i]);
	cfg_error(p, n, path, "expected %s, found %s", list, WHAT(n));
	return -1;
}

/* A list node of 1..max entries; false (reported) otherwise. */
static bool
get_list(struct cfgp *p, yaml_node_t *n, const char *path, size_t max,
    size_t *count)
{
	size_t c;

	if (n->type != YAML_SEQUENCE_NODE) {
		cfg_error(p, n, path, "expected a list, found %s", WHAT(n));
		return false;
	}
	c = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (c == 0 || c > max) {
		if (c == 0)
			cfg_error(p, n, path, "expected a list of 1 to %zu "
			    "entries, found an empty list", max);
		else
			cfg_error(p, n, path, "expected a list of 1 to %zu "
			    "entries, found %zu", max, c);
		return false;
	}
	*count = c;
	return true;
}

static yaml_node_t *
list_item(struct cfgp *p, yaml_node_t *n, size_t i)
{
	return node_at(p, n->data.sequence.items.start[i]);
}

/* A list of strings into a NULL-terminated, malloc'd array. */
static int
get_str_list(struct cfgp *p, yaml_node_t *n, const char *path, size_t max,
    char ***outv, size_t *outc)
{
	char **v;
	size_t c, i;
	kpath_t ip;
	int e = 0;

	if (!get_list(p, n, path, max, &c))
		return EINVAL;
	if ((v = cfg_calloc(p, c + 1, sizeof(*v))) == NULL)
		return ENOMEM;
	for (i = 0; i < c; i++) {
		yaml_node_t *it = list_item(p, n, i);

		path_idx(ip, path, i);
		if (it == NULL || get_str(p, it, ip, &v[i]) != 0)
			e = EINVAL;
	}
	*outv = v;
	*outc = c;
	return e;
}

static void
loc_of(const yaml_node_t *n, struct krk_loc *loc)
{
	loc->line = (unsigned)n->start_mark.line + 1;
	loc->col = (unsigned)n->start_mark.column + 1;
}

/*
 * The base of relative host paths: the file's directory, absolute (its
 * real path when it exists, else joined to the current directory, as for
 * an in-memory buffer named for a file that is not there).
 */
static char *
dir_of(const char *file)
{
	const char *sl = strrchr(file, '/');
	char *d, *r, cwd[PATH_MAX];

	if (sl == NULL)
		d = strdup(".");
	else if (sl == file)
		d = strdup("/");
	else
		d = strndup(file, (size_t)(sl - file));
	if (d == NULL)
		return NULL;
	if ((r = realpath(d, NULL)) != NULL) {
		free(d);
		return r;
	}
	if (d[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return d;
	if (asprintf(&r, "%s/%s", cwd, d) < 0)
		r = NULL;
	free(d);
	return r;
}

/*
 * Relative host path -> DIR/path; absolute stays.  Leading "./" and "../"
 * are taken off against DIR, which is a real path, so that is exact:
 * "../httpd/httpd.kx" next to /x/deployments is /x/httpd/httpd.kx.
 */
static int
resolve_path(struct cfgp *p, char **pathp)
{
	const char *rel = *pathp;
	size_t dl = strlen(p->cfg->dir);
	char *r;

	if (rel[0] == '/')
		return 0;
	for (;;) {
		if (rel[0] == '.' && rel[1] == '/')
			rel += 2;
		else if (rel[0] == '.' && rel[1] == '.' && rel[2] == '/') {
			rel += 3;
			while (dl > 1 && p->cfg->dir[dl - 1] != '/')
				dl--;
			if (dl > 1)
				dl--;		/* the slash, unless root */
		} else
			break;
	}
	if (asprintf(&r, "%.*s%s%s", (int)dl, p->cfg->dir,
	    p->cfg->dir[dl - 1] == '/' ? "" : "/", rel) < 0) {
		p->nomem = true;
		return ENOMEM;
	}
	free(*pathp);
	*pathp = r;
	return 0;
}

/* ---- sections -------------------------------------------------------- */

static void
parse_cores(struct cfgp *p, yaml_node_t *n)
{
	struct krk_config *c = p->cfg;
	kpath_t ip;
	size_t cnt, i, j;

	if (n->type == YAML_SCALAR_NODE) {
		const char *exp = "a core list such as \"0-3,6\" (cores "
		    "0..255, each once)";
		const char *s = get_scalar(p, n, "cores", exp, 1024);

		if (s != NULL && krk_parse_cores(s, c->cores, &c->ncores) != 0)
			cfg_error(p, n, "cores", "expected %s, found %s", exp,
			    WHAT(n));
		return;
	}
	if (!get_list(p, n, "cores", KRK_MAX_CORES, &cnt))
		return;
	for (i = 0; i < cnt; i++) {
		yaml_node_t *it = list_item(p, n, i);
		uint64_t v;

		path_idx(ip, "cores", i);
		if (it == NULL ||
		    get_uint(p, it, ip, 0, KRK_MAX_CORES - 1, &v) != 0)
			continue;
		for (j = 0; j < c->ncores; j++)
			if (c->cores[j] == (int)v)
				break;
		if (j < c->ncores) {
			cfg_error(p, it, ip, "expected each core once, found "
			    "core %d again", (int)v);
			continue;
		}
		c->cores[c->ncores++] = (int)v;
	}
	/* Ascending: the ids are distinct and below KRK_MAX_CORES. */
	{
		bool seen[KRK_MAX_CORES] = { false };
		int id;

		for (j = 0; j < c->ncores; j++)
			seen[c->cores[j]] = true;
		for (id = 0, j = 0; id < KRK_MAX_CORES; id++)
			if (seen[id])
				c->cores[j++] = id;
	}
}

static void
parse_realtime(struct cfgp *p, yaml_node_t *n)
{
	static const char *const keys[] = { "sched_fifo", "priority", NULL };
	yaml_node_t *v[2], *k[2];
	uint64_t u;

	if (!map_keys(p, n, "realtime", keys, v, k))
		return;
	if (v[0])
		get_bool(p, v[0], "realtime.sched_fifo", &p->cfg->sched_fifo);
	if (v[1] && get_uint(p, v[1], "realtime.priority", 1, 99, &u) == 0)
		p->cfg->fifo_priority = (int)u;
}

static void
parse_memory(struct cfgp *p, yaml_node_t *n)
{
	static const char *const keys[] = { "size", "hugepages", "mlock",
	    "isolate_pool", NULL };
	yaml_node_t *v[4], *k[4];

	if (!map_keys(p, n, "memory", keys, v, k))
		return;
	if (v[0])
		get_size(p, v[0], "memory.size", 4ull << 20, 1ull << 40,
		    &p->cfg->mem_size);
	if (v[1] != NULL) {
		/* auto, or yes/no spelt as any YAML boolean. */
		const char *s = node_word(v[1]) ? node_word(v[1]) : "";
		bool b;

		if (strcmp(s, "auto") == 0)
			p->cfg->hugepages = KRK_HUGE_AUTO;
		else if (bool_word(s, &b))
			p->cfg->hugepages = b ? KRK_HUGE_YES : KRK_HUGE_NO;
		else
			cfg_error(p, v[1], "memory.hugepages", "expected yes, "
			    "no or auto, found %s", WHAT(v[1]));
	}
	if (v[2])
		get_bool(p, v[2], "memory.mlock", &p->cfg->mlock);
	/* 0 turns the pool off; otherwise room for a few objects, and
	 * part of the budget. */
	if (v[3] && get_size(p, v[3], "memory.isolate_pool", 0, 1ull << 30,
	    &p->cfg->isolate_pool) == 0) {
		char a[24];

		krk_cfg_fmt_size(p->cfg->mem_size, a, sizeof(a));
		if (p->cfg->isolate_pool != 0 &&
		    p->cfg->isolate_pool < (64ull << 10))
			cfg_error(p, v[3], "memory.isolate_pool", "expected 0 "
			    "or at least 64K, found %s", WHAT(v[3]));
		else if (p->cfg->isolate_pool > p->cfg->mem_size)
			cfg_error(p, v[3], "memory.isolate_pool", "expected at "
			    "most memory.size (%s), found %s", a, WHAT(v[3]));
	}
}

static bool
component_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= KRK_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_'))
			return false;
	return true;
}

static void
parse_components(struct cfgp *p, yaml_node_t *key, yaml_node_t *n)
{
	struct krk_config *c = p->cfg;
	size_t cnt, i, j;
	kpath_t ip;

	loc_of(key, &c->components_loc);
	if (get_str_list(p, n, "components", KRK_CFG_MAX_COMPONENTS,
	    &c->components, &c->ncomponents) == ENOMEM)
		return;
	if (c->components == NULL)
		return;
	cnt = c->ncomponents;
	if ((c->component_locs = cfg_calloc(p, cnt, sizeof(struct krk_loc)))
	    == NULL)
		return;
	for (i = 0; i < cnt; i++) {
		yaml_node_t *it = list_item(p, n, i);

		loc_of(it, &c->component_locs[i]);
		if (c->components[i] == NULL)
			continue;
		path_idx(ip, "components", i);
		if (!component_ok(c->components[i])) {
			cfg_error(p, it, ip, "expected a component name "
			    "([a-z][a-z0-9_]*, at most %d bytes), found %s",
			    KRK_NAME_MAX - 1, WHAT(it));
			continue;
		}
		for (j = 0; j < i; j++)
			if (c->components[j] != NULL &&
			    strcmp(c->components[j], c->components[i]) == 0) {
				cfg_error(p, it, ip, "expected each component "
				    "once, found %s again (first at line %u)",
				    WHAT(it), c->component_locs[j].line);
				break;
			}
	}
}

static void
parse_iface(struct cfgp *p, yaml_node_t *n, const char *path,
    struct krk_iface_cfg *f)
{
	static const char *const keys[] = { "name", "backend", "device", "mac",
	    "address", "host_address", "gateway", "mtu", "queues", NULL };
	static const char *const backends[] = { "tap", "afpacket", "wire",
	    "dpdk", NULL };
	enum { K_NAME, K_BACKEND, K_DEVICE, K_MAC, K_ADDR, K_HOST, K_GW,
	    K_MTU, K_QUEUES };
	yaml_node_t *v[9], *k[9];
	kpath_t kp;
	uint32_t addr = 0, a2;
	unsigned plen = 0, pl2;
	const char *s;
	uint64_t u;
	int b;

	f->mtu = 1500;
	loc_of(n, &f->loc);
	if (!map_keys(p, n, path, keys, v, k))
		return;
	if (v[K_BACKEND] == NULL) {
		path_key(kp, path, "backend");
		cfg_error(p, n, kp, "expected a backend (tap, afpacket, wire "
		    "or dpdk), found nothing");
	} else {
		path_key(kp, path, "backend");
		if ((b = get_enum(p, v[K_BACKEND], kp, backends)) >= 0)
			f->backend = (enum krk_backend)b;
	}
	path_key(kp, path, "device");
	if (v[K_DEVICE] == NULL)
		cfg_error(p, n, kp, "expected a device, found nothing");
	else if (get_str(p, v[K_DEVICE], kp, &f->device) == 0 &&
	    (f->backend == KRK_BE_TAP || f->backend == KRK_BE_AFPACKET) &&
	    (strlen(f->device) > KRK_IFNAME_MAX ||
	    strpbrk(f->device, "/: \t") != NULL ||
	    strcmp(f->device, ".") == 0 || strcmp(f->device, "..") == 0))
		cfg_error(p, v[K_DEVICE], kp, "expected a Linux interface "
		    "name (at most %d bytes, no '/', ':' or spaces), found %s",
		    KRK_IFNAME_MAX, WHAT(v[K_DEVICE]));
	path_key(kp, path, "name");
	if (v[K_NAME] != NULL) {
		s = get_scalar(p, v[K_NAME], kp, "an interface name", 256);
		if (s != NULL && !krk_cfg_name_ok(s, KRK_NAME_MAX - 1))
			cfg_error(p, v[K_NAME], kp, "expected an interface "
			    "name ([A-Za-z0-9_.-], at most %d bytes), found %s",
			    KRK_NAME_MAX - 1, WHAT(v[K_NAME]));
		else if (s != NULL)
			snprintf(f->name, sizeof(f->name), "%s", s);
	} else if (f->device != NULL) {
		if (krk_cfg_name_ok(f->device, KRK_NAME_MAX - 1))
			snprintf(f->name, sizeof(f->name), "%s", f->device);
		else
			cfg_error(p, v[K_DEVICE], kp, "expected a name "
			    "([A-Za-z0-9_.-], at most %d bytes) since device "
			    "%s cannot be one, found nothing",
			    KRK_NAME_MAX - 1, WHAT(v[K_DEVICE]));
	}
	if (v[K_MAC] != NULL) {
		path_key(kp, path, "mac");
		s = get_scalar(p, v[K_MAC], kp, "a MAC address", 64);
		if (s != NULL && (!krk_cfg_parse_mac(s, f->mac) || (f->mac[0] & 1)))
			cfg_error(p, v[K_MAC], kp, "expected a unicast MAC "
			    "address such as \"02:00:00:00:00:01\", found %s",
			    WHAT(v[K_MAC]));
		else if (s != NULL)
			f->has_mac = true;
	}
	path_key(kp, path, "address");
	if (v[K_ADDR] == NULL)
		cfg_error(p, n, kp, "expected an address A.B.C.D/N, found "
		    "nothing");
	else if (get_str(p, v[K_ADDR], kp, &f->address) == 0 &&
	    !krk_cfg_parse_cidr(f->address, &addr, &plen)) {
		cfg_error(p, v[K_ADDR], kp, "expected an address A.B.C.D/N "
		    "(N 1..32), found %s", WHAT(v[K_ADDR]));
		plen = 0;
	}
	if (v[K_HOST] != NULL) {
		path_key(kp, path, "host_address");
		if (f->backend != KRK_BE_TAP)
			cfg_error(p, k[K_HOST], kp, "expected no host_address "
			    "(only a tap has a Linux side KRANK configures), "
			    "found one on backend %s", backends[f->backend]);
		else if (get_str(p, v[K_HOST], kp, &f->host_address) == 0 &&
		    !krk_cfg_parse_cidr(f->host_address, &a2, &pl2))
			cfg_error(p, v[K_HOST], kp, "expected an address "
			    "A.B.C.D/N (N 1..32), found %s", WHAT(v[K_HOST]));
		else if (f->host_address != NULL && plen != 0 && a2 == addr)
			cfg_error(p, v[K_HOST], kp, "expected an address other "
			    "than KRANK's own, found %s", WHAT(v[K_HOST]));
	}
	if (v[K_GW] != NULL) {
		const char *e;

		path_key(kp, path, "gateway");
		if (get_str(p, v[K_GW], kp, &f->gateway) != 0)
			;
		else if (!krk_cfg_parse_ipv4(f->gateway, &e, &a2) || *e != '\0')
			cfg_error(p, v[K_GW], kp, "expected an address A.B.C.D, "
			    "found %s", WHAT(v[K_GW]));
		else if (plen != 0 && plen < 32 &&
		    ((a2 ^ addr) >> (32 - plen)) != 0)
			cfg_error(p, v[K_GW], kp, "expected an address inside "
			    "%s, found %s", f->address, WHAT(v[K_GW]));
	}
	if (v[K_MTU] != NULL) {
		path_key(kp, path, "mtu");
		if (get_uint(p, v[K_MTU], kp, 68, 65535, &u) == 0)
			f->mtu = (unsigned)u;
	}
	if (v[K_QUEUES] != NULL) {
		path_key(kp, path, "queues");
		if (f->backend != KRK_BE_DPDK)
			cfg_error(p, k[K_QUEUES], kp, "expected no queues (only "
			    "a dpdk port has several), found some on backend "
			    "%s", backends[f->backend]);
		else if (get_uint(p, v[K_QUEUES], kp, 1, 16, &u) == 0)
			f->queues = (unsigned)u;
	}
}

/* A mount point: absolute, and not mounted twice across disks and tmpfs. */
static void
check_mount(struct cfgp *p, yaml_node_t *n, const char *path,
    char **mountp, size_t *nmounts, const char **mounts,
    unsigned *mlines)
{
	size_t i;

	if (get_str(p, n, path, mountp) != 0)
		return;
	if (!krk_cfg_abspath_ok(*mountp)) {
		cfg_error(p, n, path, "expected an absolute path without "
		    "\".\", \"..\" or \"//\", found %s", WHAT(n));
		return;
	}
	for (i = 0; i < *nmounts; i++)
		if (strcmp(mounts[i], *mountp) == 0) {
			cfg_error(p, n, path, "expected each mount point once, "
			    "found %s again (first at line %u)", WHAT(n),
			    mlines[i]);
			return;
		}
	mounts[*nmounts] = *mountp;
	mlines[(*nmounts)++] = (unsigned)n->start_mark.line + 1;
}

static void
parse_disk(struct cfgp *p, yaml_node_t *n, const char *path,
    struct krk_disk_cfg *d, size_t *nmounts, const char **mounts,
    unsigned *mlines)
{
	static const char *const keys[] = { "path", "fs", "mount", "readonly",
	    NULL };
	static const char *const fss[] = { "ext2", NULL };
	yaml_node_t *v[4], *k[4];
	kpath_t kp;

	loc_of(n, &d->loc);
	if (!map_keys(p, n, path, keys, v, k))
		return;
	path_key(kp, path, "path");
	if (v[0] == NULL)
		cfg_error(p, n, kp, "expected an image file or block device, "
		    "found nothing");
	else if (get_str(p, v[0], kp, &d->path) == 0)
		resolve_path(p, &d->path);
	path_key(kp, path, "fs");
	if (v[1] == NULL || get_enum(p, v[1], kp, fss) == 0)
		d->fs = cfg_strdup(p, "ext2");
	path_key(kp, path, "mount");
	if (v[2] == NULL)
		cfg_error(p, n, kp, "expected a mount point, found nothing");
	else
		check_mount(p, v[2], kp, &d->mount, nmounts, mounts, mlines);
	path_key(kp, path, "readonly");
	if (v[3] != NULL)
		get_bool(p, v[3], kp, &d->readonly);
}

static void
parse_tmpfs(struct cfgp *p, yaml_node_t *n, const char *path,
    struct krk_tmpfs_cfg *t, size_t *nmounts, const char **mounts,
    unsigned *mlines)
{
	static const char *const keys[] = { "mount", "size", NULL };
	yaml_node_t *v[2], *k[2];
	kpath_t kp;

	t->size = KRK_DEF_TMPFS;
	loc_of(n, &t->loc);
	if (!map_keys(p, n, path, keys, v, k))
		return;
	path_key(kp, path, "mount");
	if (v[0] == NULL)
		cfg_error(p, n, kp, "expected a mount point, found nothing");
	else
		check_mount(p, v[0], kp, &t->mount, nmounts, mounts, mlines);
	path_key(kp, path, "size");
	if (v[1] != NULL)
		get_size(p, v[1], kp, 4096, 1ull << 40, &t->size);
}

static void
parse_hostfs(struct cfgp *p, yaml_node_t *n, const char *path,
    struct krk_hostfs_cfg *h, size_t *nmounts, const char **mounts,
    unsigned *mlines)
{
	static const char *const keys[] = { "path", "mount", "readonly",
	    "cross_mounts", NULL };
	yaml_node_t *v[4], *k[4];
	kpath_t kp;
	struct stat st;

	loc_of(n, &h->loc);
	if (!map_keys(p, n, path, keys, v, k))
		return;
	path_key(kp, path, "path");
	if (v[0] == NULL)
		cfg_error(p, n, kp, "expected a host directory, found nothing");
	else if (get_str(p, v[0], kp, &h->path) == 0 &&
	    resolve_path(p, &h->path) == 0) {
		/* Checked again when KRANK mounts it; said here with the
		 * line, since krank check runs on the same host. */
		if (stat(h->path, &st) != 0)
			cfg_error(p, v[0], kp, "expected an existing host "
			    "directory, found %s (%s)", WHAT(v[0]),
			    strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			cfg_error(p, v[0], kp, "expected a host directory, "
			    "found %s, which is not a directory", WHAT(v[0]));
	}
	path_key(kp, path, "mount");
	if (v[1] == NULL)
		cfg_error(p, n, kp, "expected a mount point, found nothing");
	else
		check_mount(p, v[1], kp, &h->mount, nmounts, mounts, mlines);
	path_key(kp, path, "readonly");
	if (v[2] != NULL)
		get_bool(p, v[2], kp, &h->readonly);
	path_key(kp, path, "cross_mounts");
	if (v[3] != NULL)
		get_bool(p, v[3], kp, &h->cross_mounts);
}

/* The ELF's base name without its extension: "../httpd/httpd.kx" -> httpd */
static void
elf_stem(const char *elf, char *out, size_t len)
{
	const char *b = strrchr(elf, '/');
	const char *dot;
	size_t n;

	b = b ? b + 1 : elf;
	dot = strrchr(b, '.');
	n = dot && dot != b ? (size_t)(dot - b) : strlen(b);
	if (n >= len)
		n = len - 1;
	memcpy(out, b, n);
	out[n] = '\0';
}

static void
parse_isolate(struct cfgp *p, yaml_node_t *n, const char *path,
    struct krk_isolate_cfg *is)
{
	static const char *const keys[] = { "name", "elf", "argv", "env",
	    "cwd", "root", "core", "heap", "fds", "uid", "gid", "restart",
	    "backoff", "backoff_max", "lax", "hardened", NULL };
	static const char *const restarts[] = { "never", "on-failure",
	    "always", NULL };
	enum { K_NAME, K_ELF, K_ARGV, K_ENV, K_CWD, K_ROOT, K_CORE, K_HEAP,
	    K_FDS, K_UID, K_GID, K_RESTART, K_BACKOFF, K_BACKOFF_MAX, K_LAX,
	    K_HARDENED, K_N };
	struct krk_config *c = p->cfg;
	yaml_node_t *v[K_N], *k[K_N];
	kpath_t kp, ip;
	const char *s;
	uint64_t u;
	size_t i, j;
	int r;

	is->core = -1;
	is->heap = KRK_DEF_HEAP;
	is->fds = 1024;
	is->backoff_ns = KRK_DEF_BACKOFF;
	is->backoff_max_ns = KRK_DEF_BACKOFF_MAX;
	loc_of(n, &is->loc);
	if (!map_keys(p, n, path, keys, v, k))
		return;
	path_key(kp, path, "elf");
	if (v[K_ELF] == NULL)
		cfg_error(p, n, kp, "expected the isolate's ELF file, found "
		    "nothing");
	else if (get_str(p, v[K_ELF], kp, &is->elf) == 0) {
		if (v[K_NAME] == NULL) {
			elf_stem(is->elf, is->name, sizeof(is->name));
			if (!krk_cfg_name_ok(is->name, KRK_NAME_MAX - 1))
				cfg_error(p, v[K_ELF], kp, "expected a file "
				    "whose stem is a valid isolate name (or a "
				    "name key), found %s", WHAT(v[K_ELF]));
		}
		resolve_path(p, &is->elf);
	}
	if (v[K_NAME] != NULL) {
		path_key(kp, path, "name");
		s = get_scalar(p, v[K_NAME], kp, "an isolate name", 256);
		if (s != NULL && !krk_cfg_name_ok(s, KRK_NAME_MAX - 1))
			cfg_error(p, v[K_NAME], kp, "expected an isolate name "
			    "([A-Za-z0-9_.-], at most %d bytes), found %s",
			    KRK_NAME_MAX - 1, WHAT(v[K_NAME]));
		else if (s != NULL)
			snprintf(is->name, sizeof(is->name), "%s", s);
	}
	if (v[K_ARGV] != NULL) {
		path_key(kp, path, "argv");
		get_str_list(p, v[K_ARGV], kp, KRK_CFG_MAX_ARGS, &is->argv,
		    &is->argc);
	} else if ((is->argv = cfg_calloc(p, 2, sizeof(char *))) != NULL) {
		is->argv[0] = cfg_strdup(p, is->name);
		is->argc = 1;
	}
	if (v[K_ENV] != NULL) {
		path_key(kp, path, "env");
		if (get_str_list(p, v[K_ENV], kp, KRK_CFG_MAX_ARGS, &is->env,
		    &is->envc) == 0) {
			for (i = 0; i < is->envc; i++) {
				const char *eq = strchr(is->env[i], '=');

				path_idx(ip, kp, i);
				if (eq == NULL || eq == is->env[i]) {
					cfg_error(p, list_item(p, v[K_ENV], i),
					    ip, "expected NAME=VALUE, found %s",
					    WHAT(list_item(p, v[K_ENV], i)));
					continue;
				}
				for (j = 0; j < i; j++)
					if (strncmp(is->env[j], is->env[i],
					    (size_t)(eq - is->env[i]) + 1) == 0)
						break;
				if (j < i)
					cfg_error(p, list_item(p, v[K_ENV], i),
					    ip, "expected each variable once, "
					    "found %.*s again",
					    (int)(eq - is->env[i]), is->env[i]);
			}
		}
	}
	if (is->env == NULL && (is->env = cfg_calloc(p, 1, sizeof(char *)))
	    == NULL)
		return;
	path_key(kp, path, "cwd");
	if (v[K_CWD] != NULL) {
		if (get_str(p, v[K_CWD], kp, &is->cwd) == 0 &&
		    !krk_cfg_abspath_ok(is->cwd))
			cfg_error(p, v[K_CWD], kp, "expected an absolute path "
			    "in KRANK's file system, found %s", WHAT(v[K_CWD]));
	} else
		is->cwd = cfg_strdup(p, "/");
	path_key(kp, path, "root");
	if (v[K_ROOT] != NULL) {
		if (get_str(p, v[K_ROOT], kp, &is->root) == 0 &&
		    !krk_cfg_abspath_ok(is->root))
			cfg_error(p, v[K_ROOT], kp, "expected an absolute path "
			    "in KRANK's file system, found %s",
			    WHAT(v[K_ROOT]));
	} else
		is->root = cfg_strdup(p, "/");
	if (v[K_CORE] != NULL) {
		path_key(kp, path, "core");
		if (get_uint(p, v[K_CORE], kp, 0, KRK_MAX_CORES - 1, &u) == 0) {
			for (i = 0; i < c->ncores; i++)
				if (c->cores[i] == (int)u)
					break;
			if (i < c->ncores)
				is->core = (int)u;
			else if (c->ncores > 0) {
				char list[256];
				size_t o = 0;

				for (i = 0; i < c->ncores && o < 200; i++)
					o += (size_t)snprintf(list + o,
					    sizeof(list) - o, "%s%d",
					    i ? ", " : "", c->cores[i]);
				if (i < c->ncores)
					snprintf(list + o, sizeof(list) - o,
					    ", ...");
				cfg_error(p, v[K_CORE], kp, "expected one of "
				    "the deployment's cores (%s), found %s",
				    list, WHAT(v[K_CORE]));
			}
		}
	}
	if (v[K_HEAP] != NULL) {
		path_key(kp, path, "heap");
		get_size(p, v[K_HEAP], kp, 64ull << 10, 1ull << 40, &is->heap);
	}
	if (v[K_FDS] != NULL) {
		path_key(kp, path, "fds");
		if (get_uint(p, v[K_FDS], kp, 3, 1u << 20, &u) == 0)
			is->fds = (unsigned)u;
	}
	if (v[K_UID] != NULL) {
		path_key(kp, path, "uid");
		if (get_uint(p, v[K_UID], kp, 0, UINT32_MAX - 1, &u) == 0)
			is->uid = (uint32_t)u;
	}
	if (v[K_GID] != NULL) {
		path_key(kp, path, "gid");
		if (get_uint(p, v[K_GID], kp, 0, UINT32_MAX - 1, &u) == 0)
			is->gid = (uint32_t)u;
	}
	if (v[K_RESTART] != NULL) {
		path_key(kp, path, "restart");
		if ((r = get_enum(p, v[K_RESTART], kp, restarts)) >= 0)
			is->restart = (enum krk_restart)r;
	}
	if (v[K_BACKOFF] != NULL) {
		path_key(kp, path, "backoff");
		get_duration(p, v[K_BACKOFF], kp, 1000000ull,
		    3600000000000ull, &is->backoff_ns);
	}
	if (v[K_BACKOFF_MAX] != NULL) {
		path_key(kp, path, "backoff_max");
		if (get_duration(p, v[K_BACKOFF_MAX], kp, 1000000ull,
		    3600000000000ull, &is->backoff_max_ns) == 0 &&
		    is->backoff_max_ns < is->backoff_ns)
			cfg_error(p, v[K_BACKOFF_MAX], kp, "expected at least "
			    "backoff, found %s", WHAT(v[K_BACKOFF_MAX]));
	} else if (is->backoff_max_ns < is->backoff_ns) {
		/* The default cap never undercuts a longer first delay. */
		is->backoff_max_ns = is->backoff_ns;
	}
	if (v[K_LAX] != NULL) {
		path_key(kp, path, "lax");
		get_bool(p, v[K_LAX], kp, &is->lax);
	}
	if (v[K_HARDENED] != NULL) {
		path_key(kp, path, "hardened");
		get_bool(p, v[K_HARDENED], kp, &is->hardened);
	}
}

/* A socket path: resolved, and short enough for sockaddr_un. */
static void
get_socket(struct cfgp *p, yaml_node_t *n, const char *path, char **out)
{
	if (get_str(p, n, path, out) != 0 || resolve_path(p, out) != 0)
		return;
	if (strlen(*out) > KRK_CFG_SUN_PATH_MAX)
		cfg_error(p, n, path, "expected a socket path of at most %d "
		    "bytes (after resolving), found %zu bytes",
		    KRK_CFG_SUN_PATH_MAX, strlen(*out));
}

static void
parse_control(struct cfgp *p, yaml_node_t *n)
{
	static const char *const keys[] = { "socket", "group", NULL };
	yaml_node_t *v[2], *k[2];
	const char *s;
	uint64_t g;

	if (!map_keys(p, n, "control", keys, v, k))
		return;
	if (v[0] != NULL)
		get_socket(p, v[0], "control.socket", &p->cfg->control_socket);
	if (v[1] != NULL && (s = get_scalar(p, v[1], "control.group",
	    "a group name", 256)) != NULL) {
		if (krk_cfg_parse_u64(s, &g) != 0 && getgrnam(s) == NULL)
			cfg_error(p, v[1], "control.group", "expected a group "
			    "of this machine, found unknown group %s",
			    WHAT(v[1]));
		else
			p->cfg->control_group = cfg_strdup(p, s);
	}
}

static void
parse_attach(struct cfgp *p, yaml_node_t *n)
{
	static const char *const keys[] = { "socket", "users", "fds",
	    "rings", "max", "preload", NULL };
	struct krk_config *c = p->cfg;
	yaml_node_t *v[6], *k[6];
	size_t cnt, i;
	kpath_t ip;
	uint64_t lim;

	if (!map_keys(p, n, "attach", keys, v, k))
		return;
	if (v[0] != NULL)
		get_socket(p, v[0], "attach.socket", &c->attach_socket);
	if (v[2] != NULL && get_uint(p, v[2], "attach.fds", 3, 65536, &lim) == 0)
		c->attach_fds = (unsigned)lim;
	if (v[3] != NULL && get_uint(p, v[3], "attach.rings", 0, 64, &lim) == 0)
		c->attach_rings = (unsigned)lim;
	if (v[4] != NULL && get_uint(p, v[4], "attach.max", 1, 4096, &lim) == 0)
		c->attach_max = (unsigned)lim;
	if (v[5] != NULL && get_str(p, v[5], "attach.preload",
	    &c->attach_preload) == 0)
		resolve_path(p, &c->attach_preload);
	if (v[1] == NULL || !get_list(p, v[1], "attach.users",
	    KRK_CFG_MAX_USERS, &cnt))
		return;
	if ((c->attach_uids = cfg_calloc(p, cnt, sizeof(uint32_t))) == NULL)
		return;
	for (i = 0; i < cnt; i++) {
		yaml_node_t *it = list_item(p, v[1], i);
		const char *s;
		struct passwd *pw;
		uint64_t u;

		path_idx(ip, "attach.users", i);
		if ((s = get_scalar(p, it, ip, "a user name or uid", 256))
		    == NULL)
			continue;
		if (krk_cfg_parse_u64(s, &u) == 0) {
			if (u >= UINT32_MAX) {
				cfg_error(p, it, ip, "expected a uid "
				    "0..4294967294, found %s", WHAT(it));
				continue;
			}
		} else if ((pw = getpwnam(s)) != NULL)
			u = pw->pw_uid;
		else {
			cfg_error(p, it, ip, "expected a user of this machine, "
			    "found unknown user %s", WHAT(it));
			continue;
		}
		c->attach_uids[c->nattach_uids++] = (uint32_t)u;
	}
}

static void
parse_log(struct cfgp *p, yaml_node_t *n)
{
	static const char *const keys[] = { "size", NULL };
	yaml_node_t *v[1], *k[1];

	if (!map_keys(p, n, "log", keys, v, k))
		return;
	if (v[0] != NULL)
		get_size(p, v[0], "log.size", 4096, 256ull << 20,
		    &p->cfg->log_size);
}

static void
parse_queues(struct cfgp *p, yaml_node_t *n)
{
	static const char *const keys[] = { "spin", "slots", "area", "rings",
	    "client_spin", NULL };
	struct krk_config *c = p->cfg;
	yaml_node_t *v[5], *k[5];
	uint64_t u;

	if (!map_keys(p, n, "queues", keys, v, k))
		return;
	if (v[0] != NULL)
		get_ranged(p, v[0], "queues.spin", "a duration 0..10ms (ns, us, "
		    "ms)", krk_parse_duration, 0, 10000000ull, &c->queue_spin_ns);
	if (v[1] != NULL && get_uint(p, v[1], "queues.slots", 16, 4096, &u) == 0) {
		if ((u & (u - 1)) != 0)
			cfg_error(p, v[1], "queues.slots", "expected a power of "
			    "two 16..4096, found %s", WHAT(v[1]));
		else
			c->queue_slots = (unsigned)u;
	}
	if (v[2] != NULL)
		get_size(p, v[2], "queues.area", 64ull << 10, 1ull << 30,
		    &c->queue_area);
	if (v[3] != NULL && get_uint(p, v[3], "queues.rings", 0, 64, &u) == 0)
		c->queue_rings = (unsigned)u;
	if (v[4] != NULL)
		get_ranged(p, v[4], "queues.client_spin", "a duration 0..10ms "
		    "(ns, us, ms)", krk_parse_duration, 0, 10000000ull,
		    &c->queue_client_spin_ns);
}

/* hostnet: each allow entry through the component's own parser, so what
 * krank check accepts is exactly what krank run installs; an error points
 * at the offending character (the column of the entry plus its offset,
 * when the entry is a plain scalar on one line). */
static void
parse_hostnet(struct cfgp *p, yaml_node_t *key, yaml_node_t *n)
{
	static const char *const keys[] = { "allow", "max", NULL };
	struct krk_config *c = p->cfg;
	yaml_node_t *v[2], *k[2];
	size_t cnt, i;
	uint64_t u;
	kpath_t ip;

	c->has_hostnet = true;
	loc_of(key, &c->hostnet_loc);
	if (!map_keys(p, n, "hostnet", keys, v, k))
		return;
	if (v[1] != NULL && get_uint(p, v[1], "hostnet.max", 1, 4096, &u) == 0)
		c->hostnet_max = (unsigned)u;
	if (v[0] == NULL || !get_list(p, v[0], "hostnet.allow",
	    KRK_CFG_MAX_HOSTNET, &cnt))
		return;
	c->hostnet_allow = cfg_calloc(p, cnt + 1, sizeof(char *));
	c->hostnet_allow_locs = cfg_calloc(p, cnt + 1, sizeof(struct krk_loc));
	if (c->hostnet_allow == NULL || c->hostnet_allow_locs == NULL)
		return;
	for (i = 0; i < cnt; i++) {
		yaml_node_t *it = list_item(p, v[0], i);
		struct krs_hostnet_rule r;
		const char *s, *why;
		size_t pos;

		path_idx(ip, "hostnet.allow", i);
		if ((s = get_scalar(p, it, ip, "an address:port entry",
		    KRS_HOSTNET_RULE_MAX)) == NULL)
			continue;
		if (krs_hostnet_rule_parse(s, &r, &pos, &why) != 0) {
			unsigned col = (unsigned)it->start_mark.column + 1;
			if (it->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
				col += (unsigned)pos;
			else if (it->data.scalar.style ==
			    YAML_SINGLE_QUOTED_SCALAR_STYLE ||
			    it->data.scalar.style ==
			    YAML_DOUBLE_QUOTED_SCALAR_STYLE)
				col += (unsigned)pos + 1;
			cfg_error_at(p, (unsigned)it->start_mark.line + 1, col,
			    ip, "%s, found %s", why, WHAT(it));
			continue;
		}
		loc_of(it, &c->hostnet_allow_locs[c->nhostnet_allow]);
		c->hostnet_allow[c->nhostnet_allow++] = cfg_strdup(p, s);
	}
}

/* A list of mappings: allocate *arr of cnt elements of size sz. */
static bool
get_obj_list(struct cfgp *p, yaml_node_t *n, const char *path, size_t max,
    size_t sz, void **arr, size_t *cnt)
{
	if (!get_list(p, n, path, max, cnt))
		return false;
	*arr = cfg_calloc(p, *cnt, sz);
	if (*arr == NULL) {
		*cnt = 0;
		return false;
	}
	return true;
}

static void
parse_top(struct cfgp *p, yaml_node_t *root)
{
	static const char *const keys[] = { "name", "cores", "realtime",
	    "memory", "components", "interfaces", "disks", "tmpfs", "hostfs",
	    "isolates", "control", "attach", "log", "queues", "hostnet",
	    NULL };
	enum { K_NAME, K_CORES, K_RT, K_MEM, K_COMP, K_IF, K_DISK, K_TMPFS,
	    K_HOSTFS, K_ISO, K_CTL, K_ATT, K_LOG, K_QUEUES, K_HOSTNET, K_N };
	struct krk_config *c = p->cfg;
	yaml_node_t *v[K_N], *k[K_N];
	const char *mounts[KRK_CFG_MAX_DISKS + KRK_CFG_MAX_TMPFS +
	    KRK_CFG_MAX_HOSTFS];
	unsigned mlines[KRK_CFG_MAX_DISKS + KRK_CFG_MAX_TMPFS +
	    KRK_CFG_MAX_HOSTFS];
	size_t nmounts = 0, i, j;
	kpath_t ip;
	const char *s;

	if (!map_keys(p, root, "", keys, v, k))
		return;
	if (v[K_NAME] != NULL) {
		s = get_scalar(p, v[K_NAME], "name", "a deployment name", 256);
		if (s != NULL && !krk_cfg_name_ok(s, 64))
			cfg_error(p, v[K_NAME], "name", "expected a deployment "
			    "name ([A-Za-z0-9_.-], at most 64 bytes), found %s",
			    WHAT(v[K_NAME]));
		else if (s != NULL) {
			free(c->name);
			c->name = cfg_strdup(p, s);
		}
	} else if (!krk_cfg_name_ok(c->name, 64))
		cfg_error_at(p, 1, 1, "name", "expected a deployment name "
		    "([A-Za-z0-9_.-], at most 64 bytes) since the file's stem "
		    "\"%.64s\" cannot be one, found nothing", c->name);
	if (v[K_CORES] == NULL)
		cfg_error(p, root, "cores", "expected a core list, found "
		    "nothing");
	else
		parse_cores(p, v[K_CORES]);
	if (v[K_RT] != NULL)
		parse_realtime(p, v[K_RT]);
	if (v[K_MEM] != NULL)
		parse_memory(p, v[K_MEM]);
	if (v[K_COMP] == NULL)
		cfg_error(p, root, "components", "expected a list of "
		    "components, found nothing");
	else
		parse_components(p, k[K_COMP], v[K_COMP]);

	if (v[K_IF] != NULL && get_obj_list(p, v[K_IF], "interfaces",
	    KRK_CFG_MAX_IFACES, sizeof(*c->ifaces), (void **)&c->ifaces,
	    &c->nifaces)) {
		for (i = 0; i < c->nifaces; i++) {
			struct krk_iface_cfg *f = &c->ifaces[i];
			yaml_node_t *it = list_item(p, v[K_IF], i);

			path_idx(ip, "interfaces", i);
			parse_iface(p, it, ip, f);
			for (j = 0; j < i && f->name[0]; j++)
				if (strcmp(c->ifaces[j].name, f->name) == 0)
					cfg_error(p, it, ip, "expected unique "
					    "interface names, found \"%s\" "
					    "again (first at line %u)", f->name,
					    c->ifaces[j].loc.line);
			for (j = 0; j < i && f->device; j++)
				if (c->ifaces[j].device != NULL &&
				    c->ifaces[j].backend == f->backend &&
				    strcmp(c->ifaces[j].device, f->device) == 0)
					cfg_error(p, it, ip, "expected each "
					    "device once, found \"%s\" again "
					    "(first at line %u)", f->device,
					    c->ifaces[j].loc.line);
		}
	}
	if (v[K_DISK] != NULL && get_obj_list(p, v[K_DISK], "disks",
	    KRK_CFG_MAX_DISKS, sizeof(*c->disks), (void **)&c->disks,
	    &c->ndisks)) {
		for (i = 0; i < c->ndisks; i++) {
			path_idx(ip, "disks", i);
			parse_disk(p, list_item(p, v[K_DISK], i), ip,
			    &c->disks[i], &nmounts, mounts, mlines);
		}
	}
	if (v[K_TMPFS] != NULL && get_obj_list(p, v[K_TMPFS], "tmpfs",
	    KRK_CFG_MAX_TMPFS, sizeof(*c->tmpfs), (void **)&c->tmpfs,
	    &c->ntmpfs)) {
		for (i = 0; i < c->ntmpfs; i++) {
			path_idx(ip, "tmpfs", i);
			parse_tmpfs(p, list_item(p, v[K_TMPFS], i), ip,
			    &c->tmpfs[i], &nmounts, mounts, mlines);
		}
	}
	if (v[K_HOSTFS] != NULL && get_obj_list(p, v[K_HOSTFS], "hostfs",
	    KRK_CFG_MAX_HOSTFS, sizeof(*c->hostfs), (void **)&c->hostfs,
	    &c->nhostfs)) {
		for (i = 0; i < c->nhostfs; i++) {
			path_idx(ip, "hostfs", i);
			parse_hostfs(p, list_item(p, v[K_HOSTFS], i), ip,
			    &c->hostfs[i], &nmounts, mounts, mlines);
		}
		for (i = 0; i < c->ncomponents; i++)
			if (strcmp(c->components[i], "hostfs") == 0)
				break;
		if (c->nhostfs > 0 && c->components != NULL &&
		    i == c->ncomponents)
			cfg_error(p, k[K_HOSTFS], "hostfs", "expected hostfs "
			    "in components (it serves these directories), "
			    "found it missing");
	}
	if (v[K_ISO] != NULL && get_obj_list(p, v[K_ISO], "isolates",
	    KRK_CFG_MAX_ISOLATES, sizeof(*c->isolates),
	    (void **)&c->isolates, &c->nisolates)) {
		for (i = 0; i < c->nisolates; i++) {
			struct krk_isolate_cfg *is = &c->isolates[i];
			yaml_node_t *it = list_item(p, v[K_ISO], i);

			path_idx(ip, "isolates", i);
			parse_isolate(p, it, ip, is);
			for (j = 0; j < i && is->name[0]; j++)
				if (strcmp(c->isolates[j].name, is->name) == 0)
					cfg_error(p, it, ip, "expected unique "
					    "isolate names, found \"%s\" again "
					    "(first at line %u)", is->name,
					    c->isolates[j].loc.line);
			if (is->heap > c->mem_size) {
				char a[24];
				kpath_t hp;

				krk_cfg_fmt_size(c->mem_size, a, sizeof(a));
				path_key(hp, ip, "heap");
				cfg_error(p, it, hp, "expected at most "
				    "memory.size (%s), found more", a);
			}
		}
	}
	if (v[K_CTL] != NULL)
		parse_control(p, v[K_CTL]);
	if (v[K_ATT] != NULL)
		parse_attach(p, v[K_ATT]);
	if (v[K_LOG] != NULL)
		parse_log(p, v[K_LOG]);
	if (v[K_QUEUES] != NULL)
		parse_queues(p, v[K_QUEUES]);
	if (v[K_HOSTNET] != NULL) {
		parse_hostnet(p, k[K_HOSTNET], v[K_HOSTNET]);
		for (i = 0; i < c->ncomponents; i++)
			if (c->components[i] != NULL &&
			    strcmp(c->components[i], "hostnet") == 0)
				break;
		if (c->components != NULL && i == c->ncomponents)
			cfg_error(p, k[K_HOSTNET], "hostnet", "expected "
			    "component hostnet in components, found it "
			    "missing");
	}
	/* The vfs needs a root file system: KRANK mounts tmpfs at / when the
	 * component is listed and nothing else is mounted there.  Caught
	 * here, so `krank check` says it, not only a failed boot; checked
	 * once the file is otherwise valid (it is about the whole file). */
	bool has_vfs = false, has_tmpfs = false, has_root = false;
	for (i = 0; c->components != NULL && i < c->ncomponents; i++)
		if (c->components[i] != NULL) {
			has_vfs |= strcmp(c->components[i], "vfs") == 0;
			has_tmpfs |= strcmp(c->components[i], "tmpfs") == 0;
		}
	for (i = 0; i < nmounts; i++)
		has_root |= mounts[i] != NULL && strcmp(mounts[i], "/") == 0;
	if (p->nerr == 0 && has_vfs && !has_tmpfs && !has_root &&
	    k[K_COMP] != NULL)
		cfg_error(p, k[K_COMP], "components", "expected tmpfs in "
		    "components (KRANK then mounts one at /) or a disk or "
		    "tmpfs mounted at /: the vfs needs a root file system, "
		    "found neither");
}

/* ---- loading --------------------------------------------------------- */

static void
yaml_problem(struct cfgp *p, const yaml_parser_t *yp, const char *buf,
    size_t len)
{
	char ctx[96] = "";
	unsigned line, col;
	size_t i;

	if (yp->error == YAML_MEMORY_ERROR) {
		p->nomem = true;
		return;
	}
	line = (unsigned)yp->problem_mark.line + 1;
	col = (unsigned)yp->problem_mark.column + 1;
	if (yp->error == YAML_READER_ERROR) {
		/* The reader (encoding) gives a byte offset, not a mark. */
		line = col = 1;
		for (i = 0; i < yp->problem_offset && i < len; i++) {
			if (buf[i] == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)buf[i] & 0xc0) != 0x80)
				col++;
		}
		snprintf(ctx, sizeof(ctx), " (byte 0x%02x)",
		    yp->problem_value & 0xff);
	} else if (yp->context != NULL)
		snprintf(ctx, sizeof(ctx), " (%s at line %zu)", yp->context,
		    yp->context_mark.line + 1);
	cfg_error_at(p, line, col, "(yaml)", "expected valid YAML, found: "
	    "%s%s", yp->problem ? yp->problem : "an error", ctx);
}

/*
 * The bounds pass: libyaml's events, before a document is built.  Rejects
 * aliases, more than one document, deep nesting and too many nodes, and
 * reports syntax errors.  0 when the document may be loaded.
 */
static int
check_events(struct cfgp *p, const char *buf, size_t len)
{
	yaml_parser_t yp;
	yaml_event_t ev;
	unsigned depth = 0, nodes = 0, docs = 0;
	int e = 0;
	bool done = false;

	if (!yaml_parser_initialize(&yp)) {
		p->nomem = true;
		return ENOMEM;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
	while (!done) {
		if (!yaml_parser_parse(&yp, &ev)) {
			yaml_problem(p, &yp, buf, len);
			e = EINVAL;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				cfg_error(p, &ev, "(yaml)", "expected one "
				    "document, found a second");
				e = EINVAL;
				done = true;
			}
			break;
		case YAML_ALIAS_EVENT:
			cfg_error(p, &ev, "(yaml)", "expected plain values, "
			    "found an alias (*%.32s); anchors and aliases are "
			    "not supported", (const char *)ev.data.alias.anchor);
			e = EINVAL;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > KRK_CFG_MAX_DEPTH) {
				cfg_error(p, &ev, "(yaml)", "expected nesting "
				    "at most %d deep, found deeper",
				    KRK_CFG_MAX_DEPTH);
				e = EINVAL;
				done = true;
			}
			/* FALLTHROUGH */
		case YAML_SCALAR_EVENT:
			if (++nodes > KRK_CFG_MAX_NODES) {
				cfg_error(p, &ev, "(yaml)", "expected at most "
				    "%d values, found more", KRK_CFG_MAX_NODES);
				e = EINVAL;
				done = true;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (p->nerr > KRK_CFG_MAX_ERRORS)
			break;
	}
	yaml_parser_delete(&yp);
	return e;
}

void
krk_config_free(struct krk_config *c)
{
	size_t i, j;

	if (c == NULL)
		return;
	free(c->path);
	free(c->dir);
	free(c->name);
	for (i = 0; c->components != NULL && i < c->ncomponents; i++)
		free(c->components[i]);
	free(c->components);
	free(c->component_locs);
	for (i = 0; i < c->nifaces; i++) {
		free(c->ifaces[i].device);
		free(c->ifaces[i].address);
		free(c->ifaces[i].host_address);
		free(c->ifaces[i].gateway);
	}
	free(c->ifaces);
	for (i = 0; i < c->ndisks; i++) {
		free(c->disks[i].path);
		free(c->disks[i].fs);
		free(c->disks[i].mount);
	}
	free(c->disks);
	for (i = 0; i < c->ntmpfs; i++)
		free(c->tmpfs[i].mount);
	free(c->tmpfs);
	for (i = 0; i < c->nhostfs; i++) {
		free(c->hostfs[i].path);
		free(c->hostfs[i].mount);
	}
	free(c->hostfs);
	for (i = 0; i < c->nisolates; i++) {
		struct krk_isolate_cfg *is = &c->isolates[i];

		free(is->elf);
		for (j = 0; is->argv != NULL && j < is->argc; j++)
			free(is->argv[j]);
		free(is->argv);
		for (j = 0; is->env != NULL && j < is->envc; j++)
			free(is->env[j]);
		free(is->env);
		free(is->cwd);
		free(is->root);
	}
	free(c->isolates);
	free(c->control_socket);
	free(c->control_group);
	free(c->attach_socket);
	free(c->attach_uids);
	free(c->attach_preload);
	for (i = 0; c->hostnet_allow != NULL && i < c->nhostnet_allow; i++)
		free(c->hostnet_allow[i]);
	free(c->hostnet_allow);
	free(c->hostnet_allow_locs);
	free(c);
}

/* The file's stem: "examples/deployments/httpd.yaml" -> "httpd". */
static char *
file_stem(const char *file)
{
	char buf[256];

	elf_stem(file, buf, sizeof(buf));
	return strdup(buf);
}

static int config_parse(struct cfgp *, const char *, size_t,
    struct krk_config **);

int
krk_config_parse(const char *name, const char *buf, size_t len,
    struct krk_config **cfgp, char *err, size_t errlen)
{
	struct cfgp *pp;
	int e;

	*cfgp = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	/* The state holds the error lines: too big for a small stack. */
	if ((pp = calloc(1, sizeof(*pp))) == NULL)
		return ENOMEM;
	pp->file = name;
	pp->err = err;
	pp->errlen = errlen;
	e = config_parse(pp, buf, len, cfgp);
	cfg_flush_errors(pp);
	free(pp);
	return e;
}

static int
config_parse(struct cfgp *p, const char *buf, size_t len,
    struct krk_config **cfgp)
{
	const char *name = p->file;
	struct krk_config *c;
	yaml_parser_t yp;
	yaml_node_t *root;
	int e = 0;

	if (len > KRK_CFG_MAX_BYTES) {
		cfg_error_at(p, 1, 1, "(file)", "expected at most %u bytes, "
		    "found %zu", KRK_CFG_MAX_BYTES, len);
		return EINVAL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ENOMEM;
	p->cfg = c;
	c->path = strdup(name);
	c->dir = dir_of(name);
	c->name = file_stem(name);
	if (c->path == NULL || c->dir == NULL || c->name == NULL) {
		krk_config_free(c);
		return ENOMEM;
	}
	c->fifo_priority = 10;
	c->mem_size = KRK_DEF_MEM;
	c->hugepages = KRK_HUGE_AUTO;
	c->mlock = true;
	c->isolate_pool = KRK_DEF_ISOLATE_POOL;
	c->log_size = KRK_DEF_LOG;
	c->queue_spin_ns = 50000;
	c->queue_client_spin_ns = UINT64_MAX;
	c->queue_slots = 256;
	c->queue_area = 4ull << 20;
	c->attach_fds = 1024;
	c->attach_max = 64;

	if ((e = check_events(p, buf, len)) != 0)
		goto out;
	if (!yaml_parser_initialize(&yp)) {
		e = ENOMEM;
		goto out;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&yp, &p->doc)) {
		yaml_problem(p, &yp, buf, len);
		yaml_parser_delete(&yp);
		e = p->nomem ? ENOMEM : EINVAL;
		goto out;
	}
	yaml_parser_delete(&yp);
	if ((root = yaml_document_get_root_node(&p->doc)) == NULL)
		cfg_error_at(p, 1, 1, "(top)", "expected a mapping of "
		    "deployment keys, found an empty file");
	else
		parse_top(p, root);
	yaml_document_delete(&p->doc);

	/* Defaults that depend on the name. */
	if (p->nerr == 0 && !p->nomem && c->control_socket == NULL &&
	    asprintf(&c->control_socket, "/run/krank/%s.sock", c->name) < 0) {
		c->control_socket = NULL;
		p->nomem = true;
	}
	/* The attach socket sits beside the control socket (.sock becomes
	 * .attach), so /run/krank/NAME.attach by default and a test's
	 * private directory when the control socket is there. */
	if (p->nerr == 0 && !p->nomem && c->attach_socket == NULL) {
		size_t l = strlen(c->control_socket);
		if (l > 5 && strcmp(c->control_socket + l - 5, ".sock") == 0)
			l -= 5;
		if (asprintf(&c->attach_socket, "%.*s.attach", (int)l,
		    c->control_socket) < 0) {
			c->attach_socket = NULL;
			p->nomem = true;
		} else if (strlen(c->attach_socket) > KRK_CFG_SUN_PATH_MAX)
			cfg_error_at(p, 1, 1, "attach.socket", "expected a "
			    "socket path of at most %d bytes, found %s (the "
			    "default beside control.socket): set attach.socket",
			    KRK_CFG_SUN_PATH_MAX, c->attach_socket);
	}
	if (c->components == NULL && !p->nomem &&
	    (c->components = calloc(1, sizeof(char *))) == NULL)
		p->nomem = true;
out:
	if (p->nomem)
		e = ENOMEM;
	else if (p->nerr > 0)
		e = EINVAL;
	if (e != 0) {
		if (e == ENOMEM && p->nerr == 0)
			cfg_error_at(p, 1, 1, "(file)", "expected memory to "
			    "parse it, found none (out of memory)");
		krk_config_free(c);
		return e;
	}
	*cfgp = c;
	return 0;
}

int
krk_config_load(const char *path, struct krk_config **cfgp, char *err,
    size_t errlen)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	ssize_t r;
	int fd, e;

	*cfgp = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		e = errno;
		if (err != NULL)
			snprintf(err, errlen, "%s: cannot open: %s\n", path,
			    strerror(e));
		return e;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		if (err != NULL)
			snprintf(err, errlen, "%s: cannot stat: %s\n", path,
			    strerror(e));
		close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > KRK_CFG_MAX_BYTES) {
		e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		if (err != NULL)
			snprintf(err, errlen, "%s:1:1: (file): expected a "
			    "regular file of at most %u bytes, found %s\n",
			    path, KRK_CFG_MAX_BYTES, S_ISREG(st.st_mode) ?
			    "a larger one" : "another kind of file");
		close(fd);
		return e;
	}
	/* One byte more than allowed, to notice a file that grew. */
	if ((buf = malloc(KRK_CFG_MAX_BYTES + 1)) == NULL) {
		close(fd);
		return ENOMEM;
	}
	while (got <= KRK_CFG_MAX_BYTES) {
		r = read(fd, buf + got, KRK_CFG_MAX_BYTES + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			if (err != NULL)
				snprintf(err, errlen, "%s: cannot read: %s\n",
				    path, strerror(e));
			free(buf);
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	e = krk_config_parse(path, buf, got, cfgp, err, errlen);
	free(buf);
	return e;
}
