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
		} else if (to == EMB_I8) {
			/* emb_codes_check has made sure V is a code */
			dst[i] = (unsigned char)(int8_t)v;
		} else if (to == EMB_U8) {
			dst[i] = (unsigned char)v;
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
		} else if (from == EMB_I8) {
			v = (int8_t)src[i];
		} else if (from == EMB_U8) {
			v = src[i];
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

/* ---- quantized codes (i8, u8, bit) ---- */

void emb_bits_pack(unsigned char *dst, const void *src, size_t dim, enum emb_dtype from)
{
	size_t nb = emb_row_bytes(EMB_BIT, dim);
	memset(dst, 0, nb);
	if (from == EMB_F32) {
		const float *x = src;
		for (size_t j = 0; j < dim; j++)
			dst[j >> 3] |= (unsigned char)((x[j] > 0) << (7 - (j & 7)));
		return;
	}
	for (size_t j = 0; j < dim; j++) {
		double v = from == EMB_F64 ? ((const double *)src)[j] : ((const float *)src)[j];
		if (v > 0)
			dst[j >> 3] |= (unsigned char)(0x80u >> (j & 7));
	}
}

void emb_bits_unpack(void *dst, const unsigned char *src, size_t dim, enum emb_dtype to)
{
	for (size_t j = 0; j < dim; j++) {
		int b = src[j >> 3] >> (7 - (j & 7)) & 1;
		if (to == EMB_F64)
			((double *)dst)[j] = b;
		else
			((float *)dst)[j] = (float)b;
	}
}

void emb_rows_from_disk(void *dst, const unsigned char *src, size_t rows, size_t dim,
			enum emb_dtype from, enum emb_dtype to)
{
	if (from == to) {
		if (rows)
			memcpy(dst, src, emb_xmul(rows, emb_row_bytes(from, dim)));
		return;
	}
	if (to == EMB_BIT || to == EMB_I8 || to == EMB_U8)
		emb_die(EMB_EXIT_DATA, "internal error: %s values read as %s codes",
			emb_dtype_name(from), emb_dtype_name(to));
	if (from != EMB_BIT) {
		emb_from_disk(dst, src, rows * dim, from, to);
		return;
	}
	size_t rb = emb_row_bytes(EMB_BIT, dim), vs = emb_dtype_size(to);
	for (size_t i = 0; i < rows; i++)
		emb_bits_unpack((char *)dst + i * dim * vs, src + i * rb, dim, to);
}

/* Whether V (of a float chunk) is a value of code dtype T. */
static bool is_code(double v, enum emb_dtype t)
{
	switch (t) {
	case EMB_I8: return v >= -128 && v <= 127 && v == floor(v);
	case EMB_U8: return v >= 0 && v <= 255 && v == floor(v);
	case EMB_BIT: return v == 0 || v == 1;
	default: return true;
	}
}

void emb_codes_check(const struct emb_stream *s, const void *src, size_t rows, size_t dim,
		     enum emb_dtype from, enum emb_dtype to, uint64_t row1)
{
	if (!emb_dtype_is_code(to) || from == to)
		return;
	for (size_t i = 0; i < rows * dim; i++) {
		double v = from == EMB_F64 ? ((const double *)src)[i] : ((const float *)src)[i];
		if (is_code(v, to))
			continue;
		char num[32];
		int len = emb_format_f64(num, v);
		emb_die(EMB_EXIT_DATA, "%s: row %llu: value %.*s is not %s code (%s; "
			"embquant makes codes from real numbers)", s->name,
			(unsigned long long)(row1 + i / (dim ? dim : 1)), len, num,
			to == EMB_BIT ? "a bit" : to == EMB_I8 ? "an i8" : "a u8",
			to == EMB_BIT ? "0 or 1" : to == EMB_I8 ? "a whole number from -128 to 127"
			: "a whole number from 0 to 255");
	}
}

void emb_rows_to_disk(struct emb_stream *s, unsigned char *dst, const void *src, size_t rows,
		      size_t dim, enum emb_dtype from, enum emb_dtype to, uint64_t row1)
{
	if (from == to) {
		if (rows)
			memcpy(dst, src, emb_xmul(rows, emb_row_bytes(to, dim)));
		return;
	}
	if (emb_dtype_is_code(from))
		emb_die(EMB_EXIT_DATA, "internal error: packed %s rows written as %s",
			emb_dtype_name(from), emb_dtype_name(to));
	emb_codes_check(s, src, rows, dim, from, to, row1);
	if (to != EMB_BIT) {
		emb_to_disk_counted(s, dst, src, rows * dim, from, to);
		return;
	}
	size_t rb = emb_row_bytes(EMB_BIT, dim), vs = emb_dtype_size(from);
	for (size_t i = 0; i < rows; i++)
		emb_bits_pack(dst + i * rb, (const char *)src + i * dim * vs, dim, from);
}
