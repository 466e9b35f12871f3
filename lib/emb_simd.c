/*
 * emb_simd.c - dot/norm/distance kernels over f32 rows with f64
 * accumulation, dispatched once at run time to AVX-512, AVX2+FMA or SSE2.
 *
 * Why f64 accumulators: an f32 sum over 768 products loses about
 * sqrt(768) * 2^-24 ~ 2e-6 relative, above the 1e-6 we promise against
 * numpy's float64; widening each lane costs one convert per 8 values and
 * the kernels stay memory-bound anyway.  Each ISA keeps two accumulators
 * per sum to hide FMA latency.
 */
#include <config.h>
#include "emb_knn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The generic versions: the reference the vector versions must match, and
 * the tail loop of each. */
static void dot3_tail(const float *a, const float *b, size_t i, size_t n,
		      double *dot, double *aa, double *bb)
{
	for (; i < n; i++) {
		double x = a[i], y = b[i];
		*dot += x * y;
		*aa += x * x;
		*bb += y * y;
	}
}

static double l2sq_tail(const float *a, const float *b, size_t i, size_t n, double s)
{
	for (; i < n; i++) {
		double d = (double)a[i] - (double)b[i];
		s += d * d;
	}
	return s;
}

static double l1_tail(const float *a, const float *b, size_t i, size_t n, double s)
{
	for (; i < n; i++)
		s += fabs((double)a[i] - (double)b[i]);
	return s;
}

__attribute__((unused))
/* The first i in [I, N) with !(x[i] < t), or N: NaN counts as a hit. */
static size_t next_nlt_generic(const float *x, size_t i, size_t n, float t)
{
	for (; i < n; i++)
		if (!(x[i] < t))
			return i;
	return n;
}

static void dot3_generic(const float *a, const float *b, size_t n,
			 double *dot, double *aa, double *bb)
{
	*dot = *aa = *bb = 0;
	dot3_tail(a, b, 0, n, dot, aa, bb);
}

__attribute__((unused))
static double l2sq_generic(const float *a, const float *b, size_t n)
{
	return l2sq_tail(a, b, 0, n, 0);
}

static double l1_generic(const float *a, const float *b, size_t n)
{
	return l1_tail(a, b, 0, n, 0);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))
#define AVX2 __attribute__((target("avx2,fma")))

AVX512 static inline double hsum512(__m512d v) { return _mm512_reduce_add_pd(v); }

AVX512 static void dot3_avx512(const float *a, const float *b, size_t n,
			       double *dot, double *aa, double *bb)
{
	__m512d d0 = _mm512_setzero_pd(), d1 = d0, a0 = d0, a1 = d0, b0 = d0, b1 = d0;
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m512 x = _mm512_loadu_ps(a + i), y = _mm512_loadu_ps(b + i);
		__m512d xl = _mm512_cvtps_pd(_mm512_castps512_ps256(x));
		__m512d xh = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
		__m512d yl = _mm512_cvtps_pd(_mm512_castps512_ps256(y));
		__m512d yh = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(y), 1)));
		d0 = _mm512_fmadd_pd(xl, yl, d0);
		d1 = _mm512_fmadd_pd(xh, yh, d1);
		a0 = _mm512_fmadd_pd(xl, xl, a0);
		a1 = _mm512_fmadd_pd(xh, xh, a1);
		b0 = _mm512_fmadd_pd(yl, yl, b0);
		b1 = _mm512_fmadd_pd(yh, yh, b1);
	}
	*dot = hsum512(_mm512_add_pd(d0, d1));
	*aa = hsum512(_mm512_add_pd(a0, a1));
	*bb = hsum512(_mm512_add_pd(b0, b1));
	dot3_tail(a, b, i, n, dot, aa, bb);
}

AVX512 static double l2sq_avx512(const float *a, const float *b, size_t n)
{
	__m512d s0 = _mm512_setzero_pd(), s1 = s0;
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m512 x = _mm512_loadu_ps(a + i), y = _mm512_loadu_ps(b + i);
		__m512d dl = _mm512_sub_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(x)),
					   _mm512_cvtps_pd(_mm512_castps512_ps256(y)));
		__m512d dh = _mm512_sub_pd(
			_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1))),
			_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(y), 1))));
		s0 = _mm512_fmadd_pd(dl, dl, s0);
		s1 = _mm512_fmadd_pd(dh, dh, s1);
	}
	return l2sq_tail(a, b, i, n, hsum512(_mm512_add_pd(s0, s1)));
}

