/*
 * emb_safetensors.c - Hugging Face safetensors files (emb.5, "Other
 * formats"; huggingface/safetensors).
 *
 *   N:u64                 little-endian length of the header
 *   header[N]             a JSON object: per tensor NAME
 *                         {"dtype":"F32","shape":[R,D],"data_offsets":[B,E]},
 *                         and "__metadata__": {string: string}; padded
 *                         with spaces so the data starts at a multiple of 8
 *   data                  the tensors' bytes, B and E relative to its start,
 *                         packed: no holes, no overlaps, nothing after
 *
 * Read: one 2-D F32, F16, BF16 or F64 tensor, --tensor NAME or the only
 * 2-D one.  Every tensor's offsets are checked as the reference loader
 * checks them, so a damaged file is an error, never a misread.  A string
 * "history" in __metadata__ holding a JSON array becomes the stream's
 * history, and the other members are kept under "safetensors_metadata".
 * Write: one tensor "embeddings" in the stream's dtype (F32, F16 or F64),
 * with __metadata__ {"history": the stream's history as JSON text}.
 */
#include <config.h>
#include "emb_impl.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

/* The reference loader's limit on the header. */
#define MAX_HEADER 100000000u
#define TENSOR_NAME "embeddings"

struct st_tensor {
	const char *name;
	const char *dtype;
	uint64_t begin, end, shape[2];
	int ndim;
	size_t esize;
};

