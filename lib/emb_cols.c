/*
 * emb_cols.c - read chosen columns of numbers from TSV (or blank-separated)
 * text into memory, fast: a large fread buffer, lines split in place, and
 * emb_parse_f64 instead of strtod.  Owner of struct emb_cols' buffers.
 */
#define _GNU_SOURCE /* memrchr */
#include <config.h>
#include "emb_corr.h"
#include "emb_par.h"
#include "emb_parse.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define READ_BLOCK (1u << 20)
/* Column numbers above this are surely typos. */
#define MAX_COLS 100000

/* A field of the current line: [p, end). */
struct field {
	const char *p, *end;
};

/* The reader's state for one file. */
struct reader {
	const char *name;
	uint64_t lineno;
	int sep;              /* '\t', or ' ' for runs of blanks; 0 = unknown */
	struct field *fields;
	size_t maxcol;        /* fields wanted per line */
	size_t *col;          /* slot -> 0-based column: x, y..., group */
	size_t nslots;
	bool *want;           /* maxcol flags: is the column in a slot? */
	double *vals;         /* maxcol values of the current line */
};

/* Split LINE (NUL-terminated, no newline) into the first r->maxcol fields;
 * returns how many it found. */
static size_t split(struct reader *r, char *line)
{
	size_t nf = 0;
	char *p = line;
	if (!r->sep)
		r->sep = strchr(line, '\t') ? '\t' : ' ';
	if (r->sep == ' ')
		while (*p == ' ' || *p == '\t')
			p++;
	while (nf < r->maxcol && *p) {
		char *q = p;
		if (r->sep == '\t') {
			while (*q && *q != '\t')
				q++;
		} else {
			while (*q && *q != ' ' && *q != '\t')
				q++;
		}
		r->fields[nf].p = p;
		r->fields[nf++].end = q;
		if (!*q)
			return nf;
		p = q + 1;
		if (r->sep == ' ')
			while (*p == ' ' || *p == '\t')
				p++;
		else if (!*p && nf < r->maxcol) {
			/* a trailing tab ends an empty last field */
			r->fields[nf].p = r->fields[nf].end = p;
			nf++;
		}
	}
	return nf;
}

static bool is_missing(const char *p, const char *end)
{
	size_t len = (size_t)(end - p);
	return len == 0 || (len == 2 && (p[0] == 'N' || p[0] == 'n') &&
			    (p[1] == 'A' || p[1] == 'a'));
}

/* The number in field F of column COL, NaN for a missing value. */
static double cell(const struct reader *r, const struct field *f, size_t col,
		   enum emb_nan_policy nan)
{
	double v;
	const char *end;
	bool ok = emb_parse_f64(f->p, &end, &v) && end == f->end;
	if (is_missing(f->p, f->end) || (ok && isnan(v))) {
		if (nan == EMB_NAN_ERROR)
			emb_die_at(r->name, r->lineno,
				   "column %zu: missing value (see --nan)", col + 1);
		return NAN;
	}
	if (!ok)
		emb_die_at(r->name, r->lineno, "column %zu: not a number: '%.*s'",
			   col + 1, (int)(f->end - f->p > 40 ? 40 : f->end - f->p), f->p);
	/* inf, -inf and overflowing numbers (1e400) have no rank or moment
	 * to give: an error, or a missing value under --nan omit/propagate
	 * (scipy's pearsonr raises on them). */
	if (!isfinite(v)) {
		if (nan == EMB_NAN_ERROR)
			emb_die_at(r->name, r->lineno,
				   "column %zu: value is not finite (see --nan)", col + 1);
		return NAN;
	}
	return v;
}

/* ---- group names: a small open-addressing hash of name -> id ---- */

struct group_index {
	uint32_t *slots;      /* id + 1, 0 = empty */
	size_t nslots;
};

static uint64_t hash(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211u;
	return h;
}

