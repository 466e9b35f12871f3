/*
 * emb_bigann.c - big-ann-benchmarks .fbin, .u8bin, .i8bin and .ibin (emb.5,
 * "Other formats"), and the fixed-size-row reading that safetensors and
 * FAISS flat indexes share with them.
 *
 *   n:u32 d:u32          little-endian, as every big-ann file
 *   n*d values           row-major: f32, u8, i8 or int32
 *
 * Nothing in the bytes says which of the four a file is, so the file
 * name's extension does (emb_format_by_extension), else -I.  u8 and i8
 * values are read as f32, int32 as f64: every value is exact.  Writing a
 * u8bin, i8bin or ibin refuses values that are not whole numbers in range.
 *
 * The header holds the row count, which a stream knows only at its end:
 * emb_stream.c writes count_header's placeholder first and patches it at
 * close (or spools a pipe's rows).  The placeholder's n is 2^31 - 1:
 * big-ann-benchmarks' read_fbin takes n as an int32 and reshapes what it
 * read to (n, d), xbin_mmap checks the file size against n, and both fail
 * unless the file holds all those rows (2^31 - 1 rows are then really
 * there, and embutils reads them too); otherwise embutils names it an
 * unfinished write.  (2^31 or -1 would not do: numpy takes any negative
 * shape as "whatever is there", and reads the rows written so far.)
 * So the largest count written is 2^31 - 2.
 */
#include <config.h>
#include "emb_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define UNFINISHED_N 0x7fffffffu
#define MAX_N 0x7ffffffeu

enum emb_format emb_format_by_extension(const char *path)
{
	static const struct {
		const char *ext;
		enum emb_format f;
	} ext[] = {
		{".fbin", EMB_FMT_FBIN}, {".u8bin", EMB_FMT_U8BIN},
		{".i8bin", EMB_FMT_I8BIN}, {".ibin", EMB_FMT_IBIN},
	};
	const char *dot = path ? strrchr(path, '.') : NULL;
	if (!dot || strchr(dot, '/'))
		return EMB_FMT_AUTO;
	for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
		if (strcmp(dot, ext[i].ext) == 0)
			return ext[i].f;
	return EMB_FMT_AUTO;
}

static int kind_of(enum emb_format f)
{
	return f == EMB_FMT_U8BIN ? EMB_BIN_U8 : f == EMB_FMT_I8BIN ? EMB_BIN_I8 :
		f == EMB_FMT_IBIN ? EMB_BIN_I32 : EMB_BIN_F32;
}

size_t emb_bin_value_size(int kind)
{
	switch (kind) {
	case EMB_BIN_U8:
	case EMB_BIN_I8:
		return 1;
	case EMB_BIN_F16:
	case EMB_BIN_BF16:
		return 2;
	case EMB_BIN_F64:
		return 8;
	default:
		return 4;
	}
}

long long emb_input_size(const struct emb_stream *s)
{
	return s->map ? (long long)(s->map_len - s->map_pos + s->offset) : -1;
}

void emb_skip_bytes(struct emb_stream *s, uint64_t n, const char *what)
{
	if (s->map) {
		size_t left = s->map_len - s->map_pos;
		if (n > left)
			emb_die_offset(s->name, s->offset + left, "truncated file: %s cut short "
				       "(%zu of %llu bytes)", what, left, (unsigned long long)n);
		s->map_pos += (size_t)n;
		s->offset += n;
		return;
	}
	static unsigned char buf[1 << 16];
	for (uint64_t done = 0; done < n;) {
		size_t piece = n - done < sizeof buf ? (size_t)(n - done) : sizeof buf;
		size_t got = emb_read_bytes(s, buf, piece);
		done += got;
		if (got < piece)
			emb_die_offset(s->name, s->offset + done, "truncated file: %s cut short "
				       "(%llu of %llu bytes)", what, (unsigned long long)done,
				       (unsigned long long)n);
	}
	s->offset += n;
}

/* N values of KIND at SRC (little-endian) into DST of memory type T. */
static void decode(void *dst, const unsigned char *src, size_t n, int kind, enum emb_dtype t)
{
	switch (kind) {
	case EMB_BIN_F32:
		emb_from_disk(dst, src, n, EMB_F32, t);
		return;
	case EMB_BIN_F16:
		emb_from_disk(dst, src, n, EMB_F16, t);
		return;
	case EMB_BIN_F64:
		emb_from_disk(dst, src, n, EMB_F64, t);
		return;
	default:
		break;
	}
	for (size_t j = 0; j < n; j++) {
		double v;
		if (kind == EMB_BIN_BF16) {
			/* bfloat16 is the top half of an f32 */
			uint32_t bits = (uint32_t)(src[2 * j] | src[2 * j + 1] << 8) << 16;
			float f;
			memcpy(&f, &bits, sizeof f);
			v = f;
		} else if (kind == EMB_BIN_U8) {
			v = src[j];
		} else if (kind == EMB_BIN_I8) {
			v = (signed char)src[j];
		} else {
			v = (int32_t)emb_get_u32(src + 4 * j);
		}
		if (t == EMB_F64)
			((double *)dst)[j] = v;
		else
			((float *)dst)[j] = (float)v;
	}
}

