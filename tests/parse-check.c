/*
 * parse-check.c - the number parsers against the C library (make check
 * builds it; tests/format.bats runs it).
 *
 * Every string, edge cases and random ones of every shape, goes through
 * emb_parse_f32/f64 (NUL-ended text) and the padded fast paths of
 * emb_parse.h (with junk after the number), and must give the bits and
 * the end that glibc's strtof/strtod give (correctly rounded: the
 * independent reference), or be refused by both.  Then random bit
 * patterns go through emb_format_f32/f64 and must read back identically.
 *
 * Usage: parse-check [COUNT [SEED]]; prints a summary, exits 1 at the
 * first mismatch, naming the string.  "parse-check format ..." compares
 * the formatters with printf instead (see format_main); "parse-check
 * kernels ..." the one-row kernels of top-k with the ones they stand for
 * (see kernels_main); "parse-check rows ..." the AVX2 row parser with
 * strtof (see rows_main).
 */
#include <config.h>
#include "emb.h"
#include "emb_knn.h"
#include "emb_parse.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static unsigned long checked, fast_taken;

static _Noreturn void fail(const char *what, const char *text)
{
	fprintf(stderr, "parse-check: %s: \"%s\"\n", what, text);
	exit(1);
}

/* ---- the SSSE3 path of emb_parse.h ----
 *
 * Every string check() sees also goes through emb_parse_f32/f64_simd,
 * followed by each byte that ends a field (and by junk after it), in the
 * middle of a buffer and as the last text before the padding, with an
 * unreadable page right after the padding: the values and ends must be
 * strtof's/strtod's, and the decomposition must be the scalar fast path's
 * whenever the text has a shape the SIMD path promises to take. */
#ifdef EMB_PARSE_SIMD
static bool have_simd;
static char *guard_end; /* EMB_PARSE_PAD bytes before an unreadable page */
static unsigned long simd_taken;

__attribute__((target("ssse3"), noinline))
static bool simd_f32(const char *p, const char **end, float *v)
{
	return emb_parse_f32_simd(p, end, v);
}

__attribute__((target("ssse3"), noinline))
static bool simd_f64(const char *p, const char **end, double *v)
{
	return emb_parse_f64_simd(p, end, v);
}

__attribute__((target("ssse3"), noinline))
static bool simd_decimal(const char *p, const char **end, bool *neg, uint64_t *m, int *e)
{
	return emb_simd_decimal(p, end, neg, m, e);
}

static void simd_setup(void)
{
	have_simd = emb_parse_simd();
	long pg = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || mprotect(map + pg, (size_t)pg, PROT_NONE) != 0) {
		perror("parse-check: mmap");
		exit(1);
	}
	guard_end = map + pg - EMB_PARSE_PAD;
	memset(guard_end, 0, EMB_PARSE_PAD);
}

/* Must the SIMD path decompose TEXT: an optional '-', then at most 15
 * digits and dots (one dot at most), as far as the scalar fast path
 * reads? */
static bool simd_shape(const char *text, const char *scalar_end)
{
	const char *q = text + (*text == '-');
	size_t n = strspn(q, "0123456789.");
	const char *dot = memchr(q, '.', n);
	return *text != '+' && n < 16 && (!dot || !memchr(dot + 1, '.', n - (size_t)(dot + 1 - q))) &&
	       q + n <= scalar_end;
}

static void simd_one(const char *p, const char *text, bool ok32, float want32, size_t end32,
		     bool ok64, double want64, size_t end64)
{
	const char *end, *send;
	float f;
	double d;
	bool neg, sneg;
	uint64_t m, sm;
	int e, se;
	bool got = simd_decimal(p, &end, &neg, &m, &e);
	bool sgot = emb_fast_decimal(p, &send, &sneg, &sm, &se);
	/* (the SIMD mantissa has trailing zeros up to 15 digits) */
	if (got && (!sgot || end != send || neg != sneg || e > se || se - e > 15 ||
		    m != sm * emb_pow10_u64[(se - e) / 2] * emb_pow10_u64[(se - e + 1) / 2]))
		fail("emb_simd_decimal differs from emb_fast_decimal", text);
	if (!got && sgot && simd_shape(text, text + (send - p)))
		fail("emb_simd_decimal refuses a shape it takes", text);
	if (simd_f32(p, &end, &f)) {
		simd_taken++;
		if (!ok32 || (size_t)(end - p) != end32 || memcmp(&f, &want32, 4) != 0)
			fail("emb_parse_f32_simd differs from strtof", text);
	}
	if (simd_f64(p, &end, &d)) {
		if (!ok64 || (size_t)(end - p) != end64 || memcmp(&d, &want64, 8) != 0)
			fail("emb_parse_f64_simd differs from strtod", text);
	}
}

