/*
 * emb_npy.c - NumPy .npy files, versions 1.0, 2.0 and 3.0 (emb.5, "Other
 * formats"; numpy.lib.format).
 *
 *   magic "\x93NUMPY" major:u8 minor:u8 header_len:u16 (v1) or u32 (v2, v3)
 *   header: a Python dict literal {'descr': '<f4', 'fortran_order': False,
 *           'shape': (N, D), } padded with spaces and a newline
 *   data:   N*D values, C (row-major) or Fortran (column-major) order
 *
 * Read: f2, f4, f8 in either byte order, C or Fortran order, 2-D, 1-D
 * (one row) or 0-D (one value), and exactly the data the shape holds.
 * Fortran order is read column slice by column slice with pread(2), so a
 * pipe is first copied to an unlinked temporary file.
 * Write: version 1.0, little-endian, C order, the dtype of the stream; the
 * header holds the row count, so emb_stream.c patches it in at close,
 * over a placeholder that numpy refuses to load (UNFINISHED).
 */
#include <config.h>
#include "emb_impl.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NPY_MAGIC "\x93NUMPY"

/* The header written before the rows, until emb_close() fills in the row
 * count: not a Python literal, so numpy.load refuses the file, and
 * neither do we read it (see emb_codec.count_header). */
#define UNFINISHED "unfinished write"

static _Noreturn void bad_header(const struct emb_stream *s, const char *what, const char *h)
{
	int n = (int)strcspn(h, "\n");
	while (n > 0 && h[n - 1] == ' ')
		n--;
	emb_die_offset(s->name, 10, "%s in .npy header \"%.*s\"", what, n > 100 ? 100 : n, h);
}

/* The dtype string as numpy.dtype() reads it, for the three floats:
 * an optional byte order ('|' and '=' are the machine's own) and f2, f4,
 * f8 or the codes e, f, d; or a name such as float32 (machine order). */
static void set_descr(struct emb_stream *s, const char *d)
{
	/* int8 and uint8 arrays are codes (sentence-transformers' int8,
	 * uint8, binary and ubinary precisions): dtypes i8 and u8. */
	static const char *const names[][3] = {
		{"f2", "e", "float16"}, {"f4", "f", "float32"}, {"f8", "d", "float64"},
		{"i1", "b", "int8"}, {"u1", "B", "uint8"}};
	static const enum emb_dtype types[] = {EMB_F16, EMB_F32, EMB_F64, EMB_I8, EMB_U8};
	char order = d[0] && strchr("<>|=", d[0]) ? d[0] : '=';
	const char *t = d + (order != '=' || d[0] == '=');
	int k = -1;
	for (int i = 0; i < 5; i++)
		if (strcmp(t, names[i][0]) == 0 || strcmp(t, names[i][1]) == 0 ||
		    (t == d && (strcmp(d, names[i][2]) == 0 ||
				(i < 3 && strcmp(d, i == 0 ? "half" : i == 1 ? "single" : "double") == 0))))
			k = i;
	if (k < 0)
		emb_die_offset(s->name, 10, "unsupported .npy dtype '%s' (want f2, f4, f8, "
			       "i1 or u1, either byte order)", d);
	s->dtype = types[k];
	s->mtype = types[k] == EMB_F64 ? EMB_F64 : EMB_F32;
#ifdef WORDS_BIGENDIAN
	s->swap = order != '<';
#else
	s->swap = order == '>';
#endif
}

/* NDIM (0, 1 or 2) and the shape (A, B). */
static void set_shape(struct emb_stream *s, int ndim, unsigned long long a, unsigned long long b)
{
	if (ndim == 2) {
		if (b > EMB_MAX_DIM || (b == 0 && a != 0))
			emb_die_offset(s->name, 10, ".npy shape (%llu, %llu): want 1 to %u values "
				       "per row", a, b, EMB_MAX_DIM);
		s->total_rows = a;
		s->dim = (size_t)b;
	} else if (ndim == 1) {
		if (a > EMB_MAX_DIM)
			emb_die_offset(s->name, 10, ".npy shape (%llu,): more than %u values", a,
				       EMB_MAX_DIM);
		s->total_rows = a ? 1 : 0;
		s->dim = (size_t)a;
	} else { /* (): one value */
		s->total_rows = 1;
		s->dim = 1;
	}
}

