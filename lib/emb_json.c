/*
 * emb_json.c - one whole JSON document (emb.5, "JSON"), any indentation,
 * and the JSON pieces JSON Lines shares (base64 vectors, number syntax,
 * UTF-8 checks).
 *
 * Three shapes are read:
 *   {"object": "list", "data": [{"index": I, "embedding": V}, ...], ...}
 *       an OpenAI embeddings response: rows ordered and keyed by "index",
 *       which must run over 0..n-1 exactly once each;
 *   [{"id": K, "embedding": V}, ...]
 *       an array of objects, members named by --key-field and
 *       --vector-field as in JSON Lines;
 *   [V, V, ...]
 *       a bare array of vectors (no keys).
 * A vector V is an array of numbers or a string of base64 holding
 * little-endian float32 values (OpenAI's encoding_format="base64").
 *
 * The document is read whole (mapped in place when it is a regular file)
 * and parsed in one pass by the hand-written parser below, straight into
 * the value array: no tree of nodes, so time and memory are linear in
 * the input (cJSON would hold ~60 bytes per number).  Errors name the
 * line (counted only when one is reported) and the row or index.
 */
#include <config.h>
#include "emb_impl.h"

#include <cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- pieces JSON Lines shares ---------- */

size_t emb_json_number_len(const char *p, const char *end)
{
	const char *q = p;
#define DIGIT(q) ((q) < end && *(q) >= '0' && *(q) <= '9')
	if (q < end && *q == '-')
		q++;
	if (q < end && *q == '0')
		q++;
	else if (q < end && *q >= '1' && *q <= '9')
		while (DIGIT(q))
			q++;
	else
		return 0;
	if (q < end && *q == '.') {
		q++;
		if (!DIGIT(q))
			return 0;
		while (DIGIT(q))
			q++;
	}
	if (q < end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < end && (*q == '+' || *q == '-'))
			q++;
		if (!DIGIT(q))
			return 0;
		while (DIGIT(q))
			q++;
	}
#undef DIGIT
	return (size_t)(q - p);
}

bool emb_json_has_nul(const char *p, size_t n)
{
	for (size_t i = 1; i + 1 < n; i++)
		if (p[i] == '\\') {
			if (p[i + 1] == 'u' && i + 6 <= n && memcmp(p + i + 2, "0000", 4) == 0)
				return true;
			i++;
		}
	return false;
}

bool emb_utf8_valid(const unsigned char *p, size_t n)
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

/* 0..63 for the base64 alphabet (RFC 4648 section 4), 64 for '=', 255
 * for anything else. */
static unsigned char b64val[256];

static void b64_init(void)
{
	static bool done;
	if (done)
		return;
	memset(b64val, 255, sizeof b64val);
	const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (int i = 0; i < 64; i++)
		b64val[(unsigned char)a[i]] = (unsigned char)i;
	b64val['='] = 64;
	done = true;
}

const char *emb_base64_f32(const char *p, size_t n, void *out, size_t cap, size_t *count,
			   enum emb_dtype mtype)
{
	b64_init();
	if (n % 4 != 0)
		return "length is not a multiple of 4";
	size_t pad = n && p[n - 1] == '=' ? (p[n - 2] == '=' ? 2 : 1) : 0;
	size_t bytes = n / 4 * 3 - pad;
	if (bytes % 4 != 0) {
		*count = bytes;
		return "bytes";
	}
	*count = bytes / 4;
	if (!out)
		return NULL;
	if (*count > cap)
		return "values";
	/* Decode into the row's own memory when it is f32 (4 bytes per value
	 * are exactly what base64 gives), else into a scratch row first. */
	unsigned char *dst = mtype == EMB_F32 && emb_host_is_le() ? out : emb_xmalloc(bytes + 3);
	const unsigned char *s = (const unsigned char *)p;
	size_t full = (n / 4) - (pad != 0), o = 0;
	for (size_t g = 0; g < full; g++, s += 4) {
		unsigned a = b64val[s[0]], b = b64val[s[1]], c = b64val[s[2]], d = b64val[s[3]];
		if ((a | b | c | d) >= 64) {
			if (dst != out)
				free(dst);
			return "invalid base64";
		}
		uint32_t v = a << 18 | b << 12 | c << 6 | d;
		dst[o++] = (unsigned char)(v >> 16);
		dst[o++] = (unsigned char)(v >> 8);
		dst[o++] = (unsigned char)v;
	}
	if (pad) {
		unsigned a = b64val[s[0]], b = b64val[s[1]];
		unsigned c = pad == 2 ? 0 : b64val[s[2]];
		/* the bits past the data must be zero (RFC 4648 3.5: canonical) */
		if ((a | b | c) >= 64 || (pad == 2 ? (b & 15) : (c & 3)) != 0) {
			if (dst != out)
				free(dst);
			return "invalid base64";
		}
		uint32_t v = a << 18 | b << 12 | c << 6;
		dst[o++] = (unsigned char)(v >> 16);
		if (pad == 1)
			dst[o++] = (unsigned char)(v >> 8);
	}
	if (dst != out) {
		emb_from_disk(out, dst, *count, EMB_F32, mtype);
		free(dst);
	}
	return NULL;
}

