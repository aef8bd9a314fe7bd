/*
 * hyp_pkt_spec.c - parsing of packet port specs, "BACKEND:NAME" with
 * ",key=value" options.  The spec comes from users and configuration
 * files, so it is untrusted: every field is bounded and checked here.
 */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hyp_pkt_int.h"

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
	    &v[4], &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	if (mac[0] & 1)
		return -1;		/* multicast is not a station address */
	return 0;
}

static int
parse_percent(const char *s, double *out)
{
	char *end;
	double d = strtod(s, &end);

	if (end == s || *end != '\0' || !(d >= 0.0 && d <= 100.0))
		return -1;
	*out = d / 100.0;
	return 0;
}

/* "no" sets *no, "yes" clears it. */
static int
parse_no(const char *val, int *no)
{
	if (strcmp(val, "no") == 0)
		*no = 1;
	else if (strcmp(val, "yes") == 0)
		*no = 0;
	else
		return -1;
	return 0;
}

static int
parse_opt(char *kv, struct pkt_opts *o, const char **why)
{
	char *val = strchr(kv, '='), *end;

	if (val == NULL)
		return -1;
	*val++ = '\0';
	if (*val == '\0')
		return -1;
	if (strcmp(kv, "mac") == 0) {
		if (parse_mac(val, o->mac) != 0)
			return -1;
		o->has_mac = 1;
	} else if (strcmp(kv, "mtu") == 0) {
		unsigned long m = strtoul(val, &end, 10);
		if (*end != '\0' || m < 68 || m > PKT_MAXMTU)
			return -1;
		o->mtu = (unsigned)m;
	} else if (strcmp(kv, "loss") == 0) {
		return parse_percent(val, &o->loss);
	} else if (strcmp(kv, "dup") == 0) {
		return parse_percent(val, &o->dup);
	} else if (strcmp(kv, "reorder") == 0) {
		return parse_percent(val, &o->reorder);
	} else if (strcmp(kv, "offload") == 0) {
		return parse_no(val, &o->no_offload);
	} else if (strcmp(kv, "ring") == 0) {
		return parse_no(val, &o->no_ring);
	} else if (strcmp(kv, "lend") == 0) {
		return parse_no(val, &o->no_lend);
	} else if (strcmp(kv, "queues") == 0) {
		/* Digits only: strtoul would take "-1" and " 2". */
		unsigned long n = val[0] >= '0' && val[0] <= '9' ?
		    strtoul(val, &end, 10) : 0;
		if (val[0] < '0' || val[0] > '9' || *end != '\0') {
			*why = "queues=N: N is not a number";
			return -1;
		}
		_Static_assert(PKT_MAXQ == 16, "the message says 16");
		if (n < 1 || n > PKT_MAXQ) {
			*why = "queues=N: N must be 1 to 16";
			return -1;
		}
		o->queues = (unsigned)n;
	} else if (strcmp(kv, "seed") == 0) {
		o->seed = strtoull(val, &end, 0);
		if (*end != '\0' || val[0] == '-')
			return -1;
	} else {
		return -1;
	}
	return 0;
}

int
pkt_spec_parse(const char *spec, struct pkt_spec *out)
{
	char buf[HYP_PKT_NAMELEN + 192];
	char *name, *opts, *save = NULL;

	memset(out, 0, sizeof(*out));
	if (spec == NULL || strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	if ((name = strchr(buf, ':')) == NULL)
		return -1;
	*name++ = '\0';
	if (buf[0] == '\0' || strlen(buf) >= sizeof(out->backend))
		return -1;
	strcpy(out->backend, buf);
	if ((opts = strchr(name, ',')) != NULL)
		*opts++ = '\0';
	/*
	 * Names: 1..IFNAMSIZ-1 bytes, no '/' or whitespace (':' and '.' are
	 * allowed for DPDK PCI addresses such as 0000:03:00.0).
	 */
	if (name[0] == '\0' || strlen(name) >= IFNAMSIZ ||
	    strpbrk(name, "/ \t\n") != NULL)
		return -1;
	strcpy(out->name, name);
	if (opts != NULL)
		for (char *kv = strtok_r(opts, ",", &save); kv != NULL;
		    kv = strtok_r(NULL, ",", &save))
			if (parse_opt(kv, &out->opts, &out->why) != 0)
				return -1;
	return 0;
}