AVX512 static double l1_avx512(const float *a, const float *b, size_t n)
{
	__m512d s0 = _mm512_setzero_pd(), s1 = s0;
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m512 x = _mm512_loadu_ps(a + i), y = _mm512_loadu_ps(b + i);
		__m512d dl = _mm512_sub_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(x)),
					   _mm512_cvtps_pd(_mm512_castps512_ps256(y)));
		__m512d dh = _mm512_sub_pd(
			_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1))),
			_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(y), 1))));
		s0 = _mm512_add_pd(s0, _mm512_abs_pd(dl));
		s1 = _mm512_add_pd(s1, _mm512_abs_pd(dh));
	}
	return l1_tail(a, b, i, n, hsum512(_mm512_add_pd(s0, s1)));
}

/* 32 values per test: the scan is a stream through memory and a hit
 * (a candidate for the heap) is rare once the heap is full. */
AVX2 static size_t next_nlt_avx2(const float *x, size_t i, size_t n, float t)
{
	__m256 tv = _mm256_set1_ps(t);
	for (; i + 32 <= n; i += 32) {
		__m256 m0 = _mm256_cmp_ps(_mm256_loadu_ps(x + i), tv, _CMP_NLT_UQ);
		__m256 m1 = _mm256_cmp_ps(_mm256_loadu_ps(x + i + 8), tv, _CMP_NLT_UQ);
		__m256 m2 = _mm256_cmp_ps(_mm256_loadu_ps(x + i + 16), tv, _CMP_NLT_UQ);
		__m256 m3 = _mm256_cmp_ps(_mm256_loadu_ps(x + i + 24), tv, _CMP_NLT_UQ);
		__m256 any = _mm256_or_ps(_mm256_or_ps(m0, m1), _mm256_or_ps(m2, m3));
		if (_mm256_movemask_ps(any)) {
			unsigned b = (unsigned)_mm256_movemask_ps(m0) |
				     (unsigned)_mm256_movemask_ps(m1) << 8 |
				     (unsigned)_mm256_movemask_ps(m2) << 16 |
				     (unsigned)_mm256_movemask_ps(m3) << 24;
			return i + (size_t)__builtin_ctz(b);
		}
	}
	return next_nlt_generic(x, i, n, t);
}

AVX2 static inline double hsum256(__m256d v)
{
	__m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
	return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

AVX2 static void dot3_avx2(const float *a, const float *b, size_t n,
			   double *dot, double *aa, double *bb)
{
	__m256d d0 = _mm256_setzero_pd(), d1 = d0, a0 = d0, a1 = d0, b0 = d0, b1 = d0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 x = _mm256_loadu_ps(a + i), y = _mm256_loadu_ps(b + i);
		__m256d xl = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
		__m256d xh = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
		__m256d yl = _mm256_cvtps_pd(_mm256_castps256_ps128(y));
		__m256d yh = _mm256_cvtps_pd(_mm256_extractf128_ps(y, 1));
		d0 = _mm256_fmadd_pd(xl, yl, d0);
		d1 = _mm256_fmadd_pd(xh, yh, d1);
		a0 = _mm256_fmadd_pd(xl, xl, a0);
		a1 = _mm256_fmadd_pd(xh, xh, a1);
		b0 = _mm256_fmadd_pd(yl, yl, b0);
		b1 = _mm256_fmadd_pd(yh, yh, b1);
	}
	*dot = hsum256(_mm256_add_pd(d0, d1));
	*aa = hsum256(_mm256_add_pd(a0, a1));
	*bb = hsum256(_mm256_add_pd(b0, b1));
	dot3_tail(a, b, i, n, dot, aa, bb);
}

/* dot3_avx2's dot alone, to the same bits: the same lanes, sums and tail. */
AVX2 static double dot_avx2(const float *a, const float *b, size_t n)
{
	__m256d d0 = _mm256_setzero_pd(), d1 = d0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 x = _mm256_loadu_ps(a + i), y = _mm256_loadu_ps(b + i);
		d0 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(x)),
				     _mm256_cvtps_pd(_mm256_castps256_ps128(y)), d0);
		d1 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)),
				     _mm256_cvtps_pd(_mm256_extractf128_ps(y, 1)), d1);
	}
	double dot = hsum256(_mm256_add_pd(d0, d1)), aa = 0, bb = 0;
	dot3_tail(a, b, i, n, &dot, &aa, &bb);
	return dot;
}

/* dot3_avx2's aa alone, to the same bits: the same lanes, sums and tail. */
AVX2 static double sumsq_avx2(const float *a, size_t n)
{
	__m256d a0 = _mm256_setzero_pd(), a1 = a0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 x = _mm256_loadu_ps(a + i);
		__m256d xl = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
		__m256d xh = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
		a0 = _mm256_fmadd_pd(xl, xl, a0);
		a1 = _mm256_fmadd_pd(xh, xh, a1);
	}
	double dot = 0, aa = hsum256(_mm256_add_pd(a0, a1)), bb = 0;
	dot3_tail(a, a, i, n, &dot, &aa, &bb);
	return aa;
}