static uint32_t group_id(struct emb_cols *c, struct group_index *gi,
			 const char *p, size_t len)
{
	if (2 * (c->ngroups + 1) > gi->nslots) {
		size_t n = gi->nslots ? 2 * gi->nslots : 64;
		uint32_t *s = emb_xcalloc(n, sizeof *s);
		for (size_t g = 0; g < c->ngroups; g++) {
			const char *nm = c->group_names[g];
			size_t i = hash(nm, strlen(nm)) & (n - 1);
			while (s[i])
				i = (i + 1) & (n - 1);
			s[i] = (uint32_t)g + 1;
		}
		free(gi->slots);
		gi->slots = s;
		gi->nslots = n;
	}
	size_t i = hash(p, len) & (gi->nslots - 1);
	for (; gi->slots[i]; i = (i + 1) & (gi->nslots - 1)) {
		const char *nm = c->group_names[gi->slots[i] - 1];
		if (strncmp(nm, p, len) == 0 && nm[len] == '\0')
			return gi->slots[i] - 1;
	}
	if (c->ngroups == c->group_cap) {
		c->group_cap = c->group_cap ? 2 * c->group_cap : 16;
		c->group_names = emb_xrealloc(c->group_names,
					      emb_xmul(c->group_cap, sizeof *c->group_names));
	}
	char *nm = emb_xmalloc(len + 1);
	memcpy(nm, p, len);
	nm[len] = '\0';
	c->group_names[c->ngroups] = nm;
	gi->slots[i] = (uint32_t)c->ngroups + 1;
	return (uint32_t)c->ngroups++;
}

/* ---- column specs ---- */

/* A column spec as a 0-based number, or SIZE_MAX if it is not a number. */
static size_t spec_number(const char *s)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return SIZE_MAX;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v == 0 || v > MAX_COLS)
		return SIZE_MAX;
	return (size_t)v - 1;
}

/* Resolve spec S for option OPT; with a header line (split into HF, NH
 * fields) names are looked up in it. */
static size_t resolve(const char *opt, const char *s, const struct reader *r,
		      size_t nh)
{
	if (nh) {
		for (size_t i = 0; i < nh; i++)
			if ((size_t)(r->fields[i].end - r->fields[i].p) == strlen(s) &&
			    memcmp(r->fields[i].p, s, strlen(s)) == 0)
				return i;
	}
	size_t v = spec_number(s);
	if (v != SIZE_MAX)
		return v;
	if (nh)
		emb_die_at(r->name, 1, "%s: no column named '%s'", opt, s);
	emb_usage_error("%s: '%s' is not a column number (use --header for names)", opt, s);
}

/* Count the y columns in the comma-separated SPEC, checking each is
 * non-empty. */
static size_t count_y(const char *spec)
{
	size_t n = 1;
	for (const char *p = spec; *p; p++)
		n += *p == ',';
	if (!*spec || spec[strlen(spec) - 1] == ',' || *spec == ',' || strstr(spec, ",,"))
		emb_usage_error("-y: empty column in '%s'", spec);
	return n;
}

static char *field_name(const struct reader *r, size_t nh, size_t col)
{
	char buf[32];
	if (col < nh) {
		size_t len = (size_t)(r->fields[col].end - r->fields[col].p);
		char *s = emb_xmalloc(len + 1);
		memcpy(s, r->fields[col].p, len);
		s[len] = '\0';
		return s;
	}
	snprintf(buf, sizeof buf, "%zu", col + 1);
	return emb_xstrdup(buf);
}

/* Map the specs to columns, using the header line when there is one
 * (then r->fields holds its NH fields): once, or with --header once per
 * file, each file by its own header.  NAMES: also name the columns (the
 * first file's names). */
static void setup_slots(struct emb_cols *c, const struct emb_cols_spec *s,
			struct reader *r, size_t nh, bool names)
{
	char *ys = emb_xstrdup(s->y), *save = NULL;
	r->col[0] = resolve("-x", s->x, r, nh);
	if (names)
		c->xname = field_name(r, nh, r->col[0]);
	size_t k = 0;
	for (char *t = strtok_r(ys, ",", &save); t; t = strtok_r(NULL, ",", &save), k++) {
		r->col[1 + k] = resolve("-y", t, r, nh);
		if (names)
			c->ynames[k] = field_name(r, nh, r->col[1 + k]);
	}
	free(ys);
	if (s->group)
		r->col[1 + c->ny] = resolve("--group", s->group, r, nh);
	r->maxcol = 0;
	for (size_t i = 0; i < r->nslots; i++)
		if (r->col[i] + 1 > r->maxcol)
			r->maxcol = r->col[i] + 1;
	free(r->want);
	free(r->vals);
	r->want = emb_xcalloc(r->maxcol, sizeof *r->want);
	r->vals = emb_xcalloc(r->maxcol, sizeof *r->vals);
	for (size_t i = 0; i < r->nslots; i++)
		r->want[r->col[i]] = true;
}