static void check_simd(const char *text, bool ok32, float want32, size_t end32,
		       bool ok64, double want64, size_t end64)
{
	if (!have_simd)
		return;
	size_t n = strlen(text);
	if (n >= 200)
		return;
	/* the bytes that end a field, or junk no number takes in */
	static const char after[] = {'\0', '\t', ' ', '\n', '\r', ',', 'x'};
	char buf[256 + EMB_PARSE_PAD];
	for (size_t a = 0; a < sizeof after; a++) {
		memcpy(buf, text, n);
		buf[n] = after[a];
		for (size_t i = n + 1; i < sizeof buf; i++)
			buf[i] = "0123456789.e-\t"[rnd() % 14];
		simd_one(buf, text, ok32, want32, end32, ok64, want64, end64);
	}
	/* the last text of a block: its padding, then nothing readable */
	char *p = guard_end - n;
	memcpy(p, text, n);
	simd_one(p, text, ok32, want32, end32, ok64, want64, end64);
	memset(p, 0, n);
}

static void check(const char *text);

/* Every shape around the SIMD path's limits: no sign, '-' or '+'; 1 to
 * 20 digits with leading zeros or not; the dot anywhere or nowhere; an
 * exponent of every length, and broken ones. */
static void simd_shapes(void)
{
	static const char *const sign[] = {"", "-", "+"};
	static const char *const expo[] = {"", "e5", "e-5", "E+05", "e-12", "e38", "e-45", "e123",
					   "e1234", "e-0004", "e12345", "e", "e+", "e-", "ex"};
	char buf[64];
	for (int si = 0; si < 3; si++)
		for (int nd = 1; nd <= 20; nd++)
			for (int dot = -1; dot <= nd; dot++)
				for (size_t x = 0; x < sizeof expo / sizeof *expo; x++)
					for (int zeros = 0; zeros < 3; zeros++) {
						char *o = buf + sprintf(buf, "%s", sign[si]);
						for (int i = 0; i < nd; i++) {
							if (i == dot)
								*o++ = '.';
							*o++ = i < zeros * nd / 3 ? '0' :
							       (char)('0' + rnd() % 10);
						}
						if (dot == nd)
							*o++ = '.';
						strcpy(o, expo[x]);
						check(buf);
					}
	if (have_simd && !simd_taken)
		fail("the SIMD path took nothing", "");
}
#else
static void check_simd(const char *text, bool ok32, float want32, size_t end32,
		       bool ok64, double want64, size_t end64)
{
	(void)text, (void)ok32, (void)want32, (void)end32, (void)ok64, (void)want64, (void)end64;
}

static void simd_setup(void)
{
}

static void simd_shapes(void)
{
}
#endif

static void check(const char *text)
{
	/* Numbers are decimal only: the reference reads the text up to a
	 * hexadecimal 'x' ("0x10" is the number 0, then junk). */
	char dec[256];
	size_t k = strcspn(text, "xX");
	if (k >= sizeof dec)
		k = sizeof dec - 1;
	memcpy(dec, text, k);
	dec[k] = '\0';
	char *e32, *e64;
	float want32 = strtof(dec, &e32);
	double want64 = strtod(dec, &e64);
	bool ok32 = e32 != dec, ok64 = e64 != dec;
	e32 = (char *)text + (e32 - dec);
	e64 = (char *)text + (e64 - dec);
	const char *end;
	float f;
	double d;

	checked++;
	bool got = emb_parse_f32(text, &end, &f);
	if (got != ok32 || (got && (end != e32 || memcmp(&f, &want32, 4) != 0)))
		fail("emb_parse_f32 differs from strtof", text);
	got = emb_parse_f64(text, &end, &d);
	if (got != ok64 || (got && (end != e64 || memcmp(&d, &want64, 8) != 0)))
		fail("emb_parse_f64 differs from strtod", text);

	/* The fast paths, in a padded buffer with junk after the number. */
	size_t n = strlen(text);
	char buf[256 + EMB_PARSE_PAD];
	if (n >= 200)
		return;
	memcpy(buf, text, n + 1);
	for (size_t i = n + 1; i < sizeof buf; i++)
		buf[i] = "0123456789.e-"[rnd() % 13];
	if (emb_parse_f32_fast(buf, &end, &f)) {
		fast_taken++;
		if (!ok32 || end - buf != e32 - text || memcmp(&f, &want32, 4) != 0)
			fail("emb_parse_f32_fast differs from strtof", text);
	}
	if (emb_parse_f64_fast(buf, &end, &d)) {
		if (!ok64 || end - buf != e64 - text || memcmp(&d, &want64, 8) != 0)
			fail("emb_parse_f64_fast differs from strtod", text);
	}
	check_simd(text, ok32, want32, (size_t)(e32 - text), ok64, want64, (size_t)(e64 - text));
}

