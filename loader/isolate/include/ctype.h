/* KRANK isolate libc: character classes ("C" locale). */
#ifndef _KRANK_CTYPE_H
#define _KRANK_CTYPE_H
int isalnum(int); int isalpha(int); int isdigit(int); int isxdigit(int);
int islower(int); int isupper(int); int isspace(int); int isprint(int);
int ispunct(int); int iscntrl(int); int isgraph(int);
int tolower(int); int toupper(int);
#endif
