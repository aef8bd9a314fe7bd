/* A legal isolate exercising what the loader must get right: globals and
 * pointers to them (RELATIVE), a table of function pointers, strings,
 * constructors and destructors (init/fini arrays), and calls into the
 * export table (snprintf, qsort, strtol, malloc, strlen). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int counter = 5;
int shared_value = 100;
int *shared_ptr = &shared_value;
static const char *names[] = { "alpha", "beta", "gamma" };
static int ctor_ran;

static int add(int a, int b) { return a + b; }
static int mul(int a, int b) { return a * b; }
static int (*const ops[])(int, int) = { add, mul };

__attribute__((constructor)) static void
setup(void)
{
	ctor_ran = 1;
	counter += 10;
}

__attribute__((destructor)) static void
teardown(void)
{
	puts("destructor ran");
}

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int
main(int argc, char **argv)
{
	int v[] = { 9, 3, 7, 1 };
	char buf[80], *copy;

	qsort(v, 4, sizeof(v[0]), cmp_int);
	snprintf(buf, sizeof(buf), "ctor=%d counter=%d ops=%d,%d sorted=%d%d%d%d",
	    ctor_ran, counter, ops[0](2, 3), ops[1](2, 3), v[0], v[1], v[2],
	    v[3]);
	puts(buf);
	copy = malloc(32);
	if (copy == NULL)
		return 1;
	strcpy(copy, names[1]);
	printf("names=%s,%s,%s copy=%s len=%zu argc=%d\n", names[0], copy,
	    names[2], copy, strlen(copy), argc);
	free(copy);
	printf("parsed=%ld hex=%#x shared=%d\n", strtol(argc > 1 ? argv[1] :
	    "-17", NULL, 10), 255, *shared_ptr);
	return counter + 27;		/* 42 */
}
