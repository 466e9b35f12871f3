/*
 * emb_parse_row.c - a row of plain decimal floats, many values at a time
 * (AVX2).  emb_parse.h's SSSE3 path takes one number per call, and most
 * of its instructions find where the number is, what shape it has and
 * whether to trust the result, one number at a time.  Here that work is
 * done for a 64-byte window at once, with bit masks, and the conversion
 * for four numbers at once:
 *
 *   1. Classify the window's bytes (blank, digit, dot, minus, anything
 *      else) into 64-bit masks.  From them, with a few additions and
 *      shifts: where each value starts and ends, and where the first
 *      thing this path does not take lies (a line end, an exponent, a
 *      '+', two dots, a lone sign, 16 characters or more).
 *   2. For each value before that: its sign, length and the place of its
 *      dot, as two table indices (no branch).
 *   3. Four values at a time: one shuffle per value (chosen by the dot's
 *      place and the length) lines its digits up, the multiply-adds of
 *      "parse 16 digits with SSE" make the 15-digit scaled mantissas, and
 *      then, in double as the SSSE3 path does: mantissa * 10^-k, the
 *      midpoint test, and the rounding to float.
 *
 * It stops at anything it does not take, and says how far it got: the
 * caller parses that one value (or the line end) its usual way and comes
 * back.  So it changes speed only, never values or messages.
 */
#include <config.h>

#include "emb_parse.h"

#ifdef EMB_PARSE_ROW_AVX2
#include <stdlib.h>

bool emb_parse_row_avx2(void)
{
	const char *cap = getenv("EMB_SIMD");
	if (cap && (!strcmp(cap, "generic") || !strcmp(cap, "sse2")))
		return false;
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
	       __builtin_cpu_supports("bmi2");
}

/* The shuffle for a number of N characters (digits and at most one dot)
 * whose dot is at DP (DP = N: none): it takes the digits, skipping the
 * dot, to bytes 1..15 (emb_simd_decimal's layout) and zeroes the rest,
 * so that no mask of the length is needed. */
#define Z (-128)
#define SRC(d, i) ((i) - 1 + ((i) - 1 >= (d)))
#define E(d, n, i) ((i) == 0 ? Z : SRC(d, i) < (n) ? SRC(d, i) : Z)
#define ROW(d, n) {E(d, n, 0), E(d, n, 1), E(d, n, 2), E(d, n, 3), E(d, n, 4), E(d, n, 5), \
		   E(d, n, 6), E(d, n, 7), E(d, n, 8), E(d, n, 9), E(d, n, 10), E(d, n, 11), \
		   E(d, n, 12), E(d, n, 13), E(d, n, 14), E(d, n, 15)}
#define DOT(d) ROW(d, 0), ROW(d, 1), ROW(d, 2), ROW(d, 3), ROW(d, 4), ROW(d, 5), ROW(d, 6), \
	       ROW(d, 7), ROW(d, 8), ROW(d, 9), ROW(d, 10), ROW(d, 11), ROW(d, 12), ROW(d, 13), \
	       ROW(d, 14), ROW(d, 15)
static const signed char row_shuffle[256][16] __attribute__((aligned(16))) = {
	DOT(0), DOT(1), DOT(2), DOT(3), DOT(4), DOT(5), DOT(6), DOT(7),
	DOT(8), DOT(9), DOT(10), DOT(11), DOT(12), DOT(13), DOT(14), DOT(15)};
#undef DOT
#undef ROW
#undef E
#undef SRC
#undef Z

/* ±10^-k rounded to double (k = index mod 16; minus from 16 on): the
 * sign rides on the power, as in emb_parse_f32_simd. */
static const double row_pow10[32] = {
	1e-0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7,
	1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15,
	-1e-0, -1e-1, -1e-2, -1e-3, -1e-4, -1e-5, -1e-6, -1e-7,
	-1e-8, -1e-9, -1e-10, -1e-11, -1e-12, -1e-13, -1e-14, -1e-15};

/* Values found per pass before they are converted. */
#define PASS 64

/* One value found in step 2: where its digits start, how many
 * characters, and its two table indices. */
struct found {
	const char *q;
	uint8_t n;
	uint8_t pow;
	uint16_t shuf;
};

#define AVX2 __attribute__((target("avx2,bmi,bmi2")))

