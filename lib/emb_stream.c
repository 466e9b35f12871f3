/*
 * emb_stream.c - opening streams, sniffing their format, the binary format
 * (header, chunk and end records), and the dispatch to the other codecs
 * (emb_tsv.c, emb_npy.c, emb_w2v.c, emb_vecs.c, emb_jsonl.c) through
 * emb_codecs[].
 *
 * Every data error is diagnosed here, with the byte offset where the bad
 * bytes start, and ends the program (netpbm's pnm_readpaminit does the
 * same): callers never see a half-read stream.
 */
#define _GNU_SOURCE /* fopencookie: push sniffed bytes back in front of a pipe */
#include <config.h>
#include "emb.h"
#include "emb_impl.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------- small I/O helpers ---------- */

/* Read exactly N bytes; returns the count read (< N only at end of file).
 * A read error dies. */
static size_t read_full(struct emb_stream *s, void *buf, size_t n)
{
	if (s->map) {
		/* The bounds check is on the file size taken at open; if the
		 * file shrinks under us, the SIGBUS handler below reports it. */
		size_t left = s->map_len - s->map_pos, k = n < left ? n : left;
		if (k)
			memcpy(buf, s->map + s->map_pos, k);
		s->map_pos += k;
		return k;
	}
	size_t got = fread(buf, 1, n, s->fp);
	if (got < n && ferror(s->fp))
		emb_die(EMB_EXIT_DATA, "%s: read error: %s", s->name, strerror(errno));
	return got;
}

size_t emb_read_bytes(struct emb_stream *s, void *buf, size_t n)
{
	return read_full(s, buf, n);
}

/* ---------- files that shrink while mapped ---------- */

/* A mapped file that another process truncates makes any access to the
 * lost pages raise SIGBUS, and chunk data handed to programs points into
 * the mapping, so the fault can come from anywhere.  The handler looks
 * the faulting address up in this table of live mappings and, if it is
 * one of ours, says "prog: FILE: byte N: file shrank while being read"
 * with only async-signal-safe calls, and exits 1 (removing a --save file
 * being written).  A fault anywhere else is not ours: the default action
 * (a core dump) is restored and the fault repeats. */
#define MAX_MAPS 16
static struct {
	unsigned char *volatile base;
	volatile size_t len;
	const char *volatile name;
	int fd;
} maps[MAX_MAPS];

static size_t put_str(char *buf, size_t at, size_t cap, const char *str)
{
	while (*str && at < cap)
		buf[at++] = *str++;
	return at;
}

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	unsigned char *a = si->si_addr;
	for (int i = 0; i < MAX_MAPS; i++) {
		unsigned char *b = maps[i].base;
		if (!b || a < b || a >= b + maps[i].len)
			continue;
		char msg[4400], num[24];
		size_t n = 0, k = 0;
		uint64_t off = (uint64_t)(a - b);
		do
			num[k++] = (char)('0' + off % 10);
		while ((off /= 10) && k < sizeof num);
		n = put_str(msg, n, sizeof msg, emb_progname);
		n = put_str(msg, n, sizeof msg, ": ");
		n = put_str(msg, n, sizeof msg, maps[i].name);
		n = put_str(msg, n, sizeof msg, ": byte ");
		while (k && n < sizeof msg)
			msg[n++] = num[--k];
		n = put_str(msg, n, sizeof msg, ": file shrank while being read\n");
		ssize_t w = write(STDERR_FILENO, msg, n);
		(void)w;
		emb_remove_doomed();
		_exit(EMB_EXIT_DATA);
	}
	signal(sig, SIG_DFL);
	if (si->si_code <= 0) /* sent by kill(): deliver it again */
		raise(sig);
}

static void map_register(struct emb_stream *s)
{
	static bool installed;
	if (!installed) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_sigbus;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGBUS, &sa, NULL);
		installed = true;
	}
	for (int i = 0; i < MAX_MAPS; i++)
		if (!maps[i].base) {
			maps[i].name = s->name;
			maps[i].fd = fileno(s->fp);
			maps[i].len = s->map_len;
			maps[i].base = s->map;
			return;
		}
}

/* write(2) straight from a lost page fails with EFAULT instead of raising
 * SIGBUS: if a mapped file is now shorter than its mapping, say so. */
static void map_check_shrunk(void)
{
	for (int i = 0; i < MAX_MAPS; i++) {
		struct stat st;
		if (maps[i].base && fstat(maps[i].fd, &st) == 0 &&
		    (uint64_t)st.st_size < maps[i].len)
			emb_die_offset(maps[i].name, (uint64_t)st.st_size,
				       "file shrank while being read");
	}
}

static void map_unregister(struct emb_stream *s)
{
	for (int i = 0; i < MAX_MAPS; i++)
		if (maps[i].base == s->map)
			maps[i].base = NULL;
}

/* Standard input is one open file shared with whoever runs us (the shell,
 * the next command in { ...; } < file): like read(2), a mapped read leaves
 * its offset just past what was consumed, so `prog - -` and
 * `{ prog; cat; } < file` behave as with a pipe. */
static void map_sync_offset(struct emb_stream *s)
{
	if (s->map_stdin)
		(void)lseek(fileno(s->fp), (off_t)s->map_pos, SEEK_SET);
}

/* A regular file is read through a private, writable mapping of all of
 * it: chunk values can then be handed to the program in place (no read(2)
 * copy), and a program that changes them changes its own copy-on-write
 * pages, never the file.  Pipes, and files mmap refuses, keep stdio. */
void emb_map_open(struct emb_stream *s)
{
	struct stat st;
	int fd = fileno(s->fp);
	if (s->map || s->writing || s->src_fp || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX)
		return;
	off_t at = ftello(s->fp); /* nothing is buffered yet: peek() used read(2) */
	if (at < 0 || at > st.st_size)
		return;
	/* Fewer than MAX_MAPS live mappings, so the handler knows them all. */
	int used = 0;
	for (int i = 0; i < MAX_MAPS; i++)
		used += maps[i].base != NULL;
	if (used == MAX_MAPS)
		return;
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return;
	(void)madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
	s->map = m;
	s->map_len = (size_t)st.st_size;
	s->map_pos = (size_t)at;
	s->map_stdin = s->fp == stdin;
	map_register(s);
}

unsigned char *emb_map_take(struct emb_stream *s, size_t n, size_t align)
{
	if (!s->map || n > s->map_len - s->map_pos || s->map_pos % align != 0)
		return NULL;
	unsigned char *p = s->map + s->map_pos;
	s->map_pos += n;
	return p;
}

/* Give back the pages of rows already handed out (they are the file's,
 * so this only trims the resident set; rows a program changed in place
 * revert to the file's values, which emb.h's contract allows), a few MB
 * at a time.  Called before each chunk is read. */
static void map_release(struct emb_stream *s)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t end = page ? s->map_pos / page * page : 0;
	if (end >= s->map_rel + (8u << 20)) {
		(void)madvise(s->map + s->map_rel, end - s->map_rel, MADV_DONTNEED);
		s->map_rel = end;
	}
}

void emb_need_bytes(struct emb_stream *s, void *buf, size_t n, const char *what)
{
	size_t got = read_full(s, buf, n);
	if (got < n)
		emb_die_offset(s->name, s->offset + got, "truncated stream: %s cut short "
			       "(%zu of %zu bytes)", what, got, n);
	s->offset += n;
}

/* A write to S's file failed with ERR: name what failed (standard output,
 * the temporary file a counted header waits in, or a named file) and
 * exit 1.  A closed pipe raises SIGPIPE before we get here, unless it is
 * ignored: then EPIPE ends us quietly. */
static _Noreturn void write_failed(const struct emb_stream *s, int err)
{
	if (err == EFAULT)
		map_check_shrunk();
	if (s->fp == stdout)
		emb_write_error(err);
	emb_die(EMB_EXIT_DATA, "%s: write error: %s", s->real_fp ? emb_tmpfile_where() :
		s->save ? s->save->path : s->name, err ? strerror(err) : "unknown error");
}

