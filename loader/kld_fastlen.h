/*
 * A fast path for the verifier's sweep: the length of the most common,
 * certainly allowed x86-64 instructions (moves, arithmetic, push/pop,
 * near calls, jumps and returns), decoded by hand in a few nanoseconds.
 * Anything else - other opcodes, any prefix but one REX, encodings Zydis
 * might refuse - returns 0 and Zydis decides.  tests/loader/test_kld_fastlen
 * checks every answer against Zydis (same length, instruction allowed)
 * exhaustively over the first bytes and on real code.
 */
#ifndef KLD_FASTLEN_H
#define KLD_FASTLEN_H

#include "kld_int.h"

/* Classes of one-byte opcodes. */
enum {
	F_NO = 0,	/* not handled */
	F_1,		/* opcode only */
	F_I8,		/* imm8 */
	F_I32,		/* imm32 (also with REX.W) */
	F_M,		/* ModRM */
	F_MI8,		/* ModRM, imm8 */
	F_MI32,		/* ModRM, imm32 */
	F_MOVI,		/* b8+r: imm32, imm64 with REX.W */
	F_REL8,		/* rel8 branch; no REX */
	F_REL32,	/* rel32 call/jmp; no REX */
	F_LEA,		/* ModRM, memory form only */
	F_GRP_REG0,	/* ModRM, imm per table, reg field must be 0 */
	F_SHIFT,	/* ModRM, reg field 6 (undocumented sal) excluded */
	F_F7,		/* test (imm32) for /0, none for /2-/7, /1 excluded */
	F_FF,		/* inc, dec, near call/jmp, push: /0 /1 /2 /4 /6 */
};

static const uint8_t kld_fl_one[256] = {
	/* ALU r/m forms and al/eax immediate forms: add or adc sbb and
	 * sub xor cmp */
	[0x00] = F_M, [0x01] = F_M, [0x02] = F_M, [0x03] = F_M,
	[0x04] = F_I8, [0x05] = F_I32,
	[0x08] = F_M, [0x09] = F_M, [0x0a] = F_M, [0x0b] = F_M,
	[0x0c] = F_I8, [0x0d] = F_I32,
	[0x10] = F_M, [0x11] = F_M, [0x12] = F_M, [0x13] = F_M,
	[0x18] = F_M, [0x19] = F_M, [0x1a] = F_M, [0x1b] = F_M,
	[0x20] = F_M, [0x21] = F_M, [0x22] = F_M, [0x23] = F_M,
	[0x24] = F_I8, [0x25] = F_I32,
	[0x28] = F_M, [0x29] = F_M, [0x2a] = F_M, [0x2b] = F_M,
	[0x2c] = F_I8, [0x2d] = F_I32,
	[0x30] = F_M, [0x31] = F_M, [0x32] = F_M, [0x33] = F_M,
	[0x34] = F_I8, [0x35] = F_I32,
	[0x38] = F_M, [0x39] = F_M, [0x3a] = F_M, [0x3b] = F_M,
	[0x3c] = F_I8, [0x3d] = F_I32,
	/* push/pop r64 */
	[0x50] = F_1, [0x51] = F_1, [0x52] = F_1, [0x53] = F_1,
	[0x54] = F_1, [0x55] = F_1, [0x56] = F_1, [0x57] = F_1,
	[0x58] = F_1, [0x59] = F_1, [0x5a] = F_1, [0x5b] = F_1,
	[0x5c] = F_1, [0x5d] = F_1, [0x5e] = F_1, [0x5f] = F_1,
	[0x63] = F_M,				/* movsxd */
	[0x68] = F_I32, [0x69] = F_MI32,	/* push imm32, imul */
	[0x6a] = F_I8, [0x6b] = F_MI8,		/* push imm8, imul */
	/* jcc rel8 */
	[0x70] = F_REL8, [0x71] = F_REL8, [0x72] = F_REL8, [0x73] = F_REL8,
	[0x74] = F_REL8, [0x75] = F_REL8, [0x76] = F_REL8, [0x77] = F_REL8,
	[0x78] = F_REL8, [0x79] = F_REL8, [0x7a] = F_REL8, [0x7b] = F_REL8,
	[0x7c] = F_REL8, [0x7d] = F_REL8, [0x7e] = F_REL8, [0x7f] = F_REL8,
	[0x80] = F_MI8, [0x81] = F_MI32, [0x83] = F_MI8,	/* ALU imm */
	[0x84] = F_M, [0x85] = F_M,		/* test */
	[0x88] = F_M, [0x89] = F_M, [0x8a] = F_M, [0x8b] = F_M,	/* mov */
	[0x8d] = F_LEA,
	[0x90] = F_1,				/* nop (xchg with REX.B) */
	[0x98] = F_1, [0x99] = F_1,		/* cdqe, cqo */
	[0xa8] = F_I8, [0xa9] = F_I32,		/* test al/eax */
	/* mov r8, imm8; mov r32, imm32 (r64, imm64 with REX.W) */
	[0xb0] = F_I8, [0xb1] = F_I8, [0xb2] = F_I8, [0xb3] = F_I8,
	[0xb4] = F_I8, [0xb5] = F_I8, [0xb6] = F_I8, [0xb7] = F_I8,
	[0xb8] = F_MOVI, [0xb9] = F_MOVI, [0xba] = F_MOVI, [0xbb] = F_MOVI,
	[0xbc] = F_MOVI, [0xbd] = F_MOVI, [0xbe] = F_MOVI, [0xbf] = F_MOVI,
	[0xc0] = F_SHIFT, [0xc1] = F_SHIFT,	/* shifts, imm8 */
	[0xc3] = F_1,				/* near ret */
	[0xc6] = F_GRP_REG0, [0xc7] = F_GRP_REG0,	/* mov r/m, imm */
	[0xc9] = F_1,				/* leave */
	[0xcc] = F_1,				/* int3: allowed */
	[0xd1] = F_SHIFT, [0xd3] = F_SHIFT,	/* shifts by 1, cl */
	[0xe8] = F_REL32, [0xe9] = F_REL32, [0xeb] = F_REL8,
	[0xf7] = F_F7,
	[0xff] = F_FF,
};

