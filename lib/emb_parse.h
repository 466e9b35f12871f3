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
static const double emb_pow10_neg_f64[] = {
	1e-0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11,
	1e-12, 1e-13, 1e-14, 1e-15, 1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22};

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
	*out = neg ? -v : v;
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
	*out = neg ? -v : v;
	*end = s;
	return true;
}

#endif