void emb_fixed_finish(struct emb_stream *s)
{
	s->at_eof = true;
	if (s->data_off == 0 || s->map)
		return; /* a mapped file's size was checked at open */
	if (s->offset < s->data_off) /* safetensors: the tensors after the one read */
		emb_skip_bytes(s, s->data_off - s->offset, "safetensors tensors");
	unsigned char extra;
	if (emb_read_bytes(s, &extra, 1) == 1)
		emb_die_offset(s->name, s->offset, "data after the %llu %s the %s header "
			       "promises", (unsigned long long)s->total_rows,
			       emb_plural(s->total_rows, "row", "rows"), emb_format_name(s->format));
}

uint64_t emb_fixed_next_rows(struct emb_stream *s)
{
	uint64_t left = s->total_rows - s->recno, rows = emb_batch_rows(s->dim, s->mtype);
	return rows < left ? rows : left;
}

bool emb_fixed_peek_rows(struct emb_stream *s, uint64_t *rows)
{
	*rows = emb_fixed_next_rows(s);
	return true;
}

uint64_t emb_fixed_skip_rows(struct emb_stream *s)
{
	uint64_t rows = emb_fixed_next_rows(s);
	if (rows == 0) {
		s->at_eof = true;
		return 0;
	}
	emb_skip_bytes(s, rows * s->row_bytes, "row values");
	s->recno += rows;
	if (s->recno == s->total_rows)
		emb_fixed_finish(s);
	return rows;
}

size_t emb_fixed_read_rows(struct emb_stream *s, struct emb_chunk *c)
{
	size_t rows = (size_t)emb_fixed_next_rows(s);
	size_t n = rows * s->dim, bytes = emb_xmul(rows, (size_t)s->row_bytes);
	size_t ms = emb_dtype_size(s->mtype);
	bool direct = emb_host_is_le() &&
		((s->bin_kind == EMB_BIN_F32 && s->mtype == EMB_F32) ||
		 (s->bin_kind == EMB_BIN_F64 && s->mtype == EMB_F64));
	unsigned char *mapped = emb_map_take(s, bytes, direct ? ms : 1);
	if (!mapped && direct) { /* unaligned in the mapping (FAISS): convert from there */
		direct = false;
		mapped = emb_map_take(s, bytes, 1);
	}
	if (mapped && direct) {
		emb_chunk_borrow(c, mapped, rows, s->dim, s->mtype, false);
	} else {
		emb_chunk_reserve(c, rows, s->dim, s->mtype, false);
		if (!mapped) {
			if (s->raw_cap < bytes) {
				free(s->raw);
				s->raw = emb_xmalloc(bytes);
				s->raw_cap = bytes;
			}
			size_t got = emb_read_bytes(s, s->raw, bytes);
			if (got < bytes)
				emb_die_offset(s->name, s->offset + got, "truncated %s data: row %llu "
					       "cut short (the header promises %llu rows)",
					       emb_format_name(s->format),
					       (unsigned long long)(s->recno + got / s->row_bytes + 1),
					       (unsigned long long)s->total_rows);
			mapped = s->raw;
		}
		decode(c->data, mapped, n, s->bin_kind, s->mtype);
	}
	s->offset += bytes;
	s->recno += rows;
	c->rows = rows;
	if (s->recno == s->total_rows)
		emb_fixed_finish(s);
	return rows;
}

/* ---------- big-ann-benchmarks ---------- */

