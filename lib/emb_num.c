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
 * Formatting prints the shortest of %.{6,7,8}g that reads back to the same
 * bits, else the always-exact %.9g (15/16/17 for double), in 64-bit
 * integers for most floats, 128-bit ones for most of the rest, where they
 * are exact, through printf elsewhere.
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

/*
 * Formatting.  The text is a contract (users and tests compare it byte
 * for byte): for a float, the first of printf's "%.6g", "%.7g", "%.8g" of
 * (double)v that reads back to v, else "%.9g"; for a double 15, 16, else
 * 17 digits; "nan", "inf", "-inf".  That is what format_libc prints, and
 * what the fast path below prints without printf or a parse, in the range
 * where it is exact (tests/parse-check.c compares the two byte for byte).
 */
static int format_libc(char *buf, double v, bool f32)
{
	int n = 0;
	if (!isfinite(v))
		return snprintf(buf, 32, "%s", isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
	for (int prec = f32 ? 6 : 15; prec < (f32 ? 9 : 17); prec++) {
		n = snprintf(buf, 32, "%.*g", prec, v);
		const char *end;
		float b32;
		double b64;
		if (f32 ? emb_parse_f32(buf, &end, &b32) && b32 == (float)v
			: emb_parse_f64(buf, &end, &b64) && b64 == v)
			return n;
	}
	return snprintf(buf, 32, "%.*g", f32 ? 9 : 17, v);
}

#ifdef __SIZEOF_INT128__
typedef unsigned __int128 u128;

static const uint64_t pow10_u64[20] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
	10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000,
	1000000000000000, 10000000000000000, 100000000000000000, 1000000000000000000,
	10000000000000000000u,
};

