/*
 * emb_jsonl.c - JSON Lines as embedding APIs emit them (emb.5, "Other
 * formats"), parsed with cJSON.
 *
 * One JSON object per line, and nothing else on it but blanks.  A row is
 * an object with an array of numbers in the vector member
 * (--vector-field, default "embedding") and its key in the key member
 * (--key-field, default "id"; a string or a number).  An object without
 * the vector member but with a "data" array is an OpenAI-style batch
 * response, {"data": [{"embedding": [...], "index": 0}, ...]}: each
 * element is a row, keyed by the key member or else "index".  Whether
 * rows have keys is fixed by the first row; every later row must agree.
 * Blank lines are skipped, and so is a UTF-8 byte order mark that starts
 * the first line.  Writing gives {"id": KEY, "embedding": [...]} per
 * line, with the same member names.
 *
 * cJSON gives the structure, but its number nodes keep only a double:
 * an id 9007199254740993 or 1e2 would lose its text, and a value would be
 * rounded twice (to double, then to float) with 1e39 turning into inf
 * unnoticed.  So each line is also scanned for the source text of its
 * numbers and strings (scan_tokens), in document order, which is the
 * order of a depth-first walk of cJSON's tree; the walk stores each
 * number or string node's token index in its (otherwise unused) valueint.
 * Values are then parsed from their text like TSV's, ids keep theirs,
 * and a string key's text shows whether it holds an escaped NUL.
 */
#include <config.h>
#include "emb_impl.h"

#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Where one number or string token's text is in s->line. */
struct span {
	size_t off, len;
};

/* The reader's state (s->json). */
struct jsonl {
	cJSON *root;        /* the current line's object, or NULL */
	bool in_data;       /* its rows are the elements of its "data" array */
	bool root_pending;  /* !in_data: the object itself is still to be taken */
	cJSON *cur;         /* in_data: the next element, NULL after the last */
	unsigned long elem; /* in_data: 1-based index of the element last taken */
	cJSON *again;       /* an item emb_jsonl_read_header looked at */
	/* OpenAI Batch API output: the current line is a request's result */
	bool batch;
	const char *custom_id; /* its "custom_id" (in root) */
	bool several;       /* its body holds more than one input */
	char *key;          /* the key made for the current row */
	size_t key_cap;
	char *failed;       /* custom_ids of failed requests, ", "-separated */
	size_t failed_len, failed_cap;
	uint64_t nfailed;
	struct span *tok;   /* the line's numbers and strings, in order */
	size_t ntok, tokcap;
};

/* cJSON reports a failed allocation (its copy of a long number, a node)
 * as a parse error: its allocations go through here, so that a line too
 * large for memory is not called invalid JSON. */
static bool cjson_out_of_memory;

static void *cjson_malloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		cjson_out_of_memory = true;
	return p;
}

static struct jsonl *state(struct emb_stream *s)
{
	if (!s->json) {
		s->json = emb_xcalloc(1, sizeof(struct jsonl));
		cJSON_InitHooks(&(cJSON_Hooks){.malloc_fn = cjson_malloc, .free_fn = free});
	}
	return s->json;
}

void emb_jsonl_free(struct emb_stream *s)
{
	struct jsonl *J = s->json;
	if (!J)
		return;
	cJSON_Delete(J->root);
	free(J->tok);
	free(J->key);
	free(J->failed);
	free(J);
	s->json = NULL;
}

static void add_token(struct jsonl *J, size_t off, size_t len)
{
	if (J->ntok == J->tokcap) {
		J->tokcap = J->tokcap ? 2 * J->tokcap : 256;
		J->tok = emb_xrealloc(J->tok, emb_xmul(J->tokcap, sizeof *J->tok));
	}
	J->tok[J->ntok].off = off;
	J->tok[J->ntok++].len = len;
}

/* Record the spans of the numbers and strings in s->line[FROM, TO), which
 * cJSON has accepted as one object, and refuse what cJSON lets through
 * but JSON does not: numbers such as 01, 1. or -.5, and control
 * characters (cJSON takes any byte below 0x21 as a blank, and keeps them
 * raw inside strings). */
