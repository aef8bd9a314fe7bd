/*
 * The snprintf family and console output of the isolate libc.  The
 * formatter writes into a bounded buffer and always returns the length the
 * full output would have had (C99).  Output goes through the host's write
 * hook: in KRANK, the isolate's descriptor table.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kld_libc.h"

struct out {
	char *buf;
	size_t cap, n;
};

static void
put(struct out *o, char c)
{
	if (o->n + 1 < o->cap)
		o->buf[o->n] = c;
	o->n++;
}

static void
puts_n(struct out *o, const char *s, size_t n)
{
	while (n--)
		put(o, *s++);
}

static void
pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

/*
 * x mod 10, exactly (fmodl's result), by the x87's partial remainder:
 * FPREM reduces the exponent by at most 63 per step and says in C2 when
 * it is not done.  Inline so that libkrank-loader does not need libm,
 * one library fewer for every program that links it (krank's start).
 */
static long double
rem10l(long double x)
{
	long double r;

	__asm__("1:\tfprem\n\tfnstsw %%ax\n\ttestw $0x400, %%ax\n\tjnz 1b"
	    : "=t"(r) : "0"(x), "u"(10.0L) : "ax", "cc");
	return r;
}

enum { F_MINUS = 1, F_PLUS = 2, F_SPACE = 4, F_HASH = 8, F_ZERO = 16 };

/* Emit sign/prefix, zero or space padding and the digits. */
static void
emit_num(struct out *o, const char *pre, const char *dig, size_t nd,
    int flags, int width, int prec)
{
	size_t np = strlen(pre);
	int zeros = prec > (int)nd ? prec - (int)nd : 0;
	int len = (int)(np + nd) + zeros;

	if (!(flags & F_MINUS) && !((flags & F_ZERO) && prec < 0))
		pad(o, ' ', width - len);
	puts_n(o, pre, np);
	if (!(flags & F_MINUS) && (flags & F_ZERO) && prec < 0)
		pad(o, '0', width - len);
	pad(o, '0', zeros);
	puts_n(o, dig, nd);
	if (flags & F_MINUS)
		pad(o, ' ', width - len);
}

static size_t
utoa(unsigned long long v, unsigned base, int upper, char *end)
{
	const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;

	do {
		*--p = d[v % base];
		v /= base;
	} while (v);
	return (size_t)(end - p);
}

/* %f and %e: scale to an integer of prec+1 significant parts in long
 * double; exact for the precisions isolates print (up to ~15 digits). */
