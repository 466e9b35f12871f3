/*
 * emb_tsv.c - the text form of a vector stream: one row per line, an
 * optional key column, then dim numbers (emb.5, "TSV").
 *
 * The key is everything before the first TAB when the first data line has
 * a TAB (so keys may hold spaces), else everything before the first blank.
 * Values are separated by runs of blanks (spaces or TABs); a trailing blank
 * and a CR before the LF are accepted.  Blank lines and lines starting with
 * '#' are not rows.  NaN and infinity are rejected in text: they are almost
 * always a bug upstream, and every statistic downstream would turn to nan.
 *
 * word2vec text, fastText .vec and GloVe rows are read here too (their
 * headers in emb_w2v.c): there every row has a key, and the key is all
 * but the last dim fields, so a word that looks like a number or holds a
 * space (GloVe 840B has some) is still a key.
 */
#include <config.h>
#include "emb.h"
#include "emb_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Read the next data line into s->line, NUL-terminated with the line end
 * removed; returns its length, or -1 at end of input. */
static ssize_t next_line(struct emb_stream *s)
{
	for (;;) {
		ssize_t n = getline(&s->line, &s->line_cap, s->fp);
		if (n < 0) {
			if (ferror(s->fp))
				emb_die(EMB_EXIT_DATA, "%s: read error: %s", s->name, strerror(errno));
			return -1;
		}
		s->offset += (uint64_t)n;
		s->lineno++;
		if (n > 0 && s->line[n - 1] == '\n')
			s->line[--n] = '\0';
		if (n > 0 && s->line[n - 1] == '\r')
			s->line[--n] = '\0';
		ssize_t i = 0;
		while (i < n && is_blank(s->line[i]))
			i++;
		if (i == n || (s->line[i] == '#' && !s->text_keys))
			continue;
		return n;
	}
}

/* Length of the key field at the start of LINE. */
static size_t key_len(const struct emb_stream *s, const char *line)
{
	if (s->tsv_sep == '\t')
		return strcspn(line, "\t");
	return strcspn(line, " \t");
}

static size_t count_fields(const char *p)
{
	size_t n = 0;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			return n;
		n++;
		while (*p && !is_blank(*p))
			p++;
	}
}

/* Word-vector text: the key is what is left of the line after its last
 * dim fields. */
static size_t key_len_last_fields(const struct emb_stream *s, const char *p)
{
	size_t n = strlen(p);
	while (n && is_blank(p[n - 1]))
		n--;
	for (size_t f = 0; f <= s->dim && n; f++) {
		if (f == s->dim)
			return n;
		while (n && !is_blank(p[n - 1]))
			n--;
		while (n && is_blank(p[n - 1]))
			n--;
	}
	emb_die_at(s->name, s->lineno, "expected a key and %zu values, found %zu fields",
		   s->dim, count_fields(p));
}

static bool whole_field_is_number(const char *p)
{
	const char *end;
	double v;
	return emb_parse_f64(p, &end, &v) && (*end == '\0' || is_blank(*end));
}

void emb_tsv_read_header(struct emb_stream *s)
{
	ssize_t n = next_line(s);
	if (n < 0) {
		s->at_eof = true;
		return;
	}
	s->tsv_sep = strchr(s->line, '\t') ? '\t' : ' ';
	const char *p = s->line;
	while (s->tsv_sep == ' ' && is_blank(*p))
		p++;
	if (s->tsv_keys_opt == EMB_DETECT)
		s->has_keys = !whole_field_is_number(p);
	else
		s->has_keys = s->tsv_keys_opt == EMB_YES;
	if (s->has_keys)
		p += key_len(s, p);
	s->dim = count_fields(p);
	if (s->dim == 0)
		emb_die_at(s->name, s->lineno, "no values after the key");
	if (s->dim > EMB_MAX_DIM)
		emb_die_at(s->name, s->lineno, "%zu values in a row (limit %u)", s->dim, EMB_MAX_DIM);
	s->tsv_first_pending = true;
}

static _Noreturn void bad_value(const struct emb_stream *s, const char *p, const char *what)
{
	int len = (int)strcspn(p, " \t");
	if (len > 40)
		len = 40;
	emb_die_at(s->name, s->lineno, "'%.*s' is not a %snumber", len, p, what);
}