/* ---------- the whole-document reader ---------- */

struct jdoc {
	struct emb_stream *s;
	const char *base, *p, *end; /* the document */
	char *owned;                /* the document read from a pipe */
	size_t rows;                /* rows parsed */
	size_t dim;                 /* 0 until the first row */
	size_t rowbytes;
	unsigned char *vals;        /* rows x dim values of vtype */
	enum emb_dtype vtype;       /* s->mtype when the values were parsed */
	size_t vals_cap;
	bool keyed;                 /* the first row had a key */
	bool openai;                /* rows come from a "data" array */
	char *keys;                 /* keys, NUL-ended, one after the other */
	size_t keys_len, keys_cap;
	size_t *key_off;            /* row r's key at keys + key_off[r] */
	uint64_t *index;            /* openai: row r's "index" */
	uint64_t *where;            /* row r's byte offset, then its line */
	size_t meta_cap;            /* capacity of key_off, index and where */
	size_t next;                /* read_rows: the next row to hand out */
	size_t first_len;           /* bytes of the document up to the first row's end */
};

static uint64_t line_of(const struct jdoc *J, const char *at)
{
	uint64_t line = 1;
	for (const char *q = J->base; q < at && (q = memchr(q, '\n', (size_t)(at - q))); q++)
		line++;
	return line;
}

static _Noreturn __attribute__((format(printf, 3, 4)))
void jfail(const struct jdoc *J, const char *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	emb_die_at(J->s->name, line_of(J, at), "%s", msg);
}

/* What row R is called in messages: its index in a response, else its
 * place in the array. */
static const char *row_name(const struct jdoc *J, char *buf, size_t cap)
{
	if (J->openai)
		snprintf(buf, cap, "data element %zu", J->rows + 1);
	else
		snprintf(buf, cap, "row %zu", J->rows + 1);
	return buf;
}

static void ws(struct jdoc *J)
{
	while (J->p < J->end && (*J->p == ' ' || *J->p == '\n' || *J->p == '\t' || *J->p == '\r'))
		J->p++;
}

static _Noreturn void unexpected(const struct jdoc *J, const char *want)
{
	if (J->p >= J->end)
		jfail(J, J->p, "the document ends where %s should be", want);
	static const char *const words[] = {"NaN", "-NaN", "Infinity", "-Infinity"};
	for (size_t w = 0; w < sizeof words / sizeof *words; w++)
		if ((size_t)(J->end - J->p) >= strlen(words[w]) &&
		    memcmp(J->p, words[w], strlen(words[w])) == 0)
			jfail(J, J->p, "%s is not valid JSON", words[w]);
	unsigned char c = (unsigned char)*J->p;
	if (c >= 0x20 && c < 0x7f)
		jfail(J, J->p, "invalid JSON: '%c' where %s should be", c, want);
	jfail(J, J->p, "invalid JSON: byte 0x%02x where %s should be", c, want);
}

static void expect(struct jdoc *J, char c, const char *want)
{
	ws(J);
	if (J->p >= J->end || *J->p != c)
		unexpected(J, want);
	J->p++;
}

/* A string token at J->p: moves past it; returns where its text starts
 * (after the quote) and sets *LEN (up to the closing quote) and *ESC
 * (it holds a backslash). */
