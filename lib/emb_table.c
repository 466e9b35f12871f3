/*
 * emb_table.c - a stream loaded whole into memory, with a hash index on
 * its keys (FNV-1a, open addressing, load factor <= 1/2).
 */
#include <config.h>
#include "emb.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline unsigned char fold(unsigned char c, bool icase)
{
	return icase && c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static uint64_t hash_key(const char *k, size_t len, bool icase)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < len; i++) {
		h ^= fold((unsigned char)k[i], icase);
		h *= 1099511628211u;
	}
	return h;
}

static bool key_eq(const char *stored, const char *k, size_t len, bool icase)
{
	for (size_t i = 0; i < len; i++)
		if (fold((unsigned char)stored[i], icase) != fold((unsigned char)k[i], icase))
			return false;
	return stored[len] == '\0';
}

long emb_table_find(const struct emb_table *t, const char *key, size_t len)
{
	if (t->nslots == 0)
		return -1;
	size_t mask = t->nslots - 1;
	for (size_t i = hash_key(key, len, t->ignore_case) & mask;; i = (i + 1) & mask) {
		size_t v = t->slots[i];
		if (v == 0)
			return -1;
		if (key_eq(t->keys[v - 1], key, len, t->ignore_case))
			return (long)(v - 1);
	}
}

static void build_index(struct emb_table *t)
{
	t->nslots = 16;
	while (t->nslots < 2 * t->rows)
		t->nslots *= 2;
	t->slots = emb_xcalloc(t->nslots, sizeof *t->slots);
	size_t mask = t->nslots - 1;
	for (size_t r = 0; r < t->rows; r++) {
		size_t len = strlen(t->keys[r]);
		size_t i = hash_key(t->keys[r], len, t->ignore_case) & mask;
		for (;; i = (i + 1) & mask) {
			if (t->slots[i] == 0) {
				t->slots[i] = r + 1;
				break;
			}
			if (key_eq(t->keys[t->slots[i] - 1], t->keys[r], len, t->ignore_case)) {
				t->duplicates++;
				break;
			}
		}
	}
}

struct emb_table *emb_table_load(const char *path, const struct emb_opts *o, bool ignore_case)
{
	struct emb_stream *in = emb_open_r(path, o);
	struct emb_table *t = emb_xcalloc(1, sizeof *t);
	struct emb_chunk c = EMB_CHUNK_INIT;
	size_t cap = 0, keylen = 0, keycap = 0;
	size_t *keyoff = NULL;

	in->mtype = EMB_F32;
	t->dim = emb_slice_dim(o->slice, in);
	t->ignore_case = ignore_case;
	t->has_keys = in->has_keys;
	t->src = emb_xmalloc(strlen(in->name) + 1);
	strcpy(t->src, in->name);
	while (emb_read_chunk(in, &c) > 0) {
		emb_slice_chunk(o->slice, &c);
		if (t->rows + c.rows > cap) {
			cap = (t->rows + c.rows) * 2;
			t->data = emb_xrealloc(t->data, emb_xmul(emb_xmul(cap, t->dim), sizeof(float)));
			keyoff = emb_xrealloc(keyoff, emb_xmul(cap, sizeof *keyoff));
			t->pos = emb_xrealloc(t->pos, emb_xmul(cap, sizeof *t->pos));
		}
		memcpy(t->data + t->rows * t->dim, c.data, c.rows * t->dim * sizeof(float));
		t->src_lines = c.src_lines;
		for (size_t i = 0; i < c.rows; i++) {
			t->pos[t->rows + i] = c.npos > i ? c.pos[i] : c.pos0 + (uint64_t)i * c.pos_step;
			char num[24];
			const char *k = c.keys ? c.keys[i] : num;
			if (!c.keys)
				snprintf(num, sizeof num, "%llu", (unsigned long long)(c.first_row + i));
			size_t len = strlen(k) + 1;
			if (keylen + len > keycap) {
				keycap = (keylen + len) * 2;
				t->keybuf = emb_xrealloc(t->keybuf, keycap);
			}
			memcpy(t->keybuf + keylen, k, len);
			keyoff[t->rows + i] = keylen;
			keylen += len;
		}
		t->rows += c.rows;
	}
	t->keys = emb_xmalloc(emb_xmul(t->rows ? t->rows : 1, sizeof *t->keys));
	for (size_t r = 0; r < t->rows; r++)
		t->keys[r] = t->keybuf + keyoff[r];
	free(keyoff);
	t->meta = in->meta;
	in->meta = NULL;
	emb_close(in);
	emb_chunk_free(&c);
	build_index(t);
	return t;
}

void emb_table_die_row(const struct emb_table *t, size_t i, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* A one-row view of where row I came from, for emb_die_row. */
	struct emb_chunk at = EMB_CHUNK_INIT;
	at.src = t->src;
	at.src_lines = t->src_lines;
	at.pos0 = t->pos ? t->pos[i] : i + 1;
	emb_die_row(&at, 0, "%s", msg);
}

void emb_table_free(struct emb_table *t)
{
	if (!t)
		return;
	free(t->src);
	free(t->pos);
	free(t->data);
	free(t->keys);
	free(t->keybuf);
	free(t->slots);
	cJSON_Delete(t->meta);
	free(t);
}