/* Bytes taken by ModRM (and SIB, displacement) at p; 0 if past end. */
static inline size_t
kld_fl_modrm_len(const uint8_t *p, size_t avail)
{
	unsigned mod, rm;
	size_t n = 1;

	if (avail < 1)
		return 0;
	mod = p[0] >> 6;
	rm = p[0] & 7;
	if (mod == 3)
		return 1;
	if (rm == 4) {			/* SIB; base 5 with mod 0: disp32 */
		if (avail < 2)
			return 0;
		n++;
		if (mod == 0 && (p[1] & 7) == 5)
			n += 4;
	} else if (mod == 0 && rm == 5)
		n += 4;			/* RIP-relative */
	if (mod == 1)
		n += 1;
	else if (mod == 2)
		n += 4;
	return n;
}

/* Inline in the verifier's sweep (a call per instruction was a tenth
 * of its time); kld_fastlen.c has the out-of-line copy. */
static inline size_t
kld_fast_len_inline(const uint8_t *p, size_t avail)
{
	size_t pre = 0, n, imm = 0;
	unsigned op, reg;
	bool rexw = false;

	if (avail == 0)
		return 0;
	if ((p[0] & 0xf0) == 0x40) {		/* one REX prefix */
		rexw = (p[0] & 8) != 0;
		pre = 1;
		if (avail < 2)
			return 0;
	}
	op = p[pre];
	if (op == 0x0f) {			/* a few two-byte opcodes */
		unsigned op2;

		if (avail < pre + 3)
			return 0;
		op2 = p[pre + 1];
		if (op2 >= 0x80 && op2 <= 0x8f)	/* jcc rel32 */
			n = pre == 0 ? 6 : 0;
		else if ((op2 >= 0x40 && op2 <= 0x4f) || op2 == 0xaf ||
		    op2 == 0xb6 || op2 == 0xb7 || op2 == 0xbe || op2 == 0xbf ||
		    (op2 == 0x1f && ((p[pre + 2] >> 3) & 7) == 0) ||
		    (op2 >= 0x90 && op2 <= 0x9f &&
		    ((p[pre + 2] >> 3) & 7) == 0)) {
			/* cmovcc, imul, movzx/movsx, nop r/m, setcc */
			size_t m = kld_fl_modrm_len(p + pre + 2, avail - pre - 2);

			n = m ? pre + 2 + m : 0;
		} else
			n = 0;
		return n <= avail ? n : 0;
	}
	switch (kld_fl_one[op]) {
	case F_1:
		n = pre + 1;
		break;
	case F_I8:
		n = pre + 2;
		break;
	case F_I32:
		n = pre + 5;
		break;
	case F_MOVI:
		n = pre + 1 + (rexw ? 8 : 4);
		break;
	case F_REL8:
		n = pre == 0 ? 2 : 0;
		break;
	case F_REL32:
		n = pre == 0 ? 5 : 0;
		break;
	case F_M:
	case F_MI8:
	case F_MI32:
	case F_LEA:
	case F_GRP_REG0:
	case F_SHIFT:
	case F_F7:
	case F_FF:
		if (avail < pre + 2)
			return 0;
		reg = (p[pre + 1] >> 3) & 7;
		switch (kld_fl_one[op]) {
		case F_MI8:
			imm = 1;
			break;
		case F_MI32:
			imm = 4;
			break;
		case F_LEA:
			if ((p[pre + 1] >> 6) == 3)
				return 0;	/* lea with a register: #UD */
			break;
		case F_GRP_REG0:
			if (reg != 0)
				return 0;	/* xabort, xbegin, invalid */
			imm = op == 0xc6 ? 1 : 4;
			break;
		case F_SHIFT:
			if (reg == 6)
				return 0;
			imm = op == 0xc0 || op == 0xc1 ? 1 : 0;
			break;
		case F_F7:
			if (reg == 1)
				return 0;
			imm = reg == 0 ? 4 : 0;
			break;
		case F_FF:
			if (reg == 3 || reg == 5 || reg == 7)
				return 0;	/* far call/jmp, invalid */
			break;
		default:
			break;
		}
		{
			size_t m = kld_fl_modrm_len(p + pre + 1, avail - pre - 1);

			n = m ? pre + 1 + m + imm : 0;
		}
		break;
	default:
		n = 0;
		break;
	}
	return n <= avail ? n : 0;
}

#endif
