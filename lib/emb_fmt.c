/*
 * emb_fmt.c - numbers as text that several programs print the same way
 * (scores, similarities): one formatter, so embcos and emblsh agree to
 * the byte.
 */
#include <config.h>
#include "emb.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/*
 * printf's "%.9g" (enough digits for 1e-9 relative), and
 * plain "nan".  printf costs about as much as scoring a pair at dim 768,
 * so the fixed-point range of %g (decimal exponent -4..8) is formatted
 * here, exactly: with a = M * 2^-S (M the 53-bit significand), the nine
 * digits are floor(M * 10^k / 2^S) in 128-bit integers, rounded half to
 * even on the exact remainder as printf does.  Anything else goes to
 * snprintf.  BUF holds at least 32 bytes; returns the length written.
 */
int emb_format_g9(char *buf, double v)
{
	if (isnan(v)) {
		memcpy(buf, "nan", 3);
		return 3;
	}
	if (v == 0)
		v = 0;      /* never "-0" */
#ifdef __SIZEOF_INT128__
	static const uint64_t p10[14] = {
		1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
		1000000000, 10000000000, 100000000000, 1000000000000, 10000000000000,
	};
	double a = fabs(v);
	if (a >= 1e-5 && a < 1e9) {
		int e;
		double f = frexp(a, &e);               /* a = f * 2^e, f in [0.5, 1) */
		uint64_t m = (uint64_t)ldexp(f, 53);   /* exact */
		int sh = 53 - e;                       /* a = m / 2^sh, 22 <= sh <= 70 */
		int x = (int)floor(log10(a));          /* decimal exponent, fixed below */
		unsigned __int128 n;
		uint64_t q;
		for (int tries = 0;; tries++) {
			if (tries > 2 || x > 8 || x < -5)
				goto slow;
			n = (unsigned __int128)m * p10[8 - x];
			q = (uint64_t)(n >> sh);
			if (q >= 1000000000)
				x++;
			else if (q < 100000000)
				x--;
			else
				break;
		}
		unsigned __int128 r = n & (((unsigned __int128)1 << sh) - 1);
		unsigned __int128 half = (unsigned __int128)1 << (sh - 1);
		if (r > half || (r == half && (q & 1)))
			q++;
		if (q == 1000000000) {
			q = 100000000;
			x++;
		}
		if (x > 8 || x < -4)
			goto slow;  /* exponential notation */
		char d[9];
		for (int i = 8; i >= 0; i--, q /= 10)
			d[i] = (char)('0' + q % 10);
		int nd = 9;
		while (nd > x + 1 && d[nd - 1] == '0')
			nd--;       /* %g drops trailing zeros of the fraction */
		char *o = buf;
		if (v < 0)
			*o++ = '-';
		if (x >= 0) {
			memcpy(o, d, (size_t)x + 1);
			o += x + 1;
			if (nd > x + 1) {
				*o++ = '.';
				memcpy(o, d + x + 1, (size_t)(nd - x - 1));
				o += nd - x - 1;
			}
		} else {
			*o++ = '0';
			*o++ = '.';
			for (int i = -1; i > x; i--)
				*o++ = '0';
			memcpy(o, d, (size_t)nd);
			o += nd;
		}
		return (int)(o - buf);
	}
slow:
#endif
	return snprintf(buf, 32, "%.9g", v);
}
