/*
 * emb_sniff.c - telling formats apart by their first bytes: one table of
 * rules (rules[] below, the same as emb.5's table, "Sniffing"), tried in
 * order on the bytes emb_open_r peeked at.  The first rule that claims
 * the bytes names the format; a rule that recognises them as broken
 * says why and ends the program.
 */
#include <config.h>
#include "emb.h"
#include "emb_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* A rule's answer when the bytes are not its format's: try the next. */
#define NEXT EMB_FMT_COUNT

/* What the rules look at: up to PEEK bytes from the start of S's file
 * (after a UTF-8 byte order mark, then s->offset is 3), all of it when
 * EOF. */
struct sniffed {
	const struct emb_stream *s;
	const unsigned char *b;
	size_t n;
	bool eof;
};

/* Fields in the line at B (up to a newline or END). */
static size_t line_fields(const unsigned char *b, const unsigned char *end)
{
	size_t n = 0;
	bool in = false;
	for (; b < end && *b != '\n'; b++) {
		bool blank = *b == ' ' || *b == '\t' || *b == '\r';
		if (!blank && !in)
			n++;
		in = !blank;
	}
	return n;
}

/* Is the word [P, SP) a finite decimal number?  "nan" and "inf" are
 * words here: a vocabulary may start with them. */
static bool first_word_is_number(const unsigned char *p, const unsigned char *sp)
{
	char w[64];
	size_t n = (size_t)(sp - p);
	if (n >= sizeof w)
		return false;
	memcpy(w, p, n);
	w[n] = '\0';
	const char *end;
	double v;
	return emb_parse_f64(w, &end, &v) && *end == '\0' && isfinite(v);
}

/* Length of the UTF-8 sequence at P (before END) if it is valid text: a
 * printable ASCII byte, TAB, CR or LF, or a well-formed multibyte
 * character (one cut by END counts); 0 for a control byte, NUL or
 * anything else. */