static void scan_tokens(struct emb_stream *s, struct jsonl *J, size_t from, size_t to)
{
	const char *p = s->line;
	J->ntok = 0;
	for (size_t i = from; i < to;) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '"') {
			size_t start = i++;
			while (i < to && p[i] != '"') {
				if ((unsigned char)p[i] < 0x20)
					emb_die_at(s->name, s->lineno, "control character 0x%02x in a "
						   "JSON string (column %zu)", (unsigned char)p[i], i + 1);
				i += p[i] == '\\' ? 2 : 1;
			}
			add_token(J, start, ++i - start);
		} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
			size_t start = i;
			while (i < to && p[i] && strchr("0123456789+-.eE", p[i]))
				i++;
			if (emb_json_number_len(p + start, p + to) != i - start)
				emb_die_at(s->name, s->lineno, "'%.*s' is not a JSON number",
					   (int)(i - start > 40 ? 40 : i - start), p + start);
			add_token(J, start, i - start);
		} else {
			if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
				emb_die_at(s->name, s->lineno, "control character 0x%02x in JSON "
					   "text (column %zu)", ch, i + 1);
			i++;
		}
	}
}

/* Number NODE's number and string descendants with their token index
 * (in valueint); *K counts tokens, member names included. */
static void index_tokens(cJSON *node, size_t *k)
{
	for (cJSON *c = node->child; c; c = c->next) {
		if (cJSON_IsObject(node))
			(*k)++; /* the member's name */
		if (cJSON_IsNumber(c) || cJSON_IsString(c))
			c->valueint = (int)(*k)++;
		else if (cJSON_IsArray(c) || cJSON_IsObject(c))
			index_tokens(c, k);
	}
}

/* The text of NODE, a number or string of the current line. */
static const struct span *token(struct emb_stream *s, const cJSON *node)
{
	return &((struct jsonl *)s->json)->tok[node->valueint];
}

/* Why the JSON text of s->line[0, LEN) does not parse, ERR being where
 * cJSON gave up. */
static _Noreturn void parse_error(const struct emb_stream *s, size_t len, const char *err)
{
	if (cjson_out_of_memory)
		emb_die_at(s->name, s->lineno, "out of memory parsing the line");
	size_t at = err && err >= s->line && err <= s->line + len ? (size_t)(err - s->line) : 0;
	static const char *const words[] = {"NaN", "-NaN", "Infinity", "-Infinity"};
	for (size_t w = 0; w < sizeof words / sizeof *words; w++)
		if (strncmp(s->line + at, words[w], strlen(words[w])) == 0)
			emb_die_at(s->name, s->lineno, "%s is not valid JSON", words[w]);
	emb_die_at(s->name, s->lineno, "invalid JSON (column %zu)", at + 1);
}

/* Parse the next non-blank line into J->root; false at end. */
static bool next_object(struct emb_stream *s, struct jsonl *J)
{
	cJSON_Delete(J->root);
	J->root = NULL;
	for (;;) {
		errno = 0;
		ssize_t n = getline(&s->line, &s->line_cap, s->fp);
		if (n < 0) {
			if (errno == ENOMEM)
				emb_die_at(s->name, s->lineno + 1, "out of memory reading the line");
			if (ferror(s->fp))
				emb_die(EMB_EXIT_DATA, "%s: read error: %s", s->name, strerror(errno));
			return false;
		}
		s->offset += (uint64_t)n;
		s->lineno++;
		size_t from = 0, len = (size_t)n;
		/* cJSON skips a byte order mark on any line: only the file may
		 * start with one. */
		if (len >= 3 && memcmp(s->line, "\xef\xbb\xbf", 3) == 0) {
			if (s->lineno != 1)
				emb_die_at(s->name, s->lineno, "byte order mark (U+FEFF) after the "
					   "first line");
			from = 3;
		}
		while (from < len && strchr(" \t\r\n", s->line[from]) && s->line[from])
			from++;
		if (from == len)
			continue;
		const char *end = NULL;
		cjson_out_of_memory = false;
		cJSON *j = cJSON_ParseWithLengthOpts(s->line + from, len - from, &end, false);
		if (!j)
			parse_error(s, len, end);
		J->root = j;
		if (!cJSON_IsObject(j))
			emb_die_at(s->name, s->lineno, "not a JSON object");
		/* cJSON stops after the object and any bytes below 0x21 */
		size_t to = (size_t)(end - s->line);
		while (to > from && (unsigned char)s->line[to - 1] <= ' ')
			to--;
		for (size_t i = to; i < len; i++)
			if (!strchr(" \t\r\n", s->line[i]) || !s->line[i])
				emb_die_at(s->name, s->lineno, "text after the JSON object");
		scan_tokens(s, J, from, to);
		size_t k = 0;
		if (J->ntok > INT_MAX)
			emb_die_at(s->name, s->lineno, "more than %d numbers and strings on one line",
				   INT_MAX);
		index_tokens(j, &k);
		if (k != J->ntok)
			emb_die_at(s->name, s->lineno, "internal error: %zu JSON tokens, %zu nodes",
				   J->ntok, k);
		return true;
	}
}

