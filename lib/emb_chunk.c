/*
 * emb_chunk.c - buffers for one batch of rows: a contiguous row-major
 * value matrix plus the rows' keys in one string arena.
 */
#include <config.h>
#include "emb_impl.h"

#include <stdlib.h>
#include <string.h>

/* Shape C and its key pointers for ROWS rows; the values are the
 * caller's business. */
static void shape(struct emb_chunk *c, size_t rows, size_t dim, enum emb_dtype type,
		  bool with_keys)
{
	if (with_keys && (rows > c->cap_rows || !c->keys)) {
		c->keys = emb_xrealloc(c->keys, emb_xmul(rows ? rows : 1, sizeof *c->keys));
		c->cap_rows = rows;
	}
	c->rows = rows;
	c->dim = dim;
	c->type = type;
	c->keybuf_len = 0;
	c->first_row = 0;
	c->numbered = false;
	if (with_keys) {
		for (size_t i = 0; i < rows; i++)
			c->keys[i] = NULL;
	} else {
		free(c->keys);
		c->keys = NULL;
		c->cap_rows = 0;
	}
}

void emb_chunk_reserve(struct emb_chunk *c, size_t rows, size_t dim,
		       enum emb_dtype type, bool with_keys)
{
	size_t bytes = emb_xmul(rows, emb_row_bytes(type, dim));
	if (c->borrowed) {
		/* The mapping is not ours to free or to overwrite. */
		c->data = NULL;
		c->cap_bytes = 0;
		c->borrowed = false;
	}
	if (bytes > c->cap_bytes) {
		free(c->data);
		/* 64-byte alignment suits every SIMD width and BLAS. */
		if (posix_memalign(&c->data, 64, bytes ? bytes : 64) != 0)
			emb_die(EMB_EXIT_DATA, "out of memory (%zu bytes)", bytes);
		c->cap_bytes = bytes;
	}
	shape(c, rows, dim, type, with_keys);
}

size_t emb_grow_cap(size_t cap, size_t need, size_t limit)
{
	size_t next = cap * 2 > (16u << 20) ? cap * 2 : (16u << 20);
	if (next > limit)
		next = limit;
	return next < need ? need : next;
}

void emb_chunk_grow(struct emb_chunk *c, size_t bytes, size_t limit)
{
	if (c->borrowed) {
		c->data = NULL;
		c->cap_bytes = 0;
		c->borrowed = false;
	}
	if (bytes <= c->cap_bytes)
		return;
	size_t cap = emb_grow_cap(c->cap_bytes, bytes, limit);
	void *p;
	if (posix_memalign(&p, 64, cap) != 0)
		emb_die(EMB_EXIT_DATA, "out of memory (%zu bytes)", cap);
	if (c->cap_bytes)
		memcpy(p, c->data, c->cap_bytes);
	free(c->data);
	c->data = p;
	c->cap_bytes = cap;
}

void emb_chunk_borrow(struct emb_chunk *c, void *data, size_t rows, size_t dim,
		      enum emb_dtype type, bool with_keys)
{
	if (!c->borrowed)
		free(c->data);
	c->data = data;
	c->cap_bytes = 0;
	c->borrowed = true;
	shape(c, rows, dim, type, with_keys);
}

/* Keys live in one arena; when it grows, every key pointer is moved with
 * it (offsets are taken before the old block is released). */
void emb_chunk_set_key(struct emb_chunk *c, size_t i, const char *key, size_t len)
{
	size_t need = c->keybuf_len + len + 1;
	if (need > c->keybuf_cap) {
		size_t cap = c->keybuf_cap ? c->keybuf_cap : 4096;
		while (cap < need)
			cap *= 2;
		size_t *off = emb_xmalloc(emb_xmul(c->rows ? c->rows : 1, sizeof *off));
		for (size_t r = 0; r < c->rows; r++)
			off[r] = c->keys[r] ? (size_t)(c->keys[r] - c->keybuf) : SIZE_MAX;
		c->keybuf = emb_xrealloc(c->keybuf, cap);
		c->keybuf_cap = cap;
		for (size_t r = 0; r < c->rows; r++)
			c->keys[r] = off[r] == SIZE_MAX ? NULL : c->keybuf + off[r];
		free(off);
	}
	char *dst = c->keybuf + c->keybuf_len;
	if (len)
		memcpy(dst, key, len);
	dst[len] = '\0';
	c->keys[i] = dst;
	c->keybuf_len = need;
}

void emb_chunk_set_pos(struct emb_chunk *c, size_t i, uint64_t pos)
{
	if (i >= c->pos_cap) {
		size_t cap = c->pos_cap ? 2 * c->pos_cap : 1024;
		while (cap <= i)
			cap *= 2;
		c->pos = emb_xrealloc(c->pos, emb_xmul(cap, sizeof *c->pos));
		c->pos_cap = cap;
	}
	c->pos[i] = pos;
	c->npos = i + 1;
}

void emb_chunk_free(struct emb_chunk *c)
{
	free(c->pos);
	if (!c->borrowed)
		free(c->data);
	free(c->keys);
	free(c->keybuf);
	memset(c, 0, sizeof *c);
}

/* Non-finite bit patterns: all exponent bits set (inf and NaN).  Integer
 * tests vectorise where isfinite() in a loop does not. */
static bool row_finite_f32(const float *r, size_t d)
{
	uint32_t bad = 0;
	for (size_t j = 0; j < d; j++) {
		uint32_t u;
		memcpy(&u, r + j, sizeof u);
		bad |= (u & 0x7f800000u) == 0x7f800000u;
	}
	return !bad;
}

static bool row_finite_f64(const double *r, size_t d)
{
	uint64_t bad = 0;
	for (size_t j = 0; j < d; j++) {
		uint64_t u;
		memcpy(&u, r + j, sizeof u);
		bad |= (u & 0x7ff0000000000000u) == 0x7ff0000000000000u;
	}
	return !bad;
}

bool emb_row_finite(const struct emb_chunk *c, size_t i)
{
	return c->type == EMB_F64 ? row_finite_f64(emb_row_f64(c, i), c->dim)
				  : row_finite_f32(emb_row_f32(c, i), c->dim);
}

void emb_require_finite(const struct emb_chunk *c)
{
	for (size_t i = 0; i < c->rows; i++)
		if (!emb_row_finite(c, i))
			emb_die_row(c, i, "value is not finite");
}

size_t emb_read_all_f64(struct emb_stream *s, double **rows, bool finite)
{
	struct emb_chunk c = EMB_CHUNK_INIT;
	size_t n = 0, cap = 0, d = s->dim;
	*rows = NULL;
	s->mtype = EMB_F64;
	while (emb_read_chunk(s, &c) > 0) {
		if (finite)
			emb_require_finite(&c);
		if (n + c.rows > cap) {
			cap = 2 * (n + c.rows);
			*rows = emb_xrealloc(*rows, emb_xmul(emb_xmul(cap, d ? d : 1), sizeof **rows));
		}
		memcpy(*rows + n * d, c.data, c.rows * d * sizeof **rows);
		n += c.rows;
	}
	emb_chunk_free(&c);
	return n;
}