static inline AVX2 __attribute__((always_inline)) uint64_t join(__m256i lo, __m256i hi)
{
	return (uint32_t)_mm256_movemask_epi8(lo) | (uint64_t)(uint32_t)_mm256_movemask_epi8(hi) << 32;
}

/* The bytes of one window, as masks (bit i: byte i). */
struct window {
	uint64_t ws;    /* at most ' ': blanks, line ends, control bytes */
	uint64_t ok;    /* a blank, a digit, a dot or a minus */
	uint64_t dot, minus;
};

static inline AVX2 __attribute__((always_inline)) void classify(const char *p, struct window *w)
{
	__m256i ws[2], ok[2], dot[2], minus[2];
	for (int h = 0; h < 2; h++) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * h));
		__m256i u = _mm256_sub_epi8(v, _mm256_set1_epi8('0'));
		__m256i digit = _mm256_cmpeq_epi8(_mm256_min_epu8(u, _mm256_set1_epi8(9)), u);
		__m256i blank = _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(' ')),
						 _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\t')));
		ws[h] = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(' ')), v);
		dot[h] = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('.'));
		minus[h] = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('-'));
		ok[h] = _mm256_or_si256(_mm256_or_si256(blank, digit), _mm256_or_si256(dot[h], minus[h]));
	}
	w->ws = join(ws[0], ws[1]);
	w->ok = join(ok[0], ok[1]);
	w->dot = join(dot[0], dot[1]);
	w->minus = join(minus[0], minus[1]);
}

/* Of the window at a value's start (bit 0) or after a blank: the starts
 * of values (*S), the blank or line end after each (*E), and the places
 * of things this path leaves to the caller (0: none; the first counts). */
static inline AVX2 __attribute__((always_inline)) uint64_t window_plan(const struct window *w,
								  uint64_t *s, uint64_t *e)
{
	uint64_t ws = w->ws, run = ~ws;
	uint64_t start = run & ((ws << 1) | 1);
	*s = start;
	*e = ws & (run << 1);
	/* a line end, a control byte, or a letter, '+', ... (not blanks) */
	uint64_t stop = ~w->ok;
	/* a minus inside a value */
	stop |= w->minus & ~start;
	/* a second dot in a value: fill each value from after its first
	 * dot to its end (the carry of run + seed runs to the value's end),
	 * and look for dots there */
	uint64_t seed = (w->dot << 1) & run;
	stop |= w->dot & ((run & ~(run + seed)) | seed);
	/* a value of signs and dots only: a carry from its start through
	 * them reaches the blank after it; stop before that blank */
	uint64_t sd = w->minus | w->dot;
	stop |= (((sd + (start & sd)) & ws) >> 1);
	/* 16 characters or more (the mantissa must stay below 10^15) */
	uint64_t l = run & (run >> 1);
	l &= l >> 2;
	l &= l >> 4;
	l &= l >> 8;
	return stop | l;
}