static void grow(struct emb_cols *c)
{
	c->cap = c->cap ? 2 * c->cap : 4096;
	c->x = emb_xrealloc(c->x, emb_xmul(c->cap, sizeof *c->x));
	for (size_t k = 0; k < c->ny; k++)
		c->y[k] = emb_xrealloc(c->y[k], emb_xmul(c->cap, sizeof *c->y[k]));
	if (c->group)
		c->group = emb_xrealloc(c->group, emb_xmul(c->cap, sizeof *c->group));
}

/* Store one data line's cells. */
static void add_row(struct emb_cols *c, const struct emb_cols_spec *s,
		    struct reader *r, struct group_index *gi, size_t nf)
{
	for (size_t k = 0; k < r->nslots; k++)
		if (r->col[k] >= nf)
			emb_die_at(r->name, r->lineno, "no column %zu (the line has %zu)",
				   r->col[k] + 1, nf);
	if (c->rows == c->cap)
		grow(c);
	c->x[c->rows] = cell(r, &r->fields[r->col[0]], r->col[0], s->nan);
	for (size_t k = 0; k < c->ny; k++)
		c->y[k][c->rows] = cell(r, &r->fields[r->col[1 + k]], r->col[1 + k], s->nan);
	if (c->group) {
		const struct field *f = &r->fields[r->col[1 + c->ny]];
		c->group[c->rows] = group_id(c, gi, f->p, (size_t)(f->end - f->p));
	}
	c->rows++;
}

/* Handle one line (NUL-terminated, newline removed). */
static void do_line(struct emb_cols *c, const struct emb_cols_spec *s,
		    struct reader *r, struct group_index *gi, char *line,
		    bool *slots_ready, uint64_t *blank)
{
	r->lineno++;
	size_t len = strlen(line);
	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	bool header = s->header && r->lineno == 1;
	if (!header && line[strspn(line, " \t")] == '\0') {
		++*blank;
		return;
	}
	if (header) {
		/* Every file names its own columns: files whose headers list
		 * them in another order still pair the right ones. */
		r->maxcol = MAX_COLS;
		setup_slots(c, s, r, split(r, line), !*slots_ready);
		*slots_ready = true;
		return;
	}
	if (!*slots_ready) {
		setup_slots(c, s, r, 0, true);
		*slots_ready = true;
	}
	add_row(c, s, r, gi, split(r, line));
}

/* ---- the fast path: plain numbers in TSV lines ---- */

