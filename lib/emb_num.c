/*
 * emb_num.c - number text <-> binary, exactly.
 *
 * Parsing is the hot path of TSV input.  Most embedding values have few
 * significant digits ("-0.038194"), which a fast path converts with one
 * correctly rounded IEEE operation (Clinger's observation); anything else
 * falls back to strtof/strtod.  Both paths give the correctly rounded
 * result, so the fast path changes speed, never values.
 *
 * Numbers are decimal only (emb.5): the C library's hexadecimal floats
 * ("0x1p3") are refused; "nan", "inf" and "infinity" parse, and the
 * callers decide what non-finite values mean.
 *
 * Formatting prints the shortest decimal that reads back to the same bits,
 * trying %.{6,7,8}g before the always-exact %.9g (15/16/17 for double).
 */
#include <config.h>
#include "emb.h"
#include "emb_parse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Split a plain decimal into sign, up to 19 significant digits and a
 * power of ten.  Returns false for anything else (or too many digits), in
 * which case the caller uses the C library. */
static bool scan_decimal(const char *p, const char **end, bool *neg,
			 uint64_t *mant, int *exp10)
{
	const char *s = p;
	uint64_t m = 0;
	int ndig = 0, e = 0;
	bool any = false;

	*neg = false;
	if (*s == '-' || *s == '+')
		*neg = *s++ == '-';
	while (*s == '0') {
		s++;
		any = true;
	}
	while (*s >= '0' && *s <= '9') {
		if (ndig >= 19)
			return false;
		m = m * 10 + (uint64_t)(*s++ - '0');
		ndig++;
		any = true;
	}
	if (*s == '.') {
		s++;
		if (ndig == 0)
			while (*s == '0') {
				s++;
				e--;
				any = true;
			}
		while (*s >= '0' && *s <= '9') {
			if (ndig >= 19)
				return false;
			m = m * 10 + (uint64_t)(*s++ - '0');
			ndig++;
			e--;
			any = true;
		}
	}
	if (!any)
		return false;
	if (*s == 'e' || *s == 'E') {
		const char *t = s + 1;
		bool eneg = false;
		int x = 0;
		if (*t == '-' || *t == '+')
			eneg = *t++ == '-';
		if (!(*t >= '0' && *t <= '9'))
			return false;
		while (*t >= '0' && *t <= '9') {
			if (x < 10000)
				x = x * 10 + (*t - '0');
			t++;
		}
		e += eneg ? -x : x;
		s = t;
	}
	*mant = m;
	*exp10 = e;
	*end = s;
	return true;
}

/* May the C library read the number at P?  Only decimal text and the
 * words nan/inf/infinity (after white space, as strtod skips it): not
 * hexadecimal floats. */
static bool libc_may_parse(const char *p, const char *end)
{
	p += strspn(p, " \t\n\v\f\r");
	const char *s = p + (*p == '-' || *p == '+');
	if (!((*s >= '0' && *s <= '9') || *s == '.' || *s == 'n' || *s == 'N' ||
	      *s == 'i' || *s == 'I'))
		return false;
	for (; s < end; s++)
		if (*s == 'x' || *s == 'X')
			return false;
	return true;
}

bool emb_parse_f32(const char *p, const char **end, float *out)
{
	bool neg;
	uint64_t m;
	int e;
	float v;
	if (scan_decimal(p, end, &neg, &m, &e) && (m == 0 || emb_clinger_f32(m, e, &v))) {
		if (m == 0)
			v = 0.0f;
		*out = neg ? -v : v;
		return true;
	}
	char *e2;
	*out = strtof(p, &e2);
	*end = e2;
	return e2 != p && libc_may_parse(p, e2);
}

bool emb_parse_f64(const char *p, const char **end, double *out)
{
	bool neg;
	uint64_t m;
	int e;
	double v;
	if (scan_decimal(p, end, &neg, &m, &e) && emb_clinger_f64(m, e, &v)) {
		*out = neg ? -v : v;
		return true;
	}
	char *e2;
	*out = strtod(p, &e2);
	*end = e2;
	return e2 != p && libc_may_parse(p, e2);
}

#ifdef EMB_PARSE_SIMD
bool emb_parse_simd(void)
{
	const char *cap = getenv("EMB_SIMD");
	if (cap && (!strcmp(cap, "generic") || !strcmp(cap, "sse2")))
		return false;
	__builtin_cpu_init();
	return __builtin_cpu_supports("ssse3");
}
#endif

int emb_format_f32(char *buf, float v)
{
	int n = 0;
	if (!isfinite(v))
		return snprintf(buf, 32, "%s", isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
	for (int prec = 6; prec <= 8; prec++) {
		n = snprintf(buf, 32, "%.*g", prec, (double)v);
		const char *end;
		float back;
		if (emb_parse_f32(buf, &end, &back) && back == v)
			return n;
	}
	return snprintf(buf, 32, "%.9g", (double)v);
}

int emb_format_f64(char *buf, double v)
{
	int n = 0;
	if (!isfinite(v))
		return snprintf(buf, 32, "%s", isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
	for (int prec = 15; prec <= 16; prec++) {
		n = snprintf(buf, 32, "%.*g", prec, v);
		const char *end;
		double back;
		if (emb_parse_f64(buf, &end, &back) && back == v)
			return n;
	}
	return snprintf(buf, 32, "%.17g", v);
}

/* IEEE 754 binary16 conversions, round to nearest even. */
float emb_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
	if (exp == 0) {
		if (man == 0) {
			bits = sign;
		} else { /* subnormal: renormalise */
			int shift = 0;
			while (!(man & 0x400)) {
				man <<= 1;
				shift++;
			}
			man &= 0x3ff;
			bits = sign | (uint32_t)(127 - 15 - shift + 1) << 23 | man << 13;
		}
	} else if (exp == 31) {
		bits = sign | 0x7f800000u | man << 13;
	} else {
		bits = sign | (exp + 127 - 15) << 23 | man << 13;
	}
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

uint16_t emb_f32_to_f16(float f)
{
	uint32_t x;
	memcpy(&x, &f, 4);
	uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
	uint32_t absx = x & 0x7fffffffu;
	if (absx >= 0x7f800000u) /* inf or nan */
		return sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 : 0);
	if (absx >= 0x477ff000u) /* rounds to >= 65520: overflow to inf */
		return sign | 0x7c00;
	if (absx < 0x38800000u) { /* below the smallest normal half */
		if (absx < 0x33000000u) /* rounds to zero */
			return sign;
		uint32_t man = (absx & 0x7fffff) | 0x800000;
		int shift = 126 - (int)(absx >> 23); /* 14..24 */
		uint32_t half = man >> shift, rem = man & ((1u << shift) - 1);
		uint32_t mid = 1u << (shift - 1);
		if (rem > mid || (rem == mid && (half & 1)))
			half++;
		return sign | (uint16_t)half;
	}
	uint32_t h = ((absx >> 13) - ((127 - 15) << 10));
	uint32_t rem = absx & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
		h++;
	return sign | (uint16_t)h;
}
