/*
 * Calendar time for the isolate libc, UTC only (no time zones, C
 * locale): gmtime_r, timegm and strftime - what an HTTP server needs for
 * its Date and Last-Modified headers.  Pure computation.
 */
#include <stdint.h>

#include "kld_libc.h"

/* glibc's struct tm. */
struct kld_tm {
	int tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year, tm_wday;
	int tm_yday, tm_isdst;
	long tm_gmtoff;
	const char *tm_zone;
};

static const char *const wday_name[] = { "Sunday", "Monday", "Tuesday",
	"Wednesday", "Thursday", "Friday", "Saturday" };
static const char *const mon_name[] = { "January", "February", "March",
	"April", "May", "June", "July", "August", "September", "October",
	"November", "December" };

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's
 * days_from_civil); m is 1..12. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void *
kld_libc_gmtime_r(const int64_t *t, void *out)
{
	struct kld_tm *tm = out;
	int64_t s = *t, days = s / 86400, rem = s % 86400;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	/* civil_from_days */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int d = (int)(doy - (153 * mp + 2) / 5 + 1);
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);
	y += m <= 2;
	if (y - 1900 > INT32_MAX || y - 1900 < INT32_MIN) {
		*kld_libc_errno() = 75;	/* EOVERFLOW */
		return NULL;
	}
	tm->tm_year = (int)(y - 1900);
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	tm->tm_hour = (int)(rem / 3600);
	tm->tm_min = (int)(rem / 60 % 60);
	tm->tm_sec = (int)(rem % 60);
	tm->tm_wday = (int)(((days % 7) + 11) % 7);	/* 1970-01-01: Thu */
	tm->tm_yday = (int)(days - days_from_civil(y, 1, 1));
	tm->tm_isdst = 0;
	tm->tm_gmtoff = 0;
	tm->tm_zone = "GMT";
	return tm;
}

int64_t
kld_libc_timegm(void *in)
{
	struct kld_tm *tm = in;
	int64_t y = (int64_t)tm->tm_year + 1900 + tm->tm_mon / 12;
	int mon = tm->tm_mon % 12;

	if (mon < 0) {
		mon += 12;
		y--;
	}
	int64_t t = days_from_civil(y, mon + 1, 1) + tm->tm_mday - 1;
	t = t * 86400 + (int64_t)tm->tm_hour * 3600 + (int64_t)tm->tm_min * 60 +
	    tm->tm_sec;
	kld_libc_gmtime_r(&t, tm);
	return t;
}

size_t
kld_libc_strftime(char *buf, size_t cap, const char *fmt, const void *in)
{
	const struct kld_tm *tm = in;
	size_t n = 0;
	char tmp[64];

	if (cap == 0)
		return 0;
	for (; *fmt; fmt++) {
		const char *piece = tmp;
		size_t len;

		if (*fmt != '%' || fmt[1] == '\0') {
			tmp[0] = *fmt;
			tmp[1] = '\0';
		} else {
			int wd = tm->tm_wday >= 0 && tm->tm_wday < 7 ?
			    tm->tm_wday : 0;
			int mo = tm->tm_mon >= 0 && tm->tm_mon < 12 ?
			    tm->tm_mon : 0;
			int y = tm->tm_year + 1900;

			switch (*++fmt) {
			case 'a': kld_libc_snprintf(tmp, sizeof(tmp), "%.3s",
				    wday_name[wd]); break;
			case 'A': piece = wday_name[wd]; break;
			case 'b': case 'h': kld_libc_snprintf(tmp, sizeof(tmp),
				    "%.3s", mon_name[mo]); break;
			case 'B': piece = mon_name[mo]; break;
			case 'd': kld_libc_snprintf(tmp, sizeof(tmp), "%02d",
				    tm->tm_mday); break;
			case 'e': kld_libc_snprintf(tmp, sizeof(tmp), "%2d",
				    tm->tm_mday); break;
			case 'H': kld_libc_snprintf(tmp, sizeof(tmp), "%02d",
				    tm->tm_hour); break;
			case 'I': kld_libc_snprintf(tmp, sizeof(tmp), "%02d",
				    (tm->tm_hour + 11) % 12 + 1); break;
			case 'j': kld_libc_snprintf(tmp, sizeof(tmp), "%03d",
				    tm->tm_yday + 1); break;
			case 'm': kld_libc_snprintf(tmp, sizeof(tmp), "%02d",
				    tm->tm_mon + 1); break;
			case 'M': kld_libc_snprintf(tmp, sizeof(tmp), "%02d",
				    tm->tm_min); break;
			case 'p': piece = tm->tm_hour < 12 ? "AM" : "PM"; break;
			case 'S': kld_libc_snprintf(tmp, sizeof(tmp), "%02d",
				    tm->tm_sec); break;
			case 'y': kld_libc_snprintf(tmp, sizeof(tmp), "%02d",
				    ((y % 100) + 100) % 100); break;
			case 'Y': kld_libc_snprintf(tmp, sizeof(tmp), "%d", y);
				break;
			case 'F': kld_libc_snprintf(tmp, sizeof(tmp),
				    "%d-%02d-%02d", y, tm->tm_mon + 1,
				    tm->tm_mday); break;
			case 'T': kld_libc_snprintf(tmp, sizeof(tmp),
				    "%02d:%02d:%02d", tm->tm_hour, tm->tm_min,
				    tm->tm_sec); break;
			case 'w': kld_libc_snprintf(tmp, sizeof(tmp), "%d", wd);
				break;
			case 'u': kld_libc_snprintf(tmp, sizeof(tmp), "%d",
				    wd == 0 ? 7 : wd); break;
			case 'D': kld_libc_snprintf(tmp, sizeof(tmp),
				    "%02d/%02d/%02d", tm->tm_mon + 1,
				    tm->tm_mday, ((y % 100) + 100) % 100); break;
			case 'R': kld_libc_snprintf(tmp, sizeof(tmp),
				    "%02d:%02d", tm->tm_hour, tm->tm_min); break;
			case 'Z': piece = "GMT"; break;
			case 'z': piece = "+0000"; break;
			case 'n': piece = "\n"; break;
			case 't': piece = "\t"; break;
			case '%': piece = "%"; break;
			default:
				kld_libc_snprintf(tmp, sizeof(tmp), "%%%c", *fmt);
			}
		}
		len = kld_libc_strlen(piece);
		if (n + len >= cap)
			return 0;	/* C: 0 when it does not fit */
		kld_libc_memcpy(buf + n, piece, len);
		n += len;
	}
	buf[n] = '\0';
	return n;
}

char *
kld_libc_strchrnul(const char *s, int c)
{
	while (*s && *s != (char)c)
		s++;
	return (char *)(uintptr_t)s;
}
