/*
 * emb_jsonl.c - JSON Lines as embedding APIs emit them (emb.5, "Other
 * formats"), parsed with cJSON.
 *
 * One JSON object per line.  A row is an object with an array of numbers
 * in the vector member (--vector-field, default "embedding") and its key
 * in the key member (--key-field, default "id"; a string or a number).
 * An object without the vector member but with a "data" array is an
 * OpenAI-style batch response, {"data": [{"embedding": [...], "index": 0},
 * ...]}: each element is a row, keyed by the key member or else "index".
 * Whether rows have keys is fixed by the first row; every later row must
 * agree.  Blank lines are skipped.  Writing gives {"id": KEY,
 * "embedding": [...]} per line, with the same member names.
 */
#include <config.h>
#include "emb_impl.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void emb_jsonl_free(struct emb_stream *s)
{
	cJSON_Delete(s->json_batch);
	s->json_batch = NULL;
}

/* Parse the next non-blank line into s->json_batch; false at end. */
static bool next_object(struct emb_stream *s)
{
	emb_jsonl_free(s);
	for (;;) {
		ssize_t n = getline(&s->line, &s->line_cap, s->fp);
		if (n < 0) {
			if (ferror(s->fp))
				emb_die(EMB_EXIT_DATA, "%s: read error: %s", s->name, strerror(errno));
			return false;
		}
		s->offset += (uint64_t)n;
		s->lineno++;
		if (strspn(s->line, " \t\r\n") == (size_t)n)
			continue;
		cJSON *j = cJSON_ParseWithLength(s->line, (size_t)n);
		if (!cJSON_IsObject(j))
			emb_die_at(s->name, s->lineno, "not a JSON object");
		s->json_batch = j;
		s->json_next = -1;
		return true;
	}
}

/* The object holding the next row: the line's object itself, or the next
 * element of its "data" array.  NULL at the end of input. */
static cJSON *next_item(struct emb_stream *s)
{
	for (;;) {
		cJSON *j = s->json_batch;
		if (!j) {
			if (!next_object(s))
				return NULL;
			continue;
		}
		if (s->json_next == -1 && cJSON_GetObjectItemCaseSensitive(j, s->vector_field)) {
			s->json_next = -2; /* consumed: the object was the row */
			return j;
		}
		cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
		if (s->json_next == -1 && !cJSON_IsArray(data))
			emb_die_at(s->name, s->lineno, "no \"%s\" member (nor a \"data\" array)",
				   s->vector_field);
		if (s->json_next == -1)
			s->json_next = 0;
		cJSON *item = s->json_next >= 0 ? cJSON_GetArrayItem(data, s->json_next) : NULL;
		if (item) {
			s->json_next++;
			if (!cJSON_IsObject(item))
				emb_die_at(s->name, s->lineno, "\"data\" element %d is not an object",
					   s->json_next);
			return item;
		}
		emb_jsonl_free(s);
	}
}

static cJSON *key_member(const struct emb_stream *s, const cJSON *item)
{
	cJSON *k = cJSON_GetObjectItemCaseSensitive(item, s->key_field);
	if (!k && s->json_next >= 0)
		k = cJSON_GetObjectItemCaseSensitive(item, "index");
	return k;
}

static cJSON *vector_member(const struct emb_stream *s, const cJSON *item)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(item, s->vector_field);
	if (!v)
		emb_die_at(s->name, s->lineno, "no \"%s\" member", s->vector_field);
	if (!cJSON_IsArray(v))
		emb_die_at(s->name, s->lineno, "\"%s\" is not an array", s->vector_field);
	return v;
}

void emb_jsonl_read_header(struct emb_stream *s)
{
	cJSON *item = next_item(s);
	if (!item) {
		s->at_eof = true;
		return;
	}
	int d = cJSON_GetArraySize(vector_member(s, item));
	if (d <= 0 || (unsigned)d > EMB_MAX_DIM)
		emb_die_at(s->name, s->lineno, "\"%s\" has %d values (want 1 to %u)",
			   s->vector_field, d, EMB_MAX_DIM);
	s->dim = (size_t)d;
	s->has_keys = key_member(s, item) != NULL;
	/* Rewind the item so that read_rows takes it again. */
	s->json_next = s->json_next == -2 ? -1 : s->json_next - 1;
}