/* OpenAI Batch API output (emb.5, "JSON Lines"): a line with
 * "custom_id" and "response" is one request's result, whose
 * response.body is an embeddings response. */
static bool is_batch_line(const cJSON *root)
{
	return cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "custom_id")) &&
	       cJSON_GetObjectItemCaseSensitive(root, "response");
}

static cJSON *batch_data_parent(const cJSON *root)
{
	cJSON *resp = cJSON_GetObjectItemCaseSensitive(root, "response");
	return cJSON_GetObjectItemCaseSensitive(resp, "body");
}

/* Check the request of the batch line in J->root: true if it succeeded;
 * a failed one is counted in J->failed (or, with --strict, ends the
 * program). */
static bool batch_body(struct emb_stream *s, struct jsonl *J)
{
	cJSON *root = J->root;
	const char *id = cJSON_GetObjectItemCaseSensitive(root, "custom_id")->valuestring;
	cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
	cJSON *resp = cJSON_GetObjectItemCaseSensitive(root, "response");
	cJSON *st = cJSON_GetObjectItemCaseSensitive(resp, "status_code");
	char why[160] = "";
	if (err && !cJSON_IsNull(err)) {
		cJSON *m = cJSON_GetObjectItemCaseSensitive(err, "message");
		snprintf(why, sizeof why, "error: %.120s",
			 cJSON_IsString(m) ? m->valuestring : "set");
	} else if (!cJSON_IsObject(resp)) {
		snprintf(why, sizeof why, "no response");
	} else if (!cJSON_IsNumber(st) || st->valuedouble != 200) {
		cJSON *body = cJSON_GetObjectItemCaseSensitive(resp, "body");
		cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "error");
		cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
		if (cJSON_IsNumber(st))
			snprintf(why, sizeof why, "status %.0f%s%.120s", st->valuedouble,
				 cJSON_IsString(m) ? ": " : "", cJSON_IsString(m) ? m->valuestring : "");
		else
			snprintf(why, sizeof why, "no status_code");
	}
	if (!emb_utf8_valid((const unsigned char *)id, strlen(id)))
		emb_die_at(s->name, s->lineno, "\"custom_id\" is not valid UTF-8");
	if (!*why) {
		J->custom_id = id;
		if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(batch_data_parent(root), "data")))
			emb_die_at(s->name, s->lineno, "request %s: response body has no \"data\" "
				   "array", id);
		return true;
	}
	if (s->strict)
		emb_die_at(s->name, s->lineno, "request %s failed (%s)", id, why);
	size_t len = strlen(id);
	if (J->failed_len + len + 3 > J->failed_cap) {
		J->failed_cap = emb_grow_cap(J->failed_cap, J->failed_len + len + 3, SIZE_MAX);
		J->failed = emb_xrealloc(J->failed, J->failed_cap);
	}
	if (J->failed_len) {
		memcpy(J->failed + J->failed_len, ", ", 2);
		J->failed_len += 2;
	}
	memcpy(J->failed + J->failed_len, id, len + 1);
	J->failed_len += len;
	J->nfailed++;
	return false;
}

/* At the end of input: say how many requests failed, and which. */
static void report_failed(struct emb_stream *s, struct jsonl *J)
{
	if (J->nfailed)
		emb_warn("%s: %llu failed request%s skipped (custom_id%s %s); --strict makes "
			 "this an error", s->name, (unsigned long long)J->nfailed,
			 J->nfailed == 1 ? "" : "s", J->nfailed == 1 ? "" : "s", J->failed);
	J->nfailed = 0;
}

/* The object holding the next row: the line's object itself, or the next
 * element of its "data" array.  NULL at the end of input.  It lives until
 * the next call. */
