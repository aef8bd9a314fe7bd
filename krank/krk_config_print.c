/*
 * krk_config_print.c - the effective deployment as YAML (krank check -v):
 * every default filled in, every string double-quoted and escaped, so the
 * output parses again to the same deployment (the fuzz target checks it).
 */
#include <inttypes.h>
#include <stdio.h>

#include "krk_config.h"
#include "krk_config_int.h"

/*
 * A YAML double-quoted string that reads back as the same bytes: what
 * YAML does not allow raw (C0/C1 controls, DEL, the BOM, surrogates) and
 * what it would fold (NEL, LS, PS) is escaped.  Values came from libyaml,
 * so they are valid UTF-8; a stray byte is escaped as \xNN anyway.
 */
static void
print_str(FILE *out, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	fputc('"', out);
	while (*u) {
		uint32_t cp;
		int n, i;

		if (*u < 0x80) {
			if (*u == '"' || *u == '\\')
				fprintf(out, "\\%c", *u);
			else if (*u < 0x20 || *u == 0x7f)
				fprintf(out, "\\x%02x", *u);
			else
				fputc(*u, out);
			u++;
			continue;
		}
		n = *u >= 0xf0 ? 4 : *u >= 0xe0 ? 3 : *u >= 0xc0 ? 2 : 0;
		cp = n == 4 ? *u & 0x07u : n == 3 ? *u & 0x0fu : *u & 0x1fu;
		for (i = 1; i < n; i++) {
			if ((u[i] & 0xc0) != 0x80)
				break;
			cp = cp << 6 | (u[i] & 0x3fu);
		}
		if (n == 0 || i < n) {
			fprintf(out, "\\x%02x", *u++);
			continue;
		}
		if ((cp >= 0xa0 && cp <= 0xd7ff && cp != 0x2028 &&
		    cp != 0x2029) || (cp >= 0xe000 && cp <= 0xfffd &&
		    cp != 0xfeff) || (cp >= 0x10000 && cp <= 0x10ffff))
			fwrite(u, 1, (size_t)n, out);
		else if (cp <= 0xffff)
			fprintf(out, "\\u%04x", (unsigned)cp);
		else
			fprintf(out, "\\U%08x", (unsigned)cp);
		u += n;
	}
	fputc('"', out);
}

static void
print_size(FILE *out, uint64_t v)
{
	char b[24];

	krk_cfg_fmt_size(v, b, sizeof(b));
	fputs(b, out);
}

static void
print_duration(FILE *out, uint64_t ns)
{
	static const struct { const char *sfx; uint64_t mul; } units[] = {
		{ "h", 3600000000000ull }, { "m", 60000000000ull },
		{ "s", 1000000000ull }, { "ms", 1000000 }, { "us", 1000 },
		{ "ns", 1 },
	};
	size_t i;

	for (i = 0; i < 5; i++)
		if (ns != 0 && ns % units[i].mul == 0)
			break;
	fprintf(out, "%" PRIu64 "%s", ns / units[i].mul, units[i].sfx);
}

static void
print_list(FILE *out, char *const *v, size_t n)
{
	size_t i;

	fputc('[', out);
	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", out);
		print_str(out, v[i]);
	}
	fputc(']', out);
}

