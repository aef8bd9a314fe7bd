/*
 * krk_config_int.h - between the deployment parser's files: value syntax
 * (krk_config_value.c) used by the schema walk (krk_config.c) and the
 * printer (krk_config_print.c).
 */
#ifndef KRK_CONFIG_INT_H
#define KRK_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decimal digits only ("010" is 10): 0, EINVAL or ERANGE. */
int krk_cfg_parse_u64(const char *s, uint64_t *out);
/* s is 1..max bytes of [A-Za-z0-9_.-]. */
bool krk_cfg_name_ok(const char *s, size_t max);
/* "A.B.C.D" (decimal octets, no leading zeros); *end after it. */
bool krk_cfg_parse_ipv4(const char *s, const char **end, uint32_t *out);
/* "A.B.C.D/N", N 1..32. */
bool krk_cfg_parse_cidr(const char *s, uint32_t *addr, unsigned *plen);
/* "xx:xx:xx:xx:xx:xx". */
bool krk_cfg_parse_mac(const char *s, uint8_t mac[6]);
/* Absolute, without ".", ".." or empty components. */
bool krk_cfg_abspath_ok(const char *s);
/* A size in the largest unit that divides it: 268435456 -> "256M". */
void krk_cfg_fmt_size(uint64_t v, char *buf, size_t len);

#endif
