/*
 * The instruction verifier: a linear sweep with the Zydis decoder over
 * every executable byte, resynchronised at function symbols, refusing
 * instructions that enter the kernel, touch privileged state or transfer
 * control far.  A second pass looks at every byte offset for the
 * encodings of syscall, sysenter and int 0x80 hidden inside other
 * instructions (a warning, an error with KLD_STRICT).
 * Zydis was chosen over Capstone: it is a pure decoder (no per-call
 * allocation), reports privilege, category and branch type per
 * instruction, and decodes several times faster (docs/loader.md).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <Zydis/Zydis.h>

#include "kld_fastlen.h"
#include "kld_int.h"

struct sweep {
	ZydisDecoder dec;
	const struct kld_stage *st;	/* NULL for raw code */
	const char *name;		/* object or region name */
	struct kld_diag *diag;
	unsigned flags;
	unsigned errors;
	uint64_t *starts;		/* offsets of reported syscall-like insns,
					 * ascending (the sweep only advances) */
	size_t nstarts, capstarts;
	size_t cursor;			/* scan_hidden's position in starts */
};

/* Why an instruction is refused, or NULL if it is allowed. */
static const char *
insn_rule(const ZydisDecodedInstruction *in)
{
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_SYSCALL:
	case ZYDIS_MNEMONIC_SYSENTER:
		return "system call instruction";
	case ZYDIS_MNEMONIC_SYSEXIT:
	case ZYDIS_MNEMONIC_SYSRET:
		return "return from system call (privileged)";
	case ZYDIS_MNEMONIC_INT:
	case ZYDIS_MNEMONIC_INT1:
	case ZYDIS_MNEMONIC_INTO:
		return "software interrupt";
	case ZYDIS_MNEMONIC_INT3:
	case ZYDIS_MNEMONIC_UD2:
		return NULL;		/* traps, used for padding and abort */
	case ZYDIS_MNEMONIC_IRET:
	case ZYDIS_MNEMONIC_IRETD:
	case ZYDIS_MNEMONIC_IRETQ:
	case ZYDIS_MNEMONIC_UIRET:
		return "interrupt return";
	case ZYDIS_MNEMONIC_HLT:
		return "halt (privileged)";
	case ZYDIS_MNEMONIC_IN:
	case ZYDIS_MNEMONIC_OUT:
	case ZYDIS_MNEMONIC_INSB:
	case ZYDIS_MNEMONIC_INSW:
	case ZYDIS_MNEMONIC_INSD:
	case ZYDIS_MNEMONIC_OUTSB:
	case ZYDIS_MNEMONIC_OUTSW:
	case ZYDIS_MNEMONIC_OUTSD:
		return "port I/O";
	case ZYDIS_MNEMONIC_CLI:
	case ZYDIS_MNEMONIC_STI:
		return "interrupt flag change (privileged)";
	case ZYDIS_MNEMONIC_LGDT:
	case ZYDIS_MNEMONIC_LIDT:
	case ZYDIS_MNEMONIC_LLDT:
	case ZYDIS_MNEMONIC_LTR:
		return "descriptor table load (privileged)";
	case ZYDIS_MNEMONIC_RDMSR:
	case ZYDIS_MNEMONIC_WRMSR:
		return "model-specific register access (privileged)";
	case ZYDIS_MNEMONIC_LSS:
	case ZYDIS_MNEMONIC_LFS:
	case ZYDIS_MNEMONIC_LGS:
		return "segment register load";
	case ZYDIS_MNEMONIC_WRFSBASE:
	case ZYDIS_MNEMONIC_WRGSBASE:
		return "segment base write (would break thread pointers)";
	case ZYDIS_MNEMONIC_RET:
		if (in->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT &&
		    (in->opcode == 0xca || in->opcode == 0xcb))
			return "far return";
		break;
	case ZYDIS_MNEMONIC_MOV:
		if (in->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT &&
		    in->opcode == 0x8e)
			return "segment register load";
		break;
	case ZYDIS_MNEMONIC_POP:
		if (in->opcode_map == ZYDIS_OPCODE_MAP_0F &&
		    (in->opcode == 0xa1 || in->opcode == 0xa9))
			return "segment register load";
		break;
	default:
		break;
	}
	if (in->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR)
		return "far control transfer";
	if (in->attributes & ZYDIS_ATTRIB_IS_PRIVILEGED)
		return "privileged instruction";
	switch (in->meta.category) {
	case ZYDIS_CATEGORY_SYSCALL:
	case ZYDIS_CATEGORY_SYSRET:
		return "system call instruction";
	case ZYDIS_CATEGORY_INTERRUPT:
		return "software interrupt";
	case ZYDIS_CATEGORY_IO:
	case ZYDIS_CATEGORY_IOSTRINGOP:
		return "port I/O";
	case ZYDIS_CATEGORY_VTX:
		return "virtualisation instruction";
	case ZYDIS_CATEGORY_SGX:
		return "enclave instruction";
	case ZYDIS_CATEGORY_UINTR:
		return "user interrupt instruction";
	default:
		return NULL;
	}
}