static const char *string_token(struct jdoc *J, size_t *len, bool *esc)
{
	if (J->p >= J->end || *J->p != '"')
		unexpected(J, "a string");
	const char *start = ++J->p, *q = start;
	*esc = false;
	for (;;) {
		if (q >= J->end)
			jfail(J, start - 1, "string not closed");
		unsigned char c = (unsigned char)*q;
		if (c == '"')
			break;
		if (c == '\\') {
			*esc = true;
			q += 2;
			continue;
		}
		if (c < 0x20)
			jfail(J, q, "control character 0x%02x in a JSON string", c);
		q++;
	}
	*len = (size_t)(q - start);
	J->p = q + 1;
	return start;
}

/* The string token [START - 1, START + LEN + 1] unescaped by cJSON (which
 * checks the escapes), or NULL if it is not valid. */
static cJSON *unescape(const char *start, size_t len)
{
	return cJSON_ParseWithLength(start - 1, len + 2);
}

static void skip_value(struct jdoc *J, int depth);

static void skip_members(struct jdoc *J, int depth, char close)
{
	ws(J);
	if (J->p < J->end && *J->p == close) {
		J->p++;
		return;
	}
	for (;;) {
		if (close == '}') {
			size_t len;
			bool esc;
			ws(J);
			string_token(J, &len, &esc);
			expect(J, ':', "':'");
		}
		skip_value(J, depth + 1);
		ws(J);
		if (J->p < J->end && *J->p == ',') {
			J->p++;
			continue;
		}
		expect(J, close, close == '}' ? "',' or '}'" : "',' or ']'");
		return;
	}
}

/* Pass over any JSON value, checking its syntax. */
static void skip_value(struct jdoc *J, int depth)
{
	ws(J);
	if (depth > 512)
		jfail(J, J->p, "JSON nested more than 512 deep");
	if (J->p >= J->end)
		unexpected(J, "a value");
	char c = *J->p;
	size_t len;
	bool esc;
	if (c == '"') {
		const char *t = string_token(J, &len, &esc);
		if (esc) {
			cJSON *j = unescape(t, len);
			if (!j)
				jfail(J, t, "bad escape in a JSON string");
			cJSON_Delete(j);
		}
	} else if (c == '{' || c == '[') {
		J->p++;
		skip_members(J, depth, c == '{' ? '}' : ']');
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		if (!(len = emb_json_number_len(J->p, J->end)))
			unexpected(J, "a value");
		J->p += len;
	} else {
		static const char *const lit[] = {"true", "false", "null"};
		for (int i = 0; i < 3; i++)
			if ((size_t)(J->end - J->p) >= strlen(lit[i]) &&
			    memcmp(J->p, lit[i], strlen(lit[i])) == 0) {
				J->p += strlen(lit[i]);
				return;
			}
		unexpected(J, "a value");
	}
}

/* Room for one more row (values and the per-row records). */
static void *new_row(struct jdoc *J)
{
	if (J->rows == J->meta_cap) {
		J->meta_cap = J->meta_cap ? 2 * J->meta_cap : 1024;
		J->key_off = emb_xrealloc(J->key_off, emb_xmul(J->meta_cap, sizeof *J->key_off));
		J->index = emb_xrealloc(J->index, emb_xmul(J->meta_cap, sizeof *J->index));
		J->where = emb_xrealloc(J->where, emb_xmul(J->meta_cap, sizeof *J->where));
	}
	/* before the dim is known: room for 4096 values, grown by the
	 * first row in parse_vector */
	size_t need = emb_xmul(J->rows + 1, J->rowbytes ? J->rowbytes :
			       emb_dtype_size(J->s->mtype) * 4096);
	if (need > J->vals_cap) {
		size_t cap = J->vals_cap ? J->vals_cap : need;
		if (J->first_len && J->rowbytes) {
			/* Guess the row count from the first row's share of the
			 * document: one allocation instead of copies while it
			 * doubles (pages not used are never touched). */
			size_t guess = (size_t)(J->end - J->base) / J->first_len + 16;
			if (guess <= SIZE_MAX / J->rowbytes && guess * J->rowbytes > cap)
				cap = guess * J->rowbytes;
		}
		while (cap < need)
			cap = emb_xmul(cap, 2);
		J->vals = emb_xrealloc(J->vals, cap);
		J->vals_cap = cap;
	}
	return J->vals + J->rows * J->rowbytes;
}