/* 10^-25 .. 10^22, nearest doubles: a guess at the decimal exponent */
#define POW10_F64_NEG 25
static const double pow10_f64[] = {
	1e-25, 1e-24, 1e-23, 1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15,
	1e-14, 1e-13, 1e-12, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3,
	1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* "00" to "99" */
static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/*
 * printf's %.Pg of the decimal Q * 10^(X - P + 1) (Q has P digits, or is
 * 10^P when rounding carried): sign, digits, no trailing zeros in the
 * fraction, fixed notation for -4 <= X < P, else d.ddde+XX.  The digits
 * are written from the last one back, without a copy.
 */
static int print_g(char *buf, bool neg, uint64_t q, int x, int p)
{
	if (q == pow10_u64[p]) {
		q = pow10_u64[p - 1];
		x++;
	}
	bool fixed = x >= -4 && x < p;
	int ni = fixed && x >= 0 ? x + 1 : 1;   /* digits before the point */
	int nd = p;
	while (nd > ni && q % 10 == 0) {
		q /= 10;
		nd--;
	}
	char *o = buf;
	if (neg)
		*o++ = '-';
	if (fixed && x < 0) {
		memcpy(o, "0.0000", 6);
		o += 1 - x;
		ni = 0;                         /* no point among the digits */
	}
	o += nd + (ni && nd > ni);
	char *w = o;
	if (ni && nd > ni) {                    /* the fraction, then the point */
		for (int i = nd - ni; i > 1; i -= 2, q /= 100)
			memcpy(w -= 2, digit_pairs + 2 * (q % 100), 2);
		if ((nd - ni) & 1) {
			*--w = (char)('0' + q % 10);
			q /= 10;
		}
		*--w = '.';
		nd = ni;
	}
	for (; nd > 1; nd -= 2, q /= 100)
		memcpy(w -= 2, digit_pairs + 2 * (q % 100), 2);
	if (nd)
		*--w = (char)('0' + q);
	if (!fixed) {
		*o++ = 'e';
		*o++ = x < 0 ? '-' : '+';
		unsigned ax = (unsigned)(x < 0 ? -x : x);
		if (ax >= 100)
			*o++ = (char)('0' + ax / 100);
		*o++ = (char)('0' + ax / 10 % 10);
		*o++ = (char)('0' + ax % 10);
	}
	*o = '\0';
	return (int)(o - buf);
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* The 8 decimal digits of X < 10^8, one a byte, the first in the lowest
 * byte (where it is written): 4 + 4 digits in 32-bit lanes, then 2 + 2 in
 * 16-bit lanes, then 1 + 1 in bytes, all lanes of a step at once, with
 * no lane's product reaching the next.  X * 10486 >> 20 is X / 100 for
 * X < 10^4 and X * 103 >> 10 is X / 10 for X < 100 (the excess is below
 * 0.003 and 0.06, and a quotient's fraction at most 0.99 and 0.9). */
static inline uint64_t digits8(uint32_t x)
{
	uint64_t v = x / 10000 | (uint64_t)(x % 10000) << 32;
	uint64_t h = (v * 10486 >> 20) & UINT64_C(0x0000007f0000007f);
	v = h | (v - h * 100) << 16;
	h = (v * 103 >> 10) & UINT64_C(0x000f000f000f000f);
	return h | (v - h * 10) << 8;
}

/*
 * print_g for floats (P <= 9): the same text, without a branch on where
 * the point goes (as good as random in embeddings).  The digits are made
 * all at once (digits8), the zeros at their end counted from them, and
 * the text put together from a few 8-byte stores, the ones past its end
 * harmless: the digits before the point (or "0.000" for 0.000ddd), a '.',
 * then the digits after it.  Writes at most 27 bytes of BUF.
 */
static inline __attribute__((always_inline)) int print_g9(char *buf, bool neg, uint64_t q, int x,
							  int p)
{
	if (q == pow10_u64[p]) {
		q = pow10_u64[p - 1];
		x++;
	}
	bool fixed = x >= -4 && x < p, small = fixed && x < 0;
	uint32_t q9 = (uint32_t)(q * pow10_u64[9 - p]), lead = q9 / 100000000;
	uint64_t rest = digits8(q9 - lead * 100000000);
	/* significant digits: the 9 but the zeros at the end */
	int sig = rest ? 9 - (__builtin_clzll(rest) >> 3) : 1;
	const uint64_t zeros = UINT64_C(0x3030303030303030);
	rest += zeros;
	/* digits 0-7, and 8 with '0's after */
	uint64_t d0 = '0' + lead + (rest << 8), d1 = (rest >> 56) | (zeros << 8);
	int ni = fixed && x > 0 ? x + 1 : 1;    /* digits before the point */
	int lz = small ? -x : 0;                /* 0.000ddd: 1 to 4 zeros */
	int nd = sig > ni ? sig : ni;
	char *o = buf;
	*o = '-';
	o += neg;
	uint64_t head = small ? UINT64_C(0x3030303030302e30) : d0;   /* "0.000000" */
	memcpy(o, &head, 8);
	memcpy(o + 8, &d1, 8);
	o[ni] = '.';
	/* after the point: digits ni-8 (rest's ni-1 on; none when ni is 9,
	 * and the shift wraps to junk), or all of them */
	uint64_t t0 = small ? d0 : rest >> (8 * (ni - 1) & 63), t1 = small ? d1 : 0;
	char *t = o + (small ? 1 + lz : ni + 1);
	memcpy(t, &t0, 8);
	memcpy(t + 8, &t1, 8);
	o += small ? 1 + lz + sig : nd + (nd > ni);
	if (!fixed) {
		*o++ = 'e';
		*o++ = x < 0 ? '-' : '+';
		unsigned ax = (unsigned)(x < 0 ? -x : x);
		if (ax >= 100)
			*o++ = (char)('0' + ax / 100);
		*o++ = (char)('0' + ax / 10 % 10);
		*o++ = (char)('0' + ax % 10);
	}
	*o = '\0';
	return (int)(o - buf);
}
#else
#define print_g9 print_g
#endif

/* print_g, or print_g9 where every P a caller gives is at most 9. */
static inline __attribute__((always_inline)) int print_p(char *buf, bool neg, uint64_t q, int x,
							 int p, int pmax)
{
	return pmax <= 9 ? print_g9(buf, neg, q, x, p) : print_g(buf, neg, q, x, p);
}

/* Q and R rounded to DIV times fewer digits, into *QP; does that read
 * back?  (See format_fast.) */
static inline __attribute__((always_inline))
bool reads_back(uint64_t q, u128 r, int sh, u128 t, bool even, bool pow2, uint64_t div,
		uint64_t *qp)
{
	uint64_t qd = q / div, s = q % div;
	bool up = s > div / 2 || (s == div / 2 && (r != 0 || (qd & 1)));
	u128 dist = up ? ((u128)(div - s) << sh) - r : ((u128)s << sh) + r;
	u128 lhs = dist << (up || !pow2 ? 1 : 2);
	*qp = qd + up;
	return lhs < t || (even && lhs == t);
}

/*
 * The fast path, for A = |v| = m * 2^e2 (m of MBITS bits, the top one
 * set) with v normal and away from both ends of the range: the callers'
 * bounds keep every quantity below 2^127 (KMAX bounds 10^k).  Prints the first
 * of PMIN..DIG-1 digits that reads back, else DIG digits.  Returns -1
 * where it does not apply.
 *
 * Why it is exact.  With sh = max(-e2, 0) and mm = m * 2^max(e2, 0),
 * |v| * 10^k = mm * 10^k / 2^sh: the integer N = mm * 10^k, shifted, is
 * Q = floor(|v| * 10^k) with the exact remainder r = N mod 2^sh.  For
 * k = DIG-1-x (x the decimal exponent, fixed up until 10^(DIG-1) <= Q <
 * 10^DIG, which is then exactly 10^x <= |v| < 10^(x+1)), Q and r hold |v|
 * to DIG digits with nothing lost.  Rounding to P <= DIG digits takes
 * Q / 10^(DIG-P) and the exact rest (s = Q mod 10^(DIG-P), then r), half
 * to even as glibc's printf rounds the exact binary value.  The candidate
 * reads back to v under a correctly rounded strtof/strtod (as
 * emb_parse_f32/f64 are) iff it lies inside v's rounding interval: half
 * an ulp (2^e2) each side, a quarter below a power of two, the ends
 * included iff m is even.  In units of 2^-sh of the DIG-digit scale the
 * distance is s * 2^sh + r (rounded down) or (10^(DIG-P) - s) * 2^sh - r
 * (up), and half an ulp is 10^k * 2^max(e2, 0) / 2 =: T / 2: integers.
 */
static inline __attribute__((always_inline))
int format_fast(char *buf, bool neg, double a, uint64_t m, int e2, int mbits, int pmin,
		int dig, int kmax)
{
	int sh = e2 < 0 ? -e2 : 0;
	uint64_t mm = e2 < 0 ? m : m << e2;
	/* x from the binary exponent and a table, then checked exactly */
	int eb = e2 + mbits - 1;                /* 2^eb <= |v| < 2^(eb+1) */
	int x = (eb * 78913) >> 18;             /* floor(eb * log10(2)) */
	x += a >= pow10_f64[x + 1 + POW10_F64_NEG];
	u128 n, p10k;
	for (int tries = 0;; tries++) {
		int k = dig - 1 - x;
		if (tries > 2 || k < 0 || k > kmax)
			return -1;
		p10k = k < 20 ? pow10_u64[k] : (u128)pow10_u64[19] * pow10_u64[k - 19];
		n = p10k * mm;
		if (n >> sh >= pow10_u64[dig])
			x++;
		else if (n >> sh < pow10_u64[dig - 1])
			x--;
		else
			break;
	}
	uint64_t q = (uint64_t)(n >> sh);
	u128 r = sh ? n & (((u128)1 << sh) - 1) : 0;
	u128 t = p10k << (e2 > 0 ? e2 : 0);
	bool even = !(m & 1), pow2 = m == (uint64_t)1 << (mbits - 1);
	/* (unrolled by hand, for divisions by constants) */
	uint64_t qp;
	if (dig - pmin >= 3 && reads_back(q, r, sh, t, even, pow2, 1000, &qp))
		return print_p(buf, neg, qp, x, dig - 3, dig);
	if (dig - pmin >= 2 && reads_back(q, r, sh, t, even, pow2, 100, &qp))
		return print_p(buf, neg, qp, x, dig - 2, dig);
	if (reads_back(q, r, sh, t, even, pow2, 10, &qp))
		return print_p(buf, neg, qp, x, dig - 1, dig);
	if (sh) {
		u128 half = (u128)1 << (sh - 1);
		if (r > half || (r == half && (q & 1)))
			q++;
	}
	return print_p(buf, neg, q, x, dig, dig);
}

/*
 * format_fast for a float A = M * 2^E2 with -36 <= E2 <= -1, that is
 * 2^-13 <= A < 2^23 (nearly every embedding value), M not a power of two,
 * in 64-bit integers, which hold every quantity there: N = M * 10^k <
 * 2^24 * 10^12 < 2^64 (k <= 12 because A >= 2^-13 > 10^-4, checked below
 * all the same).  The same text as format_fast, in fewer steps, and
 * without a branch on which digit count reads back:
 *
 * With D = 10^j * 2^sh, rounding A to 9 - j digits makes an error of
 * min(a, D - a) in units of 2^-sh of the 9-digit scale, a = N mod D =
 * (Q mod 10^j) * 2^sh + r; it reads back iff twice that is below T = 10^k
 * (or equal, when M is even).  Away from powers of two, v's rounding
 * interval is symmetric, so if the closest 6-digit decimal is inside it,
 * so is the closest 7-digit one (the 6-digit one is a 7-digit decimal
 * too, and no closer): the digit count is 9 minus the number of counts
 * that read back.
 */
static inline __attribute__((always_inline))
bool fits32(uint32_t q, uint64_t r, int sh, uint64_t lim, uint32_t div, uint32_t *qp)
{
	uint32_t qd = q / div;
	uint64_t a = (uint64_t)(q - qd * div) << sh | r, d = (uint64_t)div << sh;
	uint64_t err = a < d - a ? a : d - a;
	/* round half to even, as printf does */
	*qp = qd + (a + (qd & 1) > d / 2);
	return 2 * err < lim;
}

static inline __attribute__((always_inline))
int format_fast32(char *buf, bool neg, float a, uint32_t m, int e2)
{
	int sh = -e2;
	int eb = e2 + 23;
	int x = (eb * 78913) >> 18;
	x += a >= pow10_f64[x + 1 + POW10_F64_NEG];
	uint64_t n, p10k;
	for (int tries = 0;; tries++) {
		int k = 8 - x;
		if (tries > 2 || k < 0 || k > 12)
			return -1;
		p10k = pow10_u64[k];
		n = p10k * m;
		if (n >> sh >= 1000000000)
			x++;
		else if (n >> sh < 100000000)
			x--;
		else
			break;
	}
	uint32_t q = (uint32_t)(n >> sh), rounded[4];
	uint64_t r = n & ((UINT64_C(1) << sh) - 1), lim = p10k + !(m & 1);
	int p = 9 - fits32(q, r, sh, lim, 1000, &rounded[0]) -
		fits32(q, r, sh, lim, 100, &rounded[1]) - fits32(q, r, sh, lim, 10, &rounded[2]);
	rounded[3] = q + (r + (q & 1) > (UINT64_C(1) << (sh - 1)));
	/* (an index, not a choice the compiler makes a branch of) */
	return print_g9(buf, neg, rounded[p - 6], x, p);
}
#endif

/* "0" or "-0", as printf writes a zero, NUL-terminated. */
static int print_zero(char *buf, bool neg)
{
	char *o = buf;
	if (neg)
		*o++ = '-';
	*o++ = '0';
	*o = '\0';
	return (int)(o - buf);
}

/* emb_format_f32 but for most embedding values, which take
 * format_fast32. */
static __attribute__((noinline)) int format_f32_rest(char *buf, float v, uint32_t b)
{
	bool neg = b >> 31;
	if ((b & 0x7fffffffu) == 0) {
		return print_zero(buf, neg);
	}
#ifdef __SIZEOF_INT128__
	uint32_t be = (b >> 23) & 0xff;
	/* 2^-73 <= |v| < 2^29: 10^k <= 10^30, N < 2^24 * 10^30 < 2^124,
	 * sh <= 96, the distances below 2^4 * 10^3 * 2^96. */
	if (be >= 127 - 73 && be < 127 + 29) {
		int n = format_fast(buf, neg, fabs(v), (b & 0x7fffff) | 0x800000, (int)be - 150,
				    24, 6, 9, 31);
		if (n >= 0)
			return n;
	}
#endif
	return format_libc(buf, v, true);
}

int emb_format_f32(char *buf, float v)
{
	uint32_t b;
	memcpy(&b, &v, 4);
#ifdef __SIZEOF_INT128__
	uint32_t be = (b >> 23) & 0xff;
	if (be >= 127 - 13 && be < 127 + 23 && (b & 0x7fffff)) {
		int n = format_fast32(buf, b >> 31, fabsf(v), (b & 0x7fffff) | 0x800000, (int)be - 150);
		if (n >= 0)
			return n;
	}
#endif
	return format_f32_rest(buf, v, b);
}

int emb_format_f64(char *buf, double v)
{
	uint64_t b;
	memcpy(&b, &v, 8);
	bool neg = b >> 63;
	if ((b & ~(UINT64_C(1) << 63)) == 0) {
		return print_zero(buf, neg);
	}
#ifdef __SIZEOF_INT128__
	uint32_t be = (uint32_t)(b >> 52) & 0x7ff;
	/* 2^-19 <= |v| < 2^56: k <= 22, N < 2^53 * 10^22 < 2^127 (or
	 * 2^56 * 10^16 above 1), sh <= 71, the distances below 2^4 * 100 * 2^71. */
	if (be >= 1023 - 19 && be < 1023 + 56) {
		uint64_t m = (b & ((UINT64_C(1) << 52) - 1)) | UINT64_C(1) << 52;
		int n = format_fast(buf, neg, fabs(v), m, (int)be - 1075, 53, 15, 17, 22);
		if (n >= 0)
			return n;
	}
#endif
	return format_libc(buf, v, false);
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