/*
 * The header is a Python dict literal that numpy reads with
 * ast.literal_eval and then checks: exactly the keys 'descr' (a string),
 * 'fortran_order' (a bool) and 'shape' (a tuple of ints).  This parser
 * takes the literals that can spell a dtype and shape we read: strings in
 * either quote without escapes, True and False, ints (decimal, 0x, 0o,
 * 0b, '_' between digits, a sign), tuples, redundant parentheses, Python
 * blanks and comments between tokens, trailing commas; a later duplicate
 * key wins, as in Python.  Anything else is refused, never guessed.
 */
enum py_kind { PY_STR, PY_BOOL, PY_INT, PY_TUPLE };

struct py_value {
	enum py_kind kind;
	char str[32];                /* PY_STR */
	bool b;                      /* PY_BOOL */
	unsigned long long v;        /* PY_INT: magnitude ... */
	bool neg;                    /* ... and sign (-0 is 0) */
	int n;                       /* PY_TUPLE: items (only 3 are kept) */
	bool ints;                   /* ... all of them ints */
	unsigned long long item[3];
	bool item_neg[3];
};

struct npy_header {
	const struct emb_stream *s;
	const char *h, *p;           /* the whole header; the parse position */
	int depth;
	int version;                 /* the file's major version */
};

static _Noreturn void bad_literal(const struct npy_header *x)
{
	bad_header(x->s, "not a Python literal", x->h);
}

static void skip_blanks(struct npy_header *x)
{
	for (;;) {
		x->p += strspn(x->p, " \t\n\r\f");
		if (*x->p == '#')
			x->p += strcspn(x->p, "\n");
		else if (x->p[0] == '\\' && x->p[1] == '\n')
			x->p += 2;
		else
			return;
	}
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_';
}

/* The digits of an int literal in BASE at X->p, '_' allowed between
 * digits (and after a base prefix: AFTER_PREFIX). */
static unsigned long long py_digits(struct npy_header *x, int base, bool after_prefix)
{
	const char *p = x->p;
	unsigned long long v = 0;
	int nd = 0;
	bool zero = base == 10 && *p == '0';
	for (;;) {
		if (*p == '_' && (nd || after_prefix))
			p++;
		int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 :
			*p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : 99;
		if (d >= base) {
			if (p[-1] == '_' || nd == 0)
				bad_literal(x);
			break;
		}
		if (zero && d) /* Python has no 03 */
			bad_literal(x);
		if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
			bad_header(x->s, "shape too large", x->h);
		v = v * (unsigned)base + (unsigned)d;
		nd++;
		p++;
	}
	if ((is_name_char(*p) && !(*p == 'L' && !is_name_char(p[1]))) || *p == '.')
		bad_literal(x);
	x->p = p;
	return v;
}

static void py_value(struct npy_header *x, struct py_value *out);

/* A parenthesised value: a tuple, or one value in redundant parentheses. */
static void py_paren(struct npy_header *x, struct py_value *out)
{
	struct py_value item, t = {.kind = PY_TUPLE, .ints = true};
	bool comma = false;
	if (++x->depth > 20)
		bad_literal(x);
	x->p++;
	skip_blanks(x);
	while (*x->p != ')') {
		py_value(x, &item);
		if (t.n < 3) {
			t.item[t.n] = item.v;
			t.item_neg[t.n] = item.neg;
		}
		t.ints = t.ints && item.kind == PY_INT;
		t.n++;
		skip_blanks(x);
		comma = *x->p == ',';
		if (comma) {
			x->p++;
			skip_blanks(x);
		} else if (*x->p != ')') {
			bad_literal(x);
		}
	}
	x->p++;
	x->depth--;
	*out = t.n == 1 && !comma ? item : t; /* (3) is 3, not a tuple */
}