/* OUT[i] = (float)(X[i] * BY), the product in double, as scale_generic. */
AVX2 static void scale_avx2(const float *x, size_t n, double by, float *out)
{
	__m256d b = _mm256_set1_pd(by);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 v = _mm256_loadu_ps(x + i);
		__m128 lo = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), b));
		__m128 hi = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), b));
		_mm_storeu_ps(out + i, lo);
		_mm_storeu_ps(out + i + 4, hi);
	}
	for (; i < n; i++)
		out[i] = (float)(x[i] * by);
}

AVX2 static double l2sq_avx2(const float *a, const float *b, size_t n)
{
	__m256d s0 = _mm256_setzero_pd(), s1 = s0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 x = _mm256_loadu_ps(a + i), y = _mm256_loadu_ps(b + i);
		__m256d dl = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(x)),
					   _mm256_cvtps_pd(_mm256_castps256_ps128(y)));
		__m256d dh = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)),
					   _mm256_cvtps_pd(_mm256_extractf128_ps(y, 1)));
		s0 = _mm256_fmadd_pd(dl, dl, s0);
		s1 = _mm256_fmadd_pd(dh, dh, s1);
	}
	return l2sq_tail(a, b, i, n, hsum256(_mm256_add_pd(s0, s1)));
}

AVX2 static double l1_avx2(const float *a, const float *b, size_t n)
{
	const __m256d mask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
	__m256d s0 = _mm256_setzero_pd(), s1 = s0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 x = _mm256_loadu_ps(a + i), y = _mm256_loadu_ps(b + i);
		__m256d dl = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(x)),
					   _mm256_cvtps_pd(_mm256_castps256_ps128(y)));
		__m256d dh = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)),
					   _mm256_cvtps_pd(_mm256_extractf128_ps(y, 1)));
		s0 = _mm256_add_pd(s0, _mm256_and_pd(dl, mask));
		s1 = _mm256_add_pd(s1, _mm256_and_pd(dh, mask));
	}
	return l1_tail(a, b, i, n, hsum256(_mm256_add_pd(s0, s1)));
}

static inline double hsum128(__m128d v)
{
	return _mm_cvtsd_f64(_mm_add_sd(v, _mm_unpackhi_pd(v, v)));
}

/* SSE2 is the x86-64 baseline: no FMA, but still two f64 lanes. */
static void dot3_sse2(const float *a, const float *b, size_t n,
		      double *dot, double *aa, double *bb)
{
	__m128d d0 = _mm_setzero_pd(), d1 = d0, a0 = d0, a1 = d0, b0 = d0, b1 = d0;
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		__m128 x = _mm_loadu_ps(a + i), y = _mm_loadu_ps(b + i);
		__m128d xl = _mm_cvtps_pd(x), xh = _mm_cvtps_pd(_mm_movehl_ps(x, x));
		__m128d yl = _mm_cvtps_pd(y), yh = _mm_cvtps_pd(_mm_movehl_ps(y, y));
		d0 = _mm_add_pd(d0, _mm_mul_pd(xl, yl));
		d1 = _mm_add_pd(d1, _mm_mul_pd(xh, yh));
		a0 = _mm_add_pd(a0, _mm_mul_pd(xl, xl));
		a1 = _mm_add_pd(a1, _mm_mul_pd(xh, xh));
		b0 = _mm_add_pd(b0, _mm_mul_pd(yl, yl));
		b1 = _mm_add_pd(b1, _mm_mul_pd(yh, yh));
	}
	*dot = hsum128(_mm_add_pd(d0, d1));
	*aa = hsum128(_mm_add_pd(a0, a1));
	*bb = hsum128(_mm_add_pd(b0, b1));
	dot3_tail(a, b, i, n, dot, aa, bb);
}

static size_t next_nlt_sse2(const float *x, size_t i, size_t n, float t)
{
	__m128 tv = _mm_set1_ps(t);
	for (; i + 16 <= n; i += 16) {
		__m128 m0 = _mm_cmpnlt_ps(_mm_loadu_ps(x + i), tv);
		__m128 m1 = _mm_cmpnlt_ps(_mm_loadu_ps(x + i + 4), tv);
		__m128 m2 = _mm_cmpnlt_ps(_mm_loadu_ps(x + i + 8), tv);
		__m128 m3 = _mm_cmpnlt_ps(_mm_loadu_ps(x + i + 12), tv);
		__m128 any = _mm_or_ps(_mm_or_ps(m0, m1), _mm_or_ps(m2, m3));
		if (_mm_movemask_ps(any)) {
			unsigned b = (unsigned)_mm_movemask_ps(m0) |
				     (unsigned)_mm_movemask_ps(m1) << 4 |
				     (unsigned)_mm_movemask_ps(m2) << 8 |
				     (unsigned)_mm_movemask_ps(m3) << 12;
			return i + (size_t)__builtin_ctz(b);
		}
	}
	return next_nlt_generic(x, i, n, t);
}