static cJSON *next_item(struct emb_stream *s)
{
	struct jsonl *J = state(s);
	if (J->again) {
		cJSON *item = J->again;
		J->again = NULL;
		return item;
	}
	for (;;) {
		if (!J->root) {
			if (!next_object(s, J)) {
				report_failed(s, J);
				return NULL;
			}
			J->in_data = !cJSON_GetObjectItemCaseSensitive(J->root, s->vector_field);
			J->root_pending = !J->in_data;
			J->batch = J->in_data && is_batch_line(J->root);
			if (J->batch && !batch_body(s, J))
				continue; /* a failed request, counted */
			if (J->in_data) {
				cJSON *data = cJSON_GetObjectItemCaseSensitive(J->batch ?
					batch_data_parent(J->root) : J->root, "data");
				if (!cJSON_IsArray(data))
					emb_die_at(s->name, s->lineno, "no \"%s\" member (nor a \"data\" "
						   "array)", s->vector_field);
				J->cur = data->child; /* walked with ->next: linear */
				J->elem = 0;
				J->several = J->cur && J->cur->next;
			}
		}
		if (J->root_pending) {
			J->root_pending = false;
			return J->root;
		}
		if (J->in_data && J->cur) {
			cJSON *item = J->cur;
			J->cur = item->next;
			J->elem++;
			if (!cJSON_IsObject(item))
				emb_die_at(s->name, s->lineno, "\"data\" element %lu is not an object",
					   J->elem);
			return item;
		}
		cJSON_Delete(J->root);
		J->root = NULL;
	}
}

/* The key of ITEM, an element of a batch line's "data": the custom_id,
 * then "/" and the element's "index" when the body holds several.  It
 * lives until the next call. */
static const char *batch_key(struct emb_stream *s, const cJSON *item, size_t *len)
{
	struct jsonl *J = s->json;
	const char *id = J->custom_id;
	char idx[48] = "";
	if (J->several) {
		cJSON *k = cJSON_GetObjectItemCaseSensitive(item, "index");
		if (cJSON_IsNumber(k)) {
			const struct span *t = &J->tok[k->valueint];
			snprintf(idx, sizeof idx, "/%.*s", (int)(t->len > 40 ? 40 : t->len),
				 s->line + t->off);
		} else {
			snprintf(idx, sizeof idx, "/%lu", J->elem - 1);
		}
	}
	*len = strlen(id) + strlen(idx);
	if (*len + 1 > J->key_cap) {
		J->key_cap = *len + 64;
		J->key = emb_xrealloc(J->key, J->key_cap);
	}
	memcpy(J->key, id, strlen(id));
	memcpy(J->key + strlen(id), idx, strlen(idx) + 1);
	return J->key;
}

static cJSON *key_member(const struct emb_stream *s, const cJSON *item)
{
	cJSON *k = cJSON_GetObjectItemCaseSensitive(item, s->key_field);
	if (!k && ((struct jsonl *)s->json)->in_data)
		k = cJSON_GetObjectItemCaseSensitive(item, "index");
	return k;
}

static cJSON *vector_member(const struct emb_stream *s, const cJSON *item)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(item, s->vector_field);
	if (!v)
		emb_die_at(s->name, s->lineno, "no \"%s\" member", s->vector_field);
	if (!cJSON_IsArray(v) && !cJSON_IsString(v))
		emb_die_at(s->name, s->lineno, "\"%s\" is not an array or a base64 string",
			   s->vector_field);
	return v;
}

/* Values in the vector V: an array's size, or what a base64 string holds
 * (OpenAI's encoding_format="base64": little-endian float32s); a string
 * of another length, or not base64, is an error. */
static size_t vector_dim(const struct emb_stream *s, const cJSON *v)
{
	if (cJSON_IsArray(v))
		return (size_t)cJSON_GetArraySize(v);
	size_t count;
	const char *err = emb_base64_f32(v->valuestring, strlen(v->valuestring), NULL, 0,
					 &count, s->mtype);
	if (err && strcmp(err, "bytes") == 0)
		emb_die_at(s->name, s->lineno, "\"%s\" holds %zu bytes of base64 data, not a "
			   "whole number of float32 values", s->vector_field, count);
	if (err)
		emb_die_at(s->name, s->lineno, "\"%s\" is a string but not base64 (%s)",
			   s->vector_field, err);
	return count;
}

void emb_jsonl_read_header(struct emb_stream *s)
{
	cJSON *item = next_item(s);
	if (!item) {
		s->at_eof = true;
		return;
	}
	size_t d = vector_dim(s, vector_member(s, item));
	if (d == 0 || d > EMB_MAX_DIM)
		emb_die_at(s->name, s->lineno, "\"%s\" has %zu values (want 1 to %u)",
			   s->vector_field, d, EMB_MAX_DIM);
	s->dim = (size_t)d;
	s->has_keys = state(s)->batch || key_member(s, item) != NULL;
	state(s)->again = item; /* read_rows takes it again */
}

