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
__attribute__((target("sse4.2")))
static uint32_t crc_hw(uint32_t crc, const unsigned char *p, size_t len)
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
