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
#define _GNU_SOURCE /* memrchr */
#include <config.h>
#include "emb.h"
#include "emb_impl.h"
#include "emb_par.h"
#include "emb_parse.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* ---- the block reader: plain TSV rows, parsed by threads ----
 *
 * After the header, TSV input (not word-vector text, whose keys need the
 * line-at-a-time rule) is read in blocks of whole lines, BLOCK_BYTES of
 * text each (a longer line grows its block).  Each block is parsed on its
 * own, by a worker thread when the input is longer than one block, into
 * values, keys (offsets into the block's text) and each row's line within
 * the block; the reading thread hands the rows out in file order and makes
 * the line numbers absolute by counting the lines of the blocks before.
 * A worker stops at the first line it cannot take as a row or skip (a
 * blank line, a comment); the reading thread, when it gets there, runs
 * that line through the line-at-a-time code above, which dies with the
 * message it always gave.  So the error reported is the first in the file
 * whatever the threads, with its line number, and a chunk holds the same
 * rows as when read line by line.  Memory: NSLOTS blocks of text and of
 * parsed rows, whatever the input's length.
 *
 * A regular file (not standard input) is mapped, read-only: its blocks
 * are taken in place, without read(2)'s copy, up to the last line that
 * ends at least BLOCK_PAD bytes before the end of the file, so that what
 * the parsers read past a block's end is still the file's; the rest is
 * read through stdio like any input.  Nothing writes to a mapped block:
 * parse_line() works on a copy of the line (every line of a mapped block
 * is at most a block long), and the pages of blocks handed out are given
 * back.  A file cut short under the mapping is reported, not a crash
 * (emb_map_watch); the workers leave SIGBUS unblocked for that.
 *
 * EMB_THREADS=N caps the workers (1: parse in the reading thread; default
 * one per CPU this process may run on, at most MAX_THREADS); EMB_TSV_BLOCK
 * sets the block size, so tests can cross block edges with small files.
 */
#define BLOCK_BYTES ((size_t)1 << 20)
/* Zeros after a block's text: row_fast() reads 64 bytes at a time. */
#define BLOCK_PAD 64
_Static_assert(BLOCK_PAD >= EMB_PARSE_PAD, "the number parsers read EMB_PARSE_PAD bytes");
#define MAX_THREADS 16

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_BUSY, SLOT_DONE };

struct tsv_block {
	enum slot_state state;
	uint64_t seq;           /* its place in the input, from 0 */
	char *buf;              /* len bytes of text, then BLOCK_PAD zeros,
				 * or, when mapped, the file's bytes */
	size_t cap, len;
	bool mapped;            /* buf points into the file's mapping */
	char *line_copy;        /* mapped: parse_line()'s copy of a line,
				 * block_bytes + BLOCK_PAD bytes */
	bool no_newline;        /* the input ends in this block without a '\n' */
	bool oom;               /* its first line did not fit in memory */
	/* the worker's results: rows[i] is line line[i] (from 0) of the block */
	unsigned char *vals;    /* rows * dim values in the stream's mtype */
	unsigned char *dest;    /* ... but rows below dest_rows go to dest: */
	size_t dest_rows;       /* the reader's chunk, with no thread (no copy) */
	size_t *key_off;        /* has_keys: row i's key at buf + key_off[i] ... */
	size_t *key_len;        /* ... key_len[i] bytes long */
	uint64_t *line;
	size_t rows, rows_cap;
	uint64_t lines;         /* lines in the block */
	bool bad, bad_nul;      /* stopped at line bad_line, at buf + bad_off, */
	uint64_t bad_line;      /* holding a NUL byte when bad_nul */
	size_t bad_off, bad_len;
};

struct emb_tsv_blocks {
	const struct emb_stream *s; /* workers read dim, mtype, has_keys, tsv_sep */
	struct tsv_block *slot;
	size_t nslots, block_bytes;
	int nthreads;
	pthread_t *threads;
	pthread_mutex_t mu;     /* guards the slots' state and stop */
	pthread_cond_t work, done;
	bool stop;
	uint64_t next_fill, next_take; /* block sequence numbers */
	size_t taken;           /* rows of block next_take handed out */
	char *carry;            /* a line begun at the end of the last block */
	size_t carry_len, carry_cap;
	bool eof;               /* the input is read to its end */
	enum { PARSE_SCALAR, PARSE_SSSE3, PARSE_AVX2 } simd; /* emb_parse.h's paths */
	char *map;              /* the mapped file, or NULL */
	size_t map_len;         /* bytes mapped (the file's size at open) */
	size_t map_next;        /* where the next mapped block starts */
	size_t map_end;         /* where mapped blocks stop (after a '\n') */
	size_t map_rel;         /* pages below this are given back */
	bool map_done;          /* blocks come from stdio again, at map_next */
};

/* The end of the field at P: its first blank or NUL.  The next field's
 * start then does not wait for this one's number to be parsed, so the
 * processor overlaps the parsing of neighbouring values (the chain from
 * one value's end to the next was the bottleneck).  Reads 16 bytes at a
 * time: the blocks are padded with BLOCK_PAD >= 16 zero bytes. */
