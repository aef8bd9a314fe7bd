/*
 * The JIT API with a real code generator: an expression compiler that
 * turns "(x + 3) * y % 7" into x86-64 code.  Its output must seal, run and
 * agree with an interpreter on hundreds of random expressions; a region
 * holding a syscall must be refused; a region must never be writable and
 * executable at once (checked in /proc/self/maps and by a write that must
 * fault); unseal/patch/reseal must change the result.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "krank/kld.h"

static int failures, checks;

#define CHECK(cond, ...) do {						\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		printf("FAIL %s:%d: ", __FILE__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

/* --- the expression compiler: recursive descent to a stack machine --- */
struct gen {
	const char *p;
	uint8_t *code;
	size_t n, cap;
	int err;
};

static void
emit(struct gen *g, const void *b, size_t n)
{
	if (g->n + n > g->cap) {
		g->err = 1;
		return;
	}
	memcpy(g->code + g->n, b, n);
	g->n += n;
}

static void
skip(struct gen *g)
{
	while (*g->p == ' ')
		g->p++;
}

static void expr(struct gen *g);

static void
atom(struct gen *g)
{
	skip(g);
	if (*g->p == '(') {
		g->p++;
		expr(g);
		skip(g);
		if (*g->p++ != ')')
			g->err = 1;
	} else if (*g->p == '-') {
		static const uint8_t neg[] = { 0x58, 0x48, 0xf7, 0xd8, 0x50 };

		g->p++;
		atom(g);
		emit(g, neg, sizeof(neg));	/* pop rax; neg rax; push rax */
	} else if (*g->p == 'x') {
		g->p++;
		emit(g, "\x57", 1);		/* push rdi */
	} else if (*g->p == 'y') {
		g->p++;
		emit(g, "\x56", 1);		/* push rsi */
	} else if (*g->p >= '0' && *g->p <= '9') {
		int64_t v = strtoll(g->p, (char **)&g->p, 10);
		uint8_t mov[10] = { 0x48, 0xb8 };

		memcpy(mov + 2, &v, 8);		/* movabs rax, v; push rax */
		emit(g, mov, sizeof(mov));
		emit(g, "\x50", 1);
	} else
		g->err = 1;
}

static void
binop(struct gen *g, char op)
{
	static const uint8_t pre[] = { 0x59, 0x58 };	/* pop rcx; pop rax */
	static const uint8_t add[] = { 0x48, 0x01, 0xc8 };
	static const uint8_t sub[] = { 0x48, 0x29, 0xc8 };
	static const uint8_t mul[] = { 0x48, 0x0f, 0xaf, 0xc1 };
	static const uint8_t div[] = { 0x48, 0x99, 0x48, 0xf7, 0xf9 };
	static const uint8_t mod[] = { 0x48, 0x99, 0x48, 0xf7, 0xf9,
	    0x48, 0x89, 0xd0 };

	emit(g, pre, sizeof(pre));
	switch (op) {
	case '+': emit(g, add, sizeof(add)); break;
	case '-': emit(g, sub, sizeof(sub)); break;
	case '*': emit(g, mul, sizeof(mul)); break;
	case '/': emit(g, div, sizeof(div)); break;
	case '%': emit(g, mod, sizeof(mod)); break;
	}
	emit(g, "\x50", 1);			/* push rax */
}

static void
term(struct gen *g)
{
	atom(g);
	for (skip(g); *g->p == '*' || *g->p == '/' || *g->p == '%'; skip(g)) {
		char op = *g->p++;

		atom(g);
		binop(g, op);
	}
}

static void
expr(struct gen *g)
{
	term(g);
	for (skip(g); *g->p == '+' || *g->p == '-'; skip(g)) {
		char op = *g->p++;

		term(g);
		binop(g, op);
	}
}

