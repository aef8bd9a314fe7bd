/* ctype of the isolate libc: the "C" locale only, defined for EOF too. */
#include "kld_libc.h"

int kld_libc_isdigit(int c) { return c >= '0' && c <= '9'; }
int kld_libc_islower(int c) { return c >= 'a' && c <= 'z'; }
int kld_libc_isupper(int c) { return c >= 'A' && c <= 'Z'; }
int kld_libc_isalpha(int c) { return kld_libc_islower(c) || kld_libc_isupper(c); }
int kld_libc_isalnum(int c) { return kld_libc_isalpha(c) || kld_libc_isdigit(c); }
int kld_libc_isxdigit(int c)
{
	return kld_libc_isdigit(c) || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}
int kld_libc_isspace(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
int kld_libc_isprint(int c) { return c >= 0x20 && c < 0x7f; }
int kld_libc_isgraph(int c) { return c > 0x20 && c < 0x7f; }
int kld_libc_iscntrl(int c) { return (c >= 0 && c < 0x20) || c == 0x7f; }
int kld_libc_ispunct(int c) { return kld_libc_isgraph(c) && !kld_libc_isalnum(c); }
int kld_libc_tolower(int c) { return kld_libc_isupper(c) ? c + 32 : c; }
int kld_libc_toupper(int c) { return kld_libc_islower(c) ? c - 32 : c; }
