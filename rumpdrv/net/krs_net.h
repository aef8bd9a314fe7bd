/*
 * net/krs_net.h - the socket API moved to the installed header
 * <krank/krs_net.h>; this name stays for the code inside KRANK that
 * includes it.
 */
#include <krank/krs_net.h>
