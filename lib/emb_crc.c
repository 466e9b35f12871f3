/*
 * emb_crc.c - CRC-32C (Castagnoli), the chunk checksum.
 *
 * CRC-32C because x86 has an instruction for it (SSE4.2 crc32), which keeps
 * checksumming far above pipe speed; other machines use slice-by-8 tables.
 */
#include <config.h>
#include "emb.h"

#include <string.h>

static uint32_t table[8][256];
static int table_ready;

static void make_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
	table_ready = 1;
}

static uint32_t crc_soft(uint32_t crc, const unsigned char *p, size_t len)
{
	if (!table_ready)
		make_table();
	while (len >= 8) {
		uint32_t lo = crc ^ emb_get_u32(p), hi = emb_get_u32(p + 4);
		crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
		      table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
		      table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
		      table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
/*
 * One crc32 instruction has a latency of 3 cycles and a throughput of 1
 * per cycle, so a single dependent chain runs at a third of the
 * instruction's speed.  Long buffers are therefore cut into three
 * adjacent blocks whose CRCs run as three independent chains, then
 * combined (Intel's crc32c-pcl, Mark Adler's crc32c.c): the register
 * after block0 block1 is shift(reg0, |block1|) ^ reg1, where shift
 * appends |block1| zero bytes.  shift is linear in the register, so it
 * is four table look-ups, one per byte (tables built once from the
 * 32 single-bit registers).
 */
#define CRC_LONG 8192
#define CRC_SHORT 256

static uint32_t shift_long[4][256], shift_short[4][256];
static int shift_ready;

__attribute__((target("sse4.2")))
static uint32_t crc_hw1(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t c = crc;
	while (len >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (len--)
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	return c32;
}

/* T[k][b] = the register B << 8k after LEN more zero bytes. */
static void make_shift(uint32_t t[4][256], size_t len)
{
	static const unsigned char zeros[CRC_LONG];
	uint32_t bit[32];
	for (int i = 0; i < 32; i++)
		bit[i] = crc_hw1(1u << i, zeros, len);
	for (int k = 0; k < 4; k++)
		for (uint32_t b = 0; b < 256; b++) {
			uint32_t v = 0;
			for (int i = 0; i < 8; i++)
				if (b >> i & 1)
					v ^= bit[8 * k + i];
			t[k][b] = v;
		}
}

static inline uint32_t crc_shift(const uint32_t t[4][256], uint32_t crc)
{
	return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^
	       t[3][crc >> 24];
}

/* Three chains over blocks of N bytes at P, P+N, P+2N (N a multiple of 8). */
__attribute__((target("sse4.2")))
static inline uint32_t crc_hw3(uint32_t crc, const unsigned char *p, size_t n,
			       const uint32_t t[4][256])
{
	uint64_t c0 = crc, c1 = 0, c2 = 0;
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v0, v1, v2;
		memcpy(&v0, p + i, 8);
		memcpy(&v1, p + n + i, 8);
		memcpy(&v2, p + 2 * n + i, 8);
		c0 = __builtin_ia32_crc32di(c0, v0);
		c1 = __builtin_ia32_crc32di(c1, v1);
		c2 = __builtin_ia32_crc32di(c2, v2);
	}
	uint32_t r = crc_shift(t, (uint32_t)c0) ^ (uint32_t)c1;
	return crc_shift(t, r) ^ (uint32_t)c2;
}

__attribute__((target("sse4.2")))
static uint32_t crc_hw(uint32_t crc, const unsigned char *p, size_t len)
{
	if (len >= 3 * CRC_SHORT) {
		if (!shift_ready) {
			make_shift(shift_long, CRC_LONG);
			make_shift(shift_short, CRC_SHORT);
			shift_ready = 1;
		}
		for (; len >= 3 * CRC_LONG; p += 3 * CRC_LONG, len -= 3 * CRC_LONG)
			crc = crc_hw3(crc, p, CRC_LONG, shift_long);
		for (; len >= 3 * CRC_SHORT; p += 3 * CRC_SHORT, len -= 3 * CRC_SHORT)
			crc = crc_hw3(crc, p, CRC_SHORT, shift_short);
	}
	return crc_hw1(crc, p, len);
}
#endif

uint32_t emb_crc32c(uint32_t crc, const void *buf, size_t len)
{
	crc = ~crc;
#if defined(__x86_64__) && defined(__GNUC__)
	static int have_hw = -1;
	if (have_hw < 0)
		have_hw = __builtin_cpu_supports("sse4.2");
	if (have_hw)
		return ~crc_hw(crc, buf, len);
#endif
	return ~crc_soft(crc, buf, len);
}