static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Parse the number at P as emb_parse_f64 does, to the same bits: a plain
 * decimal [-]digits[.digits] of at most 19 digits whose mantissa is below
 * 2^53 and with at most 22 fraction digits is one correctly rounded
 * division (emb_parse_f64's own fast path); anything else goes to
 * emb_parse_f64.  False for no number, NaN or inf (the slow path decides). */
static inline __attribute__((always_inline)) bool fast_num(const char *p, const char **end,
							   double *out, parse_f64_fn *fast)
{
	/* emb_parse_f64_fast, eight digits at a time, or its SSSE3 twin, 16
	 * bytes at a time (in the clones below): the buffer is padded */
	if (fast(p, end, out))
		return true;
	const char *s = p, *d0, *f0;
	bool neg = *s == '-';
	uint64_t m = 0;
	s += neg;
	for (d0 = s; (unsigned)(*s - '0') < 10; s++)
		m = m * 10 + (uint64_t)(*s - '0');
	size_t nint = (size_t)(s - d0), nfrac = 0;
	if (*s == '.') {
		for (f0 = ++s; (unsigned)(*s - '0') < 10; s++)
			m = m * 10 + (uint64_t)(*s - '0');
		nfrac = (size_t)(s - f0);
	}
	/* No digit here (an empty cell, nan, inf, " 5"): the slow path
	 * decides, never emb_parse_f64, which would read past the tab into
	 * the next cell's number. */
	if (nint + nfrac == 0)
		return false;
	if (nint + nfrac > 19 || nfrac > 22 ||
	    m >= (UINT64_C(1) << 53) || *s == 'e' || *s == 'E')
		return emb_parse_f64(p, end, out) && isfinite(*out);
	double d = (double)m;
	if (nfrac)
		d /= pow10_exact[nfrac];
	*out = neg ? -d : d;
	*end = s;
	return true;
}

/* Store the line [P, NL) (*NL is '\0' or '\n') if it is the common case: TSV, no
 * group column, every wanted cell a plain number.  Returns false, having
 * changed nothing, for anything else, which do_line then handles (and
 * diagnoses) the general way. */
static inline __attribute__((always_inline)) bool fast_line(struct emb_cols *c, struct reader *r, const char *p,
		      const char *nl, parse_f64_fn *fast)
{
	for (size_t j = 0;;) {
		if (r->want[j]) {
			const char *e;
			/* emb_parse_f64 skips blanks: an empty or blank cell
			 * would take the next cell's number. */
			if (!((unsigned)(*p - '0') < 10 || *p == '-' || *p == '.') ||
			    !fast_num(p, &e, &r->vals[j], fast))
				return false;
			p = e;
			if (!(*p == '\t' || p == nl || (*p == '\r' && p + 1 == nl)))
				return false;
		} else {
			while (*p != '\t' && *p && *p != '\n')
				p++;
		}
		if (++j == r->maxcol)
			break;
		if (*p != '\t')
			return false;
		p++;
	}
	if (c->rows == c->cap)
		grow(c);
	r->lineno++;
	c->x[c->rows] = r->vals[r->col[0]];
	for (size_t k = 0; k < c->ny; k++)
		c->y[k][c->rows] = r->vals[r->col[1 + k]];
	c->rows++;
	return true;
}

/* ---- two threads on a block of plain lines ---- */

/* Blocks of lines shorter than this are read by one thread. */
#define PAR_MIN ((size_t)1 << 18)

/* The second half of a block, read by a thread of its own into ROWS
 * (room for every line it could hold, so it never allocates) with a
 * reader of its own; it stops at the first line fast_line() refuses,
 * which the calling thread then reads in order the general way. */
struct half {
	struct emb_cols rows;
	struct reader r;
	const char *p, *end;  /* [p, end): whole lines */
	const char *stop;     /* where it stopped: end, or a refused line */
};

static inline __attribute__((always_inline)) void read_half_with(struct half *h,
								 parse_f64_fn *fast)
{
	const char *p = h->p, *nl;
	for (; p < h->end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(h->end - p));
		if (!fast_line(&h->rows, &h->r, p, nl, fast))
			break;
	}
	h->stop = p;
}

static void *read_half(void *arg)
{
	read_half_with(arg, emb_parse_f64_fast);
	return NULL;
}

#ifdef EMB_PARSE_SIMD
__attribute__((target("ssse3")))
static void *read_half_ssse3(void *arg)
{
	read_half_with(arg, emb_parse_f64_simd);
	return NULL;
}
#endif

/* Make H's arrays hold ROWS rows and its reader R's values. */
static void half_reserve(struct half *h, const struct emb_cols *c, const struct reader *r,
			 size_t rows)
{
	if (h->rows.cap < rows) {
		h->rows.cap = rows;
		h->rows.x = emb_xrealloc(h->rows.x, emb_xmul(rows, sizeof *h->rows.x));
		if (!h->rows.y)
			h->rows.y = emb_xcalloc(c->ny, sizeof *h->rows.y);
		for (size_t k = 0; k < c->ny; k++)
			h->rows.y[k] = emb_xrealloc(h->rows.y[k], emb_xmul(rows, sizeof **h->rows.y));
	}
	h->rows.ny = c->ny;
	h->rows.rows = 0;
	if (!h->r.vals)
		h->r.vals = emb_xcalloc(r->maxcol, sizeof *h->r.vals);
	double *vals = h->r.vals;
	h->r = *r;
	h->r.vals = vals;
	h->r.lineno = 0;
}

static void half_free(struct half *h)
{
	free(h->rows.x);
	for (size_t k = 0; h->rows.y && k < h->rows.ny; k++)
		free(h->rows.y[k]);
	free(h->rows.y);
	free(h->r.vals);
}

