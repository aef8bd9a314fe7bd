/* A shared-object isolate (no main): verified, loadable. */
#include <string.h>

int lib_counter = 1;

int
lib_len(const char *s)
{
	return (int)strlen(s) + lib_counter;
}