static inline const char *field_end(const char *p)
{
#ifdef __SSE2__
	for (;;) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')),
						      _mm_cmpeq_epi8(v, _mm_set1_epi8(' '))),
					 _mm_cmpeq_epi8(v, _mm_setzero_si128()));
		unsigned bits = (unsigned)_mm_movemask_epi8(m);
		if (bits)
			return p + __builtin_ctz(bits);
		p += 16;
	}
#else
	while (*p && !is_blank(*p))
		p++;
	return p;
#endif
}

/* Parse the values of a row at P into ROW without dying: false at
 * anything parse_values() would refuse.  A number is good when it ends
 * where its field does (a number never holds a blank, so it cannot end
 * past it). */
static bool parse_values_fast(const struct emb_stream *s, const char *p, void *row)
{
	size_t d = 0, dim = s->dim;
	const char *end, *fe;
	if (s->mtype == EMB_F64) {
		double *o = row, v;
		for (;; p = fe) {
			while (is_blank(*p))
				p++;
			if (!*p)
				break;
			if (d == dim)
				return false;
			fe = field_end(p);
			if (!emb_parse_f64_fast(p, &end, &v) &&
			    !(emb_parse_f64(p, &end, &v) && isfinite(v)))
				return false;
			if (end != fe)
				return false;
			o[d++] = v;
		}
	} else {
		float *o = row, v;
		for (;; p = fe) {
			while (is_blank(*p))
				p++;
			if (!*p)
				break;
			if (d == dim)
				return false;
			fe = field_end(p);
			if (!emb_parse_f32_fast(p, &end, &v) &&
			    !(emb_parse_f32(p, &end, &v) && isfinite(v)))
				return false;
			if (end != fe)
				return false;
			o[d++] = v;
		}
	}
	return d == dim;
}

/* What parse_line() made of a line. */
enum line_kind { LINE_ROW, LINE_SKIP, LINE_BAD };

/* The line at P (in B, ending at its '\n' or at the block's end), the
 * way next_line() and emb_tsv_read_rows() take it: a row (its values in
 * VALS, its key in b->key_off/key_len[ROW]), a line to skip (blank, or a
 * comment), or a bad line (with a NUL in it when *NUL).  The line's end
 * becomes a NUL, and so does a CR before it; *RAW is its length before,
 * *NEXT the next line. */
static enum line_kind parse_line(const struct emb_stream *s, struct tsv_block *b, char *p,
				 size_t row, void *vals, char **next, size_t *raw_len, bool *nul)
{
	char *end = b->buf + b->len;
	char *nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl)
		nl = end; /* the last line, without a newline: *end is padding, 0 */
	size_t raw = *raw_len = (size_t)(nl - p);
	*next = nl + 1;
	/* KEYS: where a key found in the line's text P is, in the block. */
	size_t keys = (size_t)(p - b->buf);
	if (b->mapped) {
		/* A mapped block is never written: work on a copy, padded as
		 * the parsers need.  Its lines are at most a block long. */
		memcpy(b->line_copy, p, raw);
		memset(b->line_copy + raw, 0, BLOCK_PAD);
		p = b->line_copy;
	} else {
		*nl = '\0';
	}
	*nul = memchr(p, '\0', raw) != NULL;
	if (*nul)
		return LINE_BAD;
	if (raw && p[raw - 1] == '\r')
		p[raw - 1] = '\0';
	const char *q = p + strspn(p, " \t");
	if (!*q || (*q == '#' && !row_shaped(s, p)))
		return LINE_SKIP;
	const char *r = s->tsv_sep == ' ' ? q : p;
	if (s->has_keys) {
		size_t k = key_len(s, r);
		if (k > EMB_MAX_KEY_LEN)
			return LINE_BAD;
		b->key_off[row] = keys + (size_t)(r - p);
		b->key_len[row] = k;
		r += k;
	}
	return parse_values_fast(s, r, vals) ? LINE_ROW : LINE_BAD;
}

/* The end of the key at P: its first TAB (or blank, when the key ends at
 * a blank), line end or NUL; reads 16 bytes at a time, so within the
 * block's padding. */
static inline __attribute__((always_inline)) const char *key_end(const char *p, bool space)
{
#ifdef __SSE2__
	for (;;) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')),
						      _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
					 _mm_cmpeq_epi8(v, _mm_setzero_si128()));
		if (space)
			m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8(' ')));
		unsigned bits = (unsigned)_mm_movemask_epi8(m);
		if (bits)
			return p + __builtin_ctz(bits);
		p += 16;
	}
#else
	while (*p && *p != '\t' && *p != '\n' && !(space && *p == ' '))
		p++;
	return p;
#endif
}


/* The value at P exactly (finite only): where it ends, or NULL.  A
 * number starts with no white space (strtod would skip it, and a line
 * end with it).  Out of line: the fast paths' results stay in registers. */
static __attribute__((noinline)) const char *slow_f32(const char *p, float *out)
{
	unsigned char c = (unsigned char)*p;
	const char *end;
	if (emb_parse_f32_fast(p, &end, out))
		return end;
	if (c == ' ' || (c >= '\t' && c <= '\r') || c == '\0' ||
	    !emb_parse_f32(p, &end, out) || !isfinite(*out))
		return NULL;
	return end;
}