void emb_bigann_read_header(struct emb_stream *s)
{
	const char *fmt = emb_format_name(s->format);
	unsigned char h[8];
	char what[32];
	emb_map_open(s);
	snprintf(what, sizeof what, "%s header", fmt);
	emb_need_bytes(s, h, 8, what);
	uint32_t n = emb_get_u32(h), d = emb_get_u32(h + 4);
	long long size = emb_input_size(s);
	if (n == UNFINISHED_N && (uint64_t)size != 8 + (uint64_t)n * d *
	    emb_bin_value_size(kind_of(s->format)))
		emb_die_offset(s->name, 0, "incomplete file: its writer stopped before it wrote "
			       "the row count");
	if (n > UNFINISHED_N)
		emb_die_offset(s->name, 0, "%s header claims %u rows (most %u: readers take the "
			       "count as an int32)", fmt, n, UNFINISHED_N);
	if (d > EMB_MAX_DIM || (d == 0 && n != 0))
		emb_die_offset(s->name, 4, "%s header claims dim %u (want 1 to %u)", fmt, d,
			       EMB_MAX_DIM);
	s->bin_kind = kind_of(s->format);
	s->dim = d;
	s->row_bytes = (uint64_t)d * emb_bin_value_size(s->bin_kind);
	s->total_rows = n;
	s->has_keys = false;
	s->dtype = s->format == EMB_FMT_IBIN ? EMB_F64 : EMB_F32;
	s->mtype = s->dtype;
	s->data_off = 8 + (uint64_t)n * s->row_bytes; /* where the file must end */
	if (size >= 0 && (uint64_t)size < s->data_off)
		emb_die_offset(s->name, (uint64_t)size, "truncated %s: the header promises %u rows "
			       "of %u values (%llu bytes), the file holds %llu", fmt, n, d,
			       (unsigned long long)s->data_off, (unsigned long long)size);
	if (size >= 0 && (uint64_t)size > s->data_off)
		emb_die_offset(s->name, s->data_off, "data after the %u %s the %s header "
			       "promises", n, emb_plural(n, "row", "rows"), fmt);
	if (n == 0)
		emb_fixed_finish(s);
}

size_t emb_bigann_read_rows(struct emb_stream *s, struct emb_chunk *c)
{
	return emb_fixed_read_rows(s, c);
}

size_t emb_bigann_count_header(const struct emb_stream *s, uint64_t rows, int width,
			       char *buf, size_t cap)
{
	(void)width; /* binary: the same 8 bytes whatever the count */
	if (cap < 8)
		emb_die(EMB_EXIT_DATA, "%s header too long", emb_format_name(s->format));
	if (rows != EMB_ROWS_UNKNOWN && rows > MAX_N)
		emb_die(EMB_EXIT_DATA, "%s: %llu rows do not fit a %s header (most %u)", s->name,
			(unsigned long long)rows, emb_format_name(s->format), MAX_N);
	unsigned char h[8];
	emb_put_u32(h, rows == EMB_ROWS_UNKNOWN ? UNFINISHED_N : (uint32_t)rows);
	emb_put_u32(h + 4, (uint32_t)s->dim);
	memcpy(buf, h, 8);
	return 8;
}

/* Integer formats hold whole numbers only: say which value does not fit. */
static _Noreturn void not_whole(const struct emb_stream *s, uint64_t rowno, size_t j, double v,
				double lo, double hi)
{
	emb_die(EMB_EXIT_DATA, "%s: row %llu, value %zu: %g is not a whole number from %.0f "
		"to %.0f; it cannot be written as %s", s->name, (unsigned long long)rowno,
		j + 1, v, lo, hi, emb_format_name(s->format));
}

void emb_bigann_write_rows(struct emb_stream *s, const struct emb_chunk *c)
{
	int kind = kind_of(s->format);
	size_t es = emb_bin_value_size(kind), n = c->rows * c->dim;
	size_t bytes = emb_xmul(n, es);
	if (s->recno + c->rows > MAX_N)
		emb_die(EMB_EXIT_DATA, "%s: more than %u rows do not fit a %s header", s->name,
			MAX_N, emb_format_name(s->format));
	if (s->raw_cap < bytes) {
		free(s->raw);
		s->raw = emb_xmalloc(bytes ? bytes : 1);
		s->raw_cap = bytes;
	}
	if (kind == EMB_BIN_F32) {
		emb_to_disk_counted(s, s->raw, c->data, n, c->type, EMB_F32);
		emb_write_bytes(s, s->raw, bytes);
		return;
	}
	double lo = kind == EMB_BIN_U8 ? 0 : kind == EMB_BIN_I8 ? -128 : -2147483648.0;
	double hi = kind == EMB_BIN_U8 ? 255 : kind == EMB_BIN_I8 ? 127 : 2147483647.0;
	for (size_t i = 0; i < c->rows; i++)
		for (size_t j = 0; j < c->dim; j++) {
			double v = emb_get(c, i, j);
			if (!(v >= lo && v <= hi) || v != floor(v))
				not_whole(s, s->recno + i + 1, j, v, lo, hi);
			size_t k = i * c->dim + j;
			if (kind == EMB_BIN_I32)
				emb_put_u32(s->raw + 4 * k, (uint32_t)(int32_t)v);
			else
				s->raw[k] = (unsigned char)(int)v;
		}
	emb_write_bytes(s, s->raw, bytes);
}
