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
 *   2. For each value before that: its length and the place of its dot,
 *      as two table indices (no branch).  A leading minus is read as a
 *      0 digit, so the sign costs nothing per value here.
 *   3. Four values at a time: one shuffle per value (chosen by the dot's
 *      place and the length) lines its digits up, the multiply-adds of
 *      "parse 16 digits with SSE" make the 15-digit scaled mantissas, a
 *      compare of each value's first byte with '-' gives the signs, and
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
bool emb_parse_row_avx2(void)
{
	/* EMB_SIMD=generic or sse2 turns the SSSE3 path off, and this too */
	return emb_parse_simd() && __builtin_cpu_supports("avx2") &&
	       __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
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

/* The scale of a mantissa whose dot is at DP: 10^(DP - 15) rounded to
 * double, as in emb_parse_f32_simd. */
static const double row_pow10[16] = {
	1e-15, 1e-14, 1e-13, 1e-12, 1e-11, 1e-10, 1e-9, 1e-8,
	1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e-0};

/* Values found per pass before they are converted. */
#define PASS 256

/* The values found in step 2, as arrays that step 3 loads four at a
 * time: where the value starts, the power of ten, and the byte offset of
 * the shuffle in row_shuffle (its low bits also give the length).  A
 * minus is read as a leading 0 (its dot place and length count it), and
 * step 3 finds it again for the sign. */
struct found {
	double pow[PASS + 3] __attribute__((aligned(32)));
	uint32_t q[PASS + 3];   /* from the pass's first value */
	uint16_t shuf[PASS + 3];
};

/* Tuned as for Zen 3: GCC's generic tuning zeroes the destination of
 * every tzcnt first (a false dependency of some Intel cores before
 * Skylake), two of the 22 instructions of the loop that finds a value;
 * 4% fewer instructions in all (callgrind). */
#if defined(__clang__)
#define AVX2 __attribute__((target("avx2,bmi,bmi2")))
#else
#define AVX2 __attribute__((target("avx2,bmi,bmi2,tune=znver3")))
#endif

/* The bytes of one window, as masks (bit i: byte i). */
struct window {
	uint64_t run;   /* above ' ': not a blank, line end or control byte */
	uint64_t stop;  /* not a blank, a digit, a dot or a minus */
	uint64_t dot, minus;
};

/* Bits H * 32 on of W, for the 32 bytes at P.  Saturating additions put
 * a range test in the top bit, which is all a movemask reads. */
static inline AVX2 __attribute__((always_inline)) void classify_half(const char *p, int h,
								    struct window *w)
{
	/* the blank, dot or minus with each low nibble (and, for the
	 * others, a byte that does not have it) */
	const __m256i special = _mm256_setr_epi8(' ', 0, 0, 0, 0, 0, 0, 0, 0, '\t', 0, 0, 0, '-', '.', 0,
						 ' ', 0, 0, 0, 0, 0, 0, 0, 0, '\t', 0, 0, 0, '-', '.', 0);
	__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i run = _mm256_adds_epu8(v, _mm256_set1_epi8(0x7f - ' '));
	__m256i nondigit = _mm256_adds_epu8(_mm256_sub_epi8(v, _mm256_set1_epi8('0')),
					    _mm256_set1_epi8(0x7f - 9));
	/* (bytes from 0x80 shuffle to 0, and none of them is 0) */
	__m256i blank_dot_minus = _mm256_cmpeq_epi8(_mm256_shuffle_epi8(special, v), v);
	__m256i stop = _mm256_andnot_si256(blank_dot_minus, nondigit);
	__m256i dot = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('.'));
	__m256i minus = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('-'));
	w->run |= (uint64_t)(uint32_t)_mm256_movemask_epi8(run) << (32 * h);
	w->stop |= (uint64_t)(uint32_t)_mm256_movemask_epi8(stop) << (32 * h);
	w->dot |= (uint64_t)(uint32_t)_mm256_movemask_epi8(dot) << (32 * h);
	w->minus |= (uint64_t)(uint32_t)_mm256_movemask_epi8(minus) << (32 * h);
}

static inline AVX2 __attribute__((always_inline)) void classify(const char *p, struct window *w)
{
	*w = (struct window){0, 0, 0, 0};
	classify_half(p, 0, w);
	classify_half(p + 32, 1, w);
}

/* Two values' 16 digits, one a lane, as four 32-bit groups of 4 digits:
 * values I and J of F; *MINUS gets the sign bit of each 64-bit lane that
 * starts a 128-bit one (the others are junk). */
static inline AVX2 __attribute__((always_inline)) __m256i digits2(const char *p0,
								 const struct found *f, size_t i,
								 size_t j, __m256i *minus)
{
	const char *shuf = (const char *)row_shuffle;
	__m256i v = _mm256_inserti128_si256(
		_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(p0 + f->q[i]))),
		_mm_loadu_si128((const __m128i *)(const void *)(p0 + f->q[j])), 1);
	__m256i sh = _mm256_inserti128_si256(
		_mm256_castsi128_si256(_mm_load_si128((const __m128i *)(const void *)(shuf + f->shuf[i]))),
		_mm_load_si128((const __m128i *)(const void *)(shuf + f->shuf[j])), 1);
	*minus = _mm256_slli_epi64(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('-')), 63);
	/* (saturating: the minus, below '0', becomes a 0 digit) */
	__m256i d = _mm256_shuffle_epi8(_mm256_subs_epu8(v, _mm256_set1_epi8('0')), sh);
	d = _mm256_maddubs_epi16(d, _mm256_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1,
						     10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1));
	return _mm256_madd_epi16(d, _mm256_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1,
						      100, 1, 100, 1, 100, 1, 100, 1));
}