static __attribute__((noinline)) const char *slow_f64(const char *p, double *out)
{
	unsigned char c = (unsigned char)*p;
	const char *end;
	if (emb_parse_f64_fast(p, &end, out))
		return end;
	if (c == ' ' || (c >= '\t' && c <= '\r') || c == '\0' ||
	    !emb_parse_f64(p, &end, out) || !isfinite(*out))
		return NULL;
	return end;
}

/* The value at P into *OUT, by FAST or else exactly: where it ends, or
 * NULL where parse_line() decides. */
static inline __attribute__((always_inline)) const char *value_f32(const char *p, float *out,
								   parse_f32_fn *fast)
{
	const char *e;
	float v;
	if (fast(p, &e, &v)) {
		*out = v;
		return e;
	}
	return slow_f32(p, out);
}

static inline __attribute__((always_inline)) const char *value_f64(const char *p, double *out,
								   parse_f64_fn *fast)
{
	const char *e;
	double v;
	if (fast(p, &e, &v)) {
		*out = v;
		return e;
	}
	return slow_f64(p, out);
}

/* Bit i set: byte i of the 64 at P is white space or a control byte (at
 * most ' '): the bytes between numbers, since no number holds one. */
static inline __attribute__((always_inline)) uint64_t ws_mask(const char *p)
{
#ifdef __SSE2__
	uint64_t m = 0;
	for (int i = 0; i < 4; i++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
		__m128i w = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(' ')), v);
		m |= (uint64_t)(unsigned)_mm_movemask_epi8(w) << (16 * i);
	}
	return m;
#else
	uint64_t m = 0;
	for (int i = 0; i < 64; i++)
		m |= (uint64_t)((unsigned char)p[i] <= ' ') << i;
	return m;
#endif
}

#ifdef EMB_PARSE_ROW_AVX2
/* Marks parse_block_avx2's calls: the one-value parser is the SSSE3
 * path, but rows of floats go to emb_parse_row_f32_avx2 first. */
static inline __attribute__((target("avx2,bmi,bmi2"), always_inline))
bool row_f32_avx2(const char *p, const char **end, float *out)
{
	return emb_parse_f32_simd(p, end, out);
}

/* row_values() for floats with emb_parse_row_f32_avx2: it takes runs of
 * plain values, and each value it stops at is taken here as row_values()
 * takes it (R: the first value's first byte). */
static __attribute__((target("avx2,bmi,bmi2"), noinline))
const char *row_values_avx2(const char *r, const char *end, size_t dim, float *vals)
{
	size_t k = 0;
	for (;;) {
		const char *e;
		size_t got = emb_parse_row_f32_avx2(r, end, dim - k, vals + k, &e);
		if (got) {
			k += got;
			if (k == dim)
				return e;
			for (r = e; is_blank(*r); r++)
				;
		}
		e = value_f32(r, vals + k, row_f32_avx2);
		if (!e || ++k == dim)
			return e;
		if (!is_blank(*e))
			return NULL;
		for (r = e + 1; is_blank(*r); r++)
			;
	}
}
#endif

/* The DIM values at P (after the key) into VALS, doubles when F64:
 * where the last one ends, or NULL.  Where each value starts comes from
 * masks of the white space 64 bytes at a time, not from where the value
 * before ended, so that the parsing of neighbouring values overlaps; the
 * bytes between are checked after. */
static inline __attribute__((always_inline)) const char *row_values(const char *r, const char *end,
								    size_t dim, void *vals, bool f64,
								    parse_f32_fn *pf32,
								    parse_f64_fn *pf64)
{
	while (is_blank(*r))
		r++;
#ifdef EMB_PARSE_ROW_AVX2
	if (!f64 && pf32 == row_f32_avx2)
		return row_values_avx2(r, end, dim, vals);
#endif
	const char *e, *at = r, *base = r;
	uint64_t ws = ws_mask(base), starts = ~ws & ((ws << 1) | 1);
	size_t size = f64 ? sizeof(double) : sizeof(float);
	char *o = vals, *last = o + (dim - 1) * size;
	for (;; o += size) {
		while (!starts) {
			uint64_t carry = ws >> 63;
			if (base + 64 >= end)
				return NULL; /* the rest is padding */
			base += 64;
			ws = ws_mask(base);
			starts = ~ws & ((ws << 1) | carry);
		}
		const char *v = base + __builtin_ctzll(starts);
		starts &= starts - 1;
		/* More than one byte since the last value: only blanks, or
		 * the row ended there. */
		for (; at < v; at++)
			if (!is_blank(*at))
				return NULL;
		e = f64 ? value_f64(v, (double *)(void *)o, pf64) : value_f32(v, (float *)(void *)o, pf32);
		if (!e || o == last)
			return e;
		if (!is_blank(*e))
			return NULL;
		at = e + 1;
	}
}

/* The row at P, in one pass that finds the line's end as it goes: false
 * for anything but a plain row of dim values (a blank line, a comment,
 * a bad value, a NUL, a CR but before the LF), which parse_line() then
 * decides.  Changes nothing in the text; *NEXT is the next line. */