/* The whole lines from P to the last newline before END: the second half
 * on a thread while this one reads the first the usual way; returns where
 * the usual way goes on (past the lines read, or at a line the thread
 * refused).  Rows and line numbers are those of reading in order. */
static inline __attribute__((always_inline)) char *read_halves(struct emb_cols *c,
								const struct emb_cols_spec *s,
								struct reader *r,
								struct group_index *gi,
								struct half *h, char *p, char *end,
								bool *slots_ready, uint64_t *blank,
								parse_f64_fn *fast)
{
	char *last = memrchr(p, '\n', (size_t)(end - p));
	char *mid = last ? memchr(p + (last - p) / 2, '\n', (size_t)(last - p) / 2 + 1) : NULL;
	if (!mid || mid == last)
		return p;
	/* Each line the thread takes is 2 bytes at least. */
	half_reserve(h, c, r, (size_t)(last - mid) / 2 + 1);
	h->p = mid + 1;
	h->end = last + 1;
	/* The thread has its own memory and never exits; this one may (a bad
	 * line in the first half): then the process ends with it.  Neither
	 * writes to the other's lines, which both may read past their own
	 * (padding reads): only a line handed to do_line() gets its NUL. */
	pthread_t th;
	void *(*half)(void *) = read_half;
#ifdef EMB_PARSE_SIMD
	if (fast != emb_parse_f64_fast)
		half = read_half_ssse3;
#endif
	bool threaded = pthread_create(&th, NULL, half, h) == 0;
	if (!threaded)
		half(h);
	for (char *nl; p <= mid; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(mid + 1 - p));
		if (!fast_line(c, r, p, nl, fast)) {
			*nl = '\0';
			do_line(c, s, r, gi, p, slots_ready, blank);
		}
	}
	if (threaded)
		pthread_join(th, NULL);
	size_t n = h->rows.rows;
	while (c->cap - c->rows < n)
		grow(c);
	memcpy(c->x + c->rows, h->rows.x, n * sizeof *c->x);
	for (size_t k = 0; k < c->ny; k++)
		memcpy(c->y[k] + c->rows, h->rows.y[k], n * sizeof **c->y);
	c->rows += n;
	r->lineno += h->r.lineno;
	return (char *)h->stop;
}

/* Read FP block by block, handing each complete line to do_line. */
static inline __attribute__((always_inline)) void read_file_with(struct emb_cols *c,
								 const struct emb_cols_spec *s,
								 struct reader *r,
								 struct group_index *gi, FILE *fp,
								 bool *slots_ready, uint64_t *blank,
								 parse_f64_fn *fast)
{
	size_t cap = READ_BLOCK + 1, have = 0;
	/* EMB_PARSE_PAD bytes past the text for fast_num's 8- and 16-byte loads */
	char *buf = emb_xmalloc(cap + EMB_PARSE_PAD);
	bool first = true;
	struct half h = {0};
	for (;;) {
		if (cap - have < READ_BLOCK / 2 + 1) {
			cap *= 2;
			buf = emb_xrealloc(buf, cap + EMB_PARSE_PAD);
		}
		size_t got = fread(buf + have, 1, cap - 1 - have, fp);
		have += got;
		memset(buf + have, 0, EMB_PARSE_PAD);
		/* A NUL would end a line early: no line of text holds one. */
		bool nul = memchr(buf, '\0', have) != NULL;
		char *p = buf, *end = buf + have, *nl;
		if (first && have >= 3 && memcmp(p, EMB_UTF8_BOM, 3) == 0)
			p += 3; /* a byte order mark (Excel's UTF-8 export) */
		first = false;
		bool halves = !nul && end - p >= (ptrdiff_t)PAR_MIN && emb_threads() > 1;
		for (;;) {
			/* Once the columns are known, the rest of the block in
			 * two halves on two threads. */
			if (halves && *slots_ready && r->sep == '\t' && !c->group) {
				halves = false;
				p = read_halves(c, s, r, gi, &h, p, end, slots_ready, blank, fast);
			}
			if (!(nl = memchr(p, '\n', (size_t)(end - p))))
				break;
			*nl = '\0';
			if (nul && memchr(p, '\0', (size_t)(nl - p)))
				emb_die_at(r->name, r->lineno + 1, "line holds a NUL byte (binary data?)");
			if (!(*slots_ready && r->sep == '\t' && !c->group &&
			      fast_line(c, r, p, nl, fast)))
				do_line(c, s, r, gi, p, slots_ready, blank);
			p = nl + 1;
		}
		have = (size_t)(end - p);
		memmove(buf, p, have);
		if (got == 0) {
			if (have) {
				if (nul)
					emb_die_at(r->name, r->lineno + 1,
						   "line holds a NUL byte (binary data?)");
				buf[have] = '\0';
				do_line(c, s, r, gi, buf, slots_ready, blank);
				emb_warn_at(r->name, r->lineno, "last line has no newline "
					    "(file cut short?)");
			}
			break;
		}
	}
	half_free(&h);
	free(buf);
}