static void py_value(struct npy_header *x, struct py_value *out)
{
	*out = (struct py_value){.kind = PY_STR};
	skip_blanks(x);
	char c = *x->p;
	if (c == '(') {
		py_paren(x, out);
	} else if (c == '\'' || c == '"') {
		/* adjacent strings concatenate: '<f' '4' */
		size_t len = 0;
		out->kind = PY_STR;
		while (*x->p == '\'' || *x->p == '"') {
			char q = *x->p;
			size_t n = strcspn(x->p + 1, q == '\'' ? "'\\\n" : "\"\\\n");
			if (x->p[1 + n] != q)
				bad_literal(x);
			/* cut to 31 bytes: longer than any name we know */
			for (size_t i = 0; i < n && len + 1 < sizeof out->str; i++)
				out->str[len++] = x->p[1 + i];
			x->p += n + 2;
			skip_blanks(x);
		}
		out->str[len] = '\0';
	} else if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
		bool neg = c == '-';
		int parens = 0;
		if (c == '-' || c == '+') { /* a sign takes one int, -(4) too */
			do {
				x->p++;
				skip_blanks(x);
			} while (*x->p == '(' && ++parens);
			if (!(*x->p >= '0' && *x->p <= '9'))
				bad_literal(x);
		}
		int base = 10;
		if (x->p[0] == '0' && strchr("xXoObB", x->p[1]) && x->p[1]) {
			base = strchr("xX", x->p[1]) ? 16 : strchr("oO", x->p[1]) ? 8 : 2;
			x->p += 2;
		}
		out->kind = PY_INT;
		out->v = py_digits(x, base, base != 10);
		out->neg = neg && out->v;
		if (*x->p == 'L' && x->version < 3 && !is_name_char(x->p[1]))
			x->p++; /* Python 2's long, which numpy drops from 1.0 and 2.0 headers */
		for (; parens; parens--) {
			skip_blanks(x);
			if (*x->p++ != ')')
				bad_literal(x);
		}
	} else if (strncmp(x->p, "True", 4) == 0 && !is_name_char(x->p[4])) {
		out->kind = PY_BOOL;
		out->b = true;
		x->p += 4;
	} else if (strncmp(x->p, "False", 5) == 0 && !is_name_char(x->p[5])) {
		out->kind = PY_BOOL;
		out->b = false;
		x->p += 5;
	} else if (strncmp(x->p, "unfinished", 10) == 0) {
		emb_die_offset(x->s->name, 10, "incomplete file: its writer stopped before it "
			       "wrote the row count");
	} else if (is_name_char(c)) { /* Truely, None, true */
		char what[64];
		size_t n = 0;
		while (is_name_char(x->p[n]) && n < 32)
			n++;
		snprintf(what, sizeof what, "'%.*s' is not a Python literal", (int)n, x->p);
		bad_header(x->s, what, x->h);
	} else {
		bad_literal(x);
	}
}

/* Parse the header dict into S's dtype, byte order, shape and order. */
static void parse_dict(struct emb_stream *s, const char *h, int version)
{
	struct npy_header x = {.s = s, .h = h, .p = h, .version = version};
	struct py_value key, v, descr = {0}, fortran = {0}, shape = {0};
	bool have[3] = {false, false, false};
	skip_blanks(&x);
	if (*x.p++ != '{')
		bad_header(s, "not a dict", h);
	for (;;) {
		skip_blanks(&x);
		if (*x.p == '}')
			break;
		py_value(&x, &key);
		skip_blanks(&x);
		if (*x.p++ != ':')
			bad_literal(&x);
		py_value(&x, &v);
		int k = key.kind != PY_STR ? -1 : strcmp(key.str, "descr") == 0 ? 0 :
			strcmp(key.str, "fortran_order") == 0 ? 1 : strcmp(key.str, "shape") == 0 ? 2 : -1;
		if (k < 0)
			bad_header(s, "unexpected key", h);
		have[k] = true;
		*(k == 0 ? &descr : k == 1 ? &fortran : &shape) = v;
		skip_blanks(&x);
		if (*x.p == ',')
			x.p++;
		else if (*x.p != '}')
			bad_literal(&x);
	}
	x.p++;
	skip_blanks(&x);
	if (*x.p)
		bad_literal(&x);
	if (!have[0] || descr.kind != PY_STR)
		bad_header(s, have[0] ? "bad 'descr'" : "no 'descr'", h);
	if (!have[1] || fortran.kind != PY_BOOL)
		bad_header(s, have[1] ? "'fortran_order' is not True or False" :
			   "no 'fortran_order'", h);
	if (!have[2] || shape.kind != PY_TUPLE || !shape.ints)
		bad_header(s, have[2] ? "shape is not a tuple of ints" : "no 'shape'", h);
	if (shape.n > 2)
		bad_header(s, "shape is not 1-D or 2-D", h);
	for (int i = 0; i < shape.n; i++)
		if (shape.item_neg[i])
			emb_die_offset(s->name, 10, "negative %s -%llu in .npy shape",
				       shape.n == 2 && i == 0 ? "row count" : "dim", shape.item[i]);
	set_descr(s, descr.str);
	set_shape(s, shape.n, shape.item[0], shape.item[1]);
	s->fortran = fortran.b && s->total_rows > 1;
}

/* A pipe cannot be read column by column: copy it to an unlinked
 * temporary file (gone on any exit) and read that. */