static inline __attribute__((always_inline)) bool row_fast(const struct emb_stream *s,
							   struct tsv_block *b, const char *p,
							   size_t row, void *vals, const char **next,
							   parse_f32_fn *f32, parse_f64_fn *f64)
{
	const char *q = p;
	while (is_blank(*q))
		q++;
	if (*q == '#' || *q == '\n' || *q == '\r' || *q == '\0')
		return false;
	const char *r = s->tsv_sep == ' ' ? q : p;
	if (s->has_keys) {
		const char *k = key_end(r, s->tsv_sep == ' ');
		if (!is_blank(*k) || (size_t)(k - r) > EMB_MAX_KEY_LEN)
			return false;
		b->key_off[row] = (size_t)(r - b->buf);
		b->key_len[row] = (size_t)(k - r);
		r = k;
	}
	const char *e = s->mtype == EMB_F64 ? row_values(r, b->buf + b->len, s->dim, vals, true, f32, f64) :
			row_values(r, b->buf + b->len, s->dim, vals, false, f32, f64);
	if (!e)
		return false;
	while (is_blank(*e))
		e++;
	e += *e == '\r';
	if (*e == '\n')
		*next = e + 1;
	else if (e == b->buf + b->len)
		*next = e;
	else
		return false;
	return true;
}

/* A worker's job: every line of B, as next_line() and
 * emb_tsv_read_rows() would take them, up to the first bad one. */
static inline __attribute__((always_inline)) void parse_block_with(const struct emb_stream *s,
								   struct tsv_block *b,
								   parse_f32_fn *f32,
								   parse_f64_fn *f64)
{
	char *p = b->buf, *end = b->buf + b->len;
	size_t rowbytes = s->dim * emb_dtype_size(s->mtype), rows = 0;
	uint64_t line = 0;
	b->bad = b->bad_nul = false;
	for (; p < end; line++) {
		unsigned char *vals = rows < b->dest_rows ? b->dest + rows * rowbytes :
				      b->vals + (rows - b->dest_rows) * rowbytes;
		const char *next;
		if (row_fast(s, b, p, rows, vals, &next, f32, f64)) {
			b->line[rows++] = line;
			p = (char *)next;
			continue;
		}
		char *start = p;
		switch (parse_line(s, b, start, rows, vals, &p, &b->bad_len, &b->bad_nul)) {
		case LINE_ROW:
			b->line[rows++] = line;
			continue;
		case LINE_SKIP:
			continue;
		case LINE_BAD:
			break;
		}
		b->bad = true;
		b->bad_line = line;
		b->bad_off = (size_t)(start - b->buf);
		break;
	}
	b->rows = rows;
	b->lines = line;
}

static inline __attribute__((always_inline)) bool scalar_f32(const char *p, const char **end,
							     float *out)
{
	return emb_parse_f32_fast(p, end, out);
}

static inline __attribute__((always_inline)) bool scalar_f64(const char *p, const char **end,
							     double *out)
{
	return emb_parse_f64_fast(p, end, out);
}

static void parse_block_scalar(const struct emb_stream *s, struct tsv_block *b)
{
	parse_block_with(s, b, scalar_f32, scalar_f64);
}

#ifdef EMB_PARSE_SIMD
__attribute__((target("ssse3")))
static void parse_block_ssse3(const struct emb_stream *s, struct tsv_block *b)
{
	parse_block_with(s, b, emb_parse_f32_simd, emb_parse_f64_simd);
}
#endif

#ifdef EMB_PARSE_ROW_AVX2
__attribute__((target("avx2,bmi,bmi2")))
static void parse_block_avx2(const struct emb_stream *s, struct tsv_block *b)
{
	parse_block_with(s, b, row_f32_avx2, emb_parse_f64_simd);
}
#endif

static void parse_block(const struct emb_tsv_blocks *t, struct tsv_block *b)
{
#ifdef EMB_PARSE_ROW_AVX2
	if (t->simd == PARSE_AVX2) {
		parse_block_avx2(t->s, b);
		return;
	}
#endif
#ifdef EMB_PARSE_SIMD
	if (t->simd) {
		parse_block_ssse3(t->s, b);
		return;
	}
#endif
	parse_block_scalar(t->s, b);
}

/* The line a worker stopped at, read the line-at-a-time way: dies with
 * that line's message, exactly as reading line by line would. */
static _Noreturn void replay_bad_line(struct emb_stream *s, const struct tsv_block *b)
{
	uint64_t lineno = s->lineno + b->bad_line + 1;
	const char *p = b->buf + b->bad_off;
	if (b->bad_nul)
		emb_die_at(s->name, lineno, "line holds a NUL byte (binary data?)");
	if (b->no_newline && b->bad_off + b->bad_len == b->len)
		emb_warn_at(s->name, lineno, "last line has no newline (file cut short?)");
	s->tsv_row_line = lineno;
	if (b->mapped) {
		/* as parse_line() cut it: no newline, nor a CR before it */
		size_t raw = b->bad_len;
		char *copy = emb_xmalloc(raw + BLOCK_PAD);
		memcpy(copy, p, raw);
		memset(copy + raw, 0, BLOCK_PAD);
		if (raw && copy[raw - 1] == '\r')
			copy[raw - 1] = '\0';
		p = copy; /* not freed: we die below */
	}
	while (s->tsv_sep == ' ' && is_blank(*p))
		p++;
	if (s->has_keys) {
		size_t k = key_len(s, p);
		if (k > EMB_MAX_KEY_LEN)
			emb_die_at(s->name, lineno, "key longer than %d bytes", EMB_MAX_KEY_LEN);
		p += k;
	}
	void *row = emb_xmalloc(s->dim * emb_dtype_size(s->mtype));
	parse_values(s, p, row);
	/* parse_values_fast() and parse_values() disagree: a bug. */
	emb_die_at(s->name, lineno, "internal error: the block parser refused this line");
}

