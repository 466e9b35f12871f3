/*
 * emb_hamming.c - Hamming distance kernels and top-k (contracts in
 * emb_hamming.h).
 *
 * A row is read as 64-bit words (unaligned loads through memcpy), XORed
 * and counted; the last partial word is assembled byte by byte and masked
 * so that padding bits never count.  Byte order does not matter to a
 * popcount, and the mask is built in memory order too.
 */
#include <config.h>
#include "emb_hamming.h"

#include <stdlib.h>
#include <string.h>

struct shape {
	size_t words;      /* full 64-bit words */
	size_t tail;       /* bytes after them (0..7) */
	uint64_t mask;     /* of the tail word: its bytes, padding bits cleared */
};

static struct shape shape_of(size_t dim)
{
	struct shape s;
	size_t rb = emb_row_bytes(EMB_BIT, dim);
	s.words = rb / 8;
	s.tail = rb % 8;
	unsigned char m[8] = {0};
	size_t full = rb - (dim % 8 != 0);
	for (size_t i = s.words * 8; i < rb; i++)
		m[i - s.words * 8] = i < full ? 0xff : (unsigned char)(0xff00u >> (dim % 8));
	if (s.tail == 0 && dim % 8 != 0) {
		/* the partial byte closes the last full word: count it apart */
		s.words--;
		s.tail = 8;
		memset(m, 0xff, 7);
		m[7] = (unsigned char)(0xff00u >> (dim % 8));
	}
	memcpy(&s.mask, m, 8);
	return s;
}

static inline uint64_t word(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

static inline uint64_t tail_word(const unsigned char *p, const struct shape *s)
{
	uint64_t w = 0;
	memcpy(&w, p, s->tail);
	return w & s->mask;
}

/* Portable popcount (SWAR), for CPUs without the instruction. */
static inline unsigned pop_generic(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

static uint32_t dist_generic(const unsigned char *a, const unsigned char *b,
			     const struct shape *s)
{
	uint32_t n = 0;
	for (size_t i = 0; i < s->words; i++)
		n += pop_generic(word(a + 8 * i) ^ word(b + 8 * i));
	if (s->tail)
		n += pop_generic(tail_word(a + 8 * s->words, s) ^ tail_word(b + 8 * s->words, s));
	return n;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("popcnt")))
static uint32_t dist_popcnt(const unsigned char *a, const unsigned char *b,
			    const struct shape *s)
{
	uint64_t n0 = 0, n1 = 0;
	size_t i = 0;
	for (; i + 2 <= s->words; i += 2) {
		n0 += (uint64_t)__builtin_popcountll(word(a + 8 * i) ^ word(b + 8 * i));
		n1 += (uint64_t)__builtin_popcountll(word(a + 8 * i + 8) ^ word(b + 8 * i + 8));
	}
	for (; i < s->words; i++)
		n0 += (uint64_t)__builtin_popcountll(word(a + 8 * i) ^ word(b + 8 * i));
	if (s->tail)
		n0 += (uint64_t)__builtin_popcountll(tail_word(a + 8 * s->words, s) ^
						     tail_word(b + 8 * s->words, s));
	return (uint32_t)(n0 + n1);
}

__attribute__((target("avx512f,avx512vpopcntdq,popcnt")))
static uint32_t dist_vpopcnt(const unsigned char *a, const unsigned char *b,
			     const struct shape *s)
{
	__m512i acc = _mm512_setzero_si512();
	size_t i = 0;
	for (; i + 8 <= s->words; i += 8) {
		__m512i x = _mm512_loadu_si512(a + 8 * i), y = _mm512_loadu_si512(b + 8 * i);
		acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(x, y)));
	}
	if (i < s->words) {
		__mmask8 m = (__mmask8)((1u << (s->words - i)) - 1);
		__m512i x = _mm512_maskz_loadu_epi64(m, a + 8 * i);
		__m512i y = _mm512_maskz_loadu_epi64(m, b + 8 * i);
		acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(x, y)));
	}
	uint64_t n = (uint64_t)_mm512_reduce_add_epi64(acc);
	if (s->tail)
		n += (uint64_t)__builtin_popcountll(tail_word(a + 8 * s->words, s) ^
						    tail_word(b + 8 * s->words, s));
	return (uint32_t)n;
}
#endif

typedef uint32_t dist_fn(const unsigned char *, const unsigned char *, const struct shape *);

static struct { dist_fn *fn; const char *name; } kernel;

static void choose(void)
{
	if (kernel.fn)
		return;
	kernel.fn = dist_generic;
	kernel.name = "generic";
#if defined(__x86_64__) && defined(__GNUC__)
	const char *cap = getenv("EMB_SIMD");
	cap = cap ? cap : "";
	__builtin_cpu_init();
	if (!strcmp(cap, "generic"))
		return;
	if (__builtin_cpu_supports("avx512vpopcntdq") && __builtin_cpu_supports("avx512f") &&
	    strcmp(cap, "sse2") && strcmp(cap, "avx2")) {
		kernel.fn = dist_vpopcnt;
		kernel.name = "avx512-vpopcntdq";
	} else if (__builtin_cpu_supports("popcnt")) {
		kernel.fn = dist_popcnt;
		kernel.name = "popcnt";
	}
#endif
}

const char *emb_hamming_kernel(void)
{
	choose();
	return kernel.name;
}

uint32_t emb_hamming(const unsigned char *a, const unsigned char *b, size_t dim)
{
	choose();
	struct shape s = shape_of(dim);
	return kernel.fn(a, b, &s);
}

/* Database rows per tile: a tile stays in the L2 cache while every query
 * passes over it. */
#define TILE_BYTES (128u << 10)

void emb_hamming_block(struct emb_topk *t, const unsigned char *q, size_t nq,
		       const unsigned char *d, size_t nd, size_t dim, uint64_t base,
		       bool exclude_self)
{
	choose();
	struct shape s = shape_of(dim);
	size_t rb = emb_row_bytes(EMB_BIT, dim);
	size_t tile = rb ? TILE_BYTES / rb : nd;
	tile = tile < 1 ? 1 : tile;
	emb_topk_reserve(t, nd);
	for (size_t t0 = 0; t0 < nd; t0 += tile) {
		size_t tn = nd - t0 < tile ? nd - t0 : tile;
		for (size_t i = 0; i < nq; i++) {
			const unsigned char *qi = q + i * rb;
			double floor = emb_topk_floor(t, i);
			for (size_t j = t0; j < t0 + tn; j++) {
				double sc = -(double)kernel.fn(qi, d + j * rb, &s);
				/* rows come in increasing order: a tie with the floor
				 * loses to the row already kept */
				if (sc <= floor)
					continue;
				if (exclude_self && base + j == i)
					continue;
				emb_topk_push(t, i, sc, base + j);
				floor = emb_topk_floor(t, i);
			}
		}
	}
}