void emb_write_bytes(struct emb_stream *s, const void *buf, size_t n)
{
	/* Stop at the first failed write: a full disk or a reader gone away
	 * (SIGPIPE ignored) must not keep us formatting rows to the end. */
	if (n && fwrite(buf, 1, n, s->fp) != n)
		write_failed(s, errno);
	s->offset += n;
}

/* ---------- header JSON ---------- */

static cJSON *meta_new(void)
{
	cJSON *m = cJSON_CreateObject();
	if (!m)
		emb_die(EMB_EXIT_DATA, "out of memory");
	return m;
}

static void meta_set(cJSON *meta, const char *name, cJSON *item)
{
	if (!item)
		emb_die(EMB_EXIT_DATA, "out of memory");
	if (cJSON_GetObjectItemCaseSensitive(meta, name))
		cJSON_ReplaceItemInObjectCaseSensitive(meta, name, item);
	else
		cJSON_AddItemToObject(meta, name, item);
}

void emb_history_append(cJSON *meta, const char *cmdline)
{
	cJSON *h = cJSON_GetObjectItemCaseSensitive(meta, "history");
	if (!cJSON_IsArray(h)) {
		h = cJSON_CreateArray();
		meta_set(meta, "history", h);
	}
	cJSON_AddItemToArray(h, cJSON_CreateString(cmdline));
}

/* Take dim, dtype and keys out of a parsed header, checking each. */
static void header_from_json(struct emb_stream *s, cJSON *j, uint64_t off)
{
	cJSON *dim = cJSON_GetObjectItemCaseSensitive(j, "dim");
	cJSON *dtype = cJSON_GetObjectItemCaseSensitive(j, "dtype");
	cJSON *keys = cJSON_GetObjectItemCaseSensitive(j, "keys");

	if (!cJSON_IsObject(j))
		emb_die_offset(s->name, off, "header is not a JSON object");
	/* Range checks come before any conversion to an integer type: a
	 * double out of its range does not convert (C11 6.3.1.4). */
	double dv = cJSON_IsNumber(dim) ? dim->valuedouble : NAN;
	if (!(dv == floor(dv)))
		emb_die_offset(s->name, off, "header has no valid \"dim\"");
	if (dv < 0)
		emb_die_offset(s->name, off, fabs(dv) < 1e20 ? "header claims a negative "
			       "dim (%.0f)" : "header claims a negative dim (%g)", dv);
	if (dv > EMB_MAX_DIM)
		emb_die_offset(s->name, off, dv < 1e20 ? "header claims dim %.0f (limit %u)"
			       : "header claims dim %g (limit %u)", dv, EMB_MAX_DIM);
	int t = cJSON_IsString(dtype) ? emb_dtype_parse(dtype->valuestring) : -1;
	if (t < 0)
		emb_die_offset(s->name, off, "header has no valid \"dtype\" (f32, f64 or f16)");
	if (keys && !cJSON_IsBool(keys))
		emb_die_offset(s->name, off, "header \"keys\" is not true or false");
	s->dim = (size_t)dim->valuedouble;
	s->dtype = (enum emb_dtype)t;
	s->has_keys = cJSON_IsTrue(keys);
}

/* A segment's "row_offset" (emb.5, "Row numbers"): its first row is
 * number row_offset + 1.  Without one, the numbers go on from the rows
 * before it. */
static void read_row_offset(struct emb_stream *s, cJSON *j, uint64_t off)
{
	cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "row_offset");
	if (!r)
		return;
	double v = cJSON_IsNumber(r) ? r->valuedouble : NAN;
	if (!(v >= 0 && v <= (double)EMB_MAX_ROW_OFFSET && v == floor(v)))
		emb_die_offset(s->name, off, "header \"row_offset\" is not a whole number "
			       "from 0 to 2^53");
	s->row_next = (uint64_t)v + 1;
	s->row_pinned = true;
}

/* Read a binary header whose magic is already consumed. */
static void read_binary_header(struct emb_stream *s, bool first)
{
	unsigned char h[12];
	uint64_t start = s->offset - EMB_MAGIC_LEN;
	emb_need_bytes(s, h, sizeof h, "header");
	uint32_t version = emb_get_u32(h), len = emb_get_u32(h + 4), crc = emb_get_u32(h + 8);
	if (version != EMB_FORMAT_VERSION)
		emb_die_offset(s->name, start + 8, "unsupported format version %u (this is %u)",
			       version, EMB_FORMAT_VERSION);
	if (len > EMB_MAX_JSON_LEN)
		emb_die_offset(s->name, start + 12, "header claims %u JSON bytes (limit %u)",
			       len, EMB_MAX_JSON_LEN);
	char *json = emb_xmalloc((size_t)len + 1);
	emb_need_bytes(s, json, len, "header JSON");
	json[len] = '\0';
	if (emb_crc32c(0, json, len) != crc)
		emb_die_offset(s->name, start + 20, "header checksum mismatch");
	cJSON *j = cJSON_ParseWithLength(json, len);
	free(json);
	if (!j)
		emb_die_offset(s->name, start + 20, "header is not valid JSON");

	if (first) {
		header_from_json(s, j, start + 20);
		read_row_offset(s, j, start + 20);
		s->meta = j;
		s->format = EMB_FMT_EMB;
		s->mtype = s->dtype == EMB_F64 ? EMB_F64 : EMB_F32;
		return;
	}
	/* A later stream: it must agree with the first. */
	struct emb_stream next = *s;
	header_from_json(&next, j, start + 20);
	read_row_offset(s, j, start + 20);
	cJSON_Delete(j);
	s->seg_dim0 = next.dim == 0; /* "dim 0 only in a stream with no rows" */
	if (s->dim == 0 && s->recno == 0) {
		s->dim = next.dim;
	} else if (next.dim != s->dim && next.dim != 0) {
		emb_die_offset(s->name, start, "concatenated stream has dim %zu, not %zu",
			       next.dim, s->dim);
	}
	if (next.dtype != s->dtype)
		emb_die_offset(s->name, start, "concatenated stream has dtype %s, not %s",
			       emb_dtype_name(next.dtype), emb_dtype_name(s->dtype));
	if (next.has_keys != s->has_keys)
		emb_die_offset(s->name, start, "concatenated stream %s keys, the first %s",
			       next.has_keys ? "has" : "has no", next.has_keys ? "has none" : "has");
}

/* ---------- opening and sniffing ---------- */

/* Bytes looked at to tell formats apart: enough for a word2vec header and
 * its first row, or two fvecs records, at the dims people use. */
#define PEEK_MAX 65536

/* A pipe cannot seek back over the sniffed bytes, so the stream reads
 * them again from this wrapper, then the pipe itself (read(2) straight
 * into stdio's buffer: no extra copy once the prefix is used up). */
struct peeked {
	unsigned char *buf;
	size_t len, pos;
	int fd;
};

static ssize_t peeked_read(void *cookie, char *out, size_t n)
{
	struct peeked *p = cookie;
	if (p->pos < p->len) {
		size_t k = p->len - p->pos < n ? p->len - p->pos : n;
		memcpy(out, p->buf + p->pos, k);
		p->pos += k;
		return (ssize_t)k;
	}
	for (;;) {
		ssize_t r = read(p->fd, out, n);
		if (r >= 0 || errno != EINTR)
			return r;
	}
}

static int peeked_close(void *cookie)
{
	struct peeked *p = cookie;
	free(p->buf);
	free(p);
	return 0;
}

/* Read up to PEEK_MAX bytes of S's file into BUF without losing them:
 * a regular file seeks back, anything else gets the wrapper above.  With
 * TEXT, a UTF-8 byte order mark at the start is dropped here, once for
 * every text codec: the stream then starts after it (s->offset 3). */
