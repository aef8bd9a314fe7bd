/*
 * The verifier's hand-decoded fast path (loader/kld_fastlen.c) against
 * Zydis: whenever kld_fast_len gives a length, Zydis must decode the same
 * bytes to an instruction of exactly that length that the verifier's
 * rules allow.  Checked exhaustively over the first two bytes after an
 * optional REX prefix (and over three for 0f xx ModRM), with random
 * tails, on random byte strings, and on the real code of this program
 * and of the libraries it runs with.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "kld_int.h"

static ZydisDecoder dec;
static unsigned long checks, fast, failures;

/* What the verifier refuses (mirrors insn_rule in kld_verify.c, coarser:
 * any hit is a failure of the fast path). */
static bool
forbidden(const ZydisDecodedInstruction *in)
{
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_INT3:
	case ZYDIS_MNEMONIC_UD2:
		return false;		/* traps: allowed */
	case ZYDIS_MNEMONIC_SYSCALL: case ZYDIS_MNEMONIC_SYSENTER:
	case ZYDIS_MNEMONIC_SYSEXIT: case ZYDIS_MNEMONIC_SYSRET:
	case ZYDIS_MNEMONIC_INT: case ZYDIS_MNEMONIC_INT1:
	case ZYDIS_MNEMONIC_INTO: case ZYDIS_MNEMONIC_IRET:
	case ZYDIS_MNEMONIC_IRETD: case ZYDIS_MNEMONIC_IRETQ:
	case ZYDIS_MNEMONIC_HLT: case ZYDIS_MNEMONIC_IN:
	case ZYDIS_MNEMONIC_OUT: case ZYDIS_MNEMONIC_CLI:
	case ZYDIS_MNEMONIC_STI: case ZYDIS_MNEMONIC_LSS:
	case ZYDIS_MNEMONIC_LFS: case ZYDIS_MNEMONIC_LGS:
	case ZYDIS_MNEMONIC_WRFSBASE: case ZYDIS_MNEMONIC_WRGSBASE:
		return true;
	case ZYDIS_MNEMONIC_RET:
		return in->opcode == 0xca || in->opcode == 0xcb;
	case ZYDIS_MNEMONIC_MOV:
		return in->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT &&
		    in->opcode == 0x8e;
	case ZYDIS_MNEMONIC_POP:
		return in->opcode_map == ZYDIS_OPCODE_MAP_0F;
	default:
		break;
	}
	if (in->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR ||
	    (in->attributes & ZYDIS_ATTRIB_IS_PRIVILEGED))
		return true;
	switch (in->meta.category) {
	case ZYDIS_CATEGORY_SYSCALL: case ZYDIS_CATEGORY_SYSRET:
	case ZYDIS_CATEGORY_INTERRUPT: case ZYDIS_CATEGORY_IO:
	case ZYDIS_CATEGORY_IOSTRINGOP: case ZYDIS_CATEGORY_VTX:
	case ZYDIS_CATEGORY_SGX: case ZYDIS_CATEGORY_UINTR:
		return true;
	default:
		return false;
	}
}

static void
check(const uint8_t *p, size_t avail)
{
	ZydisDecodedInstruction in;
	size_t n = kld_fast_len(p, avail);

	checks++;
	if (n == 0)
		return;
	fast++;
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, p, avail,
	    &in)) || in.length != n || forbidden(&in)) {
		if (failures++ < 20) {
			printf("FAIL: fast length %zu, Zydis %s length %u for",
			    n, ZydisMnemonicGetString(in.mnemonic) ?
			    ZydisMnemonicGetString(in.mnemonic) : "?",
			    in.length);
			for (size_t i = 0; i < 15 && i < avail; i++)
				printf(" %02x", p[i]);
			printf("\n");
		}
	}
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint8_t
rnd8(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)(rng >> 24);
}

static int
sweep_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	unsigned long *insns = arg;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const uint8_t *c;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		c = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		/* Every byte offset, so data in code and instruction
		 * tails are tried too. */
		for (size_t pos = 0; pos < ph->p_filesz; pos++) {
			check(c + pos, ph->p_filesz - pos);
			(*insns)++;
		}
	}
	return 0;
}

int
main(void)
{
	static const int rex[] = { -1, 0x40, 0x41, 0x44, 0x48, 0x49, 0x4c,
	    0x4f };
	uint8_t b[32];
	unsigned long real = 0;

	if (!ZYAN_SUCCESS(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64,
	    ZYDIS_STACK_WIDTH_64)))
		return 1;
	/* [REX] op b1 with random tails, every op and b1. */
	for (size_t r = 0; r < sizeof(rex) / sizeof(rex[0]); r++)
		for (int op = 0; op < 256; op++)
			for (int b1 = 0; b1 < 256; b1++)
				for (int t = 0; t < 4; t++) {
					size_t k = 0;

					if (rex[r] >= 0)
						b[k++] = (uint8_t)rex[r];
					b[k++] = (uint8_t)op;
					b[k++] = (uint8_t)b1;
					while (k < sizeof(b))
						b[k++] = rnd8();
					check(b, sizeof(b));
					/* and cut short */
					check(b, (size_t)(rnd8() % 16));
				}
	/* [REX.W] op modrm sib: every SIB byte behind every ModRM that
	 * has one. */
	for (int r = 0; r < 2; r++)
		for (int op = 0; op < 256; op++)
			for (int m = 0; m < 256; m++) {
				if ((m >> 6) == 3 || (m & 7) != 4)
					continue;
				for (int sb = 0; sb < 256; sb++) {
					size_t k = 0;

					if (r)
						b[k++] = 0x48;
					b[k++] = (uint8_t)op;
					b[k++] = (uint8_t)m;
					b[k++] = (uint8_t)sb;
					while (k < sizeof(b))
						b[k++] = rnd8();
					check(b, sizeof(b));
				}
			}
	printf("ok   one-byte opcodes: %lu cases, %lu on the fast path\n",
	    checks, fast);
	/* [REX] 0f op2 modrm sib, every op2, modrm and sib byte. */
	for (size_t r = 0; r < 2; r++)
		for (int op2 = 0; op2 < 256; op2++)
			for (int m = 0; m < 256; m++)
				for (int s = 0; s < 256; s += r ? 1 : 37) {
					size_t k = 0;

					if (r)
						b[k++] = 0x48;
					b[k++] = 0x0f;
					b[k++] = (uint8_t)op2;
					b[k++] = (uint8_t)m;
					b[k++] = (uint8_t)s;
					while (k < sizeof(b))
						b[k++] = rnd8();
					check(b, sizeof(b));
				}
	printf("ok   two-byte opcodes: %lu cases so far, %lu on the fast "
	    "path\n", checks, fast);
	for (int i = 0; i < 2000000; i++) {
		for (size_t k = 0; k < sizeof(b); k++)
			b[k] = rnd8();
		check(b, 1 + (size_t)(rnd8() % 31));
	}
	dl_iterate_phdr(sweep_object, &real);
	printf("ok   random strings and %lu offsets of real code: %lu cases, "
	    "%lu on the fast path\n", real, checks, fast);
	if (failures != 0 || real == 0) {
		printf("FAIL: %lu disagreements with Zydis\n", failures);
		return 1;
	}
	printf("PASS: the fast path agrees with Zydis on all %lu\n", fast);
	return 0;
}