static const char *
where(const struct sweep *sw, uint64_t va, char *buf, size_t len,
    uint64_t base)
{
	if (sw->st != NULL)
		return kld_where(sw->st, va, buf, len);
	snprintf(buf, len, "%s+%#llx", sw->name,
	    (unsigned long long)(va - base));
	return buf;
}

static void
hexbytes(const uint8_t *p, size_t n, char *buf)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n && i < 15; i++) {
		*buf++ = hx[p[i] >> 4];
		*buf++ = hx[p[i] & 15];
		*buf++ = ' ';
	}
	if (n > 0)
		buf--;
	*buf = '\0';
}

/* Past the cap on printed lines (or with no sink) a finding is only
 * counted: kld_report formats nothing then, and the caller should not
 * decode, format or look up symbols for it either. */
static bool
quiet(const struct sweep *sw, enum kld_severity sev)
{
	return sw->diag == NULL || (sev == KLD_ERROR ? sw->diag->nerrors :
	    sw->diag->nwarnings) >= KLD_MAX_REPORTS;
}

static void
report_insn(struct sweep *sw, const uint8_t *p, size_t avail, uint64_t va,
    uint64_t base, const char *why)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	ZydisFormatter fmt;
	char text[96] = "(undecodable)", loc[64], hex[48];
	size_t n = avail < 4 ? avail : 4;

	sw->errors++;
	if (quiet(sw, KLD_ERROR)) {
		kld_report(sw->diag, KLD_ERROR, "%s", why);
		return;
	}
	if (ZYAN_SUCCESS(ZydisDecoderDecodeFull(&sw->dec, p, avail, &in, ops))) {
		n = in.length;
		if (!ZYAN_SUCCESS(ZydisFormatterInit(&fmt,
		    ZYDIS_FORMATTER_STYLE_INTEL)) ||
		    !ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&fmt, &in,
		    ops, in.operand_count_visible, text, sizeof(text), va,
		    NULL)))
			snprintf(text, sizeof(text), "?");
	}
	hexbytes(p, n, hex);
	kld_report(sw->diag, KLD_ERROR, "krank-ld: %s: %s (%#llx): [%s] %s: "
	    "%s", sw->name, where(sw, va, loc, sizeof(loc), base),
	    (unsigned long long)va, hex, text, why);
}

static void
note_start(struct sweep *sw, uint64_t off)
{
	if (sw->nstarts == sw->capstarts) {
		size_t cap = sw->capstarts ? sw->capstarts * 2 : 16;
		uint64_t *v = realloc(sw->starts, cap * sizeof(*v));

		if (v == NULL)
			return;	/* only costs a duplicate warning */
		sw->starts = v;
		sw->capstarts = cap;
	}
	sw->starts[sw->nstarts++] = off;
}

/* off was refused as an instruction already.  Callers ask in ascending
 * order of off, so one cursor through the ascending starts answers all
 * of a region's questions in linear time (a search from the front each
 * time made a megabyte of syscalls cost minutes). */