static void read_file(struct emb_cols *c, const struct emb_cols_spec *s, struct reader *r,
		      struct group_index *gi, FILE *fp, bool *slots_ready, uint64_t *blank)
{
	read_file_with(c, s, r, gi, fp, slots_ready, blank, emb_parse_f64_fast);
}

#ifdef EMB_PARSE_SIMD
/* The same with emb_parse.h's SSSE3 number parser (same values). */
__attribute__((target("ssse3")))
static void read_file_ssse3(struct emb_cols *c, const struct emb_cols_spec *s, struct reader *r,
			    struct group_index *gi, FILE *fp, bool *slots_ready, uint64_t *blank)
{
	read_file_with(c, s, r, gi, fp, slots_ready, blank, emb_parse_f64_simd);
}
#endif

void emb_cols_read(struct emb_cols *c, const struct emb_cols_spec *s,
		   char *const *files, int nfiles)
{
	static char *const stdin_only[] = {"-"};
	struct group_index gi = {NULL, 0};
	struct reader r = {0};
	bool slots_ready = false;
	uint64_t blank = 0;

	memset(c, 0, sizeof *c);
	c->ny = count_y(s->y);
	c->y = emb_xcalloc(c->ny, sizeof *c->y);
	c->ynames = emb_xcalloc(c->ny, sizeof *c->ynames);
	r.nslots = 1 + c->ny + (s->group != NULL);
	r.col = emb_xcalloc(r.nslots, sizeof *r.col);
	r.fields = emb_xcalloc(MAX_COLS, sizeof *r.fields);
	if (s->group)
		c->group = emb_xmalloc(sizeof *c->group);
	if (nfiles <= 0) {
		files = stdin_only;
		nfiles = 1;
	}
	void (*read_by)(struct emb_cols *, const struct emb_cols_spec *, struct reader *,
			struct group_index *, FILE *, bool *, uint64_t *) = read_file;
#ifdef EMB_PARSE_SIMD
	if (emb_parse_simd())
		read_by = read_file_ssse3;
#endif
	for (int f = 0; f < nfiles; f++) {
		FILE *fp = emb_fopen_r(files[f]);
		r.name = strcmp(files[f], "-") ? files[f] : "-";
		r.lineno = 0;
		r.sep = 0;
		read_by(c, s, &r, &gi, fp, &slots_ready, &blank);
		emb_fclose_r(fp, r.name);
	}
	if (!slots_ready && s->header)
		emb_die(EMB_EXIT_DATA, "%s: no header line", r.name);
	if (!slots_ready) /* no lines at all: name the columns from the specs */
		setup_slots(c, s, &r, 0, true);
	if (blank)
		emb_warn("skipped %llu empty line%s", (unsigned long long)blank,
			 blank == 1 ? "" : "s");
	free(r.col);
	free(r.fields);
	free(r.want);
	free(r.vals);
	free(gi.slots);
}

void emb_cols_free(struct emb_cols *c)
{
	free(c->x);
	for (size_t k = 0; k < c->ny; k++) {
		free(c->y[k]);
		free(c->ynames[k]);
	}
	free(c->y);
	free(c->ynames);
	free(c->xname);
	free(c->group);
	for (size_t g = 0; g < c->ngroups; g++)
		free(c->group_names[g]);
	free(c->group_names);
	memset(c, 0, sizeof *c);
}
