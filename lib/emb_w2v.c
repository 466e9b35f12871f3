/*
 * emb_w2v.c - word2vec text and binary, fastText .vec and GloVe (emb.5,
 * "Other formats").
 *
 *   w2v, vec   "N D" line, then "word v1 ... vD" lines (a trailing space is
 *              common); rows are parsed by emb_tsv.c with the key rule
 *              "all but the last D fields"
 *   w2vbin     "N D" line, then per row "word" SP and D little-endian f32,
 *              optionally followed by a newline (the C tool writes one,
 *              gensim does too)
 *   glove      no header; "word v1 ... vD" lines
 *
 * The header's N is checked against the rows found: a short file is an
 * error, never a shorter vocabulary, and rows after N (even N = 0) are
 * an error too.  Text writers refuse nan and inf, which text readers
 * refuse; word2vec binary carries them.
 */
#include <config.h>
#include "emb_impl.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The row count of a header written before the rows, until emb_close()
 * fills it in: two words, so that no reader takes the file for a
 * complete one (gensim and fastText want a number, and as TSV the second
 * word is not one). */
#define UNFINISHED "unfinished write"

/* The number at P (after blanks): its digits into *V, a minus sign into
 * *NEG; returns the end, or NULL if there is no number (or it overflows). */
static const char *count_field(const char *p, unsigned long long *v, bool *neg)
{
	p += strspn(p, " \t");
	*neg = *p == '-';
	p += *neg;
	if (!(*p >= '0' && *p <= '9'))
		return NULL;
	unsigned long long x = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (x > (ULLONG_MAX - 9) / 10)
			return NULL;
		x = x * 10 + (unsigned)(*p - '0');
	}
	*v = x;
	return p;
}

/* Read and check the "N D" line that both word2vec forms start with. */
static void read_count_line(struct emb_stream *s)
{
	errno = 0;
	ssize_t n = getline(&s->line, &s->line_cap, s->fp);
	if (n < 0 && errno == ENOMEM)
		emb_die_at(s->name, 1, "out of memory reading the line");
	if (n < 0 && ferror(s->fp))
		emb_die(EMB_EXIT_DATA, "%s: read error: %s", s->name, strerror(errno));
	s->lineno = 1;
	if (n > 0 && strncmp(s->line + strspn(s->line, " "), UNFINISHED,
			     strlen(UNFINISHED)) == 0)
		emb_die_at(s->name, 1, "incomplete file: its writer stopped before it wrote "
			   "the row count");
	unsigned long long rows = 0, dim = 0;
	bool rneg = false, dneg = false;
	const char *p = n > 0 ? count_field(s->line, &rows, &rneg) : NULL;
	if (p && (*p == ' ' || *p == '\t'))
		p = count_field(p, &dim, &dneg);
	else
		p = NULL;
	if (p)
		p += strspn(p, " \t\r\n");
	if (!p || *p || (rneg && !rows) || (dneg && !dim))
		emb_die_at(s->name, 1, "not a word2vec header (want \"ROWS DIM\")");
	if (rneg)
		emb_die_at(s->name, 1, "negative row count -%llu in header", rows);
	if (dneg)
		emb_die_at(s->name, 1, "negative dim -%llu in header", dim);
	if (dim == 0 || dim > EMB_MAX_DIM)
		emb_die_at(s->name, 1, "header claims dim %llu (want 1 to %u)", dim, EMB_MAX_DIM);
	s->offset = (uint64_t)n;
	s->dim = (size_t)dim;
	s->total_rows = rows;
	s->has_keys = true;
	s->text_keys = 1;
	s->tsv_sep = ' ';
	/* Even with 0 rows the rows are read: data after them is an error. */
}

void emb_w2v_read_header(struct emb_stream *s)
{
	read_count_line(s);
}

void emb_glove_read_header(struct emb_stream *s)
{
	s->text_keys = 1;
	s->tsv_keys_opt = EMB_YES;
	emb_tsv_read_header(s);
	s->tsv_sep = ' ';
}

void emb_w2vbin_read_header(struct emb_stream *s)
{
	read_count_line(s);
}

/* One binary row's key: bytes up to a space, after the newline that
 * ended the previous row.  Returns false at a clean end of file. */
static bool read_bin_key(struct emb_stream *s, struct emb_chunk *c, size_t i)
{
	int ch;
	size_t len = 0;
	uint64_t start = s->offset;
	while ((ch = getc_unlocked(s->fp)) == '\n')
		start = ++s->offset;
	for (; ch != EOF && ch != ' '; ch = getc_unlocked(s->fp)) {
		if (len + 1 >= s->line_cap) {
			s->line_cap = s->line_cap ? 2 * s->line_cap : 256;
			s->line = emb_xrealloc(s->line, s->line_cap);
		}
		if (len >= EMB_MAX_KEY_LEN)
			emb_die_offset(s->name, start, "key longer than %d bytes", EMB_MAX_KEY_LEN);
		if (ch == '\0')
			emb_die_offset(s->name, s->offset + len, "NUL byte in the key of row %llu",
				       (unsigned long long)(s->recno + i + 1));
		s->line[len++] = (char)ch;
	}
	if (ferror(s->fp))
		emb_die(EMB_EXIT_DATA, "%s: read error: %s", s->name, strerror(errno));
	if (ch == EOF && len == 0)
		return false;
	if (ch == EOF)
		emb_die_offset(s->name, start, "truncated file: row %llu has a key but no values",
			       (unsigned long long)(s->recno + i + 1));
	s->offset += len + 1;
	emb_chunk_set_key(c, i, s->line, len);
	return true;
}