static bool
is_start(struct sweep *sw, uint64_t off)
{
	while (sw->cursor < sw->nstarts && sw->starts[sw->cursor] < off)
		sw->cursor++;
	return sw->cursor < sw->nstarts && sw->starts[sw->cursor] == off;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++ != 0)
			return false;
	return true;
}

static const char undecodable[] =
    "bytes that do not decode to an instruction";

/*
 * A finding of the linear sweep, kept until the findings of every chunk
 * are known, then reported in address order (a large region is swept in
 * chunks on several threads; the serial sweep is one chunk).
 */
struct finding {
	size_t pos;
	const char *why;	/* undecodable, or insn_rule's reason */
};

struct chunk {
	const ZydisDecoder *dec;
	const uint8_t *code;
	size_t len;		/* the whole region: lookahead as in serial */
	size_t start, stop;	/* this chunk: [start, stop) */
	uint64_t va;
	const uint64_t *funcs;
	size_t nfuncs;
	struct finding *f;
	size_t nf, capf;
	bool bad_run;		/* state at the end (an undecodable run) */
	bool oom;
};

static void
chunk_add(struct chunk *c, size_t pos, const char *why)
{
	if (c->nf == c->capf) {
		size_t cap = c->capf ? c->capf * 2 : 16;
		struct finding *v = realloc(c->f, cap * sizeof(*v));

		if (v == NULL) {
			c->oom = true;	/* reported as an error: fail closed */
			return;
		}
		c->f = v;
		c->capf = cap;
	}
	c->f[c->nf].pos = pos;
	c->f[c->nf].why = why;
	c->nf++;
}

/*
 * Sweep code[start..stop) of the region code[0..len) that runs at
 * address va.  start is 0 or a resync point: the serial sweep passes
 * through every resync point exactly (it never steps over one), so a
 * chunk starting there sees what the serial sweep sees, except whether
 * an undecodable run was under way (see merge).
 */
static void
sweep_chunk(struct chunk *c)
{
	const uint8_t *code = c->code;
	size_t len = c->len, pos = c->start, fi = 0;
	uint64_t va = c->va;
	bool bad_run = false;

	while (pos < c->stop) {
		ZydisDecodedInstruction in;
		size_t next = len, n;
		const char *why;

		while (fi < c->nfuncs && c->funcs[fi] <= va + pos)
			fi++;
		if (fi < c->nfuncs && c->funcs[fi] < va + len)
			next = c->funcs[fi] - va;
		/* Runs of zero bytes (bss, page tails) are "add [rax], al"
		 * pairs: allowed, skipped without decoding. */
		if (pos + 1 < len && code[pos] == 0 && code[pos + 1] == 0) {
			size_t z = pos;

			for (uint64_t w; z + 8 <= len; z += 8) {
				memcpy(&w, code + z, 8);
				if (w != 0)
					break;
			}
			while (z < len && code[z] == 0)
				z++;
			pos += (z - pos) & ~(size_t)1;
			if (pos > next)
				pos = next;
			bad_run = false;
			continue;
		}
		/* Common allowed instructions: length by hand, no Zydis
		 * (most of gcc's output; kld_fastlen.c).  Until the next
		 * resync point or the chunk's end nothing else is needed
		 * per instruction: a tight loop (a zero pair or a length
		 * of 0 leaves it).  It leaves pos exactly where single
		 * steps of this loop would. */
		size_t lim = next < c->stop ? next : c->stop;

		if (lim > len - 1)
			lim = len - 1;		/* code[pos + 1] is read */
		if (pos < lim && (code[pos] | code[pos + 1]) != 0 &&
		    (n = kld_fast_len_inline(code + pos, len - pos)) != 0) {
			bad_run = false;
			pos += n;
			while (pos < lim && (code[pos] | code[pos + 1]) != 0 &&
			    (n = kld_fast_len_inline(code + pos, len - pos)) != 0)
				pos += n;
			if (pos > next)
				pos = next;
			continue;
		}
		if ((n = kld_fast_len_inline(code + pos, len - pos)) != 0) {
			bad_run = false;
			pos += n;
			if (pos > next)
				pos = next;
			continue;
		}
		if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(c->dec, NULL,
		    code + pos, len - pos, &in))) {
			/* Zero fill at the end of the last page: execution
			 * would run off the region and fault. */
			if (all_zero(code + pos, len - pos))
				break;
			/* One error per run of undecodable bytes. */
			if (!bad_run)
				chunk_add(c, pos, undecodable);
			bad_run = true;
			pos++;
			continue;
		}
		bad_run = false;
		if ((why = insn_rule(&in)) != NULL)
			chunk_add(c, pos, why);
		pos += in.length;
		if (pos > next)		/* ran over a function start */
			pos = next;
	}
	c->bad_run = bad_run;
}