static double l2sq_sse2(const float *a, const float *b, size_t n)
{
	__m128d s0 = _mm_setzero_pd(), s1 = s0;
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		__m128 x = _mm_loadu_ps(a + i), y = _mm_loadu_ps(b + i);
		__m128d dl = _mm_sub_pd(_mm_cvtps_pd(x), _mm_cvtps_pd(y));
		__m128d dh = _mm_sub_pd(_mm_cvtps_pd(_mm_movehl_ps(x, x)),
					_mm_cvtps_pd(_mm_movehl_ps(y, y)));
		s0 = _mm_add_pd(s0, _mm_mul_pd(dl, dl));
		s1 = _mm_add_pd(s1, _mm_mul_pd(dh, dh));
	}
	return l2sq_tail(a, b, i, n, hsum128(_mm_add_pd(s0, s1)));
}
#endif

static void scale_generic(const float *x, size_t n, double by, float *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (float)(x[i] * by);
}

struct kernels {
	const char *name;
	void (*dot3)(const float *, const float *, size_t, double *, double *, double *);
	double (*l2sq)(const float *, const float *, size_t);
	double (*l1)(const float *, const float *, size_t);
	size_t (*next_nlt)(const float *, size_t, size_t, float);
	/* dot3's dot and aa alone, to its bits (NULL: dot3 itself) */
	double (*dot)(const float *, const float *, size_t);
	double (*sumsq)(const float *, size_t);
	void (*scale)(const float *, size_t, double, float *);
};

static const struct kernels *kernels(void)
{
	static const struct kernels *k;
	if (k)
		return k;
#if defined(__x86_64__) && defined(__GNUC__)
	static const struct kernels k512 = {"avx512", dot3_avx512, l2sq_avx512, l1_avx512, next_nlt_avx2,
					    NULL, NULL, scale_avx2};
	static const struct kernels k256 = {"avx2", dot3_avx2, l2sq_avx2, l1_avx2, next_nlt_avx2,
					    dot_avx2, sumsq_avx2, scale_avx2};
	static const struct kernels k128 = {"sse2", dot3_sse2, l2sq_sse2, l1_generic, next_nlt_sse2,
					    NULL, NULL, scale_generic};
	static const struct kernels kgen = {"generic", dot3_generic, l2sq_generic, l1_generic,
					    next_nlt_generic, NULL, NULL, scale_generic};
	/* EMB_SIMD=avx2|sse2|generic caps the choice, so tests can check that
	 * every kernel set gives the same numbers. */
	const char *cap = getenv("EMB_SIMD");
	cap = cap ? cap : "";
	__builtin_cpu_init();
	if (!strcmp(cap, "generic"))
		k = &kgen;
	else if (!strcmp(cap, "sse2"))
		k = &k128;
	else if (__builtin_cpu_supports("avx512f") && strcmp(cap, "avx2"))
		k = &k512;
	else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		k = &k256;
	else
		k = &k128;
#else
	static const struct kernels kgen = {"generic", dot3_generic, l2sq_generic, l1_generic,
					    next_nlt_generic, NULL, NULL, scale_generic};
	k = &kgen;
#endif
	return k;
}

void emb_dot3_f32(const float *a, const float *b, size_t n,
		  double *dot, double *aa, double *bb)
{
	kernels()->dot3(a, b, n, dot, aa, bb);
}

double emb_sumsq_f32(const float *x, size_t n)
{
	const struct kernels *k = kernels();
	if (k->sumsq)
		return k->sumsq(x, n);
	double dot, aa, bb;
	k->dot3(x, x, n, &dot, &aa, &bb);
	return aa;
}

void emb_scale_f32(const float *x, size_t n, double by, float *out)
{
	kernels()->scale(x, n, by, out);
}

double emb_dot_f32(const float *a, const float *b, size_t n)
{
	const struct kernels *k = kernels();
	if (k->dot)
		return k->dot(a, b, n);
	double dot, aa, bb;
	k->dot3(a, b, n, &dot, &aa, &bb);
	return dot;
}

double emb_l2sq_f32(const float *a, const float *b, size_t n)
{
	return kernels()->l2sq(a, b, n);
}

double emb_l1_f32(const float *a, const float *b, size_t n)
{
	return kernels()->l1(a, b, n);
}

size_t emb_next_nlt_f32(const float *x, size_t i, size_t n, float t)
{
	return kernels()->next_nlt(x, i, n, t);
}

const char *emb_simd_name(void)
{
	return kernels()->name;
}

int emb_row_exp_f32(const float *x, size_t n)
{
	float m = 0;
	for (size_t i = 0; i < n; i++)
		m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
	int e = 0;
	if (m > 0)
		frexpf(m, &e);
	return e;
}
