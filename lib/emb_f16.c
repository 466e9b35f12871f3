/*
 * emb_f16.c - IEEE binary16 <-> binary32 for whole arrays (f16 streams and
 * .npy <f2), with the x86 F16C instructions when the CPU has them.
 *
 * Dispatch is at run time (__builtin_cpu_supports) so one binary runs on
 * any x86-64; elsewhere, and for the tail of each array, the software
 * conversions of emb_num.c do the work.  Both round to nearest even, so
 * the result does not depend on the path taken (tests/formats.bats checks
 * against numpy's float16).
 */
#include <config.h>
#include "emb_impl.h"

#include <string.h>

/* EMB_NO_F16C: software only (make fuzz: clang 14 knows no "f16c" for
 * __builtin_cpu_supports). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(EMB_NO_F16C)
#include <immintrin.h>
#define HAVE_F16C_PATH 1

__attribute__((target("f16c,avx")))
static size_t h2f_f16c(unsigned char *dst, const unsigned char *src, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m128i h = _mm_loadu_si128((const __m128i *)(const void *)(src + 2 * i));
		_mm256_storeu_ps((float *)(void *)(dst + 4 * i), _mm256_cvtph_ps(h));
	}
	return i;
}

__attribute__((target("f16c,avx")))
static size_t f2h_f16c(unsigned char *dst, const unsigned char *src, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 f = _mm256_loadu_ps((const float *)(const void *)(src + 4 * i));
		_mm_storeu_si128((__m128i *)(void *)(dst + 2 * i),
				 _mm256_cvtps_ph(f, _MM_FROUND_TO_NEAREST_INT));
	}
	return i;
}

static bool have_f16c(void)
{
	static int known = -1;
	if (known < 0) {
		__builtin_cpu_init();
		known = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
	}
	return known;
}
#endif

void emb_f16_to_f32_n(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	size_t i = 0;
#ifdef HAVE_F16C_PATH
	if (have_f16c())
		i = h2f_f16c(d, s, n);
#endif
	for (; i < n; i++) {
		uint16_t h;
		memcpy(&h, s + 2 * i, 2);
		float f = emb_f16_to_f32(h);
		memcpy(d + 4 * i, &f, 4);
	}
}

void emb_f32_to_f16_n(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	size_t i = 0;
#ifdef HAVE_F16C_PATH
	if (have_f16c())
		i = f2h_f16c(d, s, n);
#endif
	for (; i < n; i++) {
		float f;
		memcpy(&f, s + 4 * i, 4);
		uint16_t h = emb_f32_to_f16(f);
		memcpy(d + 2 * i, &h, 2);
	}
}