/* Fix the dim at the first row's D, or check a later row's. */
static void check_dim(struct jdoc *J, size_t d, const char *at, const char *what)
{
	char nb[64];
	if (J->dim == 0) {
		if (d == 0 || d > EMB_MAX_DIM)
			jfail(J, at, "%s: %s has %zu values (want 1 to %u)",
			      row_name(J, nb, sizeof nb), what, d, EMB_MAX_DIM);
		J->dim = d;
		J->rowbytes = d * emb_dtype_size(J->s->mtype);
		J->s->dim = d;
		return;
	}
	if (d != J->dim)
		jfail(J, at, "%s: %s has %zu values, the first row %zu",
		      row_name(J, nb, sizeof nb), what, d, J->dim);
}

/* The vector at J->p into the next row: an array of numbers or a base64
 * string.  WHAT names it in messages. */
static void parse_vector(struct jdoc *J, const char *what)
{
	char nb[64];
	enum emb_dtype mt = J->s->mtype;
	void *row = new_row(J);
	ws(J);
	const char *at = J->p;
	if (J->p < J->end && *J->p == '"' && J->dim) {
		/* The common case, a later row's base64: decode straight from
		 * the text up to the next quote.  Base64 holds no backslash or
		 * control character, so a string that decodes needs no other
		 * check; one that does not is looked at again below. */
		const char *t = J->p + 1, *q = memchr(t, '"', (size_t)(J->end - t));
		size_t count;
		if (q && !emb_base64_f32(t, (size_t)(q - t), NULL, 0, &count, mt) &&
		    count == J->dim && !emb_base64_f32(t, (size_t)(q - t), row, J->dim, &count, mt)) {
			J->p = q + 1;
			goto check_finite;
		}
	}
	if (J->p < J->end && *J->p == '"') {
		size_t len, count;
		bool esc;
		const char *t = string_token(J, &len, &esc);
		cJSON *u = NULL;
		if (esc) { /* "\/" and such: let cJSON undo them */
			if (!(u = unescape(t, len)))
				jfail(J, t, "bad escape in a JSON string");
			t = u->valuestring;
			len = strlen(t);
		}
		const char *err = emb_base64_f32(t, len, NULL, 0, &count, mt);
		if (err && strcmp(err, "bytes") == 0)
			jfail(J, at, "%s: %s holds %zu bytes of base64 data, not a whole number "
			      "of float32 values", row_name(J, nb, sizeof nb), what, count);
		if (err)
			jfail(J, at, "%s: %s is a string but not base64 (%s)",
			      row_name(J, nb, sizeof nb), what, err);
		check_dim(J, count, at, what);
		row = new_row(J);
		err = emb_base64_f32(t, len, row, J->dim, &count, mt);
		cJSON_Delete(u);
		if (err)
			jfail(J, at, "%s: %s is a string but not base64 (%s)",
			      row_name(J, nb, sizeof nb), what, err);
check_finite:
		for (size_t j = 0; j < J->dim; j++) {
			double v = mt == EMB_F64 ? ((double *)row)[j] : ((float *)row)[j];
			if (!isfinite(v))
				jfail(J, at, "%s: %s value %zu is %s", row_name(J, nb, sizeof nb), what,
				      j + 1, isnan(v) ? "nan" : "infinite");
		}
		return;
	}
	if (J->p >= J->end || *J->p != '[')
		jfail(J, at, "%s: %s is not an array or a base64 string",
		      row_name(J, nb, sizeof nb), what);
	J->p++;
	size_t j = 0, limit = J->dim ? J->dim : EMB_MAX_DIM;
	ws(J);
	if (J->p < J->end && *J->p == ']') {
		J->p++;
		check_dim(J, 0, at, what);
		return;
	}
	for (;;) {
		ws(J);
		const char *q = J->p;
		size_t len = emb_json_number_len(q, J->end);
		if (!len) {
			if (q < J->end && (*q == '"' || *q == '[' || *q == '{' || *q == 't' ||
					   *q == 'f' || *q == 'n'))
				jfail(J, q, "%s: %s value %zu is not a number",
				      row_name(J, nb, sizeof nb), what, j + 1);
			unexpected(J, "a number");
		}
		if (j == limit) {
			/* count them all for the message */
			J->p = at;
			skip_value(J, 0);
			size_t n = 0;
			for (const char *c = at; c < J->p; c++)
				n += *c == ',';
			check_dim(J, n + 1, at, what);
		}
		if (!J->dim && (j + 1) * emb_dtype_size(mt) > J->vals_cap) {
			/* the first row, longer than guessed: J->rows is 0 */
			J->vals_cap = emb_xmul(J->vals_cap, 2);
			J->vals = emb_xrealloc(J->vals, J->vals_cap);
			row = J->vals;
		}
		const char *e;
		bool ok;
		double v;
		/* parsed from its text and rounded once, as TSV does; the
		 * document's last byte is a bracket, so no parse runs off it */
		if (mt == EMB_F64) {
			ok = emb_parse_f64(q, &e, &((double *)row)[j]);
			v = ((double *)row)[j];
		} else {
			ok = emb_parse_f32(q, &e, &((float *)row)[j]);
			v = ((float *)row)[j];
		}
		if (!ok || e != q + len || !isfinite(v))
			jfail(J, q, "%s: '%.*s' is not a %snumber", row_name(J, nb, sizeof nb),
			      (int)(len > 40 ? 40 : len), q, ok && e == q + len ? "finite " : "");
		j++;
		J->p = q + len;
		ws(J);
		if (J->p < J->end && *J->p == ',') {
			J->p++;
			continue;
		}
		expect(J, ']', "',' or ']'");
		break;
	}
	check_dim(J, j, at, what);
}

