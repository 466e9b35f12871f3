/*
 * emb_parse.h - the hot path of number parsing, for text readers that
 * hold their input in padded buffers (emb_tsv.c's blocks, emb_cols.c).
 *
 * Digits are read eight at a time (SWAR: one 64-bit load, a digit mask and
 * three multiplications turn up to 8 ASCII digits into their value), and
 * the value is made with one correctly rounded IEEE operation when the
 * mantissa and the power of ten are both exact (Clinger's fast path:
 * mantissa below 2^53 and |exponent| <= 22 for double, 2^24 and 10 for
 * float; an f32 may also go through double when the double is not a float
 * midpoint, which is where rounding twice could differ).  Anything else,
 * and every malformed number, returns false: the caller then uses
 * emb_parse_f32/f64 (emb_num.c), which decide with the C library, so the
 * fast path changes speed, never values or messages.
 *
 * The loads read up to 8 bytes past the number (and past a NUL ending
 * it): callers keep EMB_PARSE_PAD readable bytes after their text.
 */
#ifndef EMB_PARSE_H
#define EMB_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#define EMB_PARSE_PAD 16

/* The digits at P, at most 8: returns how many, their value in *VAL. */
static inline __attribute__((always_inline)) unsigned emb_swar_digits(const char *p, uint64_t *val)
{
	uint64_t v;
	memcpy(&v, p, 8);
#ifdef WORDS_BIGENDIAN
	v = __builtin_bswap64(v);
#endif
	/* A byte is a digit when its high nibble is 3, and still is after
	 * adding 6.  A carry out of a byte >= 0xfa only reaches later bytes,
	 * past the first non-digit, which are ignored. */
	uint64_t y = (v & UINT64_C(0xF0F0F0F0F0F0F0F0)) |
		     (((v + UINT64_C(0x0606060606060606)) & UINT64_C(0xF0F0F0F0F0F0F0F0)) >> 4);
	uint64_t z = y ^ UINT64_C(0x3333333333333333);
	uint64_t nz = (((z & UINT64_C(0x7F7F7F7F7F7F7F7F)) + UINT64_C(0x7F7F7F7F7F7F7F7F)) | z) &
		      UINT64_C(0x8080808080808080);
	unsigned n = nz ? (unsigned)__builtin_ctzll(nz) >> 3 : 8;
	if (n == 0) {
		*val = 0;
		return 0;
	}
	/* Keep the n digits, as the last n of 8 (leading zeros in front);
	 * borrows from non-digits only reach later bytes, shifted out. */
	uint64_t x = (v - UINT64_C(0x3030303030303030)) << (8 * (8 - n));
	x = x * 10 + (x >> 8);
	x = (((x & UINT64_C(0x000000FF000000FF)) * UINT64_C(0x000F424000000064)) +
	     (((x >> 16) & UINT64_C(0x000000FF000000FF)) * UINT64_C(0x0000271000000001))) >> 32;
	*val = x;
	return n;
}

static const uint64_t emb_pow10_u64[9] = {1, 10, 100, 1000, 10000, 100000, 1000000,
					  10000000, 100000000};

/* Append the digits at *S to *M (at most 19 digits in all, counted in
 * *ND); false if there are more. */
static inline __attribute__((always_inline)) bool emb_swar_run(const char **s, uint64_t *m, unsigned *nd)
{
	unsigned n;
	do {
		uint64_t v;
		n = emb_swar_digits(*s, &v);
		if (*nd + n > 19)
			return false;
		*m = *m * emb_pow10_u64[n] + v;
		*nd += n;
		*s += n;
	} while (n == 8);
	return true;
}

/* A plain decimal [+-]digits[.digits][(e|E)[+-]digits] at P, with at most
 * 19 digits (leading zeros count) and an exponent of at most 4 digits:
 * sign, mantissa and power of ten.  False for anything else. */
