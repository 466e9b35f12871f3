/*
 * emb_tsv.c - the text form of a vector stream: one row per line, an
 * optional key column, then dim numbers (emb.5, "TSV").
 *
 * The key is everything before the first TAB when the first data line has
 * a TAB (so keys may hold spaces), else everything before the first blank.
 * Values are separated by runs of blanks (spaces or TABs); a trailing blank
 * and a CR before the LF are accepted.  Blank lines are not rows.  NaN and
 * infinity are rejected in text: they are almost always a bug upstream, and
 * every statistic downstream would turn to nan; the writer refuses them
 * too, so what it writes always reads back.
 *
 * Comments: a line whose first non-blank byte is '#' is a comment, unless
 * it has the shape of a row of the stream, a key and then exactly dim
 * numbers: then it is a row (GloVe has the word "#", and "#tag 0.5 0.6" is
 * a hashtag's vector).  A keyless row never starts with '#'.  Lines before
 * the first other line wait in s->tsv_held until that line fixes the shape.
 *
 * The mark: keyed output whose first key a reader would not take for a
 * key (one that looks like a number, as row numbers and numeric ids do,
 * starts with '#' or is empty) starts with the line "#emb keys", so it
 * reads back keyed; other output is plain.  A mark anywhere before the
 * first row makes the stream keyed, unless --keys/--no-keys decide.
 *
 * word2vec text, fastText .vec and GloVe rows are read here too (their
 * headers in emb_w2v.c): there every row has a key, and the key is all
 * but the last dim fields, so a word that looks like a number or holds a
 * space (GloVe 840B has some) is still a key, and '#' starts no comment.
 */
#include <config.h>
#include "emb.h"
#include "emb_impl.h"
#include "emb_par.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

/* The line that starts keyed TSV output (emb.5). */
#define TSV_MARK "#emb"

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

ssize_t emb_read_line(FILE *fp, const char *name, uint64_t lineno, char **line,
		      size_t *cap, size_t *raw)
{
	errno = 0;
	ssize_t n = getline(line, cap, fp);
	if (n < 0) {
		if (ferror(fp))
			emb_die(EMB_EXIT_DATA, "%s: read error: %s", name, strerror(errno));
		/* glibc reports a line too long for memory as end of file with
		 * errno set, and no ferror(): it is not the end of the data. */
		if (errno == ENOMEM || errno == EOVERFLOW)
			emb_die_at(name, lineno, "out of memory");
		return -1;
	}
	if (raw)
		*raw = (size_t)n;
	if (memchr(*line, '\0', (size_t)n))
		emb_die_at(name, lineno, "line holds a NUL byte (binary data?)");
	if ((*line)[n - 1] == '\n')
		(*line)[--n] = '\0';
	else
		emb_warn_at(name, lineno, "last line has no newline (file cut short?)");
	if (n > 0 && (*line)[n - 1] == '\r')
		(*line)[--n] = '\0';
	return n;
}

/* Read the next non-blank line into s->line, NUL-terminated with the line
 * end removed; returns its length, or -1 at end of input. */