static void add_key(struct jdoc *J, const char *k, size_t len)
{
	if (J->keys_len + len + 1 > J->keys_cap) {
		J->keys_cap = emb_grow_cap(J->keys_cap, J->keys_len + len + 1, SIZE_MAX);
		J->keys = emb_xrealloc(J->keys, J->keys_cap);
	}
	J->key_off[J->rows] = J->keys_len;
	memcpy(J->keys + J->keys_len, k, len);
	J->keys[J->keys_len + len] = '\0';
	J->keys_len += len + 1;
}

/* The key at J->p (a string or a number, as JSON Lines takes it). */
static void parse_key(struct jdoc *J)
{
	char nb[64];
	const char *kf = J->s->key_field;
	ws(J);
	const char *at = J->p;
	if (J->p < J->end && *J->p == '"') {
		size_t len;
		bool esc;
		const char *t = string_token(J, &len, &esc);
		cJSON *u = NULL;
		if (esc) {
			if (!(u = unescape(t, len)))
				jfail(J, t, "bad escape in a JSON string");
			if (emb_json_has_nul(t - 1, len + 2))
				jfail(J, at, "%s: \"%s\" holds a NUL character (\\u0000)",
				      row_name(J, nb, sizeof nb), kf);
			t = u->valuestring;
			len = strlen(t);
		}
		if (!emb_utf8_valid((const unsigned char *)t, len))
			jfail(J, at, "%s: \"%s\" is not valid UTF-8", row_name(J, nb, sizeof nb), kf);
		if (len > EMB_MAX_KEY_LEN)
			jfail(J, at, "%s: key longer than %d bytes", row_name(J, nb, sizeof nb),
			      EMB_MAX_KEY_LEN);
		add_key(J, t, len);
		cJSON_Delete(u);
		return;
	}
	size_t len = emb_json_number_len(J->p, J->end);
	if (!len) {
		skip_value(J, 0);
		jfail(J, at, "%s: \"%s\" is not a string or a number", row_name(J, nb, sizeof nb),
		      kf);
	}
	if (len > EMB_MAX_KEY_LEN)
		jfail(J, at, "%s: key longer than %d bytes", row_name(J, nb, sizeof nb),
		      EMB_MAX_KEY_LEN);
	add_key(J, J->p, len); /* an id keeps its text: 1e2 is not 100 */
	J->p += len;
}

/* Is the string token T of LEN bytes (no escapes) NAME? */
static bool named(const char *t, size_t len, bool esc, const char *name)
{
	return !esc && strlen(name) == len && memcmp(t, name, len) == 0;
}

/* One row object at J->p: an element of "data" (OPENAI) or of a top-level
 * array.  Members other than the vector, the key and "index" are
 * skipped. */