static inline __attribute__((always_inline)) bool emb_fast_decimal(const char *p, const char **end, bool *neg,
				    uint64_t *mant, int *exp10)
{
	const char *s = p;
	*neg = *s == '-';
	s += *s == '-' || *s == '+';
	uint64_t m = 0;
	unsigned nd = 0;
	int e = 0;
	if ((unsigned)(s[0] - '0') < 10 && s[1] == '.') {
		m = (uint64_t)(s[0] - '0'); /* "0.0381", "-1.25": the usual case */
		nd = 1;
		s++;
	} else if (!emb_swar_run(&s, &m, &nd)) {
		return false;
	}
	if (*s == '.') {
		const char *f0 = ++s;
		if (!emb_swar_run(&s, &m, &nd))
			return false;
		e = -(int)(s - f0);
	}
	if (nd == 0)
		return false;
	if ((*s | 0x20) == 'e') {
		const char *t = s + 1;
		bool eneg = *t == '-';
		t += *t == '-' || *t == '+';
		int x = 0, k = 0;
		for (; (unsigned)(*t - '0') < 10; t++, k++)
			if (k < 5) /* more digits are refused below; no overflow */
				x = x * 10 + (*t - '0');
		if (k == 0 || k > 4)
			return false; /* "1e" (strtod stops before the e), or huge */
		e += eneg ? -x : x;
		s = t;
	}
	*end = s;
	*mant = m;
	*exp10 = e;
	return true;
}

static const float emb_pow10_f32[] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
				      1e6f, 1e7f, 1e8f, 1e9f, 1e10f};