static const char *const edge[] = {
	"0", "-0", "+0", "0.0", "-0.0", "00000000000000000000000000.0000000000000000000001",
	"0e0", "-0e-999999", "0e99999999", ".5", "-.5", "5.", "-5.", ".", "-", "+", "",
	"e5", "1e", "1e+", "1e-", "1E5", "1e+05", "1e-05", "1.5e", "1..2", "1.2.3",
	"9007199254740992", "9007199254740993", "9007199254740994", "9007199254740995",
	"18014398509481985", "1e23", "8.98846567431158e307", "1.7976931348623157e308",
	"1.7976931348623158e308", "1.7976931348623159e308", "1e309", "-1e309", "1e400",
	"4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
	"2.2250738585072011e-308", "2.2250738585072014e-308", "5e-324", "1e-400",
	"7.038531e-26", "7.0385307e-26", "7.0385308e-26", "3.4028235e38", "3.4028236e38",
	"3.40282357e38", "3.4028234663852886e38", "3.4028235677973366e38", "1.17549435e-38",
	"1.1754942e-38", "1.4e-45", "1.401298464324817e-45", "7.006492321624085e-46",
	"7.006492321624086e-46", "1e-46", "16777216", "16777217", "16777218", "16777219",
	"33554433", "0.1", "0.2", "0.3", "1.1", "1.00000005960464477539062",
	"1.000000059604644775390625", "1.0000000596046447753906251",
	"1.00000017881393432617187499", "1.000000178813934326171875",
	"1234567890123456789", "12345678901234567890", "123456789012345678901",
	"0.1234567890123456789", "0.12345678901234567890", "1234567890123456789e-19",
	"99999999999999999999", "9999999999999999999", "0000000000000000000012345",
	"-0.000000000000000000000000000000000001", "1e-22", "1e22", "1e-23", "1e-10",
	"1e10", "1e11", "123456789e-30", "4294967295", "4294967296", "-2147483648",
	"nan", "NaN", "-nan", "inf", "-inf", "Infinity", "infinit", "0x10", "0x1p3",
	"-0x1.8p1", "1x", "  5", "\t5", "5 ", "5\t6", "--5", "+-5", "1_000", "1,5",
	"2.5e-1", "-2.5E+1", "3.1415926535897932384626433832795028841971693993751",
	"0.000001", "0.0000001", "0.00000001", "100000000", "1000000000000000000000000",
	"1.5e4294967296", "1.5e-4294967296", "1e0000000000000000000000000000000001",
	"8.589973e9", "8.589974e9", "1.0e-7", "3.0517578125e-05", "0.30000001192092896",
};

/* A random decimal: sign, digits with leading zeros, a dot somewhere, an
 * exponent, sometimes; the shapes the writers print and every other. */
static void random_text(char *buf)
{
	char *o = buf;
	uint64_t r = rnd();
	if (r & 1)
		*o++ = '-';
	else if ((r & 6) == 2)
		*o++ = '+';
	int nd = 1 + (int)(rnd() % 25), lead = (rnd() % 4 == 0) ? (int)(rnd() % 6) : 0;
	int dot = (rnd() % 5 == 0) ? -1 : (int)(rnd() % (unsigned)(nd + lead + 1));
	for (int i = 0; i < lead + nd; i++) {
		if (i == dot)
			*o++ = '.';
		*o++ = i < lead ? '0' : (char)('0' + rnd() % 10);
	}
	if (dot == lead + nd)
		*o++ = '.';
	if (rnd() % 3 == 0) {
		*o++ = rnd() % 2 ? 'e' : 'E';
		unsigned k = (unsigned)(rnd() % 3);
		if (k)
			*o++ = k == 1 ? '-' : '+';
		o += sprintf(o, "%d", (int)(rnd() % (rnd() % 4 == 0 ? 400 : 40)));
	}
	*o = '\0';
}