static void parse_row_object(struct jdoc *J)
{
	char nb[64];
	const char *vf = J->s->vector_field, *kf = J->s->key_field;
	ws(J);
	const char *at = J->p;
	J->p++; /* '{' */
	new_row(J); /* room for its index and key, met before its vector */
	bool have_vec = false, have_key = false, have_index = false;
	ws(J);
	if (J->p < J->end && *J->p == '}')
		J->p++;
	else
		for (;;) {
			size_t len;
			bool esc;
			ws(J);
			const char *t = string_token(J, &len, &esc);
			if (esc) { /* a member name with escapes: compare its value */
				cJSON *u = unescape(t, len);
				if (!u)
					jfail(J, t, "bad escape in a JSON string");
				bool v = strcmp(u->valuestring, vf) == 0;
				cJSON_Delete(u);
				if (v)
					jfail(J, t, "%s: escaped member names are not supported",
					      row_name(J, nb, sizeof nb));
			}
			expect(J, ':', "':'");
			if (named(t, len, esc, vf)) {
				if (have_vec)
					jfail(J, t, "%s: two \"%s\" members", row_name(J, nb, sizeof nb), vf);
				char what[80];
				snprintf(what, sizeof what, "\"%.60s\"", vf);
				parse_vector(J, what);
				have_vec = true;
			} else if (J->openai && named(t, len, esc, "index")) {
				ws(J);
				const char *q = J->p;
				size_t nl = emb_json_number_len(q, J->end);
				const char *e;
				double v;
				if (!nl || !emb_parse_f64(q, &e, &v) || e != q + nl || !(v >= 0) ||
				    v > (double)EMB_MAX_ROW_OFFSET || v != floor(v) || have_index)
					jfail(J, q, "%s: \"index\" is %s", row_name(J, nb, sizeof nb),
					      have_index ? "given twice" : "not a whole number from 0 "
					      "to 2^53");
				J->index[J->rows] = (uint64_t)v;
				have_index = true;
				J->p = q + nl;
			} else if (!J->openai && named(t, len, esc, kf)) {
				if (have_key)
					jfail(J, t, "%s: two \"%s\" members", row_name(J, nb, sizeof nb), kf);
				if (J->rows == 0)
					J->keyed = true;
				if (!J->keyed)
					jfail(J, t, "%s: has a \"%s\" member but the first row has none",
					      row_name(J, nb, sizeof nb), kf);
				parse_key(J);
				have_key = true;
			} else {
				skip_value(J, 1);
			}
			ws(J);
			if (J->p < J->end && *J->p == ',') {
				J->p++;
				continue;
			}
			expect(J, '}', "',' or '}'");
			break;
		}
	if (!have_vec)
		jfail(J, at, "%s: no \"%s\" member", row_name(J, nb, sizeof nb), vf);
	if (J->openai && !have_index)
		jfail(J, at, "%s: no \"index\" member", row_name(J, nb, sizeof nb));
	if (!J->openai && J->keyed && !have_key)
		jfail(J, at, "%s: no \"%s\" member", row_name(J, nb, sizeof nb), kf);
	J->where[J->rows] = (uint64_t)(at - J->base);
	if (J->rows++ == 0)
		J->first_len = (size_t)(J->p - J->base);
}

/* The elements of the array at J->p: row objects, or vectors (BARE). */
static void parse_rows(struct jdoc *J)
{
	J->p++; /* '[' */
	ws(J);
	if (J->p < J->end && *J->p == ']') {
		J->p++;
		return;
	}
	bool objects = *J->p == '{';
	for (;;) {
		ws(J);
		if (objects) {
			if (J->p >= J->end || *J->p != '{')
				unexpected(J, J->openai ? "a \"data\" element (an object)" :
					   "a row (an object, as the first)");
			parse_row_object(J);
		} else {
			const char *at = J->p;
			parse_vector(J, "the vector");
			J->where[J->rows] = (uint64_t)(at - J->base);
			if (J->rows++ == 0)
				J->first_len = (size_t)(J->p - J->base);
		}
		ws(J);
		if (J->p < J->end && *J->p == ',') {
			J->p++;
			continue;
		}
		expect(J, ']', "',' or ']'");
		return;
	}
}

/* A response: its "data" array; other members are skipped. */
static void parse_response(struct jdoc *J)
{
	const char *at = J->p;
	bool have_data = false;
	J->p++; /* '{' */
	J->openai = true;
	ws(J);
	if (J->p < J->end && *J->p == '}')
		J->p++;
	else
		for (;;) {
			size_t len;
			bool esc;
			ws(J);
			const char *t = string_token(J, &len, &esc);
			expect(J, ':', "':'");
			ws(J);
			if (named(t, len, esc, "data")) {
				if (have_data)
					jfail(J, t, "two \"data\" members");
				if (J->p >= J->end || *J->p != '[')
					jfail(J, J->p, "\"data\" is not an array");
				parse_rows(J);
				have_data = true;
			} else {
				skip_value(J, 1);
			}
			ws(J);
			if (J->p < J->end && *J->p == ',') {
				J->p++;
				continue;
			}
			expect(J, '}', "',' or '}'");
			break;
		}
	if (!have_data)
		jfail(J, at, "no \"data\" array (not an embeddings response)");
}