static void
emit_float(struct out *o, long double v, char conv, int flags, int width,
    int prec)
{
	char dig[400], pre[2] = { 0 };
	size_t n = 0;
	int exp10 = 0, upper = conv == 'E' || conv == 'G' || conv == 'F';
	int gstyle = conv == 'g' || conv == 'G', strip = 0;
	long double m;

	if (prec < 0)
		prec = 6;
	if (__builtin_signbit(v)) {
		pre[0] = '-';
		v = -v;
	} else if (flags & F_PLUS)
		pre[0] = '+';
	else if (flags & F_SPACE)
		pre[0] = ' ';
	if (v != v || v > 1.7976931348623157e308L * 2) {
		const char *s = v != v ? (upper ? "NAN" : "nan") :
		    (upper ? "INF" : "inf");
		emit_num(o, pre, s, 3, flags & ~F_ZERO, width, -1);
		return;
	}
	if (prec > 300)
		prec = 300;
	if (v != 0) {
		for (m = v; m >= 10; m /= 10)
			exp10++;
		for (; m < 1; m *= 10)
			exp10--;
	}
	if (gstyle) {
		int p = prec == 0 ? 1 : prec;

		strip = !(flags & F_HASH);
		if (exp10 < p && exp10 >= -4) {
			conv = 'f';
			prec = p - 1 - exp10;
		} else {
			conv = 'e';
			prec = p - 1;
		}
	}
	if (conv == 'f' || conv == 'F') {
		long double ip, scaled = v;
		char tmp[400];
		size_t ni;

		for (int i = 0; i < prec; i++)
			scaled *= 10;
		scaled = __builtin_rintl(scaled);
		/* Integer part digits then fraction, from the scaled value. */
		ni = 0;
		if (scaled < 1e18L) {
			unsigned long long u = (unsigned long long)scaled;
			ni = utoa(u, 10, 0, tmp + sizeof(tmp));
			memmove(tmp, tmp + sizeof(tmp) - ni, ni);
		} else {
			for (ip = scaled; ip >= 1 && ni < sizeof(tmp) - 1;
			    ip = __builtin_floorl(ip / 10)) {
				tmp[ni++] = (char)('0' + (int)rem10l(ip));
			}
			for (size_t i = 0; i < ni / 2; i++) {
				char t = tmp[i];
				tmp[i] = tmp[ni - 1 - i];
				tmp[ni - 1 - i] = t;
			}
		}
		while ((int)ni < prec + 1) {	/* leading zeros */
			memmove(tmp + 1, tmp, ni++);
			tmp[0] = '0';
		}
		memcpy(dig, tmp, ni - (size_t)prec);
		n = ni - (size_t)prec;
		if (prec > 0 || (flags & F_HASH))
			dig[n++] = '.';
		memcpy(dig + n, tmp + ni - prec, (size_t)prec);
		n += (size_t)prec;
	} else {
		long double scaled = v;
		unsigned long long u;
		char tmp[40];
		size_t nt;
		int e = exp10;

		/* Normalise to one digit before the point, then round. */
		for (int i = 0; i < e; i++)
			scaled /= 10;
		for (int i = 0; i > e; i--)
			scaled *= 10;
		if (prec > 17)
			prec = 17;
		for (int i = 0; i < prec; i++)
			scaled *= 10;
		scaled = __builtin_rintl(scaled);
		u = (unsigned long long)scaled;
		nt = utoa(u, 10, 0, tmp + sizeof(tmp));
		if ((int)nt > prec + 1 && v != 0) {	/* 9.99 -> 10.0 */
			e++;
			u /= 10;
			nt = utoa(u, 10, 0, tmp + sizeof(tmp));
		}
		memcpy(dig, tmp + sizeof(tmp) - nt, 1);
		n = 1;
		if (prec > 0 || (flags & F_HASH))
			dig[n++] = '.';
		memcpy(dig + n, tmp + sizeof(tmp) - nt + 1, nt - 1);
		n += nt - 1;
		if (strip)
			goto strip_zeros;
expo:
		dig[n++] = upper ? 'E' : 'e';
		dig[n++] = e < 0 ? '-' : '+';
		{
			char et[8];
			size_t ne = utoa((unsigned)(e < 0 ? -e : e), 10, 0,
			    et + sizeof(et));
			if (ne < 2)
				dig[n++] = '0';
			memcpy(dig + n, et + sizeof(et) - ne, ne);
			n += ne;
		}
		emit_num(o, pre, dig, n, flags, width, -1);
		return;
strip_zeros:
		if (memchr(dig, '.', n) != NULL) {
			while (dig[n - 1] == '0')
				n--;
			if (dig[n - 1] == '.')
				n--;
		}
		strip = 0;
		goto expo;
	}
	if (strip && memchr(dig, '.', n) != NULL) {
		while (dig[n - 1] == '0')
			n--;
		if (dig[n - 1] == '.')
			n--;
	}
	emit_num(o, pre, dig, n, flags, width, -1);
}