static size_t peek(struct emb_stream *s, unsigned char *buf, bool text, bool *eof)
{
	int fd = fileno(s->fp);
	off_t at = lseek(fd, 0, SEEK_CUR);
	size_t len = 0;
	while (len < PEEK_MAX) {
		ssize_t r = read(fd, buf + len, PEEK_MAX - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			emb_die(EMB_EXIT_DATA, "%s: read error: %s", s->name, strerror(errno));
		if (r == 0)
			break;
		len += (size_t)r;
	}
	*eof = len < PEEK_MAX;
	size_t bom = text && len >= 3 && memcmp(buf, EMB_UTF8_BOM, 3) == 0 ? 3 : 0;
	s->offset = bom;
	struct stat st;
	if (at >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    lseek(fd, at + (off_t)bom, SEEK_SET) == at + (off_t)bom) {
		memmove(buf, buf + bom, len - bom);
		return len - bom;
	}
	struct peeked *p = emb_xmalloc(sizeof *p);
	p->buf = emb_xmalloc(len ? len : 1);
	memcpy(p->buf, buf, len);
	p->len = len;
	p->pos = bom;
	memmove(buf, buf + bom, len - bom);
	len -= bom;
	p->fd = fd;
	FILE *w = fopencookie(p, "r", (cookie_io_functions_t){peeked_read, NULL, NULL, peeked_close});
	if (!w)
		emb_die(EMB_EXIT_DATA, "%s: %s", s->name, strerror(errno));
	setvbuf(w, NULL, _IOFBF, 1 << 20);
	s->src_fp = s->fp;
	s->fp = w;
	return len;
}

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

static enum emb_format sniff(const struct emb_stream *s, const unsigned char *b, size_t n,
			     bool eof)
{
	/* issue 13's binary dumps (emb.5, sniff table: binfmt rows) */
	enum emb_format dump = emb_sniff_dump(b, n);
	if (dump != EMB_FMT_AUTO)
		return dump;
	if (b[0] == (unsigned char)EMB_MAGIC[0])
		return EMB_FMT_EMB; /* a bad magic is diagnosed by the binary reader */
	if (n >= 6 && memcmp(b, "\x93NUMPY", 6) == 0)
		return EMB_FMT_NPY;
	size_t i = 0;
	while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
		i++;
	if (i < n && b[i] == '{')
		return EMB_FMT_JSONL;
	enum emb_format t = sniff_text(b, n, eof);
	if (t == EMB_FMT_AUTO)
		undetected(s, "format not recognised");
	/* Binary records (fvecs/bvecs/ivecs) hold NULs; input that began
	 * with a UTF-8 byte order mark (stripped by peek) is text whatever
	 * follows, and the text reader names the NUL. */
	if (t != EMB_FMT_TSV || !memchr(b, '\0', n) || s->offset != 0)
		return t;

	uint32_t d = n >= 4 ? emb_get_u32(b) : 0;
	if (d == 0 || d > EMB_MAX_DIM)
		undetected(s, "format not recognised");
	struct stat st;
	long long size = -1;
	if (s->src_fp == NULL && fstat(fileno(s->fp), &st) == 0 && S_ISREG(st.st_mode))
		size = (long long)st.st_size;
	else if (eof)
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

static bool next_segment(struct emb_stream *s);
static void write_header_emb(struct emb_stream *s);

/* Read the next record header of a binary stream into H; returns the
 * byte offset it starts at.  End of file here is a truncated stream. */
static uint64_t read_record_header(struct emb_stream *s, unsigned char h[EMB_RECORD_HEADER_LEN])
{
	uint64_t start = s->offset;
	size_t got = read_full(s, h, EMB_RECORD_HEADER_LEN);
	if (got == 0)
		emb_die_offset(s->name, start, "truncated stream: end record missing");
	if (got < EMB_RECORD_HEADER_LEN)
		emb_die_offset(s->name, start + got, "truncated stream: record header "
			       "cut short (%zu of %d bytes)", got, EMB_RECORD_HEADER_LEN);
	s->offset += EMB_RECORD_HEADER_LEN;
	return start;
}

/* Leading segments of dim 0 hold no rows (emb.5): read past them at open,
 * so that programs see the dim of the first segment that has rows. */
static void skip_dim0_segments(struct emb_stream *s)
{
	while (s->dim == 0) {
		unsigned char h[EMB_RECORD_HEADER_LEN];
		uint64_t start = read_record_header(s, h);
		if (memcmp(h, EMB_TAG_CHUNK, 4) == 0)
			emb_die_offset(s->name, start, "chunk in a stream of dim 0");
		if (memcmp(h, EMB_TAG_END, 4) != 0)
			emb_die_offset(s->name, start, "bad record tag (not a chunk or end record)");
		if (emb_crc32c(0, h + 8, 8) != emb_get_u32(h + 4) || emb_get_u64(h + 16) != 0)
			emb_die_offset(s->name, start, "end record is corrupt");
		if (emb_get_u64(h + 8) != 0)
			emb_die_offset(s->name, start, "end record counts %llu rows, the stream had 0",
				       (unsigned long long)emb_get_u64(h + 8));
		if (!next_segment(s)) {
			s->at_eof = true;
			return;
		}
	}
}

static void emb_read_header_emb(struct emb_stream *s)
{
	char magic[EMB_MAGIC_LEN];
	emb_map_open(s);
	size_t got = read_full(s, magic, EMB_MAGIC_LEN);
	if (got < EMB_MAGIC_LEN || memcmp(magic, EMB_MAGIC, EMB_MAGIC_LEN) != 0)
		emb_die_offset(s->name, 0, "not an emb stream (bad magic)");
	s->offset = EMB_MAGIC_LEN;
	read_binary_header(s, true);
	skip_dim0_segments(s);
}

bool emb_stream_stat(const struct emb_stream *s, struct stat *st)
{
	FILE *fp = s->src_fp ? s->src_fp : s->fp;
	return fp && fstat(fileno(fp), st) == 0;
}

/* The input streams open now, newest first: for emb_close_inputs(). */
static struct emb_stream *open_inputs;

static void input_link(struct emb_stream *s)
{
	s->next_input = open_inputs;
	if (open_inputs)
		open_inputs->prev_input = s;
	open_inputs = s;
}

static void input_unlink(struct emb_stream *s)
{
	if (s->prev_input)
		s->prev_input->next_input = s->next_input;
	else if (open_inputs == s)
		open_inputs = s->next_input;
	if (s->next_input)
		s->next_input->prev_input = s->prev_input;
	s->next_input = s->prev_input = NULL;
}

void emb_close_inputs(void)
{
	while (open_inputs)
		emb_close(open_inputs);
}

struct emb_stream *emb_open_r(const char *path, const struct emb_opts *o)
{
	/* issue 13: big-ann files say what they are only by their name */
	struct emb_opts byname;
	if (o->in_format == EMB_FMT_AUTO && emb_format_by_extension(path) != EMB_FMT_AUTO) {
		byname = *o;
		byname.in_format = emb_format_by_extension(path);
		o = &byname;
	}
	return emb_open_r_fp(emb_fopen_r(path), (!path || strcmp(path, "-") == 0) ? "-" : path, o);
}

struct emb_stream *emb_open_r_fp(FILE *fp, const char *name, const struct emb_opts *o)
{
	struct emb_stream *s = emb_xcalloc(1, sizeof *s);
	input_link(s);
	s->name = name;
	s->fp = fp;
	s->own_fp = s->fp != stdin;
	s->progress = o->progress;
	s->tsv_keys_opt = o->keys;
	s->vector_field = o->vector_field ? o->vector_field : "embedding";
	s->key_field = o->key_field ? o->key_field : "id";
	s->tensor = o->tensor;   /* issue 13 */
	s->dataset = o->dataset;
	s->hdr_pos = -1;
	s->row_next = 1;
	setvbuf(s->fp, NULL, _IOFBF, 1 << 20);

	enum emb_format f = o->in_format;
	unsigned char *buf = emb_xmalloc(PEEK_MAX);
	bool text = f != EMB_FMT_EMB && f != EMB_FMT_NPY && f != EMB_FMT_FVECS &&
		    f != EMB_FMT_BVECS && f != EMB_FMT_IVECS &&
		    !(f >= EMB_FMT_FBIN && f <= EMB_FMT_HDF5); /* issue 13: binary */
	bool eof;
	size_t n = peek(s, buf, text, &eof);
	if (n == 0) {
		free(buf);
		s->at_eof = true;
		s->format = f == EMB_FMT_AUTO ? EMB_FMT_TSV : f;
		s->meta = meta_new();
		return s;
	}
	if (f == EMB_FMT_AUTO)
		f = sniff(s, buf, n, eof);
	free(buf);
	s->format = f;
	if (f != EMB_FMT_EMB) {
		s->meta = meta_new();
		s->dtype = EMB_F32;
		s->mtype = EMB_F32;
	}
	/* issue 13: options for one format name no other */
	if (o->tensor && f != EMB_FMT_SAFETENSORS)
		emb_die(EMB_EXIT_DATA, "%s: --tensor is for safetensors input, not %s", s->name,
			emb_format_name(f));
	if (o->dataset && f != EMB_FMT_HDF5)
		emb_die(EMB_EXIT_DATA, "%s: --dataset is for HDF5 input, not %s", s->name,
			emb_format_name(f));
	emb_codecs[f].read_header(s);
	s->open_row = s->row_next;
	s->open_pinned = s->row_pinned;
	return s;
}

static struct emb_stream *open_w(FILE *fp, const char *name, const struct emb_stream *in,
				 const struct emb_opts *o)
{
	struct emb_stream *s = emb_xcalloc(1, sizeof *s);
	s->writing = true;
	s->fp = fp;
	s->name = name;
	if (in) {
		s->dim = in->dim;
		s->dtype = in->dtype;
		s->has_keys = in->has_keys;
		s->format = in->format;
		s->meta = cJSON_Duplicate(in->meta, true);
		s->row_next = in->writing ? in->row_next : in->open_row;
		s->row_pinned = in->writing ? in->row_pinned : in->open_pinned;
	}
	if (!s->row_next)
		s->row_next = 1;
	if (!s->meta)
		s->meta = meta_new();
	if (o->out_format != EMB_FMT_AUTO)
		s->format = o->out_format;
	if (s->format == EMB_FMT_AUTO)
		s->format = EMB_FMT_TSV;
	if (o->out_dtype >= 0)
		s->dtype = (enum emb_dtype)o->out_dtype;
	s->progress = o->progress;
	s->vector_field = o->vector_field ? o->vector_field : "embedding";
	s->key_field = o->key_field ? o->key_field : "id";
	s->hdr_pos = -1;
	return s;
}

struct emb_stream *emb_open_w_like(const struct emb_stream *in, const struct emb_opts *o)
{
	return open_w(stdout, "standard output", in, o);
}

struct emb_stream *emb_open_w_fp(FILE *fp, const char *name, const struct emb_stream *in,
				 const struct emb_opts *o)
{
	struct emb_stream *s = open_w(fp, name, in, o);
	s->own_fp = true;
	return s;
}

struct emb_stream *emb_open_w_path(const char *path, const struct emb_stream *in,
				   const struct emb_opts *o)
{
	struct emb_save *sv = emb_xmalloc(sizeof *sv);
	struct emb_stream *s = emb_open_w_fp(emb_save_open(sv, path), path, in, o);
	s->save = sv;
	if (o->out_format == EMB_FMT_AUTO && emb_format_by_extension(path) != EMB_FMT_AUTO)
		s->format = emb_format_by_extension(path); /* issue 13: .fbin ... */
	return s;
}

/* ---------- writing ---------- */

size_t emb_batch_rows(size_t dim, enum emb_dtype t)
{
	size_t rows = EMB_CHUNK_TARGET_BYTES / (dim * emb_dtype_size(t) + 1);
	return rows < 1 ? 1 : rows > 65536 ? 65536 : rows;
}

static void write_header_emb(struct emb_stream *s)
{
	meta_set(s->meta, "dim", cJSON_CreateNumber((double)s->dim));
	meta_set(s->meta, "dtype", cJSON_CreateString(emb_dtype_name(s->dtype)));
	meta_set(s->meta, "keys", cJSON_CreateBool(s->has_keys));
	if (s->row_pinned)
		meta_set(s->meta, "row_offset", cJSON_CreateNumber((double)(s->row_next - 1)));
	else
		cJSON_DeleteItemFromObjectCaseSensitive(s->meta, "row_offset");
	char *json = cJSON_PrintUnformatted(s->meta);
	if (!json)
		emb_die(EMB_EXIT_DATA, "out of memory");
	size_t len = strlen(json);
	/* Pad the JSON with spaces (trailing whitespace is still JSON) so the
	 * first record, and with it f64/f32 values, start at a multiple of 8:
	 * a mapped reader can then use the values in place. */
	size_t pad = (8 - (size_t)((s->offset + EMB_MAGIC_LEN + 12 + len) % 8)) % 8;
	if (pad) {
		json = emb_xrealloc(json, len + pad + 1);
		memset(json + len, ' ', pad);
		len += pad;
		json[len] = '\0';
	}
	unsigned char h[EMB_MAGIC_LEN + 12];
	memcpy(h, EMB_MAGIC, EMB_MAGIC_LEN);
	emb_put_u32(h + 8, EMB_FORMAT_VERSION);
	emb_put_u32(h + 12, (uint32_t)len);
	emb_put_u32(h + 16, emb_crc32c(0, json, len));
	emb_write_bytes(s, h, sizeof h);
	emb_write_bytes(s, json, len);
	free(json);
}

/* Width of the row count in a header written before the count is known:
 * room for any uint64, padded with spaces, which numpy, gensim and the
 * word2vec C tool all skip. */
#define COUNT_WIDTH 20
/* Room for a counted header: a safetensors header carries the history. */
#define COUNT_HEADER_MAX (1 << 20)

/* Formats whose header holds the row count cannot write it first when
 * rows stream in.  A regular file (not opened for appending) gets a
 * padded placeholder that emb_close() overwrites; anything else (a pipe)
 * gets the rows in an unlinked temporary file, copied out after the
 * header at close: the disk holds them, never memory. */
static void begin_counted(struct emb_stream *s)
{
	const struct emb_codec *k = &emb_codecs[s->format];
	int fd = fileno(s->fp);
	struct stat st;
	if (fstat(fd, &st) != 0) /* a closed stdout: say so before a temporary file takes fd 1 */
		write_failed(s, errno);
	int fl = fcntl(fd, F_GETFL);
	off_t at = ftello(s->fp);
	if (at >= 0 && fl >= 0 && !(fl & O_APPEND) && S_ISREG(st.st_mode)) {
		static char h[COUNT_HEADER_MAX];
		s->hdr_pos = at;
		emb_write_bytes(s, h, k->count_header(s, EMB_ROWS_UNKNOWN, COUNT_WIDTH, h, sizeof h));
		return;
	}
	s->real_fp = s->fp;
	s->fp = emb_tmpfile("out");
	setvbuf(s->fp, NULL, _IOFBF, 1 << 20);
}

/* Rows bound for a pipe wait in a temporary file until the row count is
 * known; if the reader goes away meanwhile (the pipe's write end then
 * polls as an error), end now as a write would, not after the last row. */
static void check_reader(struct emb_stream *s)
{
	struct pollfd p = {.fd = fileno(s->real_fp), .events = POLLOUT};
	if (poll(&p, 1, 0) == 1 && (p.revents & POLLERR)) {
		raise(SIGPIPE); /* what a write would do, unless it is ignored */
		s->fp = s->real_fp;
		write_failed(s, EPIPE);
	}
}

static void finish_counted(struct emb_stream *s)
{
	const struct emb_codec *k = &emb_codecs[s->format];
	static char h[COUNT_HEADER_MAX];
	if (s->hdr_pos >= 0) {
		size_t len = k->count_header(s, s->recno, COUNT_WIDTH, h, sizeof h);
		off_t end = ftello(s->fp);
		if (end < 0 || fseeko(s->fp, s->hdr_pos, SEEK_SET) != 0 ||
		    fwrite(h, 1, len, s->fp) != len || fseeko(s->fp, end, SEEK_SET) != 0)
			write_failed(s, errno);
		return;
	}
	FILE *tmp = s->fp;
	if (fflush(tmp) != 0 || ferror(tmp) || fseeko(tmp, 0, SEEK_SET) != 0)
		write_failed(s, errno); /* names the temporary file */
	s->fp = s->real_fp;
	s->real_fp = NULL;
	size_t len = k->count_header(s, s->recno, 0, h, sizeof h);
	if (fwrite(h, 1, len, s->fp) != len)
		write_failed(s, errno);
	static char buf[1 << 16];
	size_t got;
	while ((got = fread(buf, 1, sizeof buf, tmp)) > 0)
		if (fwrite(buf, 1, got, s->fp) != got)
			write_failed(s, errno);
	if (ferror(tmp))
		emb_die(EMB_EXIT_DATA, "%s: read error: %s", emb_tmpfile_where(), strerror(errno));
	fclose(tmp);
}

void emb_write_header(struct emb_stream *s)
{
	if (s->header_done)
		return;
	s->header_done = true;
	const struct emb_codec *k = &emb_codecs[s->format];
	if (!k->write_rows)
		emb_die(EMB_EXIT_DATA, "writing %s is not supported", k->name);
	emb_history_append(s->meta, emb_cmdline());
	s->chunk_rows = emb_batch_rows(s->dim, s->dtype);
	if (k->count_header)
		begin_counted(s);
	else if (k->write_header)
		k->write_header(s);
	/* On a regular file the header goes out now: a writer killed before
	 * its first full buffer then leaves a header without its end (or an
	 * unfinished count), which every reader refuses, not an empty file,
	 * which reads as a valid stream of no rows. */
	struct stat st;
	if ((k->count_header || s->format == EMB_FMT_EMB) && fstat(fileno(s->fp), &st) == 0 &&
	    S_ISREG(st.st_mode) && fflush(s->fp) != 0)
		write_failed(s, errno);
}

/* Write one CHNK record: KEYBYTES of key block (already NUL-padded to a
 * multiple of 8) then VALBYTES of values in disk form. */
static void write_record(struct emb_stream *s, size_t rows, const char *keys, size_t keybytes,
			 const void *vals, size_t valbytes)
{
	uint32_t crc = emb_crc32c(emb_crc32c(0, keys, keybytes), vals, valbytes);
	unsigned char h[EMB_RECORD_HEADER_LEN];
	memcpy(h, EMB_TAG_CHUNK, 4);
	emb_put_u32(h + 4, crc);
	emb_put_u64(h + 8, rows);
	emb_put_u64(h + 16, keybytes);
	emb_write_bytes(s, h, sizeof h);
	emb_write_bytes(s, keys, keybytes);
	emb_write_bytes(s, vals, valbytes);
	s->chunks++;
}

/* Pad the pending key block with NULs to a multiple of 8; returns its size. */
static size_t pad_keys(struct emb_stream *s)
{
	size_t keybytes = s->has_keys ? (s->pend_keys_len + 7) / 8 * 8 : 0;
	if (keybytes > s->pend_keys_len) {
		if (keybytes > s->pend_keys_cap) {
			s->pend_keys = emb_xrealloc(s->pend_keys, keybytes);
			s->pend_keys_cap = keybytes;
		}
		memset(s->pend_keys + s->pend_keys_len, 0, keybytes - s->pend_keys_len);
	}
	return keybytes;
}

static void flush_pending(struct emb_stream *s)
{
	if (s->pend_rows == 0)
		return;
	size_t keybytes = pad_keys(s);
	write_record(s, s->pend_rows, s->pend_keys, keybytes, s->pend_vals,
		     s->pend_rows * s->dim * emb_dtype_size(s->dtype));
	s->pend_rows = 0;
	s->pend_keys_len = 0;
}

/* Queue the key of the row numbered NUMBER, output row POS (1-based):
 * KEY, or the number when it has none. */
static void pend_key(struct emb_stream *s, const char *key, uint64_t number, uint64_t pos)
{
	char num[24];
	if (!key) {
		snprintf(num, sizeof num, "%llu", (unsigned long long)number);
		key = num;
	}
	size_t len = strlen(key) + 1;
	if (len - 1 > EMB_MAX_KEY_LEN)
		emb_die(EMB_EXIT_DATA, "%s: row %llu: key longer than %d bytes", s->name,
			(unsigned long long)pos, EMB_MAX_KEY_LEN);
	if (s->pend_keys_len + len + 8 > s->pend_keys_cap) {
		s->pend_keys_cap = (s->pend_keys_len + len + 8) * 2;
		s->pend_keys = emb_xrealloc(s->pend_keys, s->pend_keys_cap);
	}
	memcpy(s->pend_keys + s->pend_keys_len, key, len);
	s->pend_keys_len += len;
}

static void write_rows_binary(struct emb_stream *s, const struct emb_chunk *c)
{
	size_t vsize = s->dim * emb_dtype_size(s->dtype);
	if (!s->pend_vals)
		s->pend_vals = emb_xmalloc(emb_xmul(s->chunk_rows, vsize ? vsize : 1));
	size_t esize = emb_dtype_size(c->type);
	/* emb_write_chunk counts the rows after us */
	uint64_t base = s->recno, number = s->row_next;
	for (size_t i = 0; i < c->rows;) {
		size_t take = s->chunk_rows - s->pend_rows;
		if (take > c->rows - i)
			take = c->rows - i;
		if (s->pend_rows == 0 && take == s->chunk_rows && c->type == s->dtype &&
		    emb_host_is_le()) {
			/* A whole chunk in disk form already: write it in place, no copy
			 * (embcat's binary pass-through stays at pipe speed). */
			if (s->has_keys)
				for (size_t r = 0; r < take; r++)
					pend_key(s, c->keys ? c->keys[i + r] : NULL, number + i + r,
						 base + i + r + 1);
			size_t keybytes = pad_keys(s);
			write_record(s, take, s->pend_keys, keybytes,
				     (const char *)c->data + i * c->dim * esize, take * vsize);
			s->pend_keys_len = 0;
			s->seg_rows += take;
			i += take;
			continue;
		}
		emb_to_disk_counted(s, s->pend_vals + s->pend_rows * vsize,
				    (const char *)c->data + i * c->dim * esize, take * c->dim,
				    c->type, s->dtype);
		if (s->has_keys)
			for (size_t r = 0; r < take; r++)
				pend_key(s, c->keys ? c->keys[i + r] : NULL, number + i + r,
					 base + i + r + 1);
		s->pend_rows += take;
		s->seg_rows += take;
		i += take;
		if (s->pend_rows == s->chunk_rows)
			flush_pending(s);
	}
}

static void write_end_emb(struct emb_stream *s);

/* End the binary segment and start another whose first row is number
 * FIRST: numbered rows that do not go on from the ones before. */
static void begin_segment(struct emb_stream *s, uint64_t first)
{
	write_end_emb(s);
	s->seg_rows = 0;
	s->row_next = first;
	s->row_pinned = true;
	write_header_emb(s);
}

void emb_write_chunk(struct emb_stream *s, const struct emb_chunk *c)
{
	if (c->rows == 0)
		return;
	const struct emb_codec *k = &emb_codecs[s->format];
	uint64_t first = c->numbered ? c->first_row : s->row_next;
	if (!s->header_done) {
		if (s->dim == 0)
			s->dim = c->dim;
		if (c->numbered) {
			s->row_next = first;
			s->row_pinned = true;
		}
		emb_write_header(s);
	}
	if (c->dim != s->dim)
		emb_die(EMB_EXIT_DATA, "%s: row %llu has dim %zu, the stream %zu", s->name,
			(unsigned long long)s->recno + 1, c->dim, s->dim);
	if (c->numbered && s->format == EMB_FMT_EMB &&
	    (!s->row_pinned || first != s->row_next))
		begin_segment(s, first);
	/* Keyless rows in a format that holds no numbers read back numbered
	 * by their place in the file: say so once if that is not theirs.
	 * Word-vector text gives every row a key: the number. */
	bool numbers_kept = s->format == EMB_FMT_EMB || (s->has_keys && k->keys) ||
			    s->format == EMB_FMT_W2V || s->format == EMB_FMT_W2VBIN ||
			    s->format == EMB_FMT_GLOVE || s->format == EMB_FMT_VEC;
	if (!c->keys && !numbers_kept &&
	    first != s->recno + 1 && !s->renumber_warned) {
		emb_warn("%s: %s holds no row numbers: row %llu is written as row %llu "
			 "(write emb to keep them)", s->name, k->name, (unsigned long long)first,
			 (unsigned long long)s->recno + 1);
		s->renumber_warned = true;
	}
	s->row_next = first;
	k->write_rows(s, c);
	if (ferror(s->fp)) /* text codecs print with stdio: stop at the first failure */
		write_failed(s, errno);
	if (s->real_fp)
		check_reader(s);
	s->recno += c->rows;
	s->row_next = first + c->rows;
	if (s->has_keys && !k->keys)
		s->dropped_keys += c->rows;
	emb_progress(s->recno, s->offset);
}

void emb_write_row(struct emb_stream *s, const char *key, const void *row, enum emb_dtype t)
{
	char *keys[1] = {(char *)key};
	struct emb_chunk c = EMB_CHUNK_INIT;
	c.rows = 1;
	c.dim = s->dim;
	c.type = t;
	c.data = (void *)row;
	c.keys = key ? keys : NULL;
	emb_write_chunk(s, &c);
}

static void write_end_emb(struct emb_stream *s)
{
	flush_pending(s);
	unsigned char h[EMB_RECORD_HEADER_LEN], n[8];
	emb_put_u64(n, s->seg_rows);
	memcpy(h, EMB_TAG_END, 4);
	emb_put_u32(h + 4, emb_crc32c(0, n, 8));
	memcpy(h + 8, n, 8);
	emb_put_u64(h + 16, 0);
	emb_write_bytes(s, h, sizeof h);
}

/* ---------- reading ---------- */

/* Split a key block into the chunk's key pointers, checking its shape. */
static void decode_keys(struct emb_stream *s, struct emb_chunk *c, const char *blk,
			size_t len, uint64_t off)
{
	size_t pos = 0;
	for (size_t i = 0; i < c->rows; i++) {
		const char *z = memchr(blk + pos, '\0', len - pos);
		if (!z)
			emb_die_offset(s->name, off + pos, "key block holds fewer keys than rows");
		if ((size_t)(z - (blk + pos)) > EMB_MAX_KEY_LEN)
			emb_die_offset(s->name, off + pos, "key longer than %d bytes", EMB_MAX_KEY_LEN);
		emb_chunk_set_key(c, i, blk + pos, (size_t)(z - (blk + pos)));
		pos = (size_t)(z - blk) + 1;
	}
	for (; pos < len; pos++)
		if (blk[pos] != '\0')
			emb_die_offset(s->name, off + pos, "key block holds more keys than rows");
}

/* After an END record: EOF ends the input; a magic starts another stream. */
static bool next_segment(struct emb_stream *s)
{
	char magic[EMB_MAGIC_LEN];
	size_t got = read_full(s, magic, EMB_MAGIC_LEN);
	if (got == 0)
		return false;
	if (got < EMB_MAGIC_LEN || memcmp(magic, EMB_MAGIC, EMB_MAGIC_LEN) != 0)
		emb_die_offset(s->name, s->offset, "garbage after end of stream");
	s->offset += EMB_MAGIC_LEN;
	read_binary_header(s, false);
	s->seg_rows = 0;
	return true;
}

/* Bytes of chunk values read and checksummed at a time (well inside L2). */
#define READ_PIECE (256u << 10)

/* Make s->raw hold at least NEED bytes (keeping its contents), growing
 * geometrically up to LIMIT, the most the record can need. */
static void grow_raw(struct emb_stream *s, size_t need, size_t limit)
{
	if (need <= s->raw_cap)
		return;
	size_t cap = emb_grow_cap(s->raw_cap, need, limit);
	s->raw = emb_xrealloc(s->raw, cap);
	s->raw_cap = cap;
}

/* Read the next chunk's record header into s->rec_h, through end
 * records and the headers of later segments, and check it: a chunk
 * tag, a row count and a key block within the limits.  False at the end
 * of input (s->at_eof). */
static bool next_chunk_header(struct emb_stream *s)
{
	if (s->rec_held)
		return true;
	for (;;) {
		unsigned char *h = s->rec_h;
		uint64_t start = read_record_header(s, h);
		uint32_t crc = emb_get_u32(h + 4);
		uint64_t rows = emb_get_u64(h + 8), keybytes = emb_get_u64(h + 16);

		if (memcmp(h, EMB_TAG_END, 4) == 0) {
			if (emb_crc32c(0, h + 8, 8) != crc || keybytes != 0)
				emb_die_offset(s->name, start, "end record is corrupt");
			if (rows != s->seg_rows)
				emb_die_offset(s->name, start, "end record counts %llu rows, "
					       "the stream had %llu", (unsigned long long)rows,
					       (unsigned long long)s->seg_rows);
			if (!next_segment(s)) {
				s->at_eof = true;
				return false;
			}
			continue;
		}
		if (memcmp(h, EMB_TAG_CHUNK, 4) != 0)
			emb_die_offset(s->name, start, "bad record tag (not a chunk or end record)");

		size_t esize = emb_dtype_size(s->dtype);
		if (s->dim == 0 || s->seg_dim0)
			emb_die_offset(s->name, start, "chunk in a stream of dim 0");
		uint64_t max_rows = EMB_MAX_CHUNK_BYTES / (s->dim * esize);
		if (rows == 0 || rows > max_rows)
			emb_die_offset(s->name, start + 8, "chunk claims %llu rows (limit %llu "
				       "at dim %zu)", (unsigned long long)rows,
				       (unsigned long long)max_rows, s->dim);
		if (keybytes > EMB_MAX_CHUNK_BYTES || keybytes % 8 != 0 ||
		    (!s->has_keys && keybytes != 0) || (s->has_keys && keybytes < rows))
			emb_die_offset(s->name, start + 16, "chunk claims a key block of %llu bytes",
				       (unsigned long long)keybytes);
		s->rec_start = start;
		s->rec_held = true;
		return true;
	}
}

bool emb_peek_chunk(struct emb_stream *s, uint64_t *rows)
{
	*rows = 0;
	if (s->at_eof)
		return true;
	if (emb_codecs[s->format].next_rows && !s->writing) { /* issue 13 */
		*rows = emb_codecs[s->format].next_rows(s);
		return true;
	}
	if (s->format != EMB_FMT_EMB || s->writing)
		return false;
	if (next_chunk_header(s))
		*rows = emb_get_u64(s->rec_h + 8);
	return true;
}

/* Is S's file a regular file that fseeko() can move in?  Gives its size. */
static bool seekable(const struct emb_stream *s, uint64_t *size)
{
	struct stat st;
	if (s->src_fp || fstat(fileno(s->fp), &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	*size = (uint64_t)st.st_size;
	return true;
}

/* Pass over the payload of the chunk whose header is held, without
 * checksumming it: the map or a regular file moves past it (after a
 * check that the file holds it all), a pipe is read and dropped. */
static void skip_payload(struct emb_stream *s)
{
	uint64_t rows = emb_get_u64(s->rec_h + 8), keybytes = emb_get_u64(s->rec_h + 16);
	uint64_t valbytes = rows * s->dim * emb_dtype_size(s->dtype);
	uint64_t keyoff = s->offset, have = UINT64_MAX, size, total = keybytes + valbytes;
	off_t at = -1;
	if (s->map)
		have = s->map_len - s->map_pos;
	else if (seekable(s, &size) && (at = ftello(s->fp)) >= 0)
		have = size > (uint64_t)at ? size - (uint64_t)at : 0;
	if (keybytes > have)
		emb_die_offset(s->name, keyoff + have, "truncated stream: chunk keys cut short "
			       "(%llu of %llu bytes)", (unsigned long long)have,
			       (unsigned long long)keybytes);
	if (valbytes > have - keybytes)
		emb_die_offset(s->name, keyoff + have, "truncated stream: chunk values cut "
			       "short (%llu of %llu bytes)", (unsigned long long)(have - keybytes),
			       (unsigned long long)valbytes);
	if (s->map) {
		s->map_pos += (size_t)total;
	} else if (at >= 0) {
		if (fseeko(s->fp, (off_t)total, SEEK_CUR) != 0)
			emb_die(EMB_EXIT_DATA, "%s: %s", s->name, strerror(errno));
	} else {
		for (uint64_t done = 0; done < total;) {
			size_t piece = total - done < READ_PIECE ? (size_t)(total - done) : READ_PIECE;
			grow_raw(s, piece, READ_PIECE);
			size_t part = read_full(s, s->raw, piece);
			done += part;
			if (part < piece && done < keybytes)
				emb_die_offset(s->name, keyoff + done, "truncated stream: chunk keys "
					       "cut short (%llu of %llu bytes)", (unsigned long long)done,
					       (unsigned long long)keybytes);
			if (part < piece)
				emb_die_offset(s->name, keyoff + done, "truncated stream: chunk values "
					       "cut short (%llu of %llu bytes)",
					       (unsigned long long)(done - keybytes),
					       (unsigned long long)valbytes);
		}
	}
	s->offset += total;
}

size_t emb_skip_chunk(struct emb_stream *s, struct emb_chunk *scratch)
{
	if (s->at_eof)
		return 0;
	const struct emb_codec *k = &emb_codecs[s->format];
	if (k->next_rows && k->skip_rows) { /* issue 13: fixed-size rows, seek past them */
		uint64_t n = k->next_rows(s);
		if (n == 0) {
			s->at_eof = true;
			return 0;
		}
		k->skip_rows(s, n);
		map_sync_offset(s);
		s->row_next += n;
		emb_progress(s->recno, s->offset);
		return (size_t)n;
	}
	if (s->format != EMB_FMT_EMB)
		return emb_read_chunk(s, scratch);
	if (!next_chunk_header(s))
		return 0;
	s->rec_held = false;
	uint64_t rows = emb_get_u64(s->rec_h + 8);
	skip_payload(s);
	map_sync_offset(s);
	s->seg_rows += rows;
	s->recno += rows;
	s->chunks++;
	s->row_next += rows;
	emb_progress(s->recno, s->offset);
	return (size_t)rows;
}

static size_t read_chunk_binary(struct emb_stream *s, struct emb_chunk *c)
{
	if (!next_chunk_header(s))
		return 0;
	s->rec_held = false;
	const unsigned char *h = s->rec_h;
	uint64_t start = s->rec_start;
	uint32_t crc = emb_get_u32(h + 4);
	uint64_t rows = emb_get_u64(h + 8), keybytes = emb_get_u64(h + 16);
	size_t esize = emb_dtype_size(s->dtype);

	size_t n = (size_t)rows * s->dim;
	size_t valbytes = n * esize;
	/* Read values straight into the chunk when no conversion is needed. */
	bool direct = s->dtype == s->mtype && emb_host_is_le();
	uint64_t keyoff = s->offset;
	/* Memory follows the bytes that are there, never the sizes the
	 * record claims: a mapped file is checked against its size before
	 * anything is allocated; from a pipe, buffers grow as bytes
	 * arrive; key pointers are made only once keys and values are in. */
	if (s->map) {
		size_t left = s->map_len - s->map_pos;
		if (keybytes > left)
			emb_die_offset(s->name, keyoff + left, "truncated stream: chunk keys "
				       "cut short (%zu of %zu bytes)", left, (size_t)keybytes);
		if (valbytes > left - keybytes)
			emb_die_offset(s->name, keyoff + left, "truncated stream: chunk values "
				       "cut short (%zu of %zu bytes)", left - (size_t)keybytes,
				       valbytes);
	}
	for (size_t at = 0; at < keybytes;) {
		size_t piece = keybytes - at < READ_PIECE ? keybytes - at : READ_PIECE;
		grow_raw(s, at + piece, (size_t)keybytes);
		size_t part = read_full(s, s->raw + at, piece);
		at += part;
		if (part < piece)
			emb_die_offset(s->name, keyoff + at, "truncated stream: chunk keys "
				       "cut short (%zu of %zu bytes)", at, (size_t)keybytes);
	}
	s->offset += keybytes;
	/* A mapped file whose values are all there (checked above, before
	 * any mapped byte is read): in place when they need no conversion
	 * and are aligned, else converted from there. */
	unsigned char *mapped = emb_map_take(s, valbytes, direct ? esize : 1);
	uint32_t sum = emb_crc32c(0, s->raw, (size_t)keybytes);
	unsigned char *vals = mapped;
	if (mapped)
		sum = emb_crc32c(sum, mapped, valbytes);
	/* Checksum each piece as soon as it is read, while it is still in
	 * the CPU's cache: a whole chunk read first and summed after would
	 * come back from memory for the checksum. */
	for (size_t at = 0; !mapped && at < valbytes;) {
		size_t piece = valbytes - at < READ_PIECE ? valbytes - at : READ_PIECE;
		if (direct) {
			emb_chunk_grow(c, at + piece, valbytes);
			vals = c->data;
		} else {
			grow_raw(s, (size_t)keybytes + at + piece, (size_t)keybytes + valbytes);
			vals = s->raw + keybytes;
		}
		size_t part = read_full(s, vals + at, piece);
		at += part;
		if (part < piece)
			emb_die_offset(s->name, s->offset + at, "truncated stream: chunk values "
				       "cut short (%zu of %zu bytes)", at, valbytes);
		sum = emb_crc32c(sum, vals + at - part, part);
	}
	if (mapped && direct)
		emb_chunk_borrow(c, mapped, (size_t)rows, s->dim, s->mtype, s->has_keys);
	else
		emb_chunk_reserve(c, (size_t)rows, s->dim, s->mtype, s->has_keys);
	s->offset += valbytes;
	if (sum != crc)
		emb_die_offset(s->name, start, "chunk checksum mismatch (corrupt data)");
	if (!direct)
		emb_from_disk(c->data, vals, n, s->dtype, s->mtype);
	if (s->has_keys)
		decode_keys(s, c, (const char *)s->raw, (size_t)keybytes, keyoff);
	s->seg_rows += rows;
	s->recno += rows;
	s->chunks++;
	return (size_t)rows;
}

/* Fill in where C's rows came from, unless the codec recorded a
 * position per row (text, word2vec binary): fixed-size rows end at
 * s->offset, so row i starts pos_step bytes after row i-1. */
static void locate_rows(const struct emb_stream *s, struct emb_chunk *c)
{
	c->src = s->name;
	if (c->npos == c->rows && c->rows)
		return;
	c->npos = 0;
	c->src_lines = false;
	uint64_t step = (uint64_t)s->dim * emb_dtype_size(s->dtype);
	if (s->format == EMB_FMT_FVECS || s->format == EMB_FMT_BVECS ||
	    s->format == EMB_FMT_IVECS)
		step = 4 + (uint64_t)s->dim * (unsigned)s->vecs_esize;
	if (s->row_bytes) /* issue 13's fixed-size rows */
		step = s->row_bytes;
	if (s->format == EMB_FMT_NPY && s->fortran) {
		/* Column-major: a row's first value; the others are a column apart. */
		step = emb_dtype_size(s->dtype);
		c->pos0 = s->data_off + (s->recno - c->rows) * step;
	} else {
		c->pos0 = s->offset - c->rows * step;
	}
	c->pos_step = step;
}

size_t emb_read_chunk(struct emb_stream *s, struct emb_chunk *c)
{
	size_t n;
	if (s->at_eof) {
		c->rows = 0;
		return 0;
	}
	if (s->map)
		map_release(s);
	c->npos = 0;
	n = emb_codecs[s->format].read_rows(s, c);
	map_sync_offset(s);
	if (n) {
		c->first_row = s->row_next;
		c->numbered = s->row_pinned;
		s->row_next += n;
		locate_rows(s, c);
		emb_progress(s->recno, s->offset);
	} else {
		c->rows = 0;
	}
	return n;
}

void emb_close(struct emb_stream *s)
{
	if (!s)
		return;
	input_unlink(s);
	if (s->writing) {
		const struct emb_codec *k = &emb_codecs[s->format];
		if (!s->header_done)
			emb_write_header(s);
		if (k->write_end)
			k->write_end(s);
		if (k->count_header)
			finish_counted(s);
		if (s->own_fp) {
			if (fflush(s->fp) != 0 || ferror(s->fp))
				write_failed(s, errno);
			if (fclose(s->fp) != 0) {
				s->fp = NULL;
				write_failed(s, errno);
			}
			if (s->save)
				emb_save_commit(s->save);
		} else if (fflush(s->fp) != 0 || ferror(s->fp)) {
			write_failed(s, errno);
		}
		if (s->dropped_keys)
			emb_warn("%s: %s holds no keys: the key%s of %llu row%s %s not written",
				 s->name, k->name, s->dropped_keys == 1 ? "" : "s",
				 (unsigned long long)s->dropped_keys, s->dropped_keys == 1 ? "" : "s",
				 s->dropped_keys == 1 ? "was" : "were");
		if (s->overflowed)
			emb_warn("%s: %llu value%s too large for %s %s written as infinity",
				 s->name, (unsigned long long)s->overflowed,
				 s->overflowed == 1 ? "" : "s",
				 s->format == EMB_FMT_EMB || s->format == EMB_FMT_NPY ?
				 emb_dtype_name(s->dtype) : "f32",
				 s->overflowed == 1 ? "was" : "were");
	} else if (s->fp) {
		map_sync_offset(s);
		emb_fclose_r(s->fp, s->name);
		if (s->src_fp)
			emb_fclose_r(s->src_fp, s->name);
		if (s->real_fp)
			fclose(s->real_fp); /* npy: the unlinked copy of a pipe */
	}
	if (s->map) {
		map_unregister(s);
		munmap(s->map, s->map_len);
	}
	free(s->save);
	if (s->format == EMB_FMT_JSONL)
		emb_jsonl_free(s);
	if (s->format == EMB_FMT_HDF5)
		emb_hdf5_free(s);
	cJSON_Delete(s->meta);
	free(s->pend_vals);
	free(s->pend_keys);
	free(s->raw);
	free(s->line);
	free(s->tsv_held);
	free(s);
}

/* ---------- helpers the codecs share ---------- */

const char *emb_row_key(const struct emb_chunk *c, size_t i, uint64_t first_rowno, char *num)
{
	if (c->keys && c->keys[i])
		return c->keys[i];
	snprintf(num, 24, "%llu", (unsigned long long)(first_rowno + i));
	return num;
}

/* ---------- the codec table ---------- */

const struct emb_codec emb_codecs[EMB_FMT_COUNT] = {
	[EMB_FMT_AUTO] = {"auto", NULL, NULL, NULL, NULL, NULL, NULL, false},
	[EMB_FMT_EMB] = {"emb", emb_read_header_emb, read_chunk_binary, write_header_emb,
			 NULL, write_rows_binary, write_end_emb, true},
	[EMB_FMT_TSV] = {"tsv", emb_tsv_read_header, emb_tsv_read_rows, NULL, NULL,
			 emb_tsv_write_rows, NULL, true},
	[EMB_FMT_NPY] = {"npy", emb_npy_read_header, emb_npy_read_rows, NULL,
			 emb_npy_count_header, emb_npy_write_rows, NULL, false},
	[EMB_FMT_W2V] = {"w2v", emb_w2v_read_header, emb_tsv_read_rows, NULL,
			 emb_w2v_count_header, emb_w2v_write_rows, NULL, true},
	[EMB_FMT_W2VBIN] = {"w2vbin", emb_w2vbin_read_header, emb_w2vbin_read_rows, NULL,
			    emb_w2v_count_header, emb_w2vbin_write_rows, NULL, true},
	[EMB_FMT_GLOVE] = {"glove", emb_glove_read_header, emb_tsv_read_rows, NULL, NULL,
			   emb_w2v_write_rows, NULL, true},
	[EMB_FMT_VEC] = {"vec", emb_w2v_read_header, emb_tsv_read_rows, NULL,
			 emb_w2v_count_header, emb_w2v_write_rows, NULL, true},
	[EMB_FMT_FVECS] = {"fvecs", emb_vecs_read_header, emb_vecs_read_rows, NULL, NULL,
			   emb_vecs_write_rows, NULL, false},
	[EMB_FMT_BVECS] = {"bvecs", emb_vecs_read_header, emb_vecs_read_rows, NULL, NULL,
			   emb_vecs_write_rows, NULL, false},
	[EMB_FMT_IVECS] = {"ivecs", emb_vecs_read_header, emb_vecs_read_rows, NULL, NULL,
			   emb_vecs_write_rows, NULL, false},
	[EMB_FMT_JSONL] = {"jsonl", emb_jsonl_read_header, emb_jsonl_read_rows, NULL, NULL,
			   emb_jsonl_write_rows, NULL, true},
	/* ---- issue 13: binary dumps (binfmt) ---- */
	[EMB_FMT_FBIN] = {"fbin", emb_bigann_read_header, emb_bigann_read_rows, NULL,
			  emb_bigann_count_header, emb_bigann_write_rows, NULL, false,
			  emb_bigann_next_rows, emb_bigann_skip_rows},
	[EMB_FMT_U8BIN] = {"u8bin", emb_bigann_read_header, emb_bigann_read_rows, NULL,
			   emb_bigann_count_header, emb_bigann_write_rows, NULL, false,
			   emb_bigann_next_rows, emb_bigann_skip_rows},
	[EMB_FMT_I8BIN] = {"i8bin", emb_bigann_read_header, emb_bigann_read_rows, NULL,
			   emb_bigann_count_header, emb_bigann_write_rows, NULL, false,
			   emb_bigann_next_rows, emb_bigann_skip_rows},
	[EMB_FMT_IBIN] = {"ibin", emb_bigann_read_header, emb_bigann_read_rows, NULL,
			  emb_bigann_count_header, emb_bigann_write_rows, NULL, false,
			  emb_bigann_next_rows, emb_bigann_skip_rows},
	[EMB_FMT_SAFETENSORS] = {"safetensors", emb_st_read_header, emb_fixed_read_rows, NULL,
				 emb_st_count_header, emb_st_write_rows, NULL, false,
				 emb_fixed_next_rows, emb_fixed_skip_rows},
	[EMB_FMT_FAISS] = {"faiss", emb_faiss_read_header, emb_fixed_read_rows, NULL, NULL,
			   NULL, NULL, false, emb_fixed_next_rows, emb_fixed_skip_rows},
	[EMB_FMT_HDF5] = {"hdf5", emb_hdf5_read_header, emb_hdf5_read_rows, NULL, NULL,
			  NULL, NULL, false, emb_fixed_next_rows, emb_hdf5_skip_rows},
};
