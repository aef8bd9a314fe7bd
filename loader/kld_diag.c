/*
 * Diagnostics of the loader: every problem is one line handed to the
 * caller's sink, and counted, globally, in kld_stats.
 */
#include <stdio.h>
#include <string.h>

#include "kld_int.h"

static _Atomic uint64_t kld_stat[KLD_ST_N];

void
kld_stat_add(int which, uint64_t n)
{
	kld_stat[which] += n;
}

void
kld_stats_get(struct kld_stats *s)
{
	s->objects_checked = kld_stat[KLD_ST_CHECKED];
	s->objects_rejected = kld_stat[KLD_ST_REJECTED];
	s->violations = kld_stat[KLD_ST_VIOL];
	s->warnings = kld_stat[KLD_ST_WARN];
	s->loads = kld_stat[KLD_ST_LOADS];
	s->unloads = kld_stat[KLD_ST_UNLOADS];
	s->jit_seals_refused = kld_stat[KLD_ST_JITREF];
}

void
kld_report(struct kld_diag *d, enum kld_severity sev, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	unsigned n;

	if (sev == KLD_ERROR)
		kld_stat_add(KLD_ST_VIOL, 1);
	else if (sev == KLD_WARNING)
		kld_stat_add(KLD_ST_WARN, 1);
	if (d == NULL)
		return;
	n = sev == KLD_ERROR ? d->nerrors++ : sev == KLD_WARNING ?
	    d->nwarnings++ : 0;
	/* Past the cap a flood is counted, not printed. */
	if (sev != KLD_INFO && n >= KLD_MAX_REPORTS)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (sev == KLD_ERROR && d->first[0] == '\0') {
		size_t ln = strlen(line);

		if (ln >= sizeof(d->first))
			ln = sizeof(d->first) - 1;
		memcpy(d->first, line, ln);
		d->first[ln] = 0;
	}
	if (d->fn != NULL)
		d->fn(d->arg, sev, line);
}