/*
 * The formatters against printf, byte for byte.  The reference is the
 * algorithm emb_format_f32/f64 had before their integer fast path: the
 * first of %.6g, %.7g, %.8g of (double)v that strtof reads back to v,
 * else %.9g (15, 16, else 17 digits and strtod for a double).
 */
static int ref_format_f32(char *buf, float v)
{
	if (!isfinite(v))
		return snprintf(buf, 32, "%s", isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
	for (int prec = 6; prec <= 8; prec++) {
		int n = snprintf(buf, 32, "%.*g", prec, (double)v);
		if (strtof(buf, NULL) == v)
			return n;
	}
	return snprintf(buf, 32, "%.9g", (double)v);
}

static int ref_format_f64(char *buf, double v)
{
	if (!isfinite(v))
		return snprintf(buf, 32, "%s", isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
	for (int prec = 15; prec <= 16; prec++) {
		int n = snprintf(buf, 32, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return n;
	}
	return snprintf(buf, 32, "%.17g", v);
}

static unsigned long formatted;

static uint64_t pow10_u(int k)
{
	uint64_t p = 1;
	while (k-- > 0)
		p *= 10;
	return p;
}

static void fmt_fail(const char *type, const char *got, int ngot, const char *want,
		     uint64_t bits)
{
	fprintf(stderr, "parse-check: emb_format_%s of 0x%" PRIx64
		" is \"%.*s\", printf's \"%s\"\n", type, bits, ngot, got, want);
	exit(1);
}

/* (GOT is the 32 bytes emb.h promises the formatters no more than: they
 * write past the text, and ASan would see a byte beyond) */
static void fmt32(float v)
{
	char got[32], want[40];
	memset(got, 'x', sizeof got);
	int n = emb_format_f32(got, v), nw = ref_format_f32(want, v);
	formatted++;
	if (n != nw || memcmp(got, want, (size_t)n) != 0) {
		uint32_t b;
		memcpy(&b, &v, 4);
		fmt_fail("f32", got, n, want, b);
	}
}

static void fmt64(double v)
{
	char got[32], want[40];
	memset(got, 'x', sizeof got);
	int n = emb_format_f64(got, v), nw = ref_format_f64(want, v);
	formatted++;
	if (n != nw || memcmp(got, want, (size_t)n) != 0) {
		uint64_t b;
		memcpy(&b, &v, 8);
		fmt_fail("f64", got, n, want, b);
	}
}

static float f32_of(uint32_t b)
{
	float f;
	memcpy(&f, &b, 4);
	return f;
}

static double f64_of(uint64_t b)
{
	double d;
	memcpy(&d, &b, 8);
	return d;
}

/* V and its neighbours up to K steps either way, both signs. */
static void fmt32_near(float v, int k)
{
	uint32_t b;
	memcpy(&b, &v, 4);
	b &= 0x7fffffffu;
	for (int i = -k; i <= k; i++) {
		uint32_t c = b + (uint32_t)i;
		if ((i < 0 && c > b) || c > 0x7f800000u)
			continue;
		fmt32(f32_of(c));
		fmt32(f32_of(c | 0x80000000u));
	}
}

static void fmt64_near(double v, int k)
{
	uint64_t b;
	memcpy(&b, &v, 8);
	b &= ~(UINT64_C(1) << 63);
	for (int i = -k; i <= k; i++) {
		uint64_t c = b + (uint64_t)(int64_t)i;
		if ((i < 0 && c > b) || c > UINT64_C(0x7ff0000000000000))
			continue;
		fmt64(f64_of(c));
		fmt64(f64_of(c | UINT64_C(1) << 63));
	}
}

/* A standard normal (Box-Muller on two uniforms). */
static double normal(void)
{
	double u = ((double)(rnd() >> 11) + 1) / 0x1p53, w = (double)(rnd() >> 11) / 0x1p53;
	return sqrt(-2 * log(u)) * cos(2 * 3.14159265358979323846 * w);
}

/*
 * Usage: parse-check format COUNT SEED SWEEP FIRST: the edge cases, COUNT
 * values of each random class, then the SWEEP consecutive f32 bit
 * patterns from FIRST (decimal or 0x hex: 0 and 4294967296 are every
 * float).
 */
static int format_main(int argc, char **argv)
{
	unsigned long count = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
	rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
	uint64_t sweep = argc > 4 ? strtoull(argv[4], NULL, 0) : 0;
	uint64_t first = argc > 5 ? strtoull(argv[5], NULL, 0) : 0x3f800000u;

	/* Zeros, the ends of the ranges, every power of two with its
	 * neighbours, and the floats nearest every power of ten. */
	fmt32(0.0f);
	fmt32(-0.0f);
	fmt64(0.0);
	fmt64(-0.0);
	fmt32(INFINITY);
	fmt32(-INFINITY);
	fmt32(NAN);
	fmt64(INFINITY);
	fmt64(-INFINITY);
	fmt64(NAN);
	fmt32_near(FLT_MAX, 3);
	fmt32_near(FLT_MIN, 3);
	fmt32_near(FLT_TRUE_MIN, 3);
	fmt64_near(DBL_MAX, 3);
	fmt64_near(DBL_MIN, 3);
	fmt64_near(DBL_TRUE_MIN, 3);
	for (int e = -149; e <= 127; e++)
		fmt32_near(ldexpf(1, e), 3);
	for (int e = -1074; e <= 1023; e++)
		fmt64_near(ldexp(1, e), 3);
	char text[40];
	for (int e = -46; e <= 39; e++) {
		snprintf(text, sizeof text, "1e%d", e);
		fmt32_near(strtof(text, NULL), 4);
		for (int p = 1; p <= 9; p++) {   /* 9.99..e, a carry into the next power */
			snprintf(text, sizeof text, "%.*fe%d", p, 9.999999999, e);
			fmt32_near(strtof(text, NULL), 2);
		}
	}
	for (int e = -324; e <= 309; e++) {
		snprintf(text, sizeof text, "1e%d", e);
		fmt64_near(strtod(text, NULL), 4);
		for (int p = 1; p <= 17; p++) {
			snprintf(text, sizeof text, "%.*fe%d", p, 9.99999999999999999, e);
			fmt64_near(strtod(text, NULL), 2);
		}
	}

	for (unsigned long i = 0; i < count; i++) {
		/* Any bit pattern: every exponent alike. */
		fmt32(f32_of((uint32_t)rnd()));
		fmt64(f64_of(rnd()));
		/* Every binary exponent alike from 2^-80 to 2^64 (the range
		 * embeddings and statistics live in), subnormals. */
		uint64_t r = rnd();
		fmt32(f32_of((uint32_t)(r & 0x807fffffu) | (uint32_t)(47 + rnd() % 145) << 23));
		fmt64(f64_of((r & UINT64_C(0x800fffffffffffff)) | (uint64_t)(943 + rnd() % 145) << 52));
		fmt32(f32_of((uint32_t)(r & 0x807fffffu)));
		fmt64(f64_of(r & UINT64_C(0x800fffffffffffff)));
		/* Embedding-like values: a normal times 10^-12 .. 10^12. */
		double g = normal() * pow(10, (int)(rnd() % 25) - 12);
		fmt32((float)g);
		fmt64(g);
		/* Ties: an odd N over 2^S has S decimals, the last a 5; when
		 * N * 5^S has P + 1 digits, the value is halfway between two
		 * P-digit decimals.  And integers D * 10^J with D's last digit
		 * 5.  Both with their neighbours. */
		int s = (int)(rnd() % 40), pf = 6 + (int)(rnd() % 3), pd = 15 + (int)(rnd() % 2);
		for (int twice = 0; twice < 2; twice++) {
			int p = twice ? pd : pf, mb = twice ? 53 : 24;
			double d5 = pow(5, s), lo = pow(10, p) / d5, hi = pow(10, p + 1) / d5;
			if (hi > 0x1p53)
				hi = 0x1p53;
			if (lo < 1)
				lo = 1;
			if (lo >= hi || lo >= ldexp(1, mb))
				continue;
			uint64_t n = (uint64_t)(lo + (hi - lo) * ((double)(rnd() >> 11) / 0x1p53)) | 1;
			if (n >= (UINT64_C(1) << mb))
				continue;
			double t = ldexp((double)n, -s);
			if (twice)
				fmt64_near(t, 1);
			else
				fmt32_near((float)t, 1);
		}
		uint64_t d = (pow10_u(pf) + rnd() % (9 * pow10_u(pf))) / 10 * 10 + 5;
		for (int j = 0; j < 12; j++) {
			double t = (double)d * pow(10, j);
			if (t < 0x1p24 && (float)t == t)
				fmt32_near((float)t, 1);
		}
		d = (pow10_u(pd) + rnd() % (9 * pow10_u(pd))) / 10 * 10 + 5;
		for (int j = 0; j < 4; j++) {
			double t = (double)d * pow(10, j);
			if ((double)d * pow(10, j) < 0x1p60 && (uint64_t)t == d * pow10_u(j))
				fmt64_near(t, 1);
		}
	}

	/* Consecutive floats: every one of a stretch of bit patterns. */
	for (uint64_t b = first; b < first + sweep && b <= UINT32_MAX; b++)
		fmt32(f32_of((uint32_t)b));
	printf("parse-check: %lu values format as printf does\n", formatted);
	return 0;
}

/* parse-check kernels COUNT SEED: COUNT random rows of every length from
 * 0 to 80, with values of one scale (10^-40 .. 10^30, denormals and
 * zeros among them), through emb_sumsq_f32 and emb_dot_f32, which must
 * give the bits of emb_dot3_f32's aa and dot, and emb_scale_f32, which must give the bits of
 * (float)(x * by) for every value, under the kernels EMB_SIMD selects. */
static int kernels_main(int argc, char **argv)
{
	unsigned long count = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000;
	rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
	float x[80], out[80];
	unsigned long rows = 0;
	for (unsigned long r = 0; r < count; r++)
		for (size_t n = 0; n <= 80; n++) {
			double mag = pow(10.0, (double)(rnd() % 71) - 40.0);
			for (size_t i = 0; i < n; i++) {
				uint64_t k = rnd();
				x[i] = k % 17 == 0 ? 0.0f :
				       (float)(((double)(k >> 11) * 0x1p-53 - 0.5) * mag);
			}
			double dot, aa, bb, by = ldexp(1.0 + (double)(rnd() >> 11) * 0x1p-53,
						       (int)(rnd() % 200) - 100);
			emb_dot3_f32(x, x, n, &dot, &aa, &bb);
			double got = emb_sumsq_f32(x, n);
			if (memcmp(&got, &aa, sizeof got) != 0) {
				printf("parse-check: sumsq of %zu values at scale %g: %a, dot3 gives %a\n",
				       n, mag, got, aa);
				return 1;
			}
			/* the dot product of X and its reverse, against dot3's */
			for (size_t i = 0; i < n; i++)
				out[i] = x[n - 1 - i];
			emb_dot3_f32(x, out, n, &dot, &aa, &bb);
			got = emb_dot_f32(x, out, n);
			if (memcmp(&got, &dot, sizeof got) != 0) {
				printf("parse-check: dot of %zu values at scale %g: %a, dot3 gives %a\n",
				       n, mag, got, dot);
				return 1;
			}
			emb_scale_f32(x, n, by, out);
			for (size_t i = 0; i < n; i++) {
				float want = (float)(x[i] * by);
				if (memcmp(&out[i], &want, sizeof want) != 0) {
					printf("parse-check: scale %a by %a: %a, want %a\n",
					       (double)x[i], by, (double)out[i], (double)want);
					return 1;
				}
			}
			rows++;
		}
	printf("parse-check: %lu rows: dot, sumsq and scale agree (%s kernels)\n", rows,
	       emb_simd_name());
	return 0;
}

/* ---- "parse-check rows COUNT SEED": emb_parse_row_f32_avx2 ----
 *
 * COUNT texts of 400 tokens each: mostly plain decimals of 1 to 17
 * characters (signs, dots anywhere, leading zeros, float midpoints among
 * the integers), and every kind of token the row parser must leave to
 * its caller (exponents, '+', two dots, lone signs and dots, "1-2",
 * letters, bytes above 127, 16 characters or more), separated by runs
 * of blanks and now and then by a line end or another control byte.
 * Junk follows the text.  The row parser is called as emb_tsv.c calls
 * it: from a token's first byte, and, where it stops, on from the token
 * after.  Every value it takes must be strtof's for a token strtof reads
 * whole, in a stretch with only blanks between tokens, and *LAST must be
 * where that stretch ends. */
#ifdef EMB_PARSE_ROW_AVX2
static void row_token(char *t)
{
	static const char *odd[] = {"1.5e-3", "+1.5", "1.2.3", "-", ".", "-.", "1-2", "--1",
				    "nan", "inf", "0x1p3", "1e", "2E+7", "1..", "..5", "5\xb0",
				    "-0", "0", ".5", "-.5", "5.", "-5.", "0.", "000000000000000",
				    "16777217", "-16777217", "33554434", "1.000000000000001"};
	uint64_t k = rnd();
	if (k % 10 < 3) {
		if (k % 7 == 0) { /* 16 characters or more */
			size_t n = 16 + rnd() % 10;
			for (size_t i = 0; i < n; i++)
				t[i] = (char)('0' + rnd() % 10);
			t[rnd() % n] = '.';
			t[n] = '\0';
		} else if (k % 7 == 1) { /* an integer float midpoint, or next to one */
			int e = 24 + (int)(rnd() % 26);
			double x = ldexp((double)(2 * (rnd() % (1u << 20)) + 1), e - 24 - 20) +
				   ldexp(1.0, e);
			snprintf(t, 40, "%s%.0f", rnd() % 2 ? "-" : "", floor(x) + (double)(rnd() % 3) - 1);
		} else {
			strcpy(t, odd[rnd() % (sizeof odd / sizeof *odd)]);
		}
		return;
	}
	char *o = t;
	if (k & 8)
		*o++ = '-';
	size_t n = 1 + rnd() % 15;
	size_t dot = rnd() % (n + 3);
	if (rnd() % 5 == 0)
		while (n > 1 && rnd() % 2)
			*o++ = '0', n--;
	for (size_t i = 0; i < n; i++)
		*o++ = i == dot && n > 1 ? '.' : (char)('0' + rnd() % 10);
	*o = '\0';
}

__attribute__((target("avx2,bmi,bmi2"), noinline))
static size_t row_parse(const char *p, const char *end, size_t n, float *out, const char **last)
{
	return emb_parse_row_f32_avx2(p, end, n, out, last);
}

static int rows_main(int argc, char **argv)
{
	unsigned long count = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
	rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
	if (!emb_parse_row_avx2()) {
		printf("parse-check: no AVX2 row parser here\n");
		return 0;
	}
	enum { NTOK = 400 };
	static char text[NTOK * 48 + 64];
	static const char *start[NTOK], *stop[NTOK];
	static bool plain_sep[NTOK]; /* only blanks before token i */
	float out[NTOK];
	unsigned long values = 0, taken = 0, calls = 0;
	for (unsigned long r = 0; r < count; r++) {
		char *o = text;
		for (size_t i = 0; i < NTOK; i++) {
			plain_sep[i] = true;
			if (i) {
				size_t ns = rnd() % 8 ? 1 : 1 + rnd() % 3;
				for (size_t j = 0; j < ns; j++) {
					uint64_t k = rnd() % 100;
					char c = k < 80 ? '\t' : k < 95 ? ' ' : "\n\r\v\f\001\0"[k % 6];
					plain_sep[i] &= c == '\t' || c == ' ';
					*o++ = c;
				}
			}
			start[i] = o;
			row_token(o);
			o += strlen(o);
			stop[i] = o;
		}
		const char *end = o;
		for (size_t j = 0; j < 64; j++) /* junk: the parser must not use it */
			*o++ = (char)rnd();
		for (size_t i = 0; i < NTOK;) {
			const char *last;
			size_t got = row_parse(start[i], end, NTOK - i, out + i, &last);
			calls++;
			for (size_t j = i; j < i + got; j++) {
				char tok[64];
				size_t len = (size_t)(stop[j] - start[j]);
				memcpy(tok, start[j], len);
				tok[len] = '\0';
				char *e;
				float want = strtof(tok, &e);
				if (j > i && !plain_sep[j])
					fail("row parser went past a control byte, to", tok);
				if (*e || !len || !isfinite(want))
					fail("row parser took a token strtof does not read whole", tok);
				if (memcmp(&want, &out[j], sizeof want) != 0)
					fail("row parser's value differs from strtof's", tok);
			}
			if (got && last != stop[i + got - 1])
				fail("row parser's end is not its last token's", "");
			if (!got && last != start[i])
				fail("row parser took nothing but moved", "");
			taken += got;
			i += got + (i + got < NTOK); /* the caller takes the one it stopped at */
		}
		values += NTOK;
	}
	printf("parse-check: %lu tokens in %lu rows, %lu taken by the row parser in %lu calls\n",
	       values, count, taken, calls);
	return 0;
}
#else
static int rows_main(int argc, char **argv)
{
	(void)argc, (void)argv;
	printf("parse-check: no AVX2 row parser here\n");
	return 0;
}
#endif

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "rows") == 0)
		return rows_main(argc, argv);
	if (argc > 1 && strcmp(argv[1], "kernels") == 0)
		return kernels_main(argc, argv);
	if (argc > 1 && strcmp(argv[1], "format") == 0)
		return format_main(argc, argv);
	unsigned long count = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	char buf[128];

	simd_setup();
	simd_shapes();
	for (size_t i = 0; i < sizeof edge / sizeof *edge; i++)
		check(edge[i]);
	/* Every f32 and f64 near the ends of the ranges and halfway cases:
	 * the neighbours of 2^-1074, 2^-149, FLT_MAX, DBL_MAX, 2^53, 2^24
	 * printed with 17 and 9 significant digits and with more. */
	const double near[] = {0x1p-1074, 0x1p-1073, 0x1p-1022, 0x1p-149, 0x1p-148, 0x1p-126,
			       0x1.fffffep127, 0x1.fffffffffffffp1023, 0x1p53, 0x1p24, 1.0, 0.1};
	for (size_t i = 0; i < sizeof near / sizeof *near; i++)
		for (int prec = 6; prec <= 25; prec++) {
			double x = near[i];
			for (int k = -2; k <= 2; k++) {
				double y = x;
				for (int j = 0; j < k; j++)
					y = nextafter(y, INFINITY);
				for (int j = 0; j > k; j--)
					y = nextafter(y, 0);
				snprintf(buf, sizeof buf, "%.*g", prec, y);
				check(buf);
				/* halfway between y and its neighbour above */
				snprintf(buf, sizeof buf, "%.*g", prec + 2,
					 y + (nextafter(y, INFINITY) - y) / 2);
				check(buf);
				float fy = (float)y;
				snprintf(buf, sizeof buf, "%.*g", prec, (double)fy);
				check(buf);
				snprintf(buf, sizeof buf, "%.*g", prec + 2,
					 (double)fy + ((double)nextafterf(fy, INFINITY) - fy) / 2);
				check(buf);
			}
		}
	for (unsigned long i = 0; i < count; i++) {
		random_text(buf);
		check(buf);
		/* The writers' shape: a random float or double, %.{6..9}g / %.{15..17}g. */
		uint32_t b32 = (uint32_t)rnd();
		float f;
		memcpy(&f, &b32, 4);
		if (isfinite(f)) {
			snprintf(buf, sizeof buf, "%.*g", 6 + (int)(rnd() % 4), (double)f);
			check(buf);
		}
		/* Near float midpoints (exact in double), with few enough
		 * digits for the fast paths: where double and float rounding
		 * could disagree. */
		if (isfinite(f) && fabsf(f) < 0x1p127f && fabsf(f) > 0x1p-120f) {
			double mid = (double)f + ((double)nextafterf(f, INFINITY) - (double)f) / 2;
			for (int k = -1; k <= 1; k++) {
				double y = k < 0 ? nextafter(mid, 0) : k > 0 ? nextafter(mid, INFINITY) : mid;
				snprintf(buf, sizeof buf, "%.*g", 14 + (int)(rnd() % 4), y);
				check(buf);
			}
		}
		/* Values like embeddings': normal, a few significant digits. */
		double g = ((double)(rnd() >> 11) / 0x1p53 - 0.5) * pow(10, (int)(rnd() % 9) - 6);
		snprintf(buf, sizeof buf, "%.*g", 1 + (int)(rnd() % 17), g);
		check(buf);
	}

	/* Round trips: what the writers print reads back to the same bits. */
	unsigned long trips = 0;
	for (unsigned long i = 0; i < count; i++) {
		uint32_t b32 = (uint32_t)rnd();
		uint64_t b64 = rnd();
		float f, fb;
		double d, db;
		const char *end;
		memcpy(&f, &b32, 4);
		memcpy(&d, &b64, 8);
		if (isfinite(f)) {
			int n = emb_format_f32(buf, f);
			buf[n] = '\0';
			if (!emb_parse_f32(buf, &end, &fb) || *end || memcmp(&f, &fb, 4) != 0)
				fail("f32 does not read back", buf);
			trips++;
		}
		if (isfinite(d)) {
			int n = emb_format_f64(buf, d);
			buf[n] = '\0';
			if (!emb_parse_f64(buf, &end, &db) || *end || memcmp(&d, &db, 8) != 0)
				fail("f64 does not read back", buf);
			trips++;
		}
	}
	printf("parse-check: %lu strings agree with strtof/strtod (%lu on the f32 fast path), "
	       "%lu values read back exactly\n", checked, fast_taken, trips);
	return 0;
}