static ssize_t next_text_line(struct emb_stream *s)
{
	for (;;) {
		size_t raw;
		ssize_t n = emb_read_line(s->fp, s->name, s->lineno + 1, &s->line,
					  &s->line_cap, &raw);
		if (n < 0)
			return -1;
		s->offset += raw;
		s->lineno++;
		if (s->line[strspn(s->line, " \t")] != '\0')
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

/* Does LINE start (after blanks) with '#', in a format that has comments? */
static bool hash_line(const struct emb_stream *s, const char *line)
{
	return !s->text_keys && line[strspn(line, " \t")] == '#';
}

/* How many fields follow the key of LINE, if all are numbers (finite or
 * not: a row with a nan is a bad row, not a comment); SIZE_MAX if one is
 * not a number. */
static size_t numbers_after_key(const struct emb_stream *s, const char *line)
{
	const char *p = line;
	if (s->tsv_sep == ' ')
		p += strspn(p, " \t");
	p += key_len(s, p);
	size_t d = 0;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			return d;
		const char *end;
		double v;
		if (!emb_parse_f64(p, &end, &v) || (*end && !is_blank(*end)))
			return SIZE_MAX;
		d++;
		p = end;
	}
}

/* Has LINE the shape of a row of S: a key, then exactly dim numbers? */
static bool row_shaped(const struct emb_stream *s, const char *line)
{
	return s->has_keys && numbers_after_key(s, line) == s->dim;
}

/* The next data line (comments skipped), as next_text_line. */
static ssize_t next_line(struct emb_stream *s)
{
	for (;;) {
		ssize_t n = next_text_line(s);
		if (n < 0 || !hash_line(s, s->line) || row_shaped(s, s->line))
			return n;
	}
}

/* Is LINE the mark, and does it say "keys"? */
static bool is_mark(const char *line, bool *keys)
{
	size_t m = strlen(TSV_MARK);
	if (strncmp(line, TSV_MARK, m) != 0 || (line[m] && !is_blank(line[m])))
		return false;
	for (const char *p = line + m;;) {
		p += strspn(p, " \t");
		size_t w = strcspn(p, " \t");
		if (!w)
			return true;
		if (w == 4 && strncmp(p, "keys", 4) == 0)
			*keys = true;
		p += w;
	}
}

/* Queue LINE (line number LINENO) in BUF, to be read as a row. */
static void hold(char **buf, size_t *len, size_t *cap, uint64_t lineno, const char *line)
{
	size_t n = strlen(line) + 1;
	if (*len + 8 + n > *cap) {
		*cap = 2 * (*len + 8 + n);
		*buf = emb_xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, &lineno, 8);
	memcpy(*buf + *len + 8, line, n);
	*len += 8 + n;
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
	emb_die_at(s->name, s->tsv_row_line, "expected a key and %zu values, found %zu fields",
		   s->dim, count_fields(p));
}

/* Is the field at P a number (nan and inf included: a keyless first row
 * with a nan in it is diagnosed, not taken for a key)? */
static bool whole_field_is_number(const char *p, bool *finite)
{
	const char *end;
	double v;
	bool ok = emb_parse_f64(p, &end, &v) && (*end == '\0' || is_blank(*end));
	*finite = ok && isfinite(v);
	return ok;
}

void emb_tsv_read_header(struct emb_stream *s)
{
	char *held = NULL;
	size_t len = 0, cap = 0;
	bool marked = false;
	const char *first = NULL; /* the line that fixes the shape */
	uint64_t first_line = 0;

	/* '#' lines before the first other line: the mark, comments, or rows
	 * whose key starts with '#' (known once that line fixes the shape). */
	while (next_text_line(s) >= 0) {
		if (!hash_line(s, s->line)) {
			first = s->line;
			first_line = s->lineno;
			break;
		}
		if (!is_mark(s->line, &marked))
			hold(&held, &len, &cap, s->lineno, s->line);
	}
	bool keyed = s->tsv_keys_opt == EMB_YES || (s->tsv_keys_opt == EMB_DETECT && marked);
	bool first_held = false;
	for (size_t at = 0; !first && keyed && at < len;) {
		/* Only '#' lines, in a keyed stream: the first that is a key and
		 * numbers is the first row (all the keys start with '#'). */
		const char *line = held + at + 8;
		s->tsv_sep = strchr(line, '\t') ? '\t' : ' ';
		size_t d = numbers_after_key(s, line);
		if (d && d != SIZE_MAX) {
			first = line;
			memcpy(&first_line, held + at, 8);
			first_held = true;
		}
		at += 8 + strlen(line) + 1;
	}
	if (!first) {
		free(held);
		s->at_eof = true;
		return;
	}
	s->tsv_sep = strchr(first, '\t') ? '\t' : ' ';
	const char *p = first;
	while (s->tsv_sep == ' ' && is_blank(*p))
		p++;
	bool finite = true;
	if (s->tsv_keys_opt == EMB_DETECT)
		s->has_keys = marked || !whole_field_is_number(p, &finite);
	else
		s->has_keys = s->tsv_keys_opt == EMB_YES;
	if (!finite && !s->has_keys)
		emb_die_at(s->name, first_line, "'%.*s' is not a finite number (if it is a key, "
			   "use --keys)", (int)strcspn(p, " \t"), p);
	if (s->has_keys)
		p += key_len(s, p);
	s->dim = count_fields(p);
	if (s->dim == 0)
		emb_die_at(s->name, first_line, "no values after the key");
	if (s->dim > EMB_MAX_DIM)
		emb_die_at(s->name, first_line, "%zu values in a row (limit %u)", s->dim, EMB_MAX_DIM);

	/* The rows to hand out first: the held lines of the row's shape, in
	 * order, then the first other line. */
	char *rows = NULL;
	size_t rlen = 0, rcap = 0;
	for (size_t at = 0; at < len;) {
		uint64_t lineno;
		memcpy(&lineno, held + at, 8);
		const char *line = held + at + 8;
		if (row_shaped(s, line))
			hold(&rows, &rlen, &rcap, lineno, line);
		at += 8 + strlen(line) + 1;
	}
	if (!first_held)
		hold(&rows, &rlen, &rcap, first_line, first);
	free(held);
	s->tsv_held = rows;
	s->tsv_held_len = rlen;
	s->tsv_held_pos = 0;
}

static _Noreturn void bad_value(const struct emb_stream *s, const char *p, const char *what)
{
	int len = (int)strcspn(p, " \t");
	if (len > 40)
		len = 40;
	emb_die_at(s->name, s->tsv_row_line, "'%.*s' is not a %snumber", len, p, what);
}

/* Parse the values of a line (after the key) into ROW. */
static void parse_values(struct emb_stream *s, const char *p, void *row)
{
	size_t d = 0;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		if (d == s->dim)
			emb_die_at(s->name, s->tsv_row_line, "expected %zu values, found %zu",
				   s->dim, d + count_fields(p));
		const char *end;
		bool ok, finite = false;
		if (s->mtype == EMB_F64) {
			double v = 0;
			ok = emb_parse_f64(p, &end, &v);
			finite = isfinite(v);
			((double *)row)[d] = v;
		} else {
			float v = 0;
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
		emb_die_at(s->name, s->tsv_row_line, "expected %zu values, found %zu", s->dim, d);
}

/* The next row's line, and its number in s->tsv_row_line: the rows the
 * header held first, then the file's.  NULL at end of input. */
static const char *next_row(struct emb_stream *s)
{
	if (s->tsv_held) {
		if (s->tsv_held_pos < s->tsv_held_len) {
			const char *line = s->tsv_held + s->tsv_held_pos + 8;
			memcpy(&s->tsv_row_line, s->tsv_held + s->tsv_held_pos, 8);
			s->tsv_held_pos += 8 + strlen(line) + 1;
			return line;
		}
		free(s->tsv_held);
		s->tsv_held = NULL;
	}
	if (next_line(s) < 0)
		return NULL;
	s->tsv_row_line = s->lineno;
	return s->line;
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
		const char *p = next_row(s);
		if (!p) {
			s->at_eof = true;
			if ((s->format == EMB_FMT_W2V || s->format == EMB_FMT_VEC) &&
			    s->recno + rows != s->total_rows)
				emb_die_at(s->name, s->lineno, "the header promises %llu rows, "
					   "the file holds %llu", (unsigned long long)s->total_rows,
					   (unsigned long long)(s->recno + rows));
			break;
		}
		emb_chunk_set_pos(c, rows, s->tsv_row_line);
		while (s->tsv_sep == ' ' && is_blank(*p))
			p++;
		if (s->has_keys) {
			size_t k = s->text_keys ? key_len_last_fields(s, p) : key_len(s, p);
			if (k > EMB_MAX_KEY_LEN)
				emb_die_at(s->name, s->tsv_row_line, "key longer than %d bytes",
					   EMB_MAX_KEY_LEN);
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

/* Would a reader take KEY, the first key of a stream, for something else:
 * a number (then the key column for a value), or a comment? */
static bool key_needs_mark(const char *key)
{
	bool finite;
	return !*key || *key == '#' || is_blank(*key) || whole_field_is_number(key, &finite);
}

/*
 * Text output is bound by the formatting of the numbers (the shortest
 * decimal that reads back, a few snprintf calls each), which is row by
 * row: a large chunk's rows are formatted on every core, each thread its
 * own range into its own buffer, and written in order by the caller,
 * which also does everything that may stop the output (keys, a value TSV
 * cannot hold) exactly where one thread would.
 */
#define TSV_PAR_VALUES (1u << 16)   /* values a chunk needs for threads */

struct tsv_job {
	const struct emb_chunk *c;
	bool f64, tab0;     /* values are f64; a TAB before the first value */
	unsigned n;
	char **buf;         /* per part: its rows' values, back to back */
	size_t **end;       /* per part: where each row's values end in buf */
	size_t *bad;        /* per part: its first row with a non-finite value */
};

static void tsv_format_part(void *arg, unsigned part)
{
	struct tsv_job *j = arg;
	const struct emb_chunk *c = j->c;
	size_t lo, hi;
	emb_par_range(c->rows, j->n, part, &lo, &hi);
	char *o = j->buf[part];
	j->bad[part] = SIZE_MAX;
	for (size_t i = lo; i < hi; i++) {
		for (size_t k = 0; k < c->dim; k++) {
			if (j->tab0 || k)
				*o++ = '\t';
			double v = emb_get(c, i, k);
			if (!j->f64)
				v = (float)v;
			if (!isfinite(v)) {
				j->bad[part] = i;
				return;
			}
			o += j->f64 ? emb_format_f64(o, v) : emb_format_f32(o, (float)v);
		}
		j->end[part][i - lo] = (size_t)(o - j->buf[part]);
	}
}

static void tsv_write_rows_par(struct emb_stream *s, const struct emb_chunk *c, unsigned n);

void emb_tsv_write_rows(struct emb_stream *s, const struct emb_chunk *c)
{
	size_t cap = c->dim * 26 + 16;
	/* Codes print as integers, one thread: they are cheap to format. */
	unsigned nthr = emb_threads();
	if (nthr > 1 && !emb_dtype_is_code(s->dtype) && !emb_dtype_is_code(c->type) &&
	    c->rows >= 2 && c->rows * c->dim >= TSV_PAR_VALUES) {
		tsv_write_rows_par(s, c, c->rows < nthr ? (unsigned)c->rows : nthr);
		return;
	}
	/* A bit stream prints its packed bytes, as sentence-transformers'
	 * ubinary arrays print: ceil(dim/8) numbers 0..255 a row. */
	bool bits = s->dtype == EMB_BIT;
	size_t rb = emb_row_bytes(EMB_BIT, c->dim);
	unsigned char *packed = NULL;
	if (c->type != s->dtype)
		emb_codes_check(s, c->data, c->rows, c->dim, c->type, s->dtype, s->recno + 1);
	if (bits && c->type != EMB_BIT)
		packed = emb_xmalloc(rb ? rb : 1);
	for (size_t i = 0; i < c->rows; i++) {
		const char *key = NULL;
		char num[24];
		if (s->has_keys) {
			if (c->keys && c->keys[i]) {
				key = c->keys[i];
			} else {
				snprintf(num, sizeof num, "%llu", (unsigned long long)s->row_next + i);
				key = num;
			}
			if (strpbrk(key, "\t\n\r"))
				emb_die(EMB_EXIT_DATA, "row %llu: key holds a TAB or line break; "
					"it cannot be written as TSV", (unsigned long long)s->recno + i + 1);
		}
		if (key && s->recno + i == 0 && key_needs_mark(key))
			emb_write_bytes(s, TSV_MARK " keys\n", strlen(TSV_MARK " keys\n"));
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
		for (size_t j = 0; bits && j < rb; j++) {
			const unsigned char *row = (const unsigned char *)c->data + i * rb;
			if (packed && j == 0)
				emb_bits_pack(packed, (const char *)c->data + i * c->dim *
					      emb_dtype_size(c->type), c->dim, c->type);
			if (key || j)
				*o++ = '\t';
			o += sprintf(o, "%u", (unsigned)(packed ? packed : row)[j]);
		}
		for (size_t j = 0; !bits && j < c->dim; j++) {
			if (key || j)
				*o++ = '\t';
			bool f64 = c->type == EMB_F64 && s->dtype == EMB_F64;
			double v = emb_get(c, i, j);
			if (!f64)
				v = (float)v; /* what is written: an f64 beyond f32 is inf */
			if (!isfinite(v))
				emb_die(EMB_EXIT_DATA, "row %llu: value %zu is %s, which TSV cannot hold",
					(unsigned long long)s->recno + i + 1, j + 1,
					isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
			if (f64)
				o += emb_format_f64(o, v);
			else
				o += emb_format_f32(o, (float)v);
		}
		*o++ = '\n';
		emb_write_bytes(s, s->raw, (size_t)(o - (char *)s->raw));
	}
	free(packed);
}

/* The key of row I of C for output (NUM: room for a row number), after
 * the checks emb_tsv_write_rows makes; NULL for keyless output. */
static const char *tsv_key(struct emb_stream *s, const struct emb_chunk *c, size_t i, char *num)
{
	if (!s->has_keys)
		return NULL;
	const char *key = c->keys && c->keys[i] ? c->keys[i] : NULL;
	if (!key) {
		snprintf(num, 24, "%llu", (unsigned long long)s->row_next + i);
		key = num;
	}
	if (strpbrk(key, "\t\n\r"))
		emb_die(EMB_EXIT_DATA, "row %llu: key holds a TAB or line break; "
			"it cannot be written as TSV", (unsigned long long)s->recno + i + 1);
	if (s->recno + i == 0 && key_needs_mark(key))
		emb_write_bytes(s, TSV_MARK " keys\n", strlen(TSV_MARK " keys\n"));
	return key;
}

static void tsv_write_rows_par(struct emb_stream *s, const struct emb_chunk *c, unsigned n)
{
	struct tsv_job j = {c, c->type == EMB_F64 && s->dtype == EMB_F64, s->has_keys, n,
			    emb_xcalloc(n, sizeof *j.buf), emb_xcalloc(n, sizeof *j.end),
			    emb_xcalloc(n, sizeof *j.bad)};
	for (unsigned p = 0; p < n; p++) {
		size_t lo, hi;
		emb_par_range(c->rows, n, p, &lo, &hi);
		/* 26 bytes hold a TAB and any value either writer prints */
		j.buf[p] = emb_xmalloc(emb_xmul(emb_xmul(hi - lo, c->dim), 26) + 1);
		j.end[p] = emb_xmalloc(emb_xmul(hi - lo + 1, sizeof **j.end));
	}
	emb_par_run(n, tsv_format_part, &j);
	for (unsigned p = 0; p < n; p++) {
		size_t lo, hi, at = 0;
		emb_par_range(c->rows, n, p, &lo, &hi);
		for (size_t i = lo; i < hi; i++) {
			char num[24];
			const char *key = tsv_key(s, c, i, num);
			if (i == j.bad[p]) {
				size_t k = 0;
				double v = 0;
				for (; k < c->dim; k++) {
					v = emb_get(c, i, k);
					v = j.f64 ? v : (float)v;
					if (!isfinite(v))
						break;
				}
				emb_die(EMB_EXIT_DATA, "row %llu: value %zu is %s, which TSV cannot hold",
					(unsigned long long)s->recno + i + 1, k + 1,
					isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
			}
			if (key)
				emb_write_bytes(s, key, strlen(key));
			size_t e = j.end[p][i - lo];
			emb_write_bytes(s, j.buf[p] + at, e - at);
			emb_write_bytes(s, "\n", 1);
			at = e;
		}
		free(j.buf[p]);
		free(j.end[p]);
	}
	free(j.buf);
	free(j.end);
	free(j.bad);
}