size_t emb_w2vbin_read_rows(struct emb_stream *s, struct emb_chunk *c)
{
	size_t want = emb_batch_rows(s->dim, EMB_F32), rows = 0;
	emb_chunk_reserve(c, want, s->dim, s->mtype, true);
	size_t vbytes = s->dim * 4;
	if (s->raw_cap < vbytes) {
		free(s->raw);
		s->raw = emb_xmalloc(vbytes);
		s->raw_cap = vbytes;
	}
	while (rows < want && s->recno + rows < s->total_rows) {
		emb_chunk_set_pos(c, rows, s->offset);
		if (!read_bin_key(s, c, rows))
			emb_die_offset(s->name, s->offset, "the header promises %llu rows, "
				       "the file holds %llu", (unsigned long long)s->total_rows,
				       (unsigned long long)(s->recno + rows));
		emb_need_bytes(s, s->raw, vbytes, "row values");
		emb_from_disk((char *)c->data + rows * s->dim * emb_dtype_size(s->mtype), s->raw,
			      s->dim, EMB_F32, s->mtype);
		rows++;
	}
	s->recno += rows;
	if (s->recno == s->total_rows) {
		int ch;
		while ((ch = getc_unlocked(s->fp)) == '\n' || ch == '\r' || ch == ' ')
			s->offset++;
		if (ch != EOF)
			emb_die_offset(s->name, s->offset, "data after the %llu rows the header "
				       "promises", (unsigned long long)s->total_rows);
		s->at_eof = true;
	}
	c->rows = rows;
	return rows;
}

size_t emb_w2v_count_header(const struct emb_stream *s, uint64_t rows, int width,
			    char *buf, size_t cap)
{
	if (rows == EMB_ROWS_UNKNOWN)
		return (size_t)snprintf(buf, cap, "%*s %zu\n", width, UNFINISHED, s->dim);
	return (size_t)snprintf(buf, cap, "%*llu %zu\n", width, (unsigned long long)rows, s->dim);
}

_Noreturn void emb_refuse_nonfinite(const struct emb_stream *s, size_t i, size_t j, double v)
{
	emb_die(EMB_EXIT_DATA, "row %llu: value %zu is %s, which %s cannot hold",
		(unsigned long long)(s->recno + i + 1), j + 1,
		isnan(v) ? "nan" : v < 0 ? "-inf" : "inf", emb_codecs[s->format].name);
}

/* Keys of word-vector files end at a blank and never hold a line break. */
static const char *check_key(const struct emb_stream *s, const char *key, uint64_t rowno,
			     bool binary)
{
	if (!*key || strpbrk(key, binary ? " \n" : " \t\n\r"))
		emb_die(EMB_EXIT_DATA, "row %llu: key '%.40s' is empty or holds a blank; "
			"it cannot be written as %s", (unsigned long long)rowno, key,
			emb_codecs[s->format].name);
	return key;
}

void emb_w2v_write_rows(struct emb_stream *s, const struct emb_chunk *c)
{
	size_t cap = c->dim * 26 + 16;
	for (size_t i = 0; i < c->rows; i++) {
		char num[24];
		const char *key = check_key(s, emb_row_key(c, i, s->row_next, num),
					    s->recno + i + 1, false);
		size_t klen = strlen(key);
		if (cap + klen > s->raw_cap) {
			s->raw_cap = cap + klen;
			free(s->raw);
			s->raw = emb_xmalloc(s->raw_cap);
		}
		char *o = (char *)s->raw;
		memcpy(o, key, klen);
		o += klen;
		for (size_t j = 0; j < c->dim; j++) {
			double v = emb_get(c, i, j);
			if (!isfinite(v)) /* text readers refuse them */
				emb_refuse_nonfinite(s, i, j, v);
			*o++ = ' ';
			if (c->type == EMB_F64 && s->dtype == EMB_F64)
				o += emb_format_f64(o, v);
			else
				o += emb_format_f32(o, (float)v);
		}
		*o++ = '\n';
		emb_write_bytes(s, s->raw, (size_t)(o - (char *)s->raw));
	}
}

void emb_w2vbin_write_rows(struct emb_stream *s, const struct emb_chunk *c)
{
	size_t vbytes = c->dim * 4;
	if (s->raw_cap < vbytes) {
		free(s->raw);
		s->raw = emb_xmalloc(vbytes);
		s->raw_cap = vbytes;
	}
	for (size_t i = 0; i < c->rows; i++) {
		char num[24];
		const char *key = check_key(s, emb_row_key(c, i, s->row_next, num),
					    s->recno + i + 1, true);
		emb_write_bytes(s, key, strlen(key));
		emb_write_bytes(s, " ", 1);
		emb_to_disk_counted(s, s->raw, (const char *)c->data + i * c->dim * emb_dtype_size(c->type),
			    c->dim, c->type, EMB_F32);
		emb_write_bytes(s, s->raw, vbytes);
		emb_write_bytes(s, "\n", 1);
	}
}