/* Parallel sweep: threads (0: as many as CPUs) and the smallest region
 * worth splitting; kld_verify_set_parallel changes them (tests). */
static unsigned par_threads;
static size_t par_min = 256 * 1024;

void
kld_verify_set_parallel(unsigned threads, size_t min_len)
{
	par_threads = threads;
	par_min = min_len;
}

/* Threads to sweep on: par_threads, or the CPUs online (asked once: it
 * reads a file in /sys, three system calls per load). */
static unsigned
sweep_threads(void)
{
	static unsigned ncpu;
	unsigned k = par_threads;

	if (k == 0 && (k = __atomic_load_n(&ncpu, __ATOMIC_RELAXED)) == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		k = c > 0 ? (unsigned)c : 1;
		__atomic_store_n(&ncpu, k, __ATOMIC_RELAXED);
	}
	return k;
}

/* Chunks per sweeping thread: they take chunks in turn, so a thread
 * that runs late (thread start, another process on its CPU) or on
 * denser code takes fewer. */
#define KLD_CHUNKS_PER_THREAD	8
#define KLD_MAX_CHUNKS	128

/* Split a region of len bytes into up to k chunks, and where they
 * start: at the first resync point at or after each equal share. */
static unsigned
split(size_t len, uint64_t va, const uint64_t *funcs, size_t nfuncs,
    unsigned k, size_t *starts)
{
	unsigned n = 1;
	size_t fi = 0;

	starts[0] = 0;
	if (k < 2 || len < par_min || funcs == NULL)
		return 1;
	for (unsigned j = 1; j < k; j++) {
		uint64_t want = va + len / k * j;

		while (fi < nfuncs && (funcs[fi] < want ||
		    funcs[fi] - va <= starts[n - 1]))
			fi++;
		if (fi == nfuncs || funcs[fi] >= va + len)
			break;
		starts[n++] = funcs[fi] - va;
	}
	return n;
}

/* Report the findings of a region's chunks ch[0..n) in address order:
 * the same lines, in the same order, as one serial sweep. */
static void
merge_region(struct sweep *sw, const uint8_t *code, size_t len, uint64_t va,
    struct chunk *ch, unsigned n)
{
	for (unsigned j = 0; j < n; j++) {
		struct chunk *c = &ch[j];

		for (size_t i = 0; i < c->nf; i++) {
			const struct finding *f = &c->f[i];

			/* The serial sweep was inside an undecodable run
			 * when it reached this chunk's start: that run's
			 * error was reported already. */
			if (i == 0 && j > 0 && f->pos == c->start &&
			    f->why == undecodable && ch[j - 1].bad_run)
				continue;
			report_insn(sw, code + f->pos, len - f->pos,
			    va + f->pos, va, f->why);
			if (f->why != undecodable)
				note_start(sw, f->pos);
		}
		if (c->oom) {
			sw->errors++;
			kld_report(sw->diag, KLD_ERROR, "krank-ld: %s: out of "
			    "memory while verifying", sw->name);
		}
		free(c->f);
		c->f = NULL;
	}
}

/* Sweep raw code[0..len) that runs at address va (no resync points:
 * one chunk, here). */