static int
compile(const char *src, uint8_t *code, size_t cap, size_t *len)
{
	struct gen g = { src, code, 0, cap, 0 };

	expr(&g);
	skip(&g);
	emit(&g, "\x58\xc3", 2);		/* pop rax; ret */
	*len = g.n;
	return g.err || *g.p != '\0' ? -1 : 0;
}

/* --- reference interpreter over the same grammar --- */
struct ev {
	const char *p;
	int64_t x, y;
	int err;
};

static int64_t eexpr(struct ev *e);

static int64_t
eatom(struct ev *e)
{
	int64_t v;

	while (*e->p == ' ')
		e->p++;
	if (*e->p == '(') {
		e->p++;
		v = eexpr(e);
		while (*e->p == ' ')
			e->p++;
		e->p++;
		return v;
	}
	if (*e->p == '-') {
		e->p++;
		return (int64_t)(0 - (uint64_t)eatom(e));
	}
	if (*e->p == 'x' || *e->p == 'y')
		return *e->p++ == 'x' ? e->x : e->y;
	return strtoll(e->p, (char **)&e->p, 10);
}

static int64_t
eterm(struct ev *e)
{
	int64_t v = eatom(e);

	for (;;) {
		char op;
		int64_t r;

		while (*e->p == ' ')
			e->p++;
		if (*e->p != '*' && *e->p != '/' && *e->p != '%')
			return v;
		op = *e->p++;
		r = eatom(e);
		if (op == '*')
			v = (int64_t)((uint64_t)v * (uint64_t)r);
		else if (r == 0 || (v == INT64_MIN && r == -1))
			e->err = 1, v = 0;
		else
			v = op == '/' ? v / r : v % r;
	}
}

static int64_t
eexpr(struct ev *e)
{
	int64_t v = eterm(e);

	for (;;) {
		char op;

		while (*e->p == ' ')
			e->p++;
		if (*e->p != '+' && *e->p != '-')
			return v;
		op = *e->p++;
		v = op == '+' ? (int64_t)((uint64_t)v + (uint64_t)eterm(e)) :
		    (int64_t)((uint64_t)v - (uint64_t)eterm(e));
	}
}

static uint64_t rng = 0x243f6a8885a308d3ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void
random_expr(char *b, size_t cap, int depth)
{
	static const char ops[] = "+-*/%";

	if (depth == 0 || rnd(3) == 0) {
		int k = rnd(3);

		snprintf(b, cap, "%s", k == 0 ? "x" : k == 1 ? "y" : "");
		if (k == 2)
			snprintf(b, cap, "%u", rnd(1000));
		return;
	}
	char l[400], r[400];

	random_expr(l, sizeof(l), depth - 1);
	random_expr(r, sizeof(r), depth - 1);
	snprintf(b, cap, "(%s %c %s)", l, ops[rnd(5)], r);
}

/* Protection of the mapping holding addr, from /proc/self/maps. */
static void
prot_of(const void *addr, char out[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	strcpy(out, "????");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;
		char perm[5];

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perm) == 3 &&
		    (uintptr_t)addr >= lo && (uintptr_t)addr < hi) {
			memcpy(out, perm, 5);
			break;
		}
	}
	fclose(f);
}

/* Does writing to p kill a child with SIGSEGV? */
static int
write_faults(volatile uint8_t *p)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		*p = 0xc3;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
}

static void
diag_print(void *arg, enum kld_severity sev, const char *line)
{
	(void)arg;
	printf("  %s%s\n", sev == KLD_WARNING ? "warning: " : "", line);
}