/* Rows of a response into "index" order, checking that the indexes are
 * 0..n-1 once each: in place, by following the permutation's cycles. */
static void order_by_index(struct jdoc *J)
{
	size_t n = J->rows;
	unsigned char *seen = emb_xcalloc(n ? n : 1, 1);
	for (size_t r = 0; r < n; r++) {
		uint64_t i = J->index[r];
		if (i < n && seen[i]) {
			/* the earlier holder of i, for the message */
			size_t first = 0;
			while (J->index[first] != i)
				first++;
			emb_die_at(J->s->name, J->where[r], "data element %zu: index %llu is "
				   "also data element %zu's", r + 1, (unsigned long long)i, first + 1);
		}
		if (i < n)
			seen[i] = 1;
	}
	for (size_t i = 0; i < n; i++)
		if (!seen[i])
			emb_die(EMB_EXIT_DATA, "%s: index %zu is missing (%zu data elements; the "
				"indexes must be 0 to %zu)", J->s->name, i, n, n - 1);
	free(seen);
	unsigned char *tmp = emb_xmalloc(J->rowbytes ? J->rowbytes : 1);
	for (size_t r = 0; r < n; r++)
		while (J->index[r] != r) {
			size_t d = (size_t)J->index[r];
			memcpy(tmp, J->vals + d * J->rowbytes, J->rowbytes);
			memcpy(J->vals + d * J->rowbytes, J->vals + r * J->rowbytes, J->rowbytes);
			memcpy(J->vals + r * J->rowbytes, tmp, J->rowbytes);
			uint64_t w = J->where[d];
			J->where[d] = J->where[r];
			J->where[r] = w;
			J->index[r] = J->index[d];
			J->index[d] = d;
		}
	free(tmp);
}

/* The document: the mapped file, else all of the input read. */
static void load(struct jdoc *J)
{
	struct emb_stream *s = J->s;
	emb_map_open(s);
	if (s->map) {
		J->base = (const char *)s->map + s->map_pos;
		J->end = (const char *)s->map + s->map_len;
		s->map_pos = s->map_len;
	} else {
		size_t len = 0, cap = 0;
		for (;;) {
			if (cap - len < (1u << 20)) {
				cap = emb_grow_cap(cap, len + (1u << 20), SIZE_MAX);
				J->owned = emb_xrealloc(J->owned, cap);
			}
			size_t got = emb_read_bytes(s, J->owned + len, cap - len);
			len += got;
			if (!got)
				break;
		}
		J->base = J->owned ? J->owned : "";
		J->end = J->base + len;
	}
	s->offset += (uint64_t)(J->end - J->base);
	J->p = J->base;
}

/* Parse the whole document at J->base into rows of s->mtype. */
static void parse_document(struct jdoc *J)
{
	struct emb_stream *s = J->s;
	J->vtype = s->mtype;
	ws(J);
	if (J->p == J->end) {
		s->at_eof = true; /* blanks only: no rows */
		return;
	}
	/* The last byte that is not a blank closes the document: then no
	 * number runs to the end of the mapping. */
	const char *last = J->end;
	while (last > J->p && strchr(" \t\r\n", last[-1]))
		last--;
	if (*J->p == '{' && last[-1] != '}')
		jfail(J, last, "the last character is not the closing '}' (one JSON document, "
		      "nothing after it)");
	if (*J->p == '[' && last[-1] != ']')
		jfail(J, last, "the last character is not the closing ']' (one JSON document, "
		      "nothing after it)");
	if (*J->p == '{')
		parse_response(J);
	else if (*J->p == '[')
		parse_rows(J);
	else
		unexpected(J, "'{' or '['");
	ws(J);
	if (J->p != J->end)
		jfail(J, J->p, "text after the JSON document");
	s->has_keys = J->openai || J->keyed;
	/* byte offsets to line numbers, in one pass over the document */
	uint64_t line = 1, at = 0;
	for (size_t r = 0; r < J->rows; r++) {
		for (const char *q = J->base + at;
		     (q = memchr(q, '\n', J->where[r] - (size_t)(q - J->base))); q++)
			line++;
		at = J->where[r];
		J->where[r] = line;
	}
	if (J->openai)
		order_by_index(J);
	if (J->rows == 0)
		s->at_eof = true;
}

