/*
 * kern_component.c - the component registry and boot.  Components register
 * in the "krank_components" linker set (RUMPDRV_COMPONENT); a deployment
 * names the ones it wants and exactly those are initialised, dependencies
 * first, and finalised in reverse.  Also brings the kernel base itself up.
 */
#include <stdio.h>
#include <string.h>

#include "kern/kern_int.h"

extern const struct rumpdrv_component *const __start_krank_components[]
    __attribute__((weak));
extern const struct rumpdrv_component *const __stop_krank_components[]
    __attribute__((weak));

#define COMP_MAX 64
#define COMP_NAMELEN 32

/* Boot state: written only by component_boot/shutdown (not concurrent). */
static const struct rumpdrv_component *comp_up[COMP_MAX];
static int comp_nup;
bool kern_up;

static const struct rumpdrv_component *
comp_find(const char *name, size_t len)
{
	const struct rumpdrv_component *const *cp;
	if (__start_krank_components == NULL)
		return NULL;
	for (cp = __start_krank_components; cp < __stop_krank_components; cp++) {
		if (*cp != NULL && strlen((*cp)->rc_name) == len &&
		    memcmp((*cp)->rc_name, name, len) == 0)
			return *cp;
	}
	return NULL;
}

/* Next comma/space separated word of *sp; returns its length (0 at end). */
static size_t
next_word(const char **sp, const char **wp)
{
	const char *s = *sp;
	while (*s == ',' || *s == ' ' || *s == '\t')
		s++;
	*wp = s;
	while (*s != '\0' && *s != ',' && *s != ' ' && *s != '\t')
		s++;
	*sp = s;
	return (size_t)(s - *wp);
}

struct comp_sort {
	const struct rumpdrv_component *want[COMP_MAX];
	int nwant;
	int state[COMP_MAX];		/* 0 new, 1 on stack, 2 done */
	const struct rumpdrv_component *order[COMP_MAX];
	int norder;
	const char *stack[COMP_MAX];
	int depth;
	char *err;
	size_t errlen;
};

static int
want_index(struct comp_sort *cs, const struct rumpdrv_component *c)
{
	for (int i = 0; i < cs->nwant; i++)
		if (cs->want[i] == c)
			return i;
	return -1;
}

static int
comp_visit(struct comp_sort *cs, int i)
{
	const struct rumpdrv_component *c = cs->want[i];
	const char *s = c->rc_needs ? c->rc_needs : "", *w;
	size_t n;

	if (cs->state[i] == 2)
		return 0;
	if (cs->state[i] == 1) {
		/* Name the cycle: from c's first appearance on the stack. */
		size_t off = 0;
		off += (size_t)snprintf(cs->err, cs->errlen, "dependency cycle: ");
		int j = 0;
		while (j < cs->depth && strcmp(cs->stack[j], c->rc_name) != 0)
			j++;
		for (; j < cs->depth && off < cs->errlen; j++)
			off += (size_t)snprintf(cs->err + off, cs->errlen - off,
			    "%s -> ", cs->stack[j]);
		if (off < cs->errlen)
			snprintf(cs->err + off, cs->errlen - off, "%s", c->rc_name);
		return EDEADLK;
	}
	cs->state[i] = 1;
	cs->stack[cs->depth++] = c->rc_name;
	while ((n = next_word(&s, &w)) > 0) {
		const struct rumpdrv_component *d = comp_find(w, n);
		int k = d ? want_index(cs, d) : -1;
		if (k < 0) {
			snprintf(cs->err, cs->errlen,
			    "component %s needs %.*s, which is %s", c->rc_name,
			    (int)n, w, d ? "not in the list" : "not linked in");
			return EINVAL;
		}
		int rv = comp_visit(cs, k);
		if (rv != 0)
			return rv;
	}
	cs->depth--;
	cs->state[i] = 2;
	cs->order[cs->norder++] = c;
	return 0;
}

int
kern_init(void)
{
	int rv;
	if (kern_up)
		return 0;
	kern_log_init();
	if ((rv = kern_lwp_init()) != 0)
		return rv;
	kern_cpu_init();
	kern_kmem_init();
	kern_time_init();
	if ((rv = kern_callout_init()) != 0)
		return rv;
	kern_up = true;
	return 0;
}

void
kern_fini(void)
{
	if (!kern_up)
		return;
	kern_callout_fini();
	kern_up = false;
}