static size_t dtype_size(const char *d)
{
	static const struct {
		const char *name;
		size_t size;
	} t[] = {
		{"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F8_E5M2", 1}, {"F8_E4M3", 1},
		{"I16", 2}, {"U16", 2}, {"F16", 2}, {"BF16", 2},
		{"I32", 4}, {"U32", 4}, {"F32", 4}, {"I64", 8}, {"U64", 8}, {"F64", 8},
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		if (strcmp(d, t[i].name) == 0)
			return t[i].size;
	return 0;
}

/* A JSON number that is a whole number from 0 to 2^53, into *V. */
static bool whole(const cJSON *j, uint64_t *v)
{
	if (!cJSON_IsNumber(j) || !(j->valuedouble >= 0) || j->valuedouble > 9007199254740992.0 ||
	    j->valuedouble != (double)(uint64_t)j->valuedouble)
		return false;
	*v = (uint64_t)j->valuedouble;
	return true;
}

static int by_begin(const void *a, const void *b)
{
	const struct st_tensor *x = a, *y = b;
	return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 :
		x->end < y->end ? -1 : x->end > y->end;
}

/* One tensor's entry J into T, dying (at byte 8, the header) on a bad one. */
static void parse_tensor(const struct emb_stream *s, const cJSON *j, struct st_tensor *t)
{
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shape");
	const cJSON *off = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
	t->name = j->string;
	if (!cJSON_IsObject(j) || !cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(off) ||
	    cJSON_GetArraySize(off) != 2)
		emb_die_offset(s->name, 8, "safetensors tensor '%s' lacks a dtype, shape or "
			       "data_offsets", t->name);
	t->dtype = dt->valuestring;
	t->esize = dtype_size(t->dtype);
	if (!t->esize)
		emb_die_offset(s->name, 8, "safetensors tensor '%s' has unknown dtype '%s'",
			       t->name, t->dtype);
	if (!whole(cJSON_GetArrayItem(off, 0), &t->begin) ||
	    !whole(cJSON_GetArrayItem(off, 1), &t->end) || t->end < t->begin)
		emb_die_offset(s->name, 8, "safetensors tensor '%s' has bad data_offsets", t->name);
	t->ndim = cJSON_GetArraySize(sh);
	uint64_t elems = 1;
	int k = 0;
	for (const cJSON *d = sh->child; d; d = d->next, k++) {
		uint64_t v;
		if (!whole(d, &v))
			emb_die_offset(s->name, 8, "safetensors tensor '%s' has a bad shape", t->name);
		if (k < 2)
			t->shape[k] = v;
		if (v && elems > UINT64_MAX / v / t->esize)
			emb_die_offset(s->name, 8, "safetensors tensor '%s' shape too large", t->name);
		elems *= v;
	}
	if (t->end - t->begin != elems * t->esize)
		emb_die_offset(s->name, 8, "safetensors tensor '%s': data_offsets [%llu, %llu] hold "
			       "%llu bytes, its shape and dtype need %llu", t->name,
			       (unsigned long long)t->begin, (unsigned long long)t->end,
			       (unsigned long long)(t->end - t->begin),
			       (unsigned long long)(elems * t->esize));
}

/* The safetensors __metadata__ into the stream header. */
static void take_metadata(struct emb_stream *s, const cJSON *md)
{
	if (!cJSON_IsObject(md))
		emb_die_offset(s->name, 8, "safetensors __metadata__ is not an object");
	cJSON *keep = cJSON_CreateObject();
	for (const cJSON *m = md->child; m; m = m->next) {
		if (!cJSON_IsString(m))
			emb_die_offset(s->name, 8, "safetensors __metadata__ member '%s' is not a "
				       "string", m->string);
		cJSON *h = strcmp(m->string, "history") == 0 ? cJSON_Parse(m->valuestring) : NULL;
		bool strings = cJSON_IsArray(h);
		for (const cJSON *e = h ? h->child : NULL; e; e = e->next)
			strings = strings && cJSON_IsString(e);
		if (strings) {
			cJSON_DeleteItemFromObjectCaseSensitive(s->meta, "history");
			cJSON_AddItemToObject(s->meta, "history", h);
		} else {
			cJSON_Delete(h);
			cJSON_AddItemToObject(keep, m->string, cJSON_CreateString(m->valuestring));
		}
	}
	if (keep->child)
		cJSON_AddItemToObject(s->meta, "safetensors_metadata", keep);
	else
		cJSON_Delete(keep);
}

void emb_st_read_header(struct emb_stream *s)
{
	unsigned char h8[8];
	emb_map_open(s);
	emb_need_bytes(s, h8, 8, "safetensors header length");
	uint64_t n = emb_get_u64(h8);
	if (n > MAX_HEADER)
		emb_die_offset(s->name, 0, "safetensors header claims %llu bytes (limit %u)",
			       (unsigned long long)n, MAX_HEADER);
	char *h = emb_xmalloc((size_t)n + 1);
	emb_need_bytes(s, h, (size_t)n, "safetensors header");
	h[n] = '\0';
	if (strncmp(h, "unfinished", 10) == 0)
		emb_die_offset(s->name, 8, "incomplete file: its writer stopped before it wrote "
			       "the row count");
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(h, (size_t)n, &end, false);
	if (!j || !cJSON_IsObject(j)) {
		uint64_t at = 8 + (j ? 0 : (uint64_t)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - h : 0));
		emb_die_offset(s->name, at, "safetensors header is not a JSON object");
	}
	for (const char *p = end; p < h + n; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			emb_die_offset(s->name, 8 + (uint64_t)(p - h), "data after the safetensors "
				       "header's JSON object");
	size_t count = 0;
	for (const cJSON *m = j->child; m; m = m->next)
		count++;
	struct st_tensor *t = emb_xcalloc(count ? count : 1, sizeof *t);
	size_t nt = 0;
	for (const cJSON *m = j->child; m; m = m->next) {
		if (strcmp(m->string, "__metadata__") == 0)
			take_metadata(s, m);
		else
			parse_tensor(s, m, &t[nt++]);
	}
	/* Packed, as the reference loader demands: sorted by offset, each
	 * tensor starts where the one before ends, the last at the end. */
	struct st_tensor *sorted = emb_xmalloc((nt ? nt : 1) * sizeof *sorted);
	memcpy(sorted, t, nt * sizeof *t);
	qsort(sorted, nt, sizeof *sorted, by_begin);
	uint64_t data0 = 8 + n, at = 0;
	for (size_t i = 0; i < nt; i++) {
		if (sorted[i].begin != at)
			emb_die_offset(s->name, data0 + sorted[i].begin, "safetensors tensor '%s' "
				       "starts at data byte %llu, not %llu where %s ends (a hole or an "
				       "overlap)", sorted[i].name, (unsigned long long)sorted[i].begin,
				       (unsigned long long)at, i ? "the tensor before it" : "the header");
		at = sorted[i].end;
	}
	long long size = emb_input_size(s);
	if (size >= 0 && (uint64_t)size != data0 + at)
		emb_die_offset(s->name, (uint64_t)size < data0 + at ? (uint64_t)size : data0 + at,
			       "safetensors %s: the tensors take %llu data bytes, the file holds %llu",
			       (uint64_t)size < data0 + at ? "file cut short" : "data after the tensors",
			       (unsigned long long)at, (unsigned long long)((uint64_t)size - data0));
	free(sorted);

	/* The tensor to read. */
	const struct st_tensor *pick = NULL;
	char list[512] = "";
	size_t n2 = 0;
	for (size_t i = 0; i < nt; i++) {
		if (s->tensor ? strcmp(t[i].name, s->tensor) == 0 : t[i].ndim == 2) {
			pick = &t[i];
			n2++;
		}
		if (t[i].ndim == 2 || s->tensor)
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
				 *list ? ", " : "", t[i].name);
	}
	if (s->tensor && !pick)
		emb_die(EMB_EXIT_DATA, "%s: no tensor '%s' in the safetensors file (tensors: %s)",
			s->name, s->tensor, *list ? list : "none");
	if (!s->tensor && n2 != 1)
		emb_die(EMB_EXIT_DATA, "%s: %s; choose one with --tensor (2-D tensors: %s)",
			s->name, n2 ? "several 2-D tensors" : "no 2-D tensor", *list ? list : "none");
	if (pick->ndim != 2)
		emb_die(EMB_EXIT_DATA, "%s: safetensors tensor '%s' has %d dimensions (want 2)",
			s->name, pick->name, pick->ndim);
	static const struct {
		const char *name;
		int kind;
	} kinds[] = {{"F32", EMB_BIN_F32}, {"F16", EMB_BIN_F16}, {"BF16", EMB_BIN_BF16},
		     {"F64", EMB_BIN_F64}};
	int kind = -1;
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (strcmp(pick->dtype, kinds[i].name) == 0)
			kind = kinds[i].kind;
	if (kind < 0)
		emb_die(EMB_EXIT_DATA, "%s: safetensors tensor '%s' is %s (want F32, F16, BF16 "
			"or F64)", s->name, pick->name, pick->dtype);
	if (pick->shape[1] > EMB_MAX_DIM || (pick->shape[1] == 0 && pick->shape[0]))
		emb_die_offset(s->name, 8, "safetensors tensor '%s' shape [%llu, %llu]: want 1 to "
			       "%u values per row", pick->name, (unsigned long long)pick->shape[0],
			       (unsigned long long)pick->shape[1], EMB_MAX_DIM);
	s->bin_kind = kind;
	s->dim = (size_t)pick->shape[1];
	s->total_rows = pick->shape[0];
	s->row_bytes = pick->shape[1] * pick->esize;
	s->dtype = kind == EMB_BIN_F64 ? EMB_F64 : kind == EMB_BIN_F16 ? EMB_F16 : EMB_F32;
	s->mtype = kind == EMB_BIN_F64 ? EMB_F64 : EMB_F32;
	s->has_keys = false;
	/* where the file must end (other tensors may follow the one read):
	 * a pipe's trailing bytes are checked after the last row */
	s->data_off = data0 + at;
	cJSON_AddItemToObject(s->meta, "safetensors_tensor", cJSON_CreateString(pick->name));
	uint64_t skip = pick->begin;
	free(t);
	cJSON_Delete(j);
	free(h);
	if (skip)
		emb_skip_bytes(s, skip, "safetensors data before the tensor");
	if (s->total_rows == 0)
		emb_fixed_finish(s);
}