int
kld_libc_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct out o = { buf, cap, 0 };

	for (; *fmt; fmt++) {
		int flags = 0, width = 0, prec = -1, lng = 0;
		char tmp[72], pre[3] = { 0 };
		unsigned long long u;
		long long s;
		size_t nd;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		for (;; fmt++) {
			int f = fmt[1] == '-' ? F_MINUS : fmt[1] == '+' ?
			    F_PLUS : fmt[1] == ' ' ? F_SPACE : fmt[1] == '#' ?
			    F_HASH : fmt[1] == '0' ? F_ZERO : 0;
			if (f == 0)
				break;
			flags |= f;
		}
		fmt++;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= F_MINUS;
				width = -width;
			}
			fmt++;
		} else
			while (kld_libc_isdigit(*fmt))
				width = width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			} else
				while (kld_libc_isdigit(*fmt))
					prec = prec * 10 + (*fmt++ - '0');
		}
		for (;; fmt++) {
			if (*fmt == 'h')
				lng = lng <= 0 ? lng - 1 : lng;
			else if (*fmt == 'l')
				lng++;
			else if (*fmt == 'z' || *fmt == 't' || *fmt == 'j')
				lng = 2;
			else if (*fmt == 'L')
				lng = 3;
			else
				break;
		}
		switch (*fmt) {
		case 'd':
		case 'i':
			s = lng >= 2 ? va_arg(ap, long long) : lng == 1 ?
			    va_arg(ap, long) : va_arg(ap, int);
			if (lng == -1)
				s = (short)s;
			else if (lng <= -2)
				s = (signed char)s;
			u = s < 0 ? 0 - (unsigned long long)s :
			    (unsigned long long)s;
			pre[0] = s < 0 ? '-' : flags & F_PLUS ? '+' :
			    flags & F_SPACE ? ' ' : 0;
			nd = prec == 0 && u == 0 ? 0 :
			    utoa(u, 10, 0, tmp + sizeof(tmp));
			emit_num(&o, pre, tmp + sizeof(tmp) - nd, nd, flags,
			    width, prec);
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
		case 'p':
			if (*fmt == 'p') {
				u = (uintptr_t)va_arg(ap, void *);
				flags |= F_HASH;
			} else
				u = lng >= 2 ? va_arg(ap, unsigned long long) :
				    lng == 1 ? va_arg(ap, unsigned long) :
				    va_arg(ap, unsigned);
			if (lng == -1)
				u = (unsigned short)u;
			else if (lng <= -2)
				u = (unsigned char)u;
			nd = prec == 0 && u == 0 ? 0 : utoa(u, *fmt == 'u' ?
			    10 : *fmt == 'o' ? 8 : 16, *fmt == 'X',
			    tmp + sizeof(tmp));
			if ((flags & F_HASH) && u != 0 && *fmt != 'u' &&
			    *fmt != 'o') {
				pre[0] = '0';
				pre[1] = *fmt == 'X' ? 'X' : 'x';
			}
			if ((flags & F_HASH) && *fmt == 'o' &&
			    (nd == 0 || tmp[sizeof(tmp) - nd] != '0') &&
			    prec <= (int)nd)
				prec = (int)nd + 1;
			emit_num(&o, pre, tmp + sizeof(tmp) - nd, nd, flags,
			    width, prec);
			break;
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			emit_num(&o, "", tmp, 1, flags & ~F_ZERO, width, -1);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);

			if (str == NULL)
				str = "(null)";
			nd = prec >= 0 ? kld_libc_strnlen(str, (size_t)prec) :
			    kld_libc_strlen(str);
			emit_num(&o, "", str, nd, flags & ~F_ZERO, width, -1);
			break;
		}
		case 'f':
		case 'F':
		case 'e':
		case 'E':
		case 'g':
		case 'G':
			emit_float(&o, lng == 3 ? va_arg(ap, long double) :
			    va_arg(ap, double), *fmt, flags, width, prec);
			break;
		case '%':
			put(&o, '%');
			break;
		case 'n':
			*va_arg(ap, int *) = (int)o.n;
			break;
		default:	/* unknown conversion: print it as is */
			put(&o, '%');
			if (*fmt == '\0')
				fmt--;
			else
				put(&o, *fmt);
			break;
		}
	}
	if (cap > 0)
		buf[o.n < cap ? o.n : cap - 1] = '\0';
	return o.n > INT32_MAX ? -1 : (int)o.n;
}

int
kld_libc_snprintf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kld_libc_vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

int
kld_libc_vsprintf(char *buf, const char *fmt, va_list ap)
{
	return kld_libc_vsnprintf(buf, SIZE_MAX / 2, fmt, ap);
}

int
kld_libc_sprintf(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kld_libc_vsprintf(buf, fmt, ap);
	va_end(ap);
	return n;
}

long
kld_libc_write(int fd, const void *p, size_t n)
{
	if (kld_libc_host.write == NULL) {
		*kld_libc_errno() = EIO;
		return -1;
	}
	return kld_libc_host.write(fd, p, n);
}

int
kld_libc_vdprintf(int fd, const char *fmt, va_list ap)
{
	char small[512], *big = NULL, *p = small;
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = kld_libc_vsnprintf(small, sizeof(small), fmt, ap);
	if (n >= (int)sizeof(small)) {
		if ((big = kld_libc_malloc((size_t)n + 1)) == NULL) {
			va_end(ap2);
			return -1;
		}
		kld_libc_vsnprintf(big, (size_t)n + 1, fmt, ap2);
		p = big;
	}
	va_end(ap2);
	if (n > 0 && kld_libc_write(fd, p, (size_t)n) != n)
		n = -1;
	kld_libc_free(big);
	return n;
}

int
kld_libc_dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kld_libc_vdprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}

int
kld_libc_vprintf(const char *fmt, va_list ap)
{
	return kld_libc_vdprintf(1, fmt, ap);
}

int
kld_libc_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kld_libc_vdprintf(1, fmt, ap);
	va_end(ap);
	return n;
}

int
kld_libc_puts(const char *s)
{
	size_t n = kld_libc_strlen(s);
	char line[512];

	/* A short line goes out in one write: one host call instead of two,
	 * and lines from several threads do not interleave. */
	if (n < sizeof(line)) {
		kld_libc_memcpy(line, s, n);
		line[n] = '\n';
		return kld_libc_write(1, line, n + 1) == (long)n + 1 ?
		    (int)n + 1 : -1;
	}
	if (kld_libc_write(1, s, n) != (long)n || kld_libc_write(1, "\n", 1) != 1)
		return -1;
	return (int)n + 1;
}

int
kld_libc_putchar(int c)
{
	unsigned char ch = (unsigned char)c;

	return kld_libc_write(1, &ch, 1) == 1 ? ch : -1;
}