size_t AVX2 emb_parse_row_f32_avx2(const char *p, const char *end, size_t n, float *out,
				   const char **last)
{
	struct found f[PASS + 3];
	size_t done = 0;
	*last = p;
	const __m256i zero = _mm256_set1_epi8('0');
	const __m256i w1 = _mm256_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1,
					    10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1);
	const __m256i w2 = _mm256_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1,
					     100, 1, 100, 1, 100, 1, 100, 1);
	const __m256i w3 = _mm256_setr_epi16(10000, 1, 10000, 1, 10000, 1, 10000, 1,
					     10000, 1, 10000, 1, 10000, 1, 10000, 1);
	const __m256i e8 = _mm256_set1_epi64x(100000000);
	const __m256i magic = _mm256_set1_epi64x(0x4330000000000000);
	const __m256d two52 = _mm256_set1_pd(4503599627370496.0);
	const __m256i low29 = _mm256_set1_epi64x((INT64_C(1) << 29) - 1);
	const __m256i mid = _mm256_set1_epi64x((INT64_C(1) << 28) - 4);
	const __m256i eight = _mm256_set1_epi64x(8);
	const __m256i zero64 = _mm256_setzero_si256();

	while (done < n) {
		/* Steps 1 and 2: up to PASS values from P on. */
		size_t want = n - done < PASS ? n - done : PASS, k = 0;
		const char *base = p;
		bool more = true;
		while (k < want) {
			if (base + 64 >= end) {
				more = false; /* the padding would be read */
				break;
			}
			struct window w;
			classify(base, &w);
			uint64_t s, e, stop = window_plan(&w, &s, &e);
			e &= _blsmsk_u64(stop); /* (all bits when there is none) */
			size_t have = (size_t)__builtin_popcountll(e), take = have;
			if (take > want - k)
				take = want - k;
			for (size_t i = 0; i < take; i++) {
				unsigned at = (unsigned)_tzcnt_u64(s), to = (unsigned)_tzcnt_u64(e);
				s = _blsr_u64(s);
				e = _blsr_u64(e);
				unsigned neg = (unsigned)(w.minus >> at) & 1, q = at + neg, len = to - q;
				unsigned dp = (unsigned)_tzcnt_u64((w.dot >> q) | (UINT64_C(1) << len));
				f[k].q = base + q;
				f[k].n = (uint8_t)len;
				f[k].pow = (uint8_t)((15 - dp) | neg << 4);
				f[k].shuf = (uint16_t)(dp << 4 | len);
				k++;
			}
			if (take == have && stop) {
				more = false; /* the caller takes it from here */
				break;
			}
			/* on at the first value not complete here (or after the
			 * window, when it ends in blanks) */
			base += s ? _tzcnt_u64(s) : 64;
			p = base;
		}
		if (k == 0)
			break;
		/* Step 3, four at a time; the last few repeat the one before. */
		for (size_t i = k; i % 4; i++)
			f[i] = f[k - 1];
		for (size_t i = 0; i < k; i += 4) {
			const struct found *a = f + i;
			__m256i x[2];
			for (int h = 0; h < 2; h++) { /* lanes: values h and h + 2 */
				const struct found *lo = a + h, *hi = a + h + 2;
				__m256i v = _mm256_inserti128_si256(
					_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)lo->q)),
					_mm_loadu_si128((const __m128i *)(const void *)hi->q), 1);
				__m256i sh = _mm256_inserti128_si256(
					_mm256_castsi128_si256(_mm_load_si128((const __m128i *)(const void *)row_shuffle[lo->shuf])),
					_mm_load_si128((const __m128i *)(const void *)row_shuffle[hi->shuf]), 1);
				__m256i d = _mm256_shuffle_epi8(_mm256_sub_epi8(v, zero), sh);
				d = _mm256_maddubs_epi16(d, w1);
				d = _mm256_madd_epi16(d, w2);
				d = _mm256_packs_epi32(d, d);
				x[h] = _mm256_madd_epi16(d, w3); /* 32-bit pairs: 8 high digits, 8 low */
			}
			/* 64-bit lanes: values 0, 1, 2, 3 */
			__m256i hl = _mm256_blend_epi32(x[0], x[1], 0xCC);
			__m256i m = _mm256_add_epi64(_mm256_mul_epu32(hl, e8), _mm256_srli_epi64(hl, 32));
			__m256d md = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(m, magic)), two52);
			__m256d pw = _mm256_setr_pd(row_pow10[a[0].pow], row_pow10[a[1].pow],
						    row_pow10[a[2].pow], row_pow10[a[3].pow]);
			__m256d dv = _mm256_mul_pd(md, pw);
			/* emb_clinger_f32's test: within 4 units of a float midpoint,
			 * rounding twice could differ */
			__m256i t = _mm256_sub_epi64(_mm256_and_si256(_mm256_castpd_si256(dv), low29), mid);
			__m256i fine = _mm256_or_si256(_mm256_cmpgt_epi64(t, eight), _mm256_cmpgt_epi64(zero64, t));
			unsigned good = (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(fine));
			__m128 fl = _mm256_cvtpd_ps(dv);
			size_t got = k - i < 4 ? k - i : 4;
			if (good != 15) {
				size_t first = (size_t)__builtin_ctz(~good);
				if (first < got)
					got = first, more = false;
			}
			if (got == 4) {
				_mm_storeu_ps(out + done, fl);
			} else {
				float tmp[4];
				_mm_storeu_ps(tmp, fl);
				memcpy(out + done, tmp, got * sizeof *tmp);
			}
			done += got;
			if (got)
				*last = a[got - 1].q + a[got - 1].n;
			if (got < 4)
				break;
		}
		if (!more)
			break;
	}
	return done;
}
#endif