static void
sweep_region(struct sweep *sw, const uint8_t *code, size_t len, uint64_t va)
{
	struct chunk ch = { .dec = &sw->dec, .code = code, .len = len,
	    .start = 0, .stop = len, .va = va };

	sweep_chunk(&ch);
	merge_region(sw, code, len, va, &ch, 1);
}
/* Byte patterns of syscall, sysenter and int 0x80 at any offset. */
static void
scan_hidden(struct sweep *sw, const uint8_t *code, size_t len, uint64_t va)
{
	enum kld_severity sev = sw->flags & KLD_STRICT ? KLD_ERROR :
	    KLD_WARNING;

	const uint8_t *n0f = len ? memchr(code, 0x0f, len) : NULL;
	const uint8_t *ncd = len ? memchr(code, 0xcd, len) : NULL;

	/* Visit only the offsets holding 0f or cd, in order (memchr is
	 * vectorised; a byte loop dominated the verifier's time). */
	while (n0f != NULL || ncd != NULL) {
		const char *what;
		char loc[64];
		size_t i;

		if (ncd == NULL || (n0f != NULL && n0f < ncd)) {
			i = (size_t)(n0f - code);
			n0f = i + 1 < len ? memchr(code + i + 1, 0x0f,
			    len - i - 1) : NULL;
		} else {
			i = (size_t)(ncd - code);
			ncd = i + 1 < len ? memchr(code + i + 1, 0xcd,
			    len - i - 1) : NULL;
		}
		if (i + 1 >= len)
			continue;
		if (code[i] == 0x0f && code[i + 1] == 0x05)
			what = "syscall (0f 05)";
		else if (code[i] == 0x0f && code[i + 1] == 0x34)
			what = "sysenter (0f 34)";
		else if (code[i] == 0xcd && code[i + 1] == 0x80)
			what = "int 0x80 (cd 80)";
		else
			continue;
		if (is_start(sw, i))
			continue;	/* already refused as an instruction */
		if (sev == KLD_ERROR)
			sw->errors++;
		if (quiet(sw, sev)) {
			kld_report(sw->diag, sev, "%s", what);
			continue;
		}
		kld_report(sw->diag, sev, "krank-ld: %s: %s (%#llx): hidden "
		    "%s inside other instructions%s", sw->name,
		    where(sw, va + i, loc, sizeof(loc), va),
		    (unsigned long long)(va + i), what,
		    sev == KLD_ERROR ? " (strict mode; --lax accepts it)" : "");
	}
}

static int
sweep_init(struct sweep *sw, const char *name, unsigned flags,
    struct kld_diag *diag)
{
	memset(sw, 0, sizeof(*sw));
	sw->name = name;
	sw->flags = flags;
	sw->diag = diag;
	if (!ZYAN_SUCCESS(ZydisDecoderInit(&sw->dec, ZYDIS_MACHINE_MODE_LONG_64,
	    ZYDIS_STACK_WIDTH_64)))
		return EINVAL;
	return 0;
}

static void
check_one(struct sweep *sw, const uint8_t *code, size_t len, uint64_t va)
{
	sw->nstarts = 0;
	sw->cursor = 0;
	sweep_region(sw, code, len, va);
	scan_hidden(sw, code, len, va);
}

int
kld_verify_code(const void *code, size_t len, uint64_t addr,
    const char *where_name, unsigned flags, struct kld_diag *diag)
{
	struct sweep sw;

	if (sweep_init(&sw, where_name, flags, diag) != 0)
		return EINVAL;
	check_one(&sw, code, len, addr);
	free(sw.starts);
	return sw.errors ? EACCES : 0;
}

/*
 * The sweep of a staged object, started by kld_verify_begin and finished
 * by kld_verify_end: its executable regions cut into chunks at resync
 * points, taken in turn by helper threads from the start and by the
 * caller once it has done its other work (kld_load writes the object's
 * read-only pages out meanwhile).  Nothing is reported before the end,
 * which reports every region's findings and then its hidden patterns,
 * in address order, as the serial sweep does.
 */
struct vregion {
	const uint8_t *code;
	size_t len;
	uint64_t va;
	unsigned c0, nc;		/* its chunks: ch[c0 .. c0 + nc) */
};

struct kld_vjob {
	struct sweep sw;
	unsigned nreg, nch, nthr;
	struct vregion reg[KLD_MAX_SEGS];
	struct chunk ch[KLD_MAX_CHUNKS];
	unsigned next;			/* the next chunk to take (atomic) */
	pthread_t tid[KLD_MAX_CHUNKS];
};

