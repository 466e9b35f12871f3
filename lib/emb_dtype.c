/*
 * emb_dtype.c - values between their type in memory (f32, f64) and their
 * little-endian form on disk, shared by every binary codec.
 */
#include <config.h>
#include "emb.h"
#include "emb_impl.h"

#include <math.h>
#include <string.h>

bool emb_host_is_le(void)
{
#ifdef WORDS_BIGENDIAN
	return false;
#else
	return true;
#endif
}

/* Convert N values of memory type FROM at SRC into disk dtype TO (LE). */
void emb_to_disk(unsigned char *dst, const void *src, size_t n,
		    enum emb_dtype from, enum emb_dtype to)
{
	if (n == 0) /* src may be NULL (a chunk of dim 0) */
		return;
	if (from == to && emb_host_is_le()) {
		memcpy(dst, src, n * emb_dtype_size(to));
		return;
	}
	if (from == EMB_F32 && to == EMB_F16 && emb_host_is_le()) {
		emb_f32_to_f16_n(dst, src, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		double v = from == EMB_F64 ? ((const double *)src)[i] : ((const float *)src)[i];
		if (to == EMB_F64) {
			uint64_t b;
			memcpy(&b, &v, 8);
			emb_put_u64(dst + 8 * i, b);
		} else if (to == EMB_F32) {
			float f = (float)v;
			uint32_t b;
			memcpy(&b, &f, 4);
			emb_put_u32(dst + 4 * i, b);
		} else {
			uint16_t h = emb_f32_to_f16((float)v);
			dst[2 * i] = (unsigned char)h;
			dst[2 * i + 1] = (unsigned char)(h >> 8);
		}
	}
}

/* Finite values of SRC (N of type FROM) that DST (disk type TO) holds as
 * infinities: the ones too large for a narrower type. */
static size_t count_overflows(const unsigned char *dst, const void *src, size_t n,
			      enum emb_dtype from, enum emb_dtype to)
{
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		bool inf;
		if (to == EMB_F16)
			inf = ((dst[2 * i] | dst[2 * i + 1] << 8) & 0x7fff) == 0x7c00;
		else {
			float f;
			memcpy(&f, dst + 4 * i, 4);
			inf = isinf(f);
		}
		double v = from == EMB_F64 ? ((const double *)src)[i] : ((const float *)src)[i];
		bad += inf && isfinite(v);
	}
	return bad;
}

void emb_to_disk_counted(struct emb_stream *s, unsigned char *dst, const void *src, size_t n,
			 enum emb_dtype from, enum emb_dtype to)
{
	emb_to_disk(dst, src, n, from, to);
	if (to == EMB_F16 || (to == EMB_F32 && from == EMB_F64))
		s->overflowed += count_overflows(dst, src, n, from, to);
}

/* Convert N disk values of dtype FROM at SRC into memory type TO. */
void emb_from_disk(void *dst, const unsigned char *src, size_t n,
		      enum emb_dtype from, enum emb_dtype to)
{
	if (n == 0) /* src may be NULL (a chunk of dim 0) */
		return;
	if (from == to && emb_host_is_le()) {
		memcpy(dst, src, n * emb_dtype_size(to));
		return;
	}
	if (from == EMB_F16 && to == EMB_F32 && emb_host_is_le()) {
		emb_f16_to_f32_n(dst, src, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		double v;
		if (from == EMB_F64) {
			uint64_t b = emb_get_u64(src + 8 * i);
			memcpy(&v, &b, 8);
		} else if (from == EMB_F32) {
			uint32_t b = emb_get_u32(src + 4 * i);
			float f;
			memcpy(&f, &b, 4);
			v = f;
		} else {
			v = emb_f16_to_f32((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
		}
		if (to == EMB_F64)
			((double *)dst)[i] = v;
		else
			((float *)dst)[i] = (float)v;
	}
}

void emb_swap_bytes(void *buf, size_t n, size_t size)
{
	unsigned char *p = buf;
	for (size_t i = 0; i < n; i++, p += size)
		for (size_t a = 0, b = size - 1; a < b; a++, b--) {
			unsigned char t = p[a];
			p[a] = p[b];
			p[b] = t;
		}
}
