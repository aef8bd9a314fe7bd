/*
 * krk_devices_main.c - `krank devices` alone, for the ASan+UBSan build of
 * krk_devices.c (it parses sysfs, mountinfo and swaps): the same argv as
 * krank's, argv[1] being "devices".
 */
#include <stdio.h>
#include <string.h>
#include "krk_devices.h"

int
main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "devices") != 0) {
		fprintf(stderr, "usage: %s devices [--json] [--check ADDRESS]\n",
		    argv[0]);
		return 2;
	}
	return krk_devices_main(argc, argv);
}