static int seekable_fd(struct emb_stream *s)
{
	if (s->map) {
		s->data_off = s->map_pos;
		return fileno(s->fp);
	}
	if (!s->src_fp) {
		off_t at = ftello(s->fp);
		s->data_off = at < 0 ? s->offset : (uint64_t)at;
		return fileno(s->fp);
	}
	FILE *tmp = emb_tmpfile("npy");
	static char buf[1 << 16];
	size_t got;
	while ((got = fread(buf, 1, sizeof buf, s->fp)) > 0)
		if (fwrite(buf, 1, got, tmp) != got)
			emb_die(EMB_EXIT_DATA, "%s: write error: %s", emb_tmpfile_where(), strerror(errno));
	if (ferror(s->fp))
		emb_die(EMB_EXIT_DATA, "%s: read error: %s", s->name, strerror(errno));
	if (fflush(tmp) != 0)
		emb_die(EMB_EXIT_DATA, "%s: write error: %s", emb_tmpfile_where(), strerror(errno));
	s->real_fp = tmp;
	s->data_off = 0;
	return fileno(tmp);
}

void emb_npy_read_header(struct emb_stream *s)
{
	unsigned char m[12];
	emb_map_open(s);
	size_t got = emb_read_bytes(s, m, 6);
	if (got < 6 || memcmp(m, NPY_MAGIC, 6) != 0) {
		if (memcmp(m, NPY_MAGIC, got) == 0)
			emb_die_offset(s->name, s->offset + got, "truncated .npy magic (%zu of 6 "
				       "bytes)", got);
		emb_die_offset(s->name, s->offset, "not a .npy file (bad magic)");
	}
	s->offset += 6;
	emb_need_bytes(s, m + 6, 4, ".npy header");
	if (m[6] < 1 || m[6] > 3)
		emb_die_offset(s->name, 6, "unsupported .npy version %u.%u", m[6], m[7]);
	uint32_t hlen = (uint32_t)m[8] | (uint32_t)m[9] << 8;
	if (m[6] > 1) {
		emb_need_bytes(s, m + 10, 2, ".npy header");
		hlen = emb_get_u32(m + 8);
	}
	if (hlen > EMB_MAX_JSON_LEN)
		emb_die_offset(s->name, 8, ".npy header claims %u bytes (limit %u)", hlen,
			       EMB_MAX_JSON_LEN);
	char *h = emb_xmalloc(hlen + 1);
	emb_need_bytes(s, h, hlen, ".npy header");
	h[hlen] = '\0';
	if (strlen(h) != hlen)
		emb_die_offset(s->name, 10, "NUL byte in the .npy header");
	parse_dict(s, h, m[6]);
	free(h);
	s->has_keys = false;
	s->data_off = s->offset;
	if (s->fortran)
		s->pread_fd = seekable_fd(s);
	if (s->total_rows == 0) {
		unsigned char extra;
		if (emb_read_bytes(s, &extra, 1) == 1)
			emb_die_offset(s->name, s->offset, "data after the 0 rows the .npy shape "
				       "promises");
		s->at_eof = true;
	}
}

/* Fortran order: gather ROWS rows from the column slices into RAW. */
static void read_fortran(struct emb_stream *s, unsigned char *raw, size_t rows)
{
	size_t es = emb_dtype_size(s->dtype), colbytes = rows * es;
	unsigned char *col = raw + rows * s->dim * es;
	uint64_t r0 = s->recno;
	for (size_t j = 0; j < s->dim; j++) {
		uint64_t off = s->data_off + ((uint64_t)j * s->total_rows + r0) * es;
		ssize_t got = pread(s->pread_fd, col, colbytes, (off_t)off);
		if (got < 0)
			emb_die(EMB_EXIT_DATA, "%s: read error: %s", s->name, strerror(errno));
		if ((size_t)got < colbytes)
			emb_die_offset(s->name, off + (uint64_t)got, "truncated .npy data: column "
				       "%zu cut short", j + 1);
		for (size_t r = 0; r < rows; r++)
			memcpy(raw + (r * s->dim + j) * es, col + r * es, es);
	}
	s->offset += rows * s->dim * es;
}