static size_t text_char(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = *p;
	if ((c >= 0x20 && c < 0x7f) || c == '\t' || c == '\r' || c == '\n')
		return 1;
	size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
		   c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	for (size_t i = 1; i < n; i++)
		if (p + i < end && (p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Is [B, END) all text (see text_char)? */
static bool all_text(const unsigned char *b, const unsigned char *end)
{
	for (size_t k; b < end; b += k)
		if (!(k = text_char(b, end)))
			return false;
	return true;
}

/* Is [P, END) a value as word-vector text writes one, good or bad:
 * digits with signs, points, commas and exponents, or nan/inf/infinity? */
static bool numberish(const unsigned char *p, const unsigned char *end)
{
	bool digit = false;
	const unsigned char *q = p + (p < end && (*p == '-' || *p == '+'));
	for (const unsigned char *c = q; c < end; c++) {
		if (*c >= '0' && *c <= '9')
			digit = true;
		else if (!strchr("+-.,eE", *c) || !*c)
			goto word;
	}
	return digit;
word:
	for (const char *const *w = (const char *const[]){"nan", "inf", "infinity", NULL}; *w; w++)
		if ((size_t)(end - q) == strlen(*w) && strncasecmp((const char *)q, *w, strlen(*w)) == 0)
			return true;
	return false;
}

/* Does the line at B (ended by a newline before END, or by END when that
 * is the end of the file) read as a word2vec text row of DIM values: text,
 * at least DIM + 1 fields (a key may hold blanks), the last DIM of them
 * values (see numberish)? */
static bool text_row(const unsigned char *b, const unsigned char *end, bool at_eof, size_t dim)
{
	const unsigned char *nl = memchr(b, '\n', (size_t)(end - b));
	if (!nl && !at_eof)
		return false;
	const unsigned char *e = nl ? nl : end;
	if (!all_text(b, e) || line_fields(b, e) < dim + 1)
		return false;
	const unsigned char *q = e;
	for (size_t f = 0; f < dim; f++) {
		while (q > b && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
			q--;
		const unsigned char *fe = q;
		while (q > b && !(q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
			q--;
		if (!numberish(q, fe))
			return false;
	}
	return true;
}

/* Do the bytes at B, up to END, walk as word2vec binary rows (optional
 * newlines, a key of no blank or line break, a space, 4*DIM bytes), at
 * most ROWS of them, with some value bytes that no number text holds (a
 * control byte or one above 0x7e)?  A row cut off by END still counts:
 * the reader reports a file cut short. */
static bool binary_rows(const unsigned char *b, const unsigned char *end,
			unsigned long long rows, size_t dim)
{
	bool binary = false;
	for (unsigned long long r = 0; r < rows && b < end; r++) {
		while (b < end && *b == '\n')
			b++;
		const unsigned char *k = b;
		while (b < end && *b != ' ' && *b != '\n' && *b != '\0')
			b++;
		if (b == end)
			return binary;
		if (*b != ' ' || b == k)
			return false;
		b++;
		size_t have = (size_t)(end - b) < 4 * dim ? (size_t)(end - b) : 4 * dim;
		for (size_t i = 0; i < have; i++)
			binary |= (b[i] < 0x20 && b[i] != '\t' && b[i] != '\r' && b[i] != '\n') ||
				  b[i] >= 0x7f;
		if (have < 4 * dim)
			return binary;
		b += have;
	}
	return binary;
}

/* A word2vec file starts with a line of exactly two whole numbers, N and
 * D.  Then text rows (a word and D values, "0,1" and "nan" included: see
 * text_row) make it w2v, or TSV when the first word is a number ("1 2\n3
 * 4 5" is a TSV error, not word2vec); rows that walk as binary make it
 * w2vbin.  The bytes must say which: other text (a short row) stays text,
 * w2v, or TSV after a number or a '#' comment, so the text reader names
 * the bad line, and bytes that are neither text nor binary rows are not
 * recognised (EMB_FMT_AUTO).  Any other first line is TSV, which also
 * reads space-separated GloVe files. */
static enum emb_format sniff_text(const unsigned char *b, size_t n, bool at_eof)
{
	const unsigned char *end = b + n, *p = b;
	unsigned long long rows, dim;
	int used = 0;
	const unsigned char *nl = memchr(b, '\n', n);
	if (!nl || nl - b > 64)
		return EMB_FMT_TSV;
	char head[72];
	memcpy(head, b, (size_t)(nl - b));
	head[nl - b] = '\0';
	size_t lead = strspn(head, " ");
	if (sscanf(head, "%llu %llu %n", &rows, &dim, &used) != 2 || head[used] != '\0' ||
	    head[lead] < '0' || head[lead] > '9' || dim == 0 || dim > EMB_MAX_DIM)
		return EMB_FMT_TSV;
	p = nl + 1;
	if (p == end)
		return rows == 0 ? EMB_FMT_W2V : EMB_FMT_TSV;
	const unsigned char *sp = p;
	while (sp < end && *sp != ' ' && *sp != '\t' && *sp != '\r' && *sp != '\n')
		sp++;
	bool number = sp < end && first_word_is_number(p, sp);

	/* Text: the first rows looked at (up to 8) are all text rows.  Rows
	 * of exactly a number and D values after "N D" (embgen -O w2v, whose
	 * keys are row numbers) are word2vec too if the row count agrees: the
	 * whole file holds N rows, or more than the bytes looked at.  (A TSV
	 * whose first row has 2 fields and the others D + 1 is an error
	 * anyway, except a two-column TSV of whole numbers when D = 1: the
	 * count tells it apart, as far as the bytes looked at can.) */
	bool text = true, exact = true;
	const unsigned char *q = p;
	for (unsigned long long r = 0; r < rows && r < 8 && q < end && text; r++) {
		const unsigned char *e = memchr(q, '\n', (size_t)(end - q));
		if (!e && !at_eof && r > 0)
			break; /* a row cut by the bytes looked at */
		text = text_row(q, end, at_eof, dim);
		exact &= line_fields(q, e ? e : end) == dim + 1;
		q = e ? e + 1 : end;
	}
	if (text && number && exact) {
		unsigned long long lines = 0;
		for (const unsigned char *l = p; l < end; lines++) {
			const unsigned char *e = memchr(l, '\n', (size_t)(end - l));
			l = e ? e + 1 : end;
		}
		exact = at_eof ? lines == rows : rows >= lines;
	}
	if (text)
		return number && !exact ? EMB_FMT_TSV : EMB_FMT_W2V;
	if (binary_rows(p, end, rows, dim))
		return EMB_FMT_W2VBIN;
	if (all_text(p, end)) /* the text reader names the bad line */
		return number || *p == '#' ? EMB_FMT_TSV : EMB_FMT_W2V;
	return EMB_FMT_AUTO;
}

/* Do the records of RECSIZE bytes in B all start with the same dim D,
 * and does a regular file hold a whole number of them? */
static bool vecs_fit(const unsigned char *b, size_t n, uint32_t d, size_t recsize,
		     long long filesize)
{
	if (filesize >= 0 && (filesize == 0 || (uint64_t)filesize % recsize != 0))
		return false;
	for (size_t at = recsize; at + 4 <= n; at += recsize)
		if (emb_get_u32(b + at) != d)
			return false;
	return filesize >= 0 || n >= recsize;
}

/* fvecs against ivecs: small int32 bit patterns are denormal floats,
 * which real embeddings do not hold. */
static bool looks_int(const unsigned char *b, size_t n, uint32_t d)
{
	bool nonzero = false;
	for (size_t i = 0; i < d && 8 + 4 * i <= n; i++) {
		int32_t v = (int32_t)emb_get_u32(b + 4 + 4 * i);
		if (v > (1 << 24) || v < -(1 << 24))
			return false;
		nonzero |= v != 0;
	}
	return nonzero;
}

static _Noreturn void undetected(const struct emb_stream *s, const char *why)
{
	emb_die(EMB_EXIT_DATA, "%s: %s; name it with -I FMT (one of: %s)", s->name, why,
		emb_format_list());
}

/* ---------- the rules ---------- */

/* The emb magic starts with 0x89; a bad magic is diagnosed by the
 * binary reader. */
/* Before rule_emb: the HDF5 signature starts with the same 0x89. */
static enum emb_format rule_hdf5(const struct sniffed *in)
{
	return in->n >= 8 && memcmp(in->b, "\x89HDF\r\n\x1a\n", 8) == 0 ? EMB_FMT_HDF5 : NEXT;
}

/* safetensors: an 8-byte header length no text starts with (its high
 * bytes are NULs), then the JSON header's '{'. */
static enum emb_format rule_safetensors(const struct sniffed *in)
{
	if (in->n < 9 || in->b[8] != '{')
		return NEXT;
	uint64_t len = emb_get_u64(in->b);
	return len >= 2 && len <= 100000000u ? EMB_FMT_SAFETENSORS : NEXT;
}

/* FAISS: a fourcc "I..." of letters and digits, then a small int32 dim
 * and int64 count whose high bytes are NULs. */
static enum emb_format rule_faiss(const struct sniffed *in)
{
	const unsigned char *b = in->b;
	if (in->n < 16 || b[0] != 'I' || b[7] != 0 || b[15] != 0)
		return NEXT;
	for (int i = 1; i < 4; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= 'A' && b[i] <= 'Z') ||
		      (b[i] >= '0' && b[i] <= '9')))
			return NEXT;
	return EMB_FMT_FAISS;
}

static enum emb_format rule_emb(const struct sniffed *in)
{
	return in->b[0] == (unsigned char)EMB_MAGIC[0] ? EMB_FMT_EMB : NEXT;
}

static enum emb_format rule_npy(const struct sniffed *in)
{
	return in->n >= 6 && memcmp(in->b, "\x93NUMPY", 6) == 0 ? EMB_FMT_NPY : NEXT;
}

/* JSON: the first byte that is not a blank is '[' (json: JSON Lines
 * holds objects) or '{'.  An object with a line break inside (pretty-
 * printed) is json.  So is one on a single line that is an embeddings
 * response (a top-level "data" member, no "custom_id" (Batch API output)
 * and no vector member (a row)) with nothing after it in the bytes looked at,
 * in a file not named *.jsonl or *.ndjson: the json reader
 * takes a long "data" array in a fraction of the memory.  Other objects
 * on one line start JSON Lines. */
static enum emb_format rule_json(const struct sniffed *in)
{
	const unsigned char *b = in->b, *end = b + in->n, *s0 = NULL;
	const char *vf = in->s->vector_field;
	while (b < end && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n'))
		b++;
	if (b < end && *b == '[')
		return EMB_FMT_JSON;
	if (b == end || *b != '{')
		return NEXT;
	size_t depth = 0;
	bool str = false, data = false, batch = false;
	for (; b < end; b++) {
		if (str) {
			if (*b == '\\') {
				b++;
			} else if (*b == '"') {
				str = false;
				const unsigned char *c = b + 1;
				while (c < end && (*c == ' ' || *c == '\t'))
					c++;
				if (depth == 1 && c < end && *c == ':') { /* a member name */
					size_t len = (size_t)(b - s0);
					data |= len == 4 && memcmp(s0, "data", 4) == 0;
					batch |= (len == 9 && memcmp(s0, "custom_id", 9) == 0) ||
						 (len == strlen(vf) && memcmp(s0, vf, len) == 0);
				}
			} else if (*b == '\n') {
				return EMB_FMT_JSONL; /* broken: the JSON Lines reader says so */
			}
		} else if (*b == '"') {
			str = true;
			s0 = b + 1;
		} else if (*b == '{' || *b == '[') {
			depth++;
		} else if (*b == '}' || *b == ']') {
			if (--depth == 0)
				break;
		} else if (*b == '\n') {
			return EMB_FMT_JSON;
		}
	}
	size_t nl = strlen(in->s->name);
	bool lines_name = (nl > 6 && strcmp(in->s->name + nl - 6, ".jsonl") == 0) ||
			  (nl > 7 && strcmp(in->s->name + nl - 7, ".ndjson") == 0);
	if (!data || batch || lines_name)
		return EMB_FMT_JSONL;
	if (b < end) /* the object closed: is anything but blanks after it? */
		for (b++; b < end; b++)
			if (*b != ' ' && *b != '\t' && *b != '\r' && *b != '\n')
				return EMB_FMT_JSONL;
	return EMB_FMT_JSON;
}

/* A first line of exactly two whole numbers: word2vec (see sniff_text). */
static enum emb_format rule_word2vec(const struct sniffed *in)
{
	enum emb_format t = sniff_text(in->b, in->n, in->eof);
	if (t == EMB_FMT_AUTO)
		undetected(in->s, "format not recognised");
	return t == EMB_FMT_TSV ? NEXT : t;
}

/* Binary records (fvecs/bvecs/ivecs) hold NULs and start with their
 * dim; input that began with a UTF-8 byte order mark is text whatever
 * follows, and the text reader names the NUL. */
static enum emb_format rule_vecs(const struct sniffed *in)
{
	const struct emb_stream *s = in->s;
	const unsigned char *b = in->b;
	size_t n = in->n;
	if (!memchr(b, '\0', n) || s->offset != 0)
		return NEXT;
	uint32_t d = n >= 4 ? emb_get_u32(b) : 0;
	if (d == 0 || d > EMB_MAX_DIM)
		undetected(s, "format not recognised");
	struct stat st;
	long long size = -1;
	if (emb_stream_stat(s, &st) && S_ISREG(st.st_mode) && !s->src_fp)
		size = (long long)st.st_size;
	else if (in->eof)
		size = (long long)n; /* a pipe whose whole content was peeked */
	bool four = vecs_fit(b, n, d, 4 + 4 * (size_t)d, size);
	bool one = vecs_fit(b, n, d, 4 + (size_t)d, size);
	if (four && one)
		undetected(s, "format is ambiguous (fvecs or bvecs)");
	if (one)
		return EMB_FMT_BVECS;
	if (four)
		return looks_int(b, n, d) ? EMB_FMT_IVECS : EMB_FMT_FVECS;
	undetected(s, "format not recognised");
}

/* Any other text is TSV, which also reads space-separated GloVe files. */
static enum emb_format rule_tsv(const struct sniffed *in)
{
	(void)in;
	return EMB_FMT_TSV;
}

/* In order: magic numbers first, then JSON, then text against binary
 * records.  emb.5 ("Sniffing") holds the same table. */
static enum emb_format (*const rules[])(const struct sniffed *) = {
	rule_hdf5,
	rule_safetensors,
	rule_faiss,
	rule_emb,
	rule_npy,
	rule_json,
	rule_word2vec,
	rule_vecs,
	rule_tsv,
};

enum emb_format emb_sniff(const struct emb_stream *s, const unsigned char *b, size_t n,
			  bool eof)
{
	const struct sniffed in = {s, b, n, eof};
	for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
		enum emb_format f = rules[i](&in);
		if (f != NEXT)
			return f;
	}
	undetected(s, "format not recognised");
}
