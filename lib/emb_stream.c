/*
 * emb_stream.c - stream mechanics: opening files, peeking at their first
 * bytes for emb_sniff (emb_sniff.c), mapping regular files, the header
 * that waits for a row count (counted formats), and the dispatch to the
 * codecs through emb_codecs[] (emb_codecs.c).  What the bytes of a format
 * mean is its codec's business (emb_binary.c, emb_tsv.c, emb_npy.c, ...).
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
		/* Threads reading the same lost pages fault together: one
		 * message, and the others wait for its _exit. */
		static int reporting;
		if (__atomic_exchange_n(&reporting, 1, __ATOMIC_SEQ_CST))
			for (;;)
				pause();
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

bool emb_map_watch(void *base, size_t len, const char *name, int fd)
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
			maps[i].name = name;
			maps[i].fd = fd;
			maps[i].len = len;
			maps[i].base = base;
			return true;
		}
	return false;
}

void emb_map_unwatch(const void *base)
{
	for (int i = 0; i < MAX_MAPS; i++)
		if (maps[i].base == base)
			maps[i].base = NULL;
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
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return;
	/* At most MAX_MAPS live mappings, so the handler knows them all. */
	if (!emb_map_watch(m, (size_t)st.st_size, s->name, fd)) {
		munmap(m, (size_t)st.st_size);
		return;
	}
	(void)madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
	s->map = m;
	s->map_len = (size_t)st.st_size;
	s->map_pos = (size_t)at;
	s->map_stdin = s->fp == stdin;
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

void emb_meta_set(cJSON *meta, const char *name, cJSON *item)
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
		emb_meta_set(meta, "history", h);
	}
	cJSON_AddItemToArray(h, cJSON_CreateString(cmdline));
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
	/* big-ann files say what they are only by their name */
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
	s->strict = o->strict;
	s->key_field = o->key_field ? o->key_field : "id";
	s->tensor = o->tensor;
	s->dataset = o->dataset;
	s->hdr_pos = -1;
	s->row_next = 1;
	setvbuf(s->fp, NULL, _IOFBF, 1 << 20);

	enum emb_format f = o->in_format;
	unsigned char *buf = emb_xmalloc(PEEK_MAX);
	bool text = f == EMB_FMT_AUTO || emb_codecs[f].text;
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
		f = emb_sniff(s, buf, n, eof);
	free(buf);
	s->format = f;
	/* Defaults a codec's header may change (the binary header replaces all). */
	s->meta = meta_new();
	s->dtype = EMB_F32;
	s->mtype = EMB_F32;
	/* options for one format name no other */
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
	/* Codes stay codes only where a program says so (embcat, embquant):
	 * what others compute from them are real numbers. */
	if (emb_dtype_is_code(s->dtype))
		s->dtype = EMB_F32;
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
		s->format = emb_format_by_extension(path); /* .fbin, .u8bin, ... */
	return s;
}

/* ---------- writing ---------- */

size_t emb_batch_rows(size_t dim, enum emb_dtype t)
{
	size_t rows = EMB_CHUNK_TARGET_BYTES / (emb_row_bytes(t, dim) + 1);
	return rows < 1 ? 1 : rows > 65536 ? 65536 : rows;
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
	if ((k->count_header || k->write_end) && fstat(fileno(s->fp), &st) == 0 &&
	    S_ISREG(st.st_mode) && fflush(s->fp) != 0)
		write_failed(s, errno);
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
	if (c->numbered && k->renumber && (!s->row_pinned || first != s->row_next))
		k->renumber(s, first);
	/* Keyless rows in a format that holds no numbers read back numbered
	 * by their place in the file: say so once if that is not theirs.
	 * Word-vector text gives every row a key: the number. */
	bool numbers_kept = k->renumber || (s->has_keys && k->keys) || k->number_keys;
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

/* ---------- reading ---------- */

bool emb_peek_chunk(struct emb_stream *s, uint64_t *rows)
{
	*rows = 0;
	if (s->at_eof)
		return true;
	const struct emb_codec *k = &emb_codecs[s->format];
	if (s->writing || !k->peek_rows)
		return false;
	return k->peek_rows(s, rows);
}

size_t emb_skip_chunk(struct emb_stream *s, struct emb_chunk *scratch)
{
	if (s->at_eof)
		return 0;
	const struct emb_codec *k = &emb_codecs[s->format];
	if (!k->skip_rows)
		return emb_read_chunk(s, scratch);
	uint64_t rows = k->skip_rows(s);
	if (!rows)
		return 0;
	map_sync_offset(s);
	s->row_next += rows;
	emb_progress(s->recno, s->offset);
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
	uint64_t step = emb_row_bytes(s->dtype, s->dim);
	if (s->format == EMB_FMT_FVECS || s->format == EMB_FMT_BVECS ||
	    s->format == EMB_FMT_IVECS)
		step = 4 + (uint64_t)s->dim * (unsigned)s->vecs_esize;
	if (s->row_bytes) /* the fixed-size rows of the dump formats */
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
		emb_map_unwatch(s->map);
		munmap(s->map, s->map_len);
	}
	free(s->save);
	if (!s->writing && emb_codecs[s->format].close)
		emb_codecs[s->format].close(s);
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