size_t emb_npy_read_rows(struct emb_stream *s, struct emb_chunk *c)
{
	size_t es = emb_dtype_size(s->dtype);
	uint64_t left = s->total_rows - s->recno;
	size_t rows = emb_batch_rows(s->dim, s->dtype);
	if (rows > left)
		rows = (size_t)left;
	size_t n = rows * s->dim, need = emb_xmul(n, es) * (s->fortran ? 2 : 1);
#ifdef WORDS_BIGENDIAN
	bool direct = false;
#else
	bool direct = s->dtype == s->mtype && !s->swap;
#endif
	/* A mapped C-order file: rows in place when they need no conversion
	 * and are aligned (numpy aligns the data to 64 bytes), else converted
	 * from the mapping; only when the file holds them all (else the read
	 * below says where it is cut short). */
	unsigned char *mapped = s->fortran || s->swap ? NULL :
		emb_map_take(s, n * es, direct ? es : 1);
	if (mapped) {
		if (direct)
			emb_chunk_borrow(c, mapped, rows, s->dim, s->mtype, false);
		else {
			emb_chunk_reserve(c, rows, s->dim, s->mtype, false);
			emb_from_disk(c->data, mapped, n, s->dtype, s->mtype);
		}
		s->offset += n * es;
		goto done;
	}
	if (s->raw_cap < need) {
		free(s->raw);
		s->raw = emb_xmalloc(need);
		s->raw_cap = need;
	}
	emb_chunk_reserve(c, rows, s->dim, s->mtype, false);
	if (s->fortran) {
		read_fortran(s, s->raw, rows);
	} else {
		uint64_t at = s->offset;
		size_t got = emb_read_bytes(s, s->raw, n * es);
		if (got < n * es)
			emb_die_offset(s->name, at + got, "truncated .npy data: row %llu cut short "
				       "(the shape promises %llu rows)",
				       (unsigned long long)(s->recno + got / (s->dim * es) + 1),
				       (unsigned long long)s->total_rows);
		s->offset += n * es;
	}
	if (s->swap)
		emb_swap_bytes(s->raw, n, es);
	emb_from_disk(c->data, s->raw, n, s->dtype, s->mtype);
done:
	s->recno += rows;
	if (s->recno == s->total_rows) {
		unsigned char extra;
		s->at_eof = true;
		if (!s->fortran && emb_read_bytes(s, &extra, 1) == 1)
			emb_die_offset(s->name, s->offset, "data after the %llu rows the .npy shape "
				       "promises", (unsigned long long)s->total_rows);
	}
	c->rows = rows;
	return rows;
}

size_t emb_npy_count_header(const struct emb_stream *s, uint64_t rows, int width,
			    char *buf, size_t cap)
{
	/* Codes as numpy holds them: int8/uint8 arrays, bits packed into a
	 * uint8 array of ceil(dim/8) columns (np.packbits). */
	static const char *const descr[] = {[EMB_F32] = "<f4", [EMB_F64] = "<f8", [EMB_F16] = "<f2",
					    [EMB_I8] = "|i1", [EMB_U8] = "|u1", [EMB_BIT] = "|u1"};
	size_t cols = s->dtype == EMB_BIT ? emb_row_bytes(EMB_BIT, s->dim) : s->dim;
	char dict[200];
	int n = rows == EMB_ROWS_UNKNOWN ?
		snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, "
			 "'shape': (%*s, %zu), }", descr[s->dtype], width, UNFINISHED, cols) :
		snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, "
			 "'shape': (%*llu, %zu), }", descr[s->dtype], width,
			 (unsigned long long)rows, cols);
	/* numpy pads the header so the data starts on a 64-byte boundary. */
	size_t total = (10 + (size_t)n + 1 + 63) / 64 * 64, hlen = total - 10;
	if (total > cap)
		emb_die(EMB_EXIT_DATA, ".npy header too long");
	memcpy(buf, NPY_MAGIC "\x01\x00", 8);
	buf[8] = (char)(hlen & 0xff);
	buf[9] = (char)(hlen >> 8);
	memcpy(buf + 10, dict, (size_t)n);
	memset(buf + 10 + n, ' ', hlen - (size_t)n - 1);
	buf[total - 1] = '\n';
	return total;
}

void emb_npy_write_rows(struct emb_stream *s, const struct emb_chunk *c)
{
	size_t vbytes = emb_xmul(c->rows, emb_row_bytes(s->dtype, c->dim));
#ifndef WORDS_BIGENDIAN
	if (c->type == s->dtype) {
		emb_write_bytes(s, c->data, vbytes); /* already in disk form */
		return;
	}
#endif
	if (s->raw_cap < vbytes) {
		free(s->raw);
		s->raw = emb_xmalloc(vbytes);
		s->raw_cap = vbytes;
	}
	emb_rows_to_disk(s, s->raw, c->data, c->rows, c->dim, c->type, s->dtype, s->recno + 1);
	emb_write_bytes(s, s->raw, vbytes);
}