void
krk_config_print(const struct krk_config *c, FILE *out)
{
	static const char *const huge[] = { "auto", "yes", "no" };
	static const char *const be[] = { "tap", "afpacket", "wire", "dpdk" };
	static const char *const rs[] = { "never", "on-failure", "always" };
	size_t i;

	fprintf(out, "# effective deployment of %s\nname: ", c->path);
	print_str(out, c->name);
	fputs("\ncores: [", out);
	for (i = 0; i < c->ncores; i++)
		fprintf(out, "%s%d", i ? ", " : "", c->cores[i]);
	fprintf(out, "]\nrealtime: {sched_fifo: %s, priority: %d}\n",
	    c->sched_fifo ? "yes" : "no", c->fifo_priority);
	fputs("memory: {size: ", out);
	print_size(out, c->mem_size);
	fprintf(out, ", hugepages: %s, mlock: %s, isolate_pool: ",
	    huge[c->hugepages], c->mlock ? "yes" : "no");
	print_size(out, c->isolate_pool);
	fputs("}\ncomponents: ", out);
	print_list(out, c->components, c->ncomponents);
	fputc('\n', out);
	if (c->nifaces > 0)
		fputs("interfaces:\n", out);
	for (i = 0; i < c->nifaces; i++) {
		const struct krk_iface_cfg *f = &c->ifaces[i];

		fputs("  - name: ", out);
		print_str(out, f->name);
		fprintf(out, "\n    backend: %s\n    device: ", be[f->backend]);
		print_str(out, f->device);
		if (f->has_mac)
			fprintf(out, "\n    mac: \"%02x:%02x:%02x:%02x:%02x:%02x\"",
			    f->mac[0], f->mac[1], f->mac[2], f->mac[3],
			    f->mac[4], f->mac[5]);
		fprintf(out, "\n    address: %s\n", f->address);
		if (f->host_address != NULL)
			fprintf(out, "    host_address: %s\n", f->host_address);
		if (f->gateway != NULL)
			fprintf(out, "    gateway: %s\n", f->gateway);
		fprintf(out, "    mtu: %u\n", f->mtu);
		if (f->queues != 0)
			fprintf(out, "    queues: %u\n", f->queues);
	}
	if (c->ndisks > 0)
		fputs("disks:\n", out);
	for (i = 0; i < c->ndisks; i++) {
		const struct krk_disk_cfg *d = &c->disks[i];

		fputs("  - path: ", out);
		print_str(out, d->path);
		fprintf(out, "\n    fs: %s\n    mount: ", d->fs);
		print_str(out, d->mount);
		fprintf(out, "\n    readonly: %s\n", d->readonly ? "yes" : "no");
	}
	if (c->ntmpfs > 0)
		fputs("tmpfs:\n", out);
	for (i = 0; i < c->ntmpfs; i++) {
		fputs("  - mount: ", out);
		print_str(out, c->tmpfs[i].mount);
		fputs("\n    size: ", out);
		print_size(out, c->tmpfs[i].size);
		fputc('\n', out);
	}
	if (c->nhostfs > 0)
		fputs("hostfs:\n", out);
	for (i = 0; i < c->nhostfs; i++) {
		const struct krk_hostfs_cfg *h = &c->hostfs[i];

		fputs("  - path: ", out);
		print_str(out, h->path);
		fputs("\n    mount: ", out);
		print_str(out, h->mount);
		fprintf(out, "\n    readonly: %s\n    cross_mounts: %s\n",
		    h->readonly ? "yes" : "no", h->cross_mounts ? "yes" : "no");
	}
	if (c->nisolates > 0)
		fputs("isolates:\n", out);
	for (i = 0; i < c->nisolates; i++) {
		const struct krk_isolate_cfg *is = &c->isolates[i];

		fputs("  - name: ", out);
		print_str(out, is->name);
		fputs("\n    elf: ", out);
		print_str(out, is->elf);
		fputs("\n    argv: ", out);
		print_list(out, is->argv, is->argc);
		if (is->envc > 0) {
			fputs("\n    env: ", out);
			print_list(out, is->env, is->envc);
		}
		fputs("\n    cwd: ", out);
		print_str(out, is->cwd);
		fputs("\n    root: ", out);
		print_str(out, is->root);
		if (is->core >= 0)
			fprintf(out, "\n    core: %d", is->core);
		fputs("\n    heap: ", out);
		print_size(out, is->heap);
		fprintf(out, "\n    fds: %u\n    uid: %" PRIu32 "\n    gid: %"
		    PRIu32 "\n    restart: %s\n    backoff: ", is->fds,
		    is->uid, is->gid, rs[is->restart]);
		print_duration(out, is->backoff_ns);
		fputs("\n    backoff_max: ", out);
		print_duration(out, is->backoff_max_ns);
		if (is->lax)
			fputs("\n    lax: yes", out);
		if (is->hardened)
			fputs("\n    hardened: yes", out);
		fputc('\n', out);
	}
	fputs("control: {socket: ", out);
	print_str(out, c->control_socket);
	if (c->control_group != NULL) {
		fputs(", group: ", out);
		print_str(out, c->control_group);
	}
	fputs("}\nattach: {socket: ", out);
	print_str(out, c->attach_socket);
	if (c->nattach_uids > 0) {
		fputs(", users: [", out);
		for (i = 0; i < c->nattach_uids; i++)
			fprintf(out, "%s%" PRIu32, i ? ", " : "",
			    c->attach_uids[i]);
		fputc(']', out);
	}
	/* The limits only when set: the line stays as before otherwise. */
	if (c->attach_fds != 1024)
		fprintf(out, ", fds: %u", c->attach_fds);
	if (c->attach_rings != 0)
		fprintf(out, ", rings: %u", c->attach_rings);
	if (c->attach_max != 64)
		fprintf(out, ", max: %u", c->attach_max);
	if (c->attach_preload != NULL) {
		fputs(", preload: ", out);
		print_str(out, c->attach_preload);
	}
	fputs("}\nlog: {size: ", out);
	print_size(out, c->log_size);
	fputs("}\nqueues: {spin: ", out);
	print_duration(out, c->queue_spin_ns);
	if (c->queue_client_spin_ns != UINT64_MAX) {
		fputs(", client_spin: ", out);
		print_duration(out, c->queue_client_spin_ns);
	}
	fprintf(out, ", slots: %u, area: ", c->queue_slots);
	print_size(out, c->queue_area);
	fprintf(out, ", rings: %u}\n", c->queue_rings);
	if (c->has_hostnet) {
		fputs("hostnet: {allow: [", out);
		for (i = 0; i < c->nhostnet_allow; i++) {
			fputs(i ? ", " : "", out);
			print_str(out, c->hostnet_allow[i]);
		}
		fprintf(out, "], max: %u}\n", c->hostnet_max ? c->hostnet_max :
		    256);
	}
}