/* Parse the values of s->line (after the key) into ROW. */
static void parse_values(struct emb_stream *s, const char *p, void *row)
{
	size_t d = 0;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		if (d == s->dim)
			emb_die_at(s->name, s->lineno, "expected %zu values, found %zu",
				   s->dim, d + count_fields(p));
		const char *end;
		bool ok, finite;
		if (s->mtype == EMB_F64) {
			double v;
			ok = emb_parse_f64(p, &end, &v);
			finite = isfinite(v);
			((double *)row)[d] = v;
		} else {
			float v;
			ok = emb_parse_f32(p, &end, &v);
			finite = isfinite(v);
			((float *)row)[d] = v;
		}
		if (!ok || (*end && !is_blank(*end)))
			bad_value(s, p, "");
		if (!finite)
			bad_value(s, p, "finite ");
		d++;
		p = end;
	}
	if (d != s->dim)
		emb_die_at(s->name, s->lineno, "expected %zu values, found %zu", s->dim, d);
}

size_t emb_tsv_read_rows(struct emb_stream *s, struct emb_chunk *c)
{
	size_t want = EMB_CHUNK_TARGET_BYTES / (s->dim * emb_dtype_size(s->mtype) + 1);
	if (want < 1)
		want = 1;
	if (want > 65536)
		want = 65536;
	emb_chunk_reserve(c, want, s->dim, s->mtype, s->has_keys);
	size_t esize = emb_dtype_size(s->mtype), rows = 0;

	while (rows < want) {
		if (s->tsv_first_pending) {
			s->tsv_first_pending = false;
		} else if (next_line(s) < 0) {
			s->at_eof = true;
			if ((s->format == EMB_FMT_W2V || s->format == EMB_FMT_VEC) &&
			    s->recno + rows != s->total_rows)
				emb_die_at(s->name, s->lineno, "the header promises %llu rows, "
					   "the file holds %llu", (unsigned long long)s->total_rows,
					   (unsigned long long)(s->recno + rows));
			break;
		}
		const char *p = s->line;
		emb_chunk_set_pos(c, rows, s->lineno);
		while (s->tsv_sep == ' ' && is_blank(*p))
			p++;
		if (s->has_keys) {
			size_t k = s->text_keys ? key_len_last_fields(s, p) : key_len(s, p);
			if (k > EMB_MAX_KEY_LEN)
				emb_die_at(s->name, s->lineno, "key longer than %d bytes", EMB_MAX_KEY_LEN);
			emb_chunk_set_key(c, rows, p, k);
			p += k;
		}
		parse_values(s, p, (char *)c->data + rows * s->dim * esize);
		rows++;
	}
	c->rows = rows;
	c->src_lines = true;
	s->recno += rows;
	return rows;
}

void emb_tsv_write_rows(struct emb_stream *s, const struct emb_chunk *c)
{
	size_t cap = c->dim * 26 + 16;
	for (size_t i = 0; i < c->rows; i++) {
		const char *key = NULL;
		char num[24];
		if (s->has_keys) {
			if (c->keys && c->keys[i]) {
				key = c->keys[i];
			} else {
				snprintf(num, sizeof num, "%llu", (unsigned long long)s->recno + i + 1);
				key = num;
			}
			if (strpbrk(key, "\t\n\r"))
				emb_die(EMB_EXIT_DATA, "row %llu: key holds a TAB or line break; "
					"it cannot be written as TSV", (unsigned long long)s->recno + i + 1);
		}
		size_t klen = key ? strlen(key) : 0;
		if (cap + klen > s->raw_cap) {
			s->raw_cap = cap + klen;
			free(s->raw);
			s->raw = emb_xmalloc(s->raw_cap);
		}
		char *o = (char *)s->raw;
		if (key) {
			memcpy(o, key, klen);
			o += klen;
		}
		for (size_t j = 0; j < c->dim; j++) {
			if (key || j)
				*o++ = '\t';
			if (c->type == EMB_F64 && s->dtype == EMB_F64)
				o += emb_format_f64(o, emb_row_f64(c, i)[j]);
			else
				o += emb_format_f32(o, (float)emb_get(c, i, j));
		}
		*o++ = '\n';
		emb_write_bytes(s, s->raw, (size_t)(o - (char *)s->raw));
	}
}