int
main(void)
{
	static const struct { const char *src; int64_t x, y, want; } fixed[] = {
		{ "1 + 2 * 3", 0, 0, 7 },
		{ "(x + 3) * (y - 2)", 4, 10, 56 },
		{ "x * x - y / 2 % 5", 9, 27, 78 },
		{ "-(x - 100) * -y", 1, 2, -198 },
		{ "1000000007 * 1000000009 % 998244353", 0, 0,
		    (int64_t)(1000000007LL * 1000000009LL % 998244353LL) },
	};
	struct kld_diag d = { .fn = diag_print };
	struct kld_stats s0, s1;
	struct kld_jit *j;
	size_t len;
	char perm[5];
	int error, agree = 0;

	CHECK(kld_jit_alloc(65536, &j) == 0, "kld_jit_alloc");
	uint8_t *code = kld_jit_code(j);
	int64_t (*fn)(int64_t, int64_t) = (int64_t (*)(int64_t, int64_t))
	    (uintptr_t)code;

	prot_of(code, perm);
	CHECK(strncmp(perm, "rw-", 3) == 0, "new region is %s, want rw-", perm);

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		CHECK(compile(fixed[i].src, code, 65536, &len) == 0, "compile %s",
		    fixed[i].src);
		CHECK((error = kld_jit_seal(j, len, 0, &d)) == 0,
		    "seal %s: %d", fixed[i].src, error);
		prot_of(code, perm);
		CHECK(strcmp(perm, "r-xp") == 0, "sealed region is %s", perm);
		CHECK(fn(fixed[i].x, fixed[i].y) == fixed[i].want,
		    "%s = %lld, want %lld", fixed[i].src,
		    (long long)fn(fixed[i].x, fixed[i].y),
		    (long long)fixed[i].want);
		CHECK(kld_jit_unseal(j) == 0, "unseal");
	}
	printf("ok   %zu fixed expressions compiled, sealed, ran right\n",
	    sizeof(fixed) / sizeof(fixed[0]));

	/* Random expressions against the interpreter. */
	for (int i = 0; i < 400; i++) {
		char src[1024];
		struct ev e;
		int64_t want;

		random_expr(src, sizeof(src), 4);
		e.p = src;
		e.x = (int64_t)rnd(2000) - 1000;
		e.y = (int64_t)rnd(2000) - 1000;
		e.err = 0;
		want = eexpr(&e);
		if (e.err)
			continue;	/* division by zero: not a JIT question */
		if (compile(src, code, 65536, &len) != 0 ||
		    kld_jit_seal(j, len, 0, NULL) != 0) {
			CHECK(0, "compile/seal %s", src);
			continue;
		}
		CHECK(fn(e.x, e.y) == want, "%s with x=%lld y=%lld: %lld, want "
		    "%lld", src, (long long)e.x, (long long)e.y,
		    (long long)fn(e.x, e.y), (long long)want);
		agree++;
		kld_jit_unseal(j);
	}
	CHECK(agree > 200, "only %d random expressions were checked", agree);
	printf("ok   %d random expressions agree with the interpreter\n", agree);

	/* Sealed code cannot be written; unsealed code cannot run. */
	compile("x + y", code, 65536, &len);
	CHECK(kld_jit_seal(j, len, 0, NULL) == 0, "seal x + y");
	CHECK(write_faults(code) == 1, "writing sealed code did not fault");
	CHECK(kld_jit_seal(j, len, 0, NULL) == EINVAL, "double seal accepted");
	CHECK(kld_jit_unseal(j) == 0, "unseal");
	CHECK(kld_jit_unseal(j) == EINVAL, "double unseal accepted");
	prot_of(code, perm);
	CHECK(strncmp(perm, "rw-", 3) == 0, "unsealed region is %s", perm);
	printf("ok   sealed code faults on write; unsealed code is rw-\n");

	/* Patch: change the constant of "x + 5" in place, reseal. */
	compile("x + 5", code, 65536, &len);
	CHECK(kld_jit_seal(j, len, 0, NULL) == 0 && fn(10, 0) == 15, "x + 5");
	CHECK(kld_jit_unseal(j) == 0, "unseal for patch");
	{
		int64_t v = 500;	/* movabs after push rdi: bytes 1..10 */
		memcpy(code + 3, &v, 8);
	}
	CHECK(kld_jit_seal(j, len, 0, NULL) == 0 && fn(10, 0) == 510,
	    "patched x + 500 gives %lld", (long long)fn(10, 0));
	CHECK(kld_jit_unseal(j) == 0, "unseal");
	printf("ok   unseal, patch, reseal changes the result\n");

	/* Generated code with a syscall: refused, stays non-executable. */
	kld_stats_get(&s0);
	{
		static const uint8_t sys[] = { 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05,
		    0xc3 };	/* mov eax, 39 (getpid); syscall; ret */
		struct kld_diag d2 = { 0 };

		memset(code, 0, kld_jit_size(j));
		memcpy(code, sys, sizeof(sys));
		error = kld_jit_seal(j, sizeof(sys), 0, &d2);
		CHECK(error == EACCES, "seal of a syscall returned %d", error);
		CHECK(strstr(d2.first, "syscall: system call instruction") !=
		    NULL, "reason: '%s'", d2.first);
		printf("ok   refused: %s\n", d2.first);
	}
	prot_of(code, perm);
	CHECK(strncmp(perm, "rw-", 3) == 0, "refused region is %s", perm);
	kld_stats_get(&s1);
	CHECK(s1.jit_seals_refused == s0.jit_seals_refused + 1,
	    "refusal not counted");

	/* Syscall bytes inside an immediate: allowed, refused when strict. */
	memset(code, 0, kld_jit_size(j));
	compile("x + 1295", code, 65536, &len);	/* 1295 = 0x050f */
	CHECK(kld_jit_seal(j, len, 0, NULL) == 0, "hidden pattern, lax");
	CHECK(fn(5, 0) == 1300, "x + 1295");
	CHECK(kld_jit_unseal(j) == 0, "unseal");
	CHECK(kld_jit_seal(j, len, KLD_STRICT, NULL) == EACCES,
	    "hidden syscall accepted with KLD_STRICT");
	printf("ok   syscall bytes in an immediate: accepted, refused when "
	    "strict\n");
	kld_jit_free(j);

	/* Two sealed regions never form one executable range: one ends in
	 * 0f, the next would start with 05 (a syscall split across the
	 * seam, which neither seal sees).  Guard pages keep them apart, and
	 * the pages on both sides of each are not executable. */
	{
		struct kld_jit *a, *b;
		char before[5], after[5];

		CHECK(kld_jit_alloc(4096, &a) == 0 && kld_jit_alloc(4096, &b)
		    == 0, "two regions");
		uint8_t *ca = kld_jit_code(a), *cb = kld_jit_code(b);
		memset(ca, 0x90, 4096);
		ca[4095] = 0x0f;	/* the last instruction: cut */
		cb[0] = 0x05;
		memset(cb + 1, 0xc3, 4095);
		/* b alone is fine (05 c3 c3 c3 c3 is add eax, imm32); a's
		 * cut 0f is refused.  What matters is where they lie. */
		CHECK(kld_jit_seal(b, 4096, 0, NULL) == 0, "seal of b");
		CHECK(kld_jit_seal(a, 4096, 0, NULL) == EACCES,
		    "a's trailing 0f is refused on its own");
		CHECK(ca + 4096 != cb && cb + 4096 != ca,
		    "regions are not adjacent (%p, %p)", (void *)ca, (void *)cb);
		prot_of(ca - 4096, before);
		prot_of(ca + 4096, after);
		CHECK(before[2] != 'x' && after[2] != 'x', "the pages around a "
		    "region are not executable (%s before, %s after)", before,
		    after);
		prot_of(cb - 4096, before);
		prot_of(cb + 4096, after);
		CHECK(before[2] != 'x' && after[2] != 'x', "the pages around a "
		    "region are not executable (%s before, %s after)", before,
		    after);
		kld_jit_free(a);
		kld_jit_free(b);
		printf("ok   JIT regions lie between guard pages: never one "
		    "executable range with a neighbour\n");
	}

	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