static const double emb_pow10_f64[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The double M * 10^E, if one correctly rounded operation makes it. */
static inline bool emb_clinger_f64(uint64_t m, int e, double *out)
{
	if (m >= (UINT64_C(1) << 53) || e < -22 || e > 22)
		return false;
	double d = (double)(int64_t)m; /* exact; a signed conversion is one instruction */
	*out = e >= 0 ? d * emb_pow10_f64[e] : d / emb_pow10_f64[-e];
	return true;
}

/* Is D (a double rounded from the true value) exactly halfway between two
 * floats?  Then converting D to float could round twice.  Valid for D in
 * the normal float range. */
static inline bool emb_float_midpoint(double d)
{
	uint64_t bits;
	memcpy(&bits, &d, 8);
	return (bits & ((UINT64_C(1) << 29) - 1)) == (UINT64_C(1) << 28);
}

/* 10^-k rounded to double: within 2^-53 relative of the true value. */
static const double emb_pow10_neg_f64[32] = {
	1e-0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11,
	1e-12, 1e-13, 1e-14, 1e-15, 1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22,
	/* (beyond 22: for an index masked to 0..31 before its range is known) */
	1e-23, 1e-24, 1e-25, 1e-26, 1e-27, 1e-28, 1e-29, 1e-30, 1e-31};

/* The float M * 10^E (M > 0), when the fast paths make it exactly. */
static inline bool emb_clinger_f32(uint64_t m, int e, float *out)
{
	/* Values with a fraction, the usual case, skip the division:
	 * d = M * fl(10^E) in double is within 2^-52 relative (two
	 * roundings) of the true value, under 4 units in d's last place, so
	 * d and the true value round to the same float unless a float
	 * midpoint lies within 4 units of d: then the exact ways below
	 * decide.  M < 2^53 makes (double)M exact, and 1 <= M < 2^53 with
	 * -22 <= E < 0 keeps d among the normal floats (1e-22 .. 9e14). */
	if (e < 0 && e >= -22 && m < (UINT64_C(1) << 53)) {
		double d = (double)(int64_t)m * emb_pow10_neg_f64[-e];
		uint64_t bits;
		memcpy(&bits, &d, 8);
		uint64_t low = bits & ((UINT64_C(1) << 29) - 1);
		if (low - ((UINT64_C(1) << 28) - 4) > 8) {
			*out = (float)d;
			return true;
		}
	}
	if (m <= (1u << 24) && e >= -10 && e <= 10) {
		float v = (float)(int32_t)m;
		*out = e >= 0 ? v * emb_pow10_f32[e] : v / emb_pow10_f32[-e];
		return true;
	}
	double d;
	if (emb_clinger_f64(m, e, &d) && d >= 1.1754943508222875e-38 &&
	    d <= 3.4028234663852886e38 && !emb_float_midpoint(d)) {
		*out = (float)d;
		return true;
	}
	return false;
}

/* -V when NEG, for V >= 0 (or +0), without a branch: the sign of a
 * number is as good as random, and a mispredicted branch costs more than
 * parsing the digits. */
static inline float emb_signed_f32(float v, bool neg)
{
	uint32_t b;
	memcpy(&b, &v, 4);
	b |= (uint32_t)neg << 31;
	memcpy(&v, &b, 4);
	return v;
}

static inline double emb_signed_f64(double v, bool neg)
{
	uint64_t b;
	memcpy(&b, &v, 8);
	b |= (uint64_t)neg << 63;
	memcpy(&v, &b, 8);
	return v;
}

/* A fast path's shape: emb_parse_f32_fast/f64_fast or their SSSE3 twins,
 * passed to always_inline readers so that each target clone inlines its
 * own (emb_tsv.c, emb_cols.c). */
typedef bool parse_f32_fn(const char *p, const char **end, float *out);
typedef bool parse_f64_fn(const char *p, const char **end, double *out);

/* emb_parse_f32/f64 for the common case, in a padded buffer: false (and
 * nothing set) where the caller must call those. */
static inline bool emb_parse_f32_fast(const char *p, const char **end, float *out)
{
	bool neg;
	uint64_t m;
	int e;
	float v;
	const char *s;
	if (!emb_fast_decimal(p, &s, &neg, &m, &e))
		return false;
	if (m == 0)
		v = 0.0f;
	else if (!emb_clinger_f32(m, e, &v))
		return false;
	*out = emb_signed_f32(v, neg);
	*end = s;
	return true;
}

static inline bool emb_parse_f64_fast(const char *p, const char **end, double *out)
{
	bool neg;
	uint64_t m;
	int e;
	double v;
	const char *s;
	if (!emb_fast_decimal(p, &s, &neg, &m, &e))
		return false;
	if (m == 0)
		v = 0.0;
	else if (!emb_clinger_f64(m, e, &v))
		return false;
	*out = emb_signed_f64(v, neg);
	*end = s;
	return true;
}

/*
 * The SSSE3 path (x86-64 only; the caller checks the CPU, as
 * emb_parse_simd() does, and calls these from a function compiled for
 * SSSE3): one 16-byte load classifies the bytes of a number of up to 16
 * characters after its sign, the digits and the dot, and finds where the
 * mantissa ends.  A mask clears what follows, a shuffle chosen by the
 * dot's place drops it and lines the digits up, and three multiply-adds
 * make two 8-digit halves ("parse 16 digits with SSE"): no loop, no
 * branch on the digit count.  An exponent is read by the scalar code
 * above.  Anything else (a '+', two dots, no digits, 16 characters with
 * no end) returns false for the scalar paths to decide.
 * Reads 16 bytes past the sign: callers keep EMB_PARSE_PAD bytes.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define EMB_PARSE_SIMD 1

/* Does this CPU run the SSSE3 path, and does EMB_SIMD (generic or sse2:
 * no) allow it?  Asks each time: callers keep the answer. */
bool emb_parse_simd(void);

/* emb_simd_decimal's shuffles: row DP (the digits before the dot) takes
 * the digits of a number to bytes 1..15 (byte 0 and the bytes past the
 * last digit are zero), skipping the dot. */
#define Z (-128)
static const signed char emb_simd_undot[16][16] __attribute__((aligned(16))) = {
	{Z, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{Z, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{Z, 0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{Z, 0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{Z, 0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{Z, 0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{Z, 0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{Z, 0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15},
	{Z, 0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15},
	{Z, 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15},
	{Z, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15},
	{Z, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15},
	{Z, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15},
	{Z, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15},
	{Z, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15},
	{Z, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14},
};
#undef Z

/* 16 bytes from emb_simd_ones + 16 - N: N bytes of ones, then zeros. */
static const signed char emb_simd_ones[32] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};

/* The number at P split as emb_fast_decimal does, but with its digits
 * scaled to 15 (mantissa D * 10^(15 - digits), exponent reduced to
 * match): the place of the dot alone then says where each digit goes,
 * and the mantissa stays below 10^15 < 2^53, as Clinger needs. */
static inline __attribute__((target("ssse3"), always_inline))
bool emb_simd_decimal(const char *p, const char **end, bool *neg, uint64_t *mant, int *exp10)
{
	bool ng = *p == '-';
	const char *q = p + ng;
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
	__m128i dig = _mm_sub_epi8(v, _mm_set1_epi8('0'));
	__m128i isdig = _mm_cmpeq_epi8(_mm_min_epu8(dig, _mm_set1_epi8(9)), dig);
	__m128i isdot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
	unsigned dots = (unsigned)_mm_movemask_epi8(isdot);
	unsigned ne = (unsigned)__builtin_ctz(~(unsigned)_mm_movemask_epi8(_mm_or_si128(isdig, isdot)));
	/* At most 15 characters, one dot ("1.2.3" stops at the second for
	 * strtod) and a digit; DP digits before the dot (all without one). */
	dots &= (1u << ne) - 1;
	unsigned dp = (unsigned)__builtin_ctz(dots | 1u << ne);
	if (ne > 15 || (dots & (dots - 1)) || ne == (dots != 0))
		return false;
	__m128i keep = _mm_loadu_si128((const __m128i *)(const void *)(emb_simd_ones + 16 - ne));
	__m128i d = _mm_shuffle_epi8(_mm_and_si128(dig, keep),
				     _mm_load_si128((const __m128i *)(const void *)emb_simd_undot[dp]));
	d = _mm_maddubs_epi16(d, _mm_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1));
	d = _mm_madd_epi16(d, _mm_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1));
	d = _mm_packs_epi32(d, d);
	d = _mm_madd_epi16(d, _mm_setr_epi16(10000, 1, 10000, 1, 10000, 1, 10000, 1));
	uint64_t x = (uint64_t)_mm_cvtsi128_si64(d);
	uint64_t m = (x & 0xffffffffu) * 100000000u + (x >> 32);
	int e = (int)dp - 15;
	const char *s = q + ne;
	if ((*s | 0x20) == 'e') {
		const char *t = s + 1;
		bool eneg = *t == '-';
		t += *t == '-' || *t == '+';
		int xe = 0, k = 0;
		for (; (unsigned)(*t - '0') < 10; t++, k++)
			if (k < 5) /* more digits are refused below; no overflow */
				xe = xe * 10 + (*t - '0');
		if (k == 0 || k > 4)
			return false;
		e += eneg ? -xe : xe;
		s = t;
	}
	*end = s;
	*neg = ng;
	*mant = m;
	*exp10 = e;
	return true;
}

/* emb_parse_row.c: a row of floats, many at a time (AVX2, BMI1/2).
 * emb_parse_row_avx2(): may this CPU and EMB_SIMD use it (ask once).
 * emb_parse_row_f32_avx2(): the values at P, a value's first byte, into
 * OUT, at most N of them, blank-separated, stopping at the first thing it
 * does not take: an exponent, a '+', 16 characters or more, a non-number,
 * a line end or other control byte, a value near a float midpoint (see
 * emb_clinger_f32), or a 64-byte window reaching END.  Returns how many
 * it took, and *LAST: the end of the last one (P if none); the caller
 * skips the blanks from there and parses what follows its usual way.
 * Reads up to END + EMB_PARSE_PAD. */
#define EMB_PARSE_ROW_AVX2 1
bool emb_parse_row_avx2(void);
size_t emb_parse_row_f32_avx2(const char *p, const char *end, size_t n, float *out,
			      const char **last);

/* emb_parse_f32_fast/emb_parse_f64_fast by the SSSE3 path. */
static inline __attribute__((target("ssse3"), always_inline))
bool emb_parse_f32_simd(const char *p, const char **end, float *out)
{
	bool neg;
	uint64_t m;
	int e;
	const char *s;
	if (!emb_simd_decimal(p, &s, &neg, &m, &e))
		return false;
	/* m < 10^15: emb_clinger_f32's first way, without its tests of m
	 * (0 is 0 there too); the sign goes into the power of ten, off the
	 * path from the digits to the value.  The rare values that way does
	 * not decide (an exponent, near a midpoint) go back to the caller,
	 * which then keeps no mantissa alive on the usual path. */
	uint64_t bits;
	memcpy(&bits, &emb_pow10_neg_f64[-e & 31], 8);
	bits |= (uint64_t)neg << 63;
	double d;
	memcpy(&d, &bits, 8);
	d *= (double)(int64_t)m;
	memcpy(&bits, &d, 8);
	if (!(e < 0 && e >= -22 && (bits & ((UINT64_C(1) << 29) - 1)) - ((UINT64_C(1) << 28) - 4) > 8))
		return false;
	*out = (float)d;
	*end = s;
	return true;
}

static inline __attribute__((target("ssse3"), always_inline))
bool emb_parse_f64_simd(const char *p, const char **end, double *out)
{
	bool neg;
	uint64_t m;
	int e;
	double v;
	const char *s;
	if (!emb_simd_decimal(p, &s, &neg, &m, &e))
		return false;
	if (m == 0)
		v = 0.0;
	else if (!emb_clinger_f64(m, e, &v))
		return false;
	*out = emb_signed_f64(v, neg);
	*end = s;
	return true;
}
#endif

#endif