/* The header JSON for ROWS rows (0 while unknown) into BUF, unpadded. */
static size_t header_json(const struct emb_stream *s, uint64_t rows, bool wide, char *buf,
			  size_t cap)
{
	static const char *const names[] = {[EMB_F32] = "F32", [EMB_F64] = "F64", [EMB_F16] = "F16"};
	cJSON *hist = cJSON_GetObjectItemCaseSensitive(s->meta, "history");
	char *htext = hist ? cJSON_PrintUnformatted(hist) : emb_xstrdup("[]");
	cJSON *str = cJSON_CreateString(htext ? htext : "[]");
	char *quoted = str ? cJSON_PrintUnformatted(str) : NULL;
	if (!quoted)
		emb_die(EMB_EXIT_DATA, "out of memory");
	uint64_t bytes = rows * s->dim * emb_dtype_size(s->dtype);
	int len = wide ?
		snprintf(buf, cap, "{\"__metadata__\":{\"history\":%s},\"" TENSOR_NAME "\":"
			 "{\"dtype\":\"%s\",\"shape\":[%020d,%zu],\"data_offsets\":[0,%020d]}}",
			 quoted, names[s->dtype], 0, s->dim, 0) :
		snprintf(buf, cap, "{\"__metadata__\":{\"history\":%s},\"" TENSOR_NAME "\":"
			 "{\"dtype\":\"%s\",\"shape\":[%llu,%zu],\"data_offsets\":[0,%llu]}}",
			 quoted, names[s->dtype], (unsigned long long)rows, s->dim,
			 (unsigned long long)bytes);
	free(quoted);
	cJSON_Delete(str);
	free(htext);
	if (len < 0 || (size_t)len + 8 + 8 >= cap)
		emb_die(EMB_EXIT_DATA, "%s: safetensors header too long (history of %d bytes)",
			s->name, len);
	return (size_t)len;
}