static void *worker(void *arg)
{
	struct emb_tsv_blocks *t = arg;
	pthread_mutex_lock(&t->mu);
	for (;;) {
		struct tsv_block *b = NULL;
		while (!t->stop) {
			/* The oldest queued block: the reader waits for it first. */
			for (size_t i = 0; i < t->nslots; i++)
				if (t->slot[i].state == SLOT_QUEUED && (!b || t->slot[i].seq < b->seq))
					b = &t->slot[i];
			if (b)
				break;
			pthread_cond_wait(&t->work, &t->mu);
		}
		if (t->stop)
			break;
		b->state = SLOT_BUSY;
		pthread_mutex_unlock(&t->mu);
		parse_block(t, b);
		pthread_mutex_lock(&t->mu);
		b->state = SLOT_DONE;
		pthread_cond_broadcast(&t->done);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

static void grow_rows(struct tsv_block *b, size_t rows, size_t rowbytes, bool keys)
{
	if (rows <= b->rows_cap)
		return;
	free(b->vals);
	free(b->key_off);
	free(b->key_len);
	free(b->line);
	b->vals = emb_xmalloc(emb_xmul(rows, rowbytes));
	b->key_off = keys ? emb_xmalloc(emb_xmul(rows, sizeof *b->key_off)) : NULL;
	b->key_len = keys ? emb_xmalloc(emb_xmul(rows, sizeof *b->key_len)) : NULL;
	b->line = emb_xmalloc(emb_xmul(rows, sizeof *b->line));
	b->rows_cap = rows;
}

/* The next block of whole lines of the mapping into B: false when the
 * mapped part is used up, and the rest is then read by stdio. */
static bool fill_mapped(struct emb_stream *s, struct emb_tsv_blocks *t, struct tsv_block *b)
{
	size_t left = t->map_end - t->map_next;
	char *at = t->map + t->map_next;
	char *nl = left ? memrchr(at, '\n', left < t->block_bytes ? left : t->block_bytes) : NULL;
	if (!nl) {
		/* Used up, or a line longer than a block: stdio from here. */
		if (fseeko(s->fp, (off_t)t->map_next, SEEK_SET) != 0)
			emb_die(EMB_EXIT_DATA, "%s: seek error: %s", s->name, strerror(errno));
		t->map_done = true;
		return false;
	}
	if (!b->line_copy)
		b->line_copy = emb_xmalloc(t->block_bytes + BLOCK_PAD);
	if (!b->mapped) {
		free(b->buf);
		b->buf = NULL;
		b->cap = 0;
	}
	b->mapped = true;
	b->buf = at;
	b->len = (size_t)(nl + 1 - at);
	t->map_next += b->len;
	return true;
}

/* Read the next block of whole lines into B; false at end of input. */
static bool fill_block(struct emb_stream *s, struct emb_tsv_blocks *t, struct tsv_block *b)
{
	b->dest_rows = 0;
	if (t->eof)
		return false;
	if (t->map && !t->map_done && fill_mapped(s, t, b))
		goto filled;
	if (b->mapped) {
		b->mapped = false;
		b->buf = NULL;
		b->cap = 0;
	}
	size_t have = t->carry_len, need = have + t->block_bytes + BLOCK_PAD;
	if (b->cap < need) {
		free(b->buf);
		b->buf = malloc(need);
		b->cap = b->buf ? need : 0;
		if (!b->buf)
			goto oom;
	}
	if (have) /* (carry is NULL before the first block) */
		memcpy(b->buf, t->carry, have);
	for (;;) {
		size_t want = b->cap - BLOCK_PAD - have;
		errno = 0;
		size_t got = fread(b->buf + have, 1, want, s->fp);
		have += got;
		if (got < want) {
			if (ferror(s->fp))
				emb_die(EMB_EXIT_DATA, "%s: read error: %s", s->name, strerror(errno));
			t->eof = true;
			b->len = have;
			break;
		}
		const char *nl = memrchr(b->buf, '\n', have);
		if (nl) {
			b->len = (size_t)(nl + 1 - b->buf);
			break;
		}
		/* One line longer than the block: double it.  If memory runs
		 * out, the line (this block's first) is named when the rows
		 * before it have been handed out and its number is known. */
		char *nb = b->cap <= SIZE_MAX / 2 ? realloc(b->buf, 2 * b->cap) : NULL;
		if (!nb)
			goto oom;
		b->buf = nb;
		b->cap *= 2;
	}
	t->carry_len = have - b->len;
	if (t->carry_len > t->carry_cap) {
		t->carry_cap = t->carry_len;
		t->carry = emb_xrealloc(t->carry, t->carry_cap);
	}
	if (t->carry_len)
		memcpy(t->carry, b->buf + b->len, t->carry_len);
	if (b->len == 0)
		return false;
	memset(b->buf + b->len, 0, BLOCK_PAD);
filled:
	b->no_newline = b->buf[b->len - 1] != '\n';
	b->seq = t->next_fill++;
	/* A row takes at least 2 * dim bytes ("0" and a blank or newline per
	 * value), the last one of the input 2 * dim - 1.  A block grown for
	 * a long line counts its lines instead. */
	size_t rows = (b->len + 1) / (2 * s->dim) + 1;
	if (b->len > 2 * t->block_bytes) {
		size_t lines = 1;
		for (const char *p = b->buf, *end = p + b->len;
		     (p = memchr(p, '\n', (size_t)(end - p))); p++)
			lines++;
		if (lines < rows)
			rows = lines;
	}
	grow_rows(b, rows, s->dim * emb_dtype_size(s->mtype), s->has_keys);
	b->rows = 0;
	b->oom = false;
	return true;
oom:
	/* The line begun in the carry (or the block's first) does not fit:
	 * named once the rows before it are handed out. */
	t->eof = true;
	t->carry_len = 0;
	b->len = 0;
	b->oom = true;
	b->no_newline = false;
	b->seq = t->next_fill++;
	b->rows = 0;
	return true;
}

static void queue_block(struct emb_tsv_blocks *t, struct tsv_block *b)
{
	pthread_mutex_lock(&t->mu);
	b->state = SLOT_QUEUED;
	pthread_cond_signal(&t->work);
	pthread_mutex_unlock(&t->mu);
}

/* Workers to start: emb_threads(), at most MAX_THREADS. */
static int thread_count(void)
{
	unsigned n = emb_threads();
	return n > MAX_THREADS ? MAX_THREADS : (int)n;
}

static size_t block_size(void)
{
	const char *env = getenv("EMB_TSV_BLOCK");
	if (!env)
		return BLOCK_BYTES;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(env, &end, 10);
	if (end == env || *end || errno || n < 1 || n > ((size_t)1 << 30))
		emb_usage_error("EMB_TSV_BLOCK: '%s' is not a block size (1 to 2^30 bytes)",
			env);
	return (size_t)n;
}

/* Map S's file for the block reader if it is a regular file other than
 * standard input (whose offset others share) with more than a block
 * left: t->map_next is where stdio stands, t->map_end after the last
 * line that ends BLOCK_PAD bytes or more before the end. */
static void map_file(struct emb_stream *s, struct emb_tsv_blocks *t)
{
	struct stat st;
	int fd = fileno(s->fp);
	if (s->fp == stdin || s->src_fp || fd < 0 || fstat(fd, &st) != 0 ||
	    !S_ISREG(st.st_mode) || (uint64_t)st.st_size > SIZE_MAX)
		return;
	off_t at = ftello(s->fp);
	size_t size = (size_t)st.st_size;
	if (at < 0 || (uint64_t)at >= size || size - (size_t)at < t->block_bytes + BLOCK_PAD)
		return;
	char *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return;
	/* Watched before the first touch: the file may shrink at once. */
	if (!emb_map_watch(m, size, s->name, fd)) {
		munmap(m, size);
		return;
	}
	char *nl = memrchr(m + at, '\n', size - BLOCK_PAD - (size_t)at);
	if (!nl) {
		emb_map_unwatch(m);
		munmap(m, size);
		return;
	}
	(void)madvise(m, size, MADV_SEQUENTIAL);
	t->map = m;
	t->map_len = size;
	t->map_next = t->map_rel = (size_t)at;
	t->map_end = (size_t)(nl + 1 - m);
}

static void unmap_file(struct emb_tsv_blocks *t)
{
	if (!t->map)
		return;
	emb_map_unwatch(t->map);
	munmap(t->map, t->map_len);
	t->map = NULL;
}

/* A file cut short under the mapping faults (SIGBUS) past its last page,
 * but the rest of that page reads as zeros: a line cut there is bad, and
 * if the file is shorter than mapped, that is the error to report. */
static void check_shrunk(const struct emb_stream *s, const struct emb_tsv_blocks *t)
{
	struct stat st;
	if (fstat(fileno(s->fp), &st) == 0 && (uint64_t)st.st_size < t->map_len)
		emb_die_offset(s->name, (uint64_t)st.st_size, "file shrank while being read");
}

/* Give back the pages of the mapping below UPTO (its blocks are handed
 * out, and nothing points into them), a few MB at a time: the file's
 * pages stay in the page cache, but not in our resident set. */
static void map_release(struct emb_tsv_blocks *t, size_t upto)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t end = page ? upto / page * page : 0;
	if (end >= t->map_rel + (8u << 20)) {
		(void)madvise(t->map + t->map_rel, end - t->map_rel, MADV_DONTNEED);
		t->map_rel = end;
	}
}

/* Start reading S by blocks: workers only when the input is longer than
 * one block (a short file is parsed before threads would have started). */
static struct emb_tsv_blocks *blocks_open(struct emb_stream *s)
{
	struct emb_tsv_blocks *t = emb_xcalloc(1, sizeof *t);
	t->s = s;
	t->block_bytes = block_size();
#ifdef EMB_PARSE_SIMD
	t->simd = emb_parse_simd() ? PARSE_SSSE3 : PARSE_SCALAR;
#endif
#ifdef EMB_PARSE_ROW_AVX2
	if (t->simd && emb_parse_row_avx2())
		t->simd = PARSE_AVX2;
#endif
	int n = thread_count();
	t->nslots = n > 1 ? 2 * (size_t)n + 1 : 1;
	t->slot = emb_xcalloc(t->nslots, sizeof *t->slot);
	s->tsv_blocks = t;
	map_file(s, t);
	if (!fill_block(s, t, &t->slot[0]))
		return t;
	t->slot[0].state = SLOT_QUEUED;
	if (n == 1 || t->eof)
		return t;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->work, NULL);
	pthread_cond_init(&t->done, NULL);
	t->threads = emb_xcalloc((size_t)n, sizeof *t->threads);
	/* Signals stay with the reading thread: workers block them all but
	 * SIGBUS, which a file cut short under the mapping raises in the
	 * thread that reads it.  A worker needs little stack (strtod's at
	 * most).  Threads that cannot start (ulimit -v, a process limit) are
	 * done without: with none, this thread parses. */
	sigset_t all, old;
	sigfillset(&all);
	sigdelset(&all, SIGBUS);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, (size_t)1 << 19);
	for (int i = 0; i < n; i++) {
		if (pthread_create(&t->threads[i], &attr, worker, t) != 0)
			break;
		t->nthreads++;
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!t->nthreads) {
		t->nslots = 1; /* slot 0, refilled in turn */
		return t;
	}
	for (size_t i = 1; i < t->nslots && fill_block(s, t, &t->slot[i]); i++)
		queue_block(t, &t->slot[i]);
	return t;
}