static void set_key(struct emb_stream *s, struct emb_chunk *c, size_t i, const cJSON *item)
{
	if (((struct jsonl *)s->json)->batch) {
		size_t len;
		const char *key = batch_key(s, item, &len);
		if (!s->has_keys)
			emb_die_at(s->name, s->lineno, "a batch request's rows have keys but the "
				   "first row has none");
		if (len > EMB_MAX_KEY_LEN)
			emb_die_at(s->name, s->lineno, "key longer than %d bytes", EMB_MAX_KEY_LEN);
		emb_chunk_set_key(c, i, key, len);
		return;
	}
	cJSON *k = key_member(s, item);
	if (!s->has_keys) {
		if (k)
			emb_die_at(s->name, s->lineno, "has a \"%s\" member but the first row has "
				   "none", s->key_field);
		return;
	}
	if (!k)
		emb_die_at(s->name, s->lineno, "no \"%s\" member", s->key_field);
	const char *key;
	size_t len;
	if (cJSON_IsString(k)) {
		const struct span *t = token(s, k);
		if (emb_json_has_nul(s->line + t->off, t->len))
			emb_die_at(s->name, s->lineno, "\"%s\" holds a NUL character (\\u0000)",
				   s->key_field);
		key = k->valuestring;
		len = strlen(key);
		if (!emb_utf8_valid((const unsigned char *)key, len))
			emb_die_at(s->name, s->lineno, "\"%s\" is not valid UTF-8", s->key_field);
	} else if (cJSON_IsNumber(k)) {
		/* an id keeps its text: 9007199254740993 is not 9007199254740992,
		 * and 1e2 is not 100 */
		const struct span *t = token(s, k);
		key = s->line + t->off;
		len = t->len;
	} else {
		emb_die_at(s->name, s->lineno, "\"%s\" is not a string or a number", s->key_field);
	}
	if (len > EMB_MAX_KEY_LEN)
		emb_die_at(s->name, s->lineno, "key longer than %d bytes", EMB_MAX_KEY_LEN);
	emb_chunk_set_key(c, i, key, len);
}

static void set_values(struct emb_stream *s, void *row, const cJSON *item)
{
	cJSON *v = vector_member(s, item), *e;
	size_t j = 0, d = vector_dim(s, v);
	if (d != s->dim)
		emb_die_at(s->name, s->lineno, "\"%s\" has %zu values, the first row %zu",
			   s->vector_field, d, s->dim);
	if (cJSON_IsString(v)) {
		size_t count;
		const char *err = emb_base64_f32(v->valuestring, strlen(v->valuestring), row,
						 s->dim, &count, s->mtype);
		if (err)
			emb_die_at(s->name, s->lineno, "\"%s\" is a string but not base64 (%s)",
				   s->vector_field, err);
		for (j = 0; j < s->dim; j++) {
			double x = s->mtype == EMB_F64 ? ((double *)row)[j] : ((float *)row)[j];
			if (!isfinite(x))
				emb_die_at(s->name, s->lineno, "\"%s\" value %zu is %s",
					   s->vector_field, j + 1, isnan(x) ? "nan" : "infinite");
		}
		return;
	}
	cJSON_ArrayForEach(e, v) {
		if (!cJSON_IsNumber(e))
			emb_die_at(s->name, s->lineno, "\"%s\" value %zu is not a number",
				   s->vector_field, j + 1);
		/* parsed from its text, rounded once, as TSV does */
		const struct span *t = token(s, e);
		const char *p = s->line + t->off, *end;
		bool ok, finite;
		if (s->mtype == EMB_F64) {
			double x;
			ok = emb_parse_f64(p, &end, &x);
			finite = isfinite(x);
			((double *)row)[j] = x;
		} else {
			float x;
			ok = emb_parse_f32(p, &end, &x);
			finite = isfinite(x);
			((float *)row)[j] = x;
		}
		if (!ok || end != p + t->len || !finite)
			emb_die_at(s->name, s->lineno, "'%.*s' is not a %snumber",
				   (int)(t->len > 40 ? 40 : t->len), p,
				   ok && end == p + t->len ? "finite " : "");
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

void emb_jsonl_write_rows(struct emb_stream *s, const struct emb_chunk *c)
{
	emb_json_put_rows(s, c, false);
}