/* Of the window at a value's start (bit 0) or after a blank: the starts
 * of values (*S), the blank or line end after each (*E), and the places
 * of things this path leaves to the caller (0: none; the first counts). */
static inline AVX2 __attribute__((always_inline)) uint64_t window_plan(const struct window *w,
								  uint64_t *s, uint64_t *e)
{
	uint64_t run = w->run, ws = ~run;
	uint64_t start = run & ((ws << 1) | 1);
	*s = start;
	*e = ws & (run << 1);
	/* a line end, a control byte, or a letter, '+', ... (not blanks) */
	uint64_t stop = w->stop;
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
	struct found f;
	size_t done = 0;
	*last = p;
	const __m256i e8 = _mm256_set1_epi64x(100000000);
	const __m256i magic = _mm256_set1_epi64x(0x4330000000000000);
	const __m256d two52 = _mm256_set1_pd(4503599627370496.0);
	const __m256i low29 = _mm256_set1_epi64x((INT64_C(1) << 29) - 1);
	/* emb_clinger_f32's midpoint test as one signed comparison:
	 * x = low29 bits - (2^28 - 4) is fine unless 0 <= x <= 8 */
	const __m256i tomid = _mm256_set1_epi64x((long long)((UINT64_C(1) << 63) - ((UINT64_C(1) << 28) - 4)));
	const __m256i nine = _mm256_set1_epi64x(INT64_MIN + 8); /* x + 2^63 > 8 */

	while (done < n) {
		/* Steps 1 and 2: up to PASS values from P on. */
		size_t want = n - done < PASS ? n - done : PASS, k = 0;
		const char *base = p, *p0 = p;
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
			uint32_t off = (uint32_t)(base - p0);
			for (; take; take--, have--, k++) {
				unsigned at = (unsigned)_tzcnt_u64(s), to = (unsigned)_tzcnt_u64(e);
				s = _blsr_u64(s);
				e = _blsr_u64(e);
				unsigned len = to - at;
				unsigned dp = (unsigned)_tzcnt_u64((w.dot >> at) | (UINT64_C(1) << len));
				f.q[k] = off + at;
				f.pow[k] = row_pow10[dp];
				f.shuf[k] = (uint16_t)((dp << 4 | len) << 4);
			}
			if (!have && stop) {
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
		for (size_t i = k; i % 4; i++) {
			f.q[i] = f.q[k - 1];
			f.pow[i] = f.pow[k - 1];
			f.shuf[i] = f.shuf[k - 1];
		}
		for (size_t i = 0; i < k; i += 4) {
			/* 16-bit groups of values i, i + 1 (low lane) and i + 2,
			 * i + 3 (high lane), then 32-bit pairs (8 high digits, 8
			 * low): 64-bit lanes i .. i + 3 */
			__m256i m0, m1;
			__m256i g = _mm256_packs_epi32(digits2(p0, &f, i, i + 2, &m0),
						       digits2(p0, &f, i + 1, i + 3, &m1));
			__m256i hl = _mm256_madd_epi16(g, _mm256_setr_epi16(10000, 1, 10000, 1, 10000, 1,
									   10000, 1, 10000, 1, 10000, 1,
									   10000, 1, 10000, 1));
			__m256i m = _mm256_add_epi64(_mm256_mul_epu32(hl, e8), _mm256_srli_epi64(hl, 32));
			__m256d md = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(m, magic)), two52);
			__m256d sign = _mm256_castsi256_pd(_mm256_unpacklo_epi64(m0, m1));
			__m256d dv = _mm256_mul_pd(_mm256_xor_pd(md, sign), _mm256_load_pd(f.pow + i));
			__m256i x = _mm256_add_epi64(_mm256_and_si256(_mm256_castpd_si256(dv), low29), tomid);
			unsigned good = (unsigned)_mm256_movemask_pd(
				_mm256_castsi256_pd(_mm256_cmpgt_epi64(x, nine)));
			__m128 fl = _mm256_cvtpd_ps(dv);
			if (good == 15 && i + 4 <= k) {
				_mm_storeu_ps(out + done + i, fl);
				continue;
			}
			/* the last few, or a value near a midpoint: up to it */
			size_t got = (size_t)__builtin_ctz(~good);
			if (got < 4 && i + got < k)
				more = false;
			else
				got = 4;
			if (got > k - i)
				got = k - i;
			float tmp[4];
			_mm_storeu_ps(tmp, fl);
			memcpy(out + done + i, tmp, got * sizeof *tmp);
			k = i + got;
			break;
		}
		if (k) {
			done += k;
			*last = p0 + f.q[k - 1] + (f.shuf[k - 1] >> 4 & 15);
		}
		if (!more)
			break;
	}
	return done;
}
#endif