size_t emb_st_count_header(const struct emb_stream *s, uint64_t rows, int width,
			   char *buf, size_t cap)
{
	char *json = buf + 8;
	size_t room = cap - 8;
	/* A header written before the count (WIDTH > 0) and the one that
	 * replaces it are as long as the header of the widest counts; the
	 * reference writer's own padding (spaces to a multiple of 8) makes
	 * up the difference, which JSON readers skip. */
	size_t len = width > 0 || rows == EMB_ROWS_UNKNOWN ?
		header_json(s, 0, true, json, room) : 0;
	if (rows == EMB_ROWS_UNKNOWN) {
		memcpy(json, "unfinished write", 16);
		memset(json + 16, ' ', len - 16);
	} else {
		size_t real = header_json(s, rows, false, json, room);
		if (width <= 0)
			len = real;
		memset(json + real, ' ', len - real);
	}
	size_t pad = (8 - len % 8) % 8;
	if (8 + len + pad > cap)
		emb_die(EMB_EXIT_DATA, "%s: safetensors header too long", s->name);
	memset(json + len, ' ', pad);
	len += pad;
	emb_put_u64((unsigned char *)buf, len);
	return 8 + len;
}

void emb_st_write_rows(struct emb_stream *s, const struct emb_chunk *c)
{
	size_t es = emb_dtype_size(s->dtype), n = c->rows * c->dim, bytes = emb_xmul(n, es);
	if (s->raw_cap < bytes) {
		free(s->raw);
		s->raw = emb_xmalloc(bytes ? bytes : 1);
		s->raw_cap = bytes;
	}
	emb_to_disk_counted(s, s->raw, c->data, n, c->type, s->dtype);
	emb_write_bytes(s, s->raw, bytes);
}