/*
 * Resolve a component list into boot order (cs->order) without
 * initialising anything.  0, or ENOENT/E2BIG/EINVAL with a message in err.
 */
static int
component_resolve(struct comp_sort *cs, const char *list, char *err,
    size_t errlen)
{
	const char *s = list ? list : "", *w;
	size_t n;

	memset(cs, 0, sizeof(*cs));
	cs->err = err;
	cs->errlen = errlen;
	while ((n = next_word(&s, &w)) > 0) {
		const struct rumpdrv_component *c = comp_find(w, n);
		if (c == NULL) {
			snprintf(err, errlen, "unknown component %.*s "
			    "(not linked in; link its library with "
			    "--whole-archive)", (int)n, w);
			return ENOENT;
		}
		if (want_index(cs, c) >= 0)
			continue;
		if (cs->nwant == COMP_MAX) {
			snprintf(err, errlen, "too many components");
			return E2BIG;
		}
		cs->want[cs->nwant++] = c;
	}
	for (int i = 0; i < cs->nwant; i++) {
		if (comp_visit(cs, i) != 0)
			return EINVAL;
	}
	return 0;
}

int
component_boot(const char *list, char *err, size_t errlen)
{
	static struct comp_sort cs;	/* large; boot is single-threaded */
	char dummy[8];
	int rv;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (comp_nup > 0) {
		snprintf(err, errlen, "components already booted");
		return EBUSY;
	}
	if ((rv = component_resolve(&cs, list, err, errlen)) != 0)
		return rv;
	if ((rv = kern_init()) != 0) {
		snprintf(err, errlen, "kernel base init failed: error %d", rv);
		return rv;
	}
	for (int i = 0; i < cs.norder; i++) {
		const struct rumpdrv_component *c = cs.order[i];
		rv = c->rc_init ? c->rc_init() : 0;
		if (rv != 0) {
			snprintf(err, errlen, "component %s: init failed: "
			    "error %d", c->rc_name, rv);
			component_shutdown();
			return rv;
		}
		comp_up[comp_nup++] = c;
		klog(LOG_INFO, "component %s up", c->rc_name);
	}
	return 0;
}

void
component_shutdown(void)
{
	while (comp_nup > 0) {
		const struct rumpdrv_component *c = comp_up[--comp_nup];
		if (c->rc_fini)
			c->rc_fini();
		klog(LOG_INFO, "component %s down", c->rc_name);
	}
}

bool
component_is_up(const char *name)
{
	for (int i = 0; i < comp_nup; i++)
		if (strcmp(comp_up[i]->rc_name, name) == 0)
			return true;
	return false;
}

KRS_EXPORT int
krs_boot(const char *components, char *err, size_t errlen)
{
	int rv = component_boot(components, err, errlen);
	if (rv != 0)
		return krs_fail(rv);
	return 0;
}

/*
 * A dry run of the boot's resolution: nothing is initialised, not even the
 * kernel base (krank check runs it on a node it must not touch).  The
 * sort state (under 2 KiB) lives on the caller's stack.
 */
KRS_EXPORT int
krs_boot_check(const char *components, char *order, size_t orderlen,
    char *err, size_t errlen)
{
	struct comp_sort cs;
	char dummy[8];
	size_t off = 0;
	int rv;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	rv = component_resolve(&cs, components, err, errlen);
	if (rv == 0 && order != NULL && orderlen > 0) {
		order[0] = '\0';
		for (int i = 0; i < cs.norder && off < orderlen; i++)
			off += (size_t)snprintf(order + off, orderlen - off,
			    "%s%s", i ? " " : "", cs.order[i]->rc_name);
	}
	return rv != 0 ? krs_fail(rv) : 0;
}

KRS_EXPORT size_t
krs_components(const char **names, const char **needs, size_t max)
{
	const struct rumpdrv_component *const *cp;
	size_t n = 0;
	if (__start_krank_components == NULL)
		return 0;
	for (cp = __start_krank_components; cp < __stop_krank_components; cp++) {
		if (*cp == NULL)
			continue;
		if (n < max) {
			if (names)
				names[n] = (*cp)->rc_name;
			if (needs)
				needs[n] = (*cp)->rc_needs ? (*cp)->rc_needs : "";
		}
		n++;
	}
	return n;
}

KRS_EXPORT int
krs_shutdown(void)
{
	component_shutdown();
	return 0;
}