void emb_json_read_header(struct emb_stream *s)
{
	struct jdoc *J = emb_xcalloc(1, sizeof *J);
	s->json = J;
	J->s = s;
	load(J);
	parse_document(J);
}

static void free_rows(struct jdoc *J)
{
	free(J->vals);
	free(J->keys);
	free(J->key_off);
	free(J->index);
	free(J->where);
}

/* A program that reads in another memory type than the one at opening
 * (embinfo and the fits ask for f64) gets the document parsed again, so
 * that each value is rounded once from its text to that type, as TSV's
 * are, and the chunks hold what their type says. */
static void reparse(struct jdoc *J)
{
	if (J->next)
		emb_die(EMB_EXIT_DATA, "%s: internal error: memory type changed after "
			"the first rows", J->s->name);
	free_rows(J);
	*J = (struct jdoc){.s = J->s, .base = J->base, .p = J->base, .end = J->end,
			   .owned = J->owned};
	J->s->at_eof = false;
	parse_document(J);
}

size_t emb_json_read_rows(struct emb_stream *s, struct emb_chunk *c)
{
	struct jdoc *J = s->json;
	if (s->mtype != J->vtype)
		reparse(J);
	size_t take = emb_batch_rows(J->dim, s->mtype);
	if (take > J->rows - J->next)
		take = J->rows - J->next;
	if (!take) {
		s->at_eof = true;
		return 0;
	}
	emb_chunk_borrow(c, J->vals + J->next * J->rowbytes, take, J->dim, s->mtype,
			 s->has_keys);
	for (size_t i = 0; i < take; i++) {
		size_t r = J->next + i;
		if (J->openai) {
			char num[24];
			int n = snprintf(num, sizeof num, "%zu", r);
			emb_chunk_set_key(c, i, num, (size_t)n);
		} else if (J->keyed) {
			const char *k = J->keys + J->key_off[r];
			emb_chunk_set_key(c, i, k, strlen(k));
		}
		emb_chunk_set_pos(c, i, J->where[r]);
	}
	c->src_lines = true;
	J->next += take;
	s->recno += take;
	c->rows = take;
	if (J->next == J->rows)
		s->at_eof = true;
	return take;
}

void emb_json_free(struct emb_stream *s)
{
	struct jdoc *J = s->json;
	if (!J)
		return;
	free(J->owned);
	free_rows(J);
	free(J);
	s->json = NULL;
}

/* ---------- writing ---------- */

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

void emb_json_put_rows(struct emb_stream *s, const struct emb_chunk *c, bool array)
{
	size_t fixed = c->dim * 26 + strlen(s->vector_field) * 6 + strlen(s->key_field) * 6 + 32;
	for (size_t i = 0; i < c->rows; i++) {
		char num[24];
		const char *key = s->has_keys ? emb_row_key(c, i, s->row_next, num) : NULL;
		if (key && !emb_utf8_valid((const unsigned char *)key, strlen(key)))
			emb_die(EMB_EXIT_DATA, "row %llu: key is not valid UTF-8; it cannot be "
				"written as %s", (unsigned long long)(s->recno + i + 1),
				array ? "json" : "jsonl");
		size_t cap = fixed + (key ? 6 * strlen(key) : 0);
		if (cap > s->raw_cap) {
			free(s->raw);
			s->raw = emb_xmalloc(cap);
			s->raw_cap = cap;
		}
		char *o = (char *)s->raw;
		if (array) { /* one row object a line, between "[" and "]" */
			if (s->recno + i)
				*o++ = ',';
			*o++ = '\n';
		}
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
		if (!array)
			*o++ = '\n';
		emb_write_bytes(s, s->raw, (size_t)(o - (char *)s->raw));
	}
}

void emb_json_write_header(struct emb_stream *s)
{
	emb_write_bytes(s, "[", 1);
}

void emb_json_write_rows(struct emb_stream *s, const struct emb_chunk *c)
{
	emb_json_put_rows(s, c, true);
}

void emb_json_write_end(struct emb_stream *s)
{
	if (s->recno)
		emb_write_bytes(s, "\n]\n", 3);
	else
		emb_write_bytes(s, "]\n", 2);
}
