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
	struct span *tok;   /* the line's numbers and strings, in order */
	size_t ntok, tokcap;
};

static struct jsonl *state(struct emb_stream *s)
{
	if (!s->json)
		s->json = emb_xcalloc(1, sizeof(struct jsonl));
	return s->json;
}

void emb_jsonl_free(struct emb_stream *s)
{
	struct jsonl *J = s->json;
	if (!J)
		return;
	cJSON_Delete(J->root);
	free(J->tok);
	free(J);
	s->json = NULL;
}

/* Length of the JSON number (RFC 8259) at P, 0 if there is none. */
static size_t number_len(const char *p)
{
	const char *q = p;
	if (*q == '-')
		q++;
	if (*q == '0')
		q++;
	else if (*q >= '1' && *q <= '9')
		while (*q >= '0' && *q <= '9')
			q++;
	else
		return 0;
	if (*q == '.') {
		if (!(*++q >= '0' && *q <= '9'))
			return 0;
		while (*q >= '0' && *q <= '9')
			q++;
	}
	if (*q == 'e' || *q == 'E') {
		q++;
		if (*q == '+' || *q == '-')
			q++;
		if (!(*q >= '0' && *q <= '9'))
			return 0;
		while (*q >= '0' && *q <= '9')
			q++;
	}
	return (size_t)(q - p);
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
			if (number_len(p + start) != i - start)
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
			if (!next_object(s, J))
				return NULL;
			J->in_data = !cJSON_GetObjectItemCaseSensitive(J->root, s->vector_field);
			J->root_pending = !J->in_data;
			if (J->in_data) {
				cJSON *data = cJSON_GetObjectItemCaseSensitive(J->root, "data");
				if (!cJSON_IsArray(data))
					emb_die_at(s->name, s->lineno, "no \"%s\" member (nor a \"data\" "
						   "array)", s->vector_field);
				J->cur = data->child; /* walked with ->next: linear */
				J->elem = 0;
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
	state(s)->again = item; /* read_rows takes it again */
}

/* Is P[0, N) valid UTF-8 (no overlong forms, surrogates or code points
 * above U+10FFFF)? */
static bool utf8_valid(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
			c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (!len || i + len > n)
			return false;
		for (size_t k = 1; k < len; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
		if ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] > 0x9f) ||
		    (c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] > 0x8f))
			return false;
		i += len;
	}
	return true;
}

/* Does the JSON string text P[0, N) (quotes included) hold \u0000? */
static bool has_escaped_nul(const char *p, size_t n)
{
	for (size_t i = 1; i + 1 < n; i++)
		if (p[i] == '\\') {
			if (p[i + 1] == 'u' && i + 6 <= n && memcmp(p + i + 2, "0000", 4) == 0)
				return true;
			i++;
		}
	return false;
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
	const char *key;
	size_t len;
	if (cJSON_IsString(k)) {
		const struct span *t = token(s, k);
		if (has_escaped_nul(s->line + t->off, t->len))
			emb_die_at(s->name, s->lineno, "\"%s\" holds a NUL character (\\u0000)",
				   s->key_field);
		key = k->valuestring;
		len = strlen(key);
		if (!utf8_valid((const unsigned char *)key, len))
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
	size_t j = 0;
	if ((size_t)cJSON_GetArraySize(v) != s->dim)
		emb_die_at(s->name, s->lineno, "\"%s\" has %d values, the first row %zu",
			   s->vector_field, cJSON_GetArraySize(v), s->dim);
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
		const char *key = s->has_keys ? emb_row_key(c, i, s->row_next, num) : NULL;
		if (key && !utf8_valid((const unsigned char *)key, strlen(key)))
			emb_die(EMB_EXIT_DATA, "row %llu: key is not valid UTF-8; it cannot be "
				"written as jsonl", (unsigned long long)(s->recno + i + 1));
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
				emb_refuse_nonfinite(s, i, j, v);
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