static void blocks_stop(struct emb_tsv_blocks *t)
{
	if (!t->nthreads)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = true;
	pthread_cond_broadcast(&t->work);
	pthread_mutex_unlock(&t->mu);
	for (int i = 0; i < t->nthreads; i++)
		pthread_join(t->threads[i], NULL);
	t->nthreads = 0;
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->work);
	pthread_cond_destroy(&t->done);
}

void emb_tsv_close(struct emb_stream *s)
{
	struct emb_tsv_blocks *t = s->tsv_blocks;
	if (!t)
		return;
	blocks_stop(t);
	unmap_file(t);
	for (size_t i = 0; i < t->nslots; i++) {
		struct tsv_block *b = &t->slot[i];
		if (!b->mapped)
			free(b->buf);
		free(b->line_copy);
		free(b->vals);
		free(b->key_off);
		free(b->key_len);
		free(b->line);
	}
	free(t->slot);
	free(t->threads);
	free(t->carry);
	free(t);
	s->tsv_blocks = NULL;
}

/* Rows ROWS.. of C (up to WANT) from the blocks; returns the new row
 * count, ROWS at end of input. */
static size_t blocks_take(struct emb_stream *s, struct emb_chunk *c, size_t rows, size_t want)
{
	struct emb_tsv_blocks *t = s->tsv_blocks ? s->tsv_blocks : blocks_open(s);
	size_t rowbytes = s->dim * emb_dtype_size(s->mtype);
	while (rows < want) {
		struct tsv_block *b = &t->slot[t->next_take % t->nslots];
		if (!t->nthreads) {
			if (b->state == SLOT_FREE)
				break; /* end of input */
			if (b->state == SLOT_QUEUED) {
				/* into the chunk, as far as it has room */
				b->dest = (unsigned char *)c->data + rows * rowbytes;
				b->dest_rows = want - rows;
				parse_block(t, b);
			}
			b->state = SLOT_DONE;
		} else {
			/* A slot is free only when the input is used up. */
			pthread_mutex_lock(&t->mu);
			while (b->state != SLOT_DONE && b->state != SLOT_FREE)
				pthread_cond_wait(&t->done, &t->mu);
			bool done = b->state == SLOT_DONE;
			pthread_mutex_unlock(&t->mu);
			if (!done)
				break;
		}
		if (b->oom)
			emb_die_at(s->name, s->lineno + 1, "out of memory");
		if (t->taken == b->rows) {
			/* The block is handed out: its bad line, if any, is next. */
			if (b->bad && b->mapped)
				check_shrunk(s, t);
			if (b->bad)
				replay_bad_line(s, b);
			s->lineno += b->lines;
			s->offset += b->len;
			if (b->mapped)
				map_release(t, (size_t)(b->buf + b->len - t->map));
			if (b->no_newline)
				emb_warn_at(s->name, s->lineno, "last line has no newline "
					    "(file cut short?)");
			t->taken = 0;
			t->next_take++;
			if (t->nthreads) {
				pthread_mutex_lock(&t->mu);
				b->state = SLOT_FREE;
				pthread_mutex_unlock(&t->mu);
			} else {
				b->state = SLOT_FREE;
			}
			if (fill_block(s, t, b)) {
				if (t->nthreads)
					queue_block(t, b);
				else
					b->state = SLOT_QUEUED;
			}
			continue;
		}
		size_t n = b->rows - t->taken;
		if (n > want - rows)
			n = want - rows;
		size_t in_place = t->taken < b->dest_rows ? b->dest_rows - t->taken : 0;
		if (in_place > n)
			in_place = n;
		if (n > in_place)
			memcpy((char *)c->data + (rows + in_place) * rowbytes,
			       b->vals + (t->taken + in_place - b->dest_rows) * rowbytes,
			       (n - in_place) * rowbytes);
		for (size_t i = 0; i < n; i++) {
			size_t r = t->taken + i;
			emb_chunk_set_pos(c, rows + i, s->lineno + b->line[r] + 1);
			if (s->has_keys)
				emb_chunk_set_key(c, rows + i, b->buf + b->key_off[r], b->key_len[r]);
		}
		rows += n;
		t->taken += n;
	}
	if (rows < want) {
		blocks_stop(t); /* end of input: the workers are done */
		unmap_file(t);  /* and every block is handed out */
	}
	return rows;
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
	bool by_blocks = s->format == EMB_FMT_TSV && !s->text_keys;

	while (rows < want) {
		if (by_blocks && (!s->tsv_held || s->tsv_held_pos == s->tsv_held_len)) {
			/* The rows the header held are handed out: the rest by blocks. */
			free(s->tsv_held);
			s->tsv_held = NULL;
			size_t got = blocks_take(s, c, rows, want);
			if (got < want)
				s->at_eof = true;
			rows = got;
			break;
		}
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
 * decimal that reads back, about 40 ns a float), which is row by row: a
 * large chunk's rows are formatted on every core, each thread its own
 * range into its own part of one buffer, and written in order by the
 * caller, which also does everything that may stop the output (keys, a
 * value TSV cannot hold) exactly where one thread would.
 */
#define TSV_PAR_VALUES (1u << 16)   /* values a chunk needs for threads */

struct tsv_job {
	const struct emb_chunk *c;
	bool f64, tab0;     /* values are f64; a TAB before the first value */
	unsigned n;
	char **buf;         /* per part: its rows' values and newlines */
	size_t **end;       /* per part: where each row's text ends in buf */
	size_t *bad;        /* per part: its first row with a non-finite value */
};

/* The DIM floats at ROW as TSV at *O (a TAB before the first when TAB0),
 * moving *O on; false, and *O as it was, at a value TSV cannot hold,
 * which the caller then finds and reports.  The common case, without
 * emb_get()'s tests of the type for every value. */
static bool format_f32_row(char **o, const float *row, size_t dim, bool tab0)
{
	char *w = *o;
	for (size_t k = 0; k < dim; k++) {
		if (!isfinite(row[k]))
			return false;
		if (tab0 || k)
			*w++ = '\t';
		w += emb_format_f32(w, row[k]);
	}
	*o = w;
	return true;
}

static void tsv_format_part(void *arg, unsigned part)
{
	struct tsv_job *j = arg;
	const struct emb_chunk *c = j->c;
	size_t lo, hi;
	emb_par_range(c->rows, j->n, part, &lo, &hi);
	char *o = j->buf[part];
	j->bad[part] = SIZE_MAX;
	for (size_t i = lo; i < hi; i++) {
		bool done = c->type == EMB_F32 &&
			    format_f32_row(&o, (const float *)c->data + i * c->dim, c->dim, j->tab0);
		for (size_t k = 0; !done && k < c->dim; k++) {
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
		*o++ = '\n';
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
		bool done = !bits && c->type == EMB_F32 &&
			    format_f32_row(&o, (const float *)c->data + i * c->dim, c->dim, key);
		for (size_t j = 0; !bits && !done && j < c->dim; j++) {
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
	/* The parts' text in the stream's buffer, kept from chunk to chunk
	 * (fresh pages for every chunk cost the kernel a tenth of the time):
	 * a row takes at most 26 bytes a value (a TAB and any value either
	 * writer prints) and a newline, and the formatters may write 32
	 * bytes from a value's start. */
	size_t rowroom = emb_xmul(c->dim, 26) + 1, need = 0;
	for (unsigned p = 0; p < n; p++) {
		size_t lo, hi;
		emb_par_range(c->rows, n, p, &lo, &hi);
		need += emb_xmul(hi - lo, rowroom) + 32; /* (a chunk's rows: no overflow) */
		j.end[p] = emb_xmalloc(emb_xmul(hi - lo + 1, sizeof **j.end));
	}
	if (need > s->raw_cap) {
		free(s->raw);
		s->raw = emb_xmalloc(need);
		s->raw_cap = need;
	}
	size_t at = 0;
	for (unsigned p = 0; p < n; p++) {
		size_t lo, hi;
		emb_par_range(c->rows, n, p, &lo, &hi);
		j.buf[p] = (char *)s->raw + at;
		at += (hi - lo) * rowroom + 32;
	}
	emb_par_run(n, tsv_format_part, &j);
	for (unsigned p = 0; p < n; p++) {
		size_t lo, hi, from = 0;
		emb_par_range(c->rows, n, p, &lo, &hi);
		/* without keys, the part's rows in one write, up to a bad one */
		size_t upto = j.bad[p] < hi ? j.bad[p] : hi;
		if (!s->has_keys && upto > lo)
			emb_write_bytes(s, j.buf[p], j.end[p][upto - lo - 1]);
		for (size_t i = s->has_keys ? lo : upto; i < hi; i++) {
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
			emb_write_bytes(s, key, strlen(key));
			size_t e = j.end[p][i - lo];
			emb_write_bytes(s, j.buf[p] + from, e - from);
			from = e;
		}
		free(j.end[p]);
	}
	free(j.buf);
	free(j.end);
	free(j.bad);
}