static void set_key(struct emb_stream *s, struct emb_chunk *c, size_t i, const cJSON *item)
{
	cJSON *k = key_member(s, item);
	if (!s->has_keys) {
		if (k)
			emb_die_at(s->name, s->lineno, "has a \"%s\" member but the first row has "
				   "none", s->key_field);
		return;
	}
	if (!k)
		emb_die_at(s->name, s->lineno, "no \"%s\" member", s->key_field);
	char num[32];
	const char *key = num;
	if (cJSON_IsString(k))
		key = k->valuestring;
	else if (cJSON_IsNumber(k))
		num[emb_format_f64(num, k->valuedouble)] = '\0';
	else
		emb_die_at(s->name, s->lineno, "\"%s\" is not a string or a number", s->key_field);
	if (strlen(key) > EMB_MAX_KEY_LEN)
		emb_die_at(s->name, s->lineno, "key longer than %d bytes", EMB_MAX_KEY_LEN);
	emb_chunk_set_key(c, i, key, strlen(key));
}

static void set_values(struct emb_stream *s, void *row, const cJSON *item)
{
	cJSON *v = vector_member(s, item), *e;
	size_t j = 0;
	if ((size_t)cJSON_GetArraySize(v) != s->dim)
		emb_die_at(s->name, s->lineno, "\"%s\" has %d values, the first row %zu",
			   s->vector_field, cJSON_GetArraySize(v), s->dim);
	cJSON_ArrayForEach(e, v) {
		if (!cJSON_IsNumber(e))
			emb_die_at(s->name, s->lineno, "\"%s\" value %zu is not a number",
				   s->vector_field, j + 1);
		if (s->mtype == EMB_F64)
			((double *)row)[j] = e->valuedouble;
		else
			((float *)row)[j] = (float)e->valuedouble;
		j++;
	}
}

size_t emb_jsonl_read_rows(struct emb_stream *s, struct emb_chunk *c)
{
	size_t want = emb_batch_rows(s->dim, s->mtype), rows = 0;
	size_t rowbytes = s->dim * emb_dtype_size(s->mtype);
	emb_chunk_reserve(c, want, s->dim, s->mtype, s->has_keys);
	while (rows < want) {
		cJSON *item = next_item(s);
		if (!item) {
			s->at_eof = true;
			break;
		}
		emb_chunk_set_pos(c, rows, s->lineno);
		set_key(s, c, rows, item);
		set_values(s, (char *)c->data + rows * rowbytes, item);
		rows++;
	}
	s->recno += rows;
	c->rows = rows;
	c->src_lines = true;
	return rows;
}

/* Append KEY as a JSON string to O (room for 6 bytes per key byte + 2). */
static char *put_string(char *o, const char *key)
{
	*o++ = '"';
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		if (*p == '"' || *p == '\\') {
			*o++ = '\\';
			*o++ = (char)*p;
		} else if (*p < 0x20) {
			o += sprintf(o, "\\u%04x", *p);
		} else {
			*o++ = (char)*p;
		}
	}
	*o++ = '"';
	return o;
}

void emb_jsonl_write_rows(struct emb_stream *s, const struct emb_chunk *c)
{
	size_t fixed = c->dim * 26 + strlen(s->vector_field) * 6 + strlen(s->key_field) * 6 + 32;
	for (size_t i = 0; i < c->rows; i++) {
		char num[24];
		const char *key = s->has_keys ? emb_row_key(c, i, s->recno + 1, num) : NULL;
		size_t cap = fixed + (key ? 6 * strlen(key) : 0);
		if (cap > s->raw_cap) {
			free(s->raw);
			s->raw = emb_xmalloc(cap);
			s->raw_cap = cap;
		}
		char *o = (char *)s->raw;
		*o++ = '{';
		if (key) {
			o = put_string(o, s->key_field);
			*o++ = ':';
			o = put_string(o, key);
			*o++ = ',';
		}
		o = put_string(o, s->vector_field);
		*o++ = ':';
		*o++ = '[';
		for (size_t j = 0; j < c->dim; j++) {
			double v = emb_get(c, i, j);
			if (!isfinite(v))
				emb_die(EMB_EXIT_DATA, "row %llu: value %zu is %g, which JSON cannot hold",
					(unsigned long long)(s->recno + i + 1), j + 1, v);
			if (j)
				*o++ = ',';
			if (c->type == EMB_F64 && s->dtype == EMB_F64)
				o += emb_format_f64(o, v);
			else
				o += emb_format_f32(o, (float)v);
		}
		*o++ = ']';
		*o++ = '}';
		*o++ = '\n';
		emb_write_bytes(s, s->raw, (size_t)(o - (char *)s->raw));
	}
}