static void
vjob_work(struct kld_vjob *j)
{
	unsigned i;

	while ((i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) <
	    j->nch)
		sweep_chunk(&j->ch[i]);
}

static void *
vjob_thread(void *arg)
{
	vjob_work(arg);
	return NULL;
}

int
kld_verify_begin(struct kld_stage *st, struct kld_vjob **jobp)
{
	struct kld_vjob *j;
	unsigned k = sweep_threads(), want, helpers;

	*jobp = NULL;
	if ((j = malloc(sizeof(*j))) == NULL)
		return ENOMEM;
	if (sweep_init(&j->sw, st->name, st->flags, st->diag) != 0) {
		free(j);
		return EINVAL;
	}
	j->sw.st = st;
	j->nreg = j->nch = j->nthr = j->next = 0;
	if (k > KLD_MAX_CHUNKS / KLD_CHUNKS_PER_THREAD)
		k = KLD_MAX_CHUNKS / KLD_CHUNKS_PER_THREAD;
	want = k < 2 ? 1 : k * KLD_CHUNKS_PER_THREAD;
	for (unsigned i = 0; i < st->nseg; i++) {
		const struct kld_seg *s = &st->seg[i];
		uint64_t from = s->vaddr & ~4095ULL;
		uint64_t to = (s->vaddr + s->memsz + 4095) & ~4095ULL;
		struct vregion *r = &j->reg[j->nreg];
		size_t starts[KLD_MAX_CHUNKS], lo = 0;
		/* Room for this region's chunks and one for every later
		 * region (at most one a segment). */
		unsigned room = KLD_MAX_CHUNKS - j->nch - (st->nseg - 1 - i);

		if (!(s->flags & PF_X))
			continue;
		/* Whole pages: that is what becomes executable. */
		while (lo < st->nfuncs && st->funcs[lo] < from)
			lo++;
		r->code = st->map + (from - st->lo);
		r->len = to - from;
		r->va = from;
		r->c0 = j->nch;
		r->nc = split(r->len, from, st->funcs != NULL ? st->funcs +
		    lo : NULL, st->nfuncs - lo, want < room ? want : room,
		    starts);
		for (unsigned c = 0; c < r->nc; c++)
			j->ch[j->nch + c] = (struct chunk){ .dec = &j->sw.dec,
			    .code = r->code, .len = r->len,
			    .start = starts[c], .stop = c + 1 < r->nc ?
			    starts[c + 1] : r->len, .va = from,
			    .funcs = st->funcs != NULL ? st->funcs + lo : NULL,
			    .nfuncs = st->nfuncs - lo };
		j->nch += r->nc;
		j->nreg++;
	}
	/* Helpers only when some region was cut: small objects are swept
	 * by the caller alone, at the end, as before. */
	helpers = j->nch > j->nreg ? (k < j->nch ? k : j->nch) - 1 : 0;
	for (unsigned t = 0; t < helpers; t++) {
		if (pthread_create(&j->tid[j->nthr], NULL, vjob_thread, j) != 0)
			break;		/* the caller takes what is left */
		j->nthr++;
	}
	*jobp = j;
	return 0;
}

int
kld_verify_end(struct kld_vjob *j)
{
	struct sweep *sw = &j->sw;
	int error;

	vjob_work(j);
	for (unsigned t = 0; t < j->nthr; t++)
		pthread_join(j->tid[t], NULL);
	for (unsigned i = 0; i < j->nreg; i++) {
		const struct vregion *r = &j->reg[i];

		sw->nstarts = 0;
		sw->cursor = 0;
		merge_region(sw, r->code, r->len, r->va, &j->ch[r->c0], r->nc);
		scan_hidden(sw, r->code, r->len, r->va);
	}
	error = sw->errors ? EACCES : 0;
	free(sw->starts);
	free(j);
	return error;
}

int
kld_verify_stage(struct kld_stage *st)
{
	struct kld_vjob *j;
	int error;

	if ((error = kld_verify_begin(st, &j)) != 0)
		return error;
	return kld_verify_end(j);
}
