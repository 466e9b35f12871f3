/*
 * fuzz.c - libFuzzer harnesses for every embutils reader (tests/fuzz/README.md).
 *
 * One binary, tests/fuzz/embfuzz, holds them all; tests/fuzz/NAME is a
 * hard link to it and the name it is run under picks the harness (or
 * EMB_FUZZ_TARGET=NAME when run as embfuzz):
 *
 *   emb tsv npy w2v w2vbin glove fvecs bvecs ivecs jsonl json fbin u8bin
 *   i8bin ibin safetensors faiss
 *           emb_open_r() with -I forced to that format, emb_read_chunk()
 *           to the end, emb_close(): what every program does
 *   sniff   the same with EMB_FMT_AUTO (format and key detection)
 *   model   emb_model_load() (embcenter/embwhiten --load), then the loaded
 *           model applied to two rows
 *   cols    emb_cols_read() (embspearman/embpearson) with one of three
 *           column specs (by the input's size modulo 3)
 *   lists   embeval's readers: emb_list_load() as a run, topk, TREC run,
 *           qrels, pairs or candidates, or emb_truth_load() as ivecs or
 *           sniffed (by the input's size modulo 8)
 *
 * Each input is given to the reader as a regular file (a memfd named by
 * /proc/self/fd/N: the mmap path) and as a pipe (/proc/self/fd/N of a
 * pipe: the stdio path with the sniffing wrapper).  The two must agree:
 * both fail, or both read the same rows, keys and values (a CRC of them);
 * a difference aborts, so it is reported like a crash (EMB_FUZZ_DIFF=0:
 * no comparison, to look past a known difference).
 *
 * The library exits on bad data.  Here emb_exit_hook longjmps back, then
 * emb_close_inputs() closes the streams the failed call left open, stray
 * FILEs are closed, and every allocation made since the input began and
 * still live is freed (recorded through the sanitizer allocator hooks).
 * So a leak that LeakSanitizer reports is a leak of a call that returned.
 * The library's messages go to /dev/null unless EMB_FUZZ_VERBOSE=1.
 *
 * A custom mutator rewrites the CRC-32C fields of mutated emb streams
 * (emb, model, sniff) so that mutations reach past the checksum checks.
 */
#define _GNU_SOURCE
#include <config.h>
#include "emb.h"
#include "emb_corr.h"
#include "emb_eval.h"
#include "emb_linalg.h"
#include "emb_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cJSON.h>
#include <sanitizer/allocator_interface.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/* ---------- allocations made while one input runs ---------- */

#define TRACK_BITS 15
#define TRACK_CAP ((size_t)1 << TRACK_BITS)
#define TRACK_MASK (TRACK_CAP - 1)
static uintptr_t track_tab[TRACK_CAP];  /* open addressing, 0 = empty */
static size_t track_count;
/* Thread-local: only this thread's allocations are the input's (OpenBLAS
 * starts threads of its own, which allocate while they start). */
static _Thread_local bool track_on;

static size_t track_slot(uintptr_t p)
{
	return (size_t)(((uint64_t)(p >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - TRACK_BITS));
}

/* Called by the sanitizer allocator; must not allocate. */
static void on_malloc(const volatile void *ptr, size_t size)
{
	(void)size;
	if (!track_on || !ptr || track_count >= TRACK_CAP / 4 * 3)
		return; /* full: the rest is not freed after a failure */
	uintptr_t p = (uintptr_t)ptr;
	size_t i = track_slot(p);
	while (track_tab[i]) {
		if (track_tab[i] == p)
			return;
		i = (i + 1) & TRACK_MASK;
	}
	track_tab[i] = p;
	track_count++;
}

static void on_free(const volatile void *ptr)
{
	if (!track_on || !ptr || !track_count)
		return;
	uintptr_t p = (uintptr_t)ptr;
	size_t i = track_slot(p);
	while (track_tab[i] && track_tab[i] != p)
		i = (i + 1) & TRACK_MASK;
	if (!track_tab[i])
		return;
	/* Linear probing's backward-shift delete: no tombstones. */
	for (size_t j = i;;) {
		j = (j + 1) & TRACK_MASK;
		if (!track_tab[j])
			break;
		size_t k = track_slot(track_tab[j]);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		track_tab[i] = track_tab[j];
		i = j;
	}
	track_tab[i] = 0;
	track_count--;
}

static bool tracked(const void *ptr)
{
	uintptr_t p = (uintptr_t)ptr;
	for (size_t i = track_slot(p); track_tab[i]; i = (i + 1) & TRACK_MASK)
		if (track_tab[i] == p)
			return true;
	return false;
}

static void track_clear(bool free_them)
{
	track_on = false;
	for (size_t i = 0; track_count && i < TRACK_CAP; i++)
		if (track_tab[i]) {
			if (free_them)
				free((void *)track_tab[i]);
			track_tab[i] = 0;
			track_count--;
		}
	track_count = 0;
}

/* glibc's list of open FILEs: a FILE opened during the input and not
 * closed (emb_cols' input) is fclosed, never just freed. */
extern FILE *_IO_list_all;

static void close_stray_files(void)
{
	bool again = true;
	while (again) {
		again = false;
		for (FILE *f = _IO_list_all; f; f = f->_chain)
			if (f != stdin && f != stdout && f != stderr && tracked(f)) {
				fclose(f);
				again = true;
				break;
			}
	}
}

/* ---------- running a reader call that may exit ---------- */

static jmp_buf *jump;

static void exit_hook(int status)
{
	(void)status;
	if (jump)
		longjmp(*jump, 1);
	/* outside a guarded call: let it exit, libFuzzer reports that */
}

/* FN(ARG); false if it "exited" through the library. */
static bool guarded(void (*fn)(void *), void *arg)
{
	jmp_buf jb;
	jmp_buf *outer = jump;
	jump = &jb;
	if (setjmp(jb)) {
		jump = outer;
		return false;
	}
	fn(arg);
	jump = outer;
	return true;
}

static void close_inputs(void *unused)
{
	(void)unused;
	emb_close_inputs();
}

/* Run FN(ARG) as one reader call: after a failure, release what it held. */
static bool run_one(void (*fn)(void *), void *arg)
{
	track_count = 0;
	track_on = true;
	bool ok = guarded(fn, arg);
	if (!ok) {
		/* emb_close unlinks a stream before anything that can fail,
		 * so this loop ends. */
		while (!guarded(close_inputs, NULL))
			;
		close_stray_files();
		track_clear(true);
	} else {
		/* whatever is still allocated is a leak: LeakSanitizer's */
		track_clear(false);
	}
	return ok;
}

/* ---------- the input as a regular file and as a pipe ---------- */

static int memfd = -1;

static bool as_file(const uint8_t *data, size_t size, char *path, size_t cap)
{
	if (ftruncate(memfd, 0) != 0)
		abort();
	for (size_t off = 0; off < size;) {
		ssize_t w = pwrite(memfd, data + off, size - off, (off_t)off);
		if (w <= 0)
			abort();
		off += (size_t)w;
	}
	snprintf(path, cap, "/proc/self/fd/%d", memfd);
	return true;
}

/* A pipe holding DATA, its writer closed; -1 if DATA does not fit. */
static int as_pipe(const uint8_t *data, size_t size, char *path, size_t cap)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		abort();
	int room = fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	if (room < 0 || (size_t)room < size) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	for (size_t off = 0; off < size;) {
		ssize_t w = write(p[1], data + off, size - off);
		if (w <= 0)
			abort();
		off += (size_t)w;
	}
	close(p[1]);
	snprintf(path, cap, "/proc/self/fd/%d", p[0]);
	return p[0];
}

/* ---------- the harnesses ---------- */

/* What one run read, compared between the file and the pipe run. */
struct result {
	const char *path;
	enum emb_format format;
	enum emb_tristate keys;
	bool ok;
	uint64_t rows;
	size_t dim;
	bool has_keys;
	uint32_t crc;
};

static volatile double sink;

static void stream_body(void *arg)
{
	struct result *r = arg;
	struct emb_opts o = {.in_format = r->format, .out_format = EMB_FMT_AUTO,
			     .out_dtype = -1, .keys = r->keys};
	struct emb_stream *s = emb_open_r(r->path, &o);
	struct emb_chunk c = EMB_CHUNK_INIT;
	r->dim = s->dim;
	r->has_keys = s->has_keys;
	while (emb_read_chunk(s, &c) > 0) {
		if (c.dim != s->dim || (s->has_keys && !c.keys))
			abort(); /* a chunk that contradicts its stream */
		size_t es = c.type == EMB_F64 ? 8 : 4;
		/* touch every value and key: ASan checks the bounds */
		r->crc = emb_crc32c(r->crc, c.data, c.rows * c.dim * es);
		for (size_t i = 0; c.keys && i < c.rows; i++)
			r->crc = emb_crc32c(r->crc, c.keys[i], strlen(c.keys[i]) + 1);
		r->rows += c.rows;
	}
	if (r->rows != s->recno)
		abort();
	emb_close(s);
	emb_chunk_free(&c);
}

static void model_body(void *arg)
{
	struct result *r = arg;
	struct emb_model m;
	memset(&m, 0, sizeof m);
	emb_model_load(&m, r->path);
	r->dim = m.dim_out;
	r->rows = m.k;
	if (m.dim_in > 0 && m.dim_in <= 4096) {
		struct emb_chunk in = EMB_CHUNK_INIT, out = EMB_CHUNK_INIT;
		emb_chunk_reserve(&in, 2, m.dim_in, EMB_F32, false);
		for (size_t j = 0; j < 2 * m.dim_in; j++)
			((float *)in.data)[j] = (float)(j % 7) - 3.0f;
		emb_model_apply(&m, &in, &out);
		r->crc = emb_crc32c(0, out.data, out.rows * out.dim * sizeof(float));
		emb_chunk_free(&in);
		emb_chunk_free(&out);
	}
	emb_model_free(&m);
}

static const struct emb_cols_spec col_specs[] = {
	{.x = "1", .y = "2", .nan = EMB_NAN_ERROR},
	{.x = "2", .y = "1,3", .group = "4", .nan = EMB_NAN_OMIT},
	{.x = "x", .y = "y,z", .group = "g", .header = true, .nan = EMB_NAN_PROPAGATE},
};
static const struct emb_cols_spec *col_spec;

static void cols_body(void *arg)
{
	struct result *r = arg;
	struct emb_cols c;
	char *files[] = {(char *)r->path};
	emb_cols_read(&c, col_spec, files, 1);
	for (size_t i = 0; i < c.rows; i++) {
		double v = c.x[i];
		for (size_t k = 0; k < c.ny; k++)
			v += c.y[k][i];
		if (c.group && c.group[i] >= c.ngroups)
			abort();
		sink = v;
	}
	for (size_t k = 0; k < c.ny; k++)
		sink = (double)strlen(c.ynames[k]);
	emb_cols_free(&c);
}

/* embeval's readers: one list format per input, by its size modulo 8 (as
 * cols); make-seeds.sh pads text seeds with blank lines to pick theirs. */
static const struct {
	enum emb_list_format format;
	bool truth; /* emb_truth_load, else emb_list_load */
} list_specs[] = {
	/* ivecs sizes are multiples of 4: truth at 0 and 4 */
	{EMB_LIST_IVECS, true},  {EMB_LIST_TOPK, false}, {EMB_LIST_TREC, false},
	{EMB_LIST_QRELS, false}, {EMB_LIST_RUN, true},   {EMB_LIST_RUN, false},
	{EMB_LIST_PAIRS, false}, {EMB_LIST_CANDIDATES, false},
};
static size_t list_spec;

static void lists_body(void *arg)
{
	struct result *r = arg;
	struct emb_list *l = list_specs[list_spec].truth
		? emb_truth_load(r->path, list_specs[list_spec].format)
		: emb_list_load(r->path, list_specs[list_spec].format);
	uint64_t before = 0;
	for (size_t i = 0; i < l->nq; i++) {
		if (emb_list_find(l, l->q[i].qid) != (long)i)
			abort(); /* the index lost a query */
		r->crc = emb_crc32c(r->crc, l->q[i].qid, strlen(l->q[i].qid) + 1);
		for (size_t k = 0; k < l->q[i].n; k++) {
			const struct emb_item *it = &l->q[i].item[k];
			r->crc = emb_crc32c(r->crc, it->doc, strlen(it->doc) + 1);
			sink = it->score + (double)it->rank + (double)it->rel;
		}
		before += l->q[i].n;
		emb_qlist_sort_rank(&l->q[i]);
		emb_qlist_sort_trec(&l->q[i]);
	}
	uint64_t dropped = emb_list_dedup(l);
	uint64_t after = 0;
	for (size_t i = 0; i < l->nq; i++)
		after += l->q[i].n;
	if (after + dropped != before)
		abort();
	r->rows = before;
	emb_list_free(l);
}

/* row: emb_parse_row_f32_avx2 (the TSV reader's AVX2 path) called as
 * emb_tsv.c calls it, from the first token on and, where it stops, on
 * from the token after; every value it takes must be strtof's for a token
 * that strtof reads whole, with only blanks between the tokens of one
 * call, and its end pointer that token's end.  The text is followed by
 * EMB_PARSE_PAD bytes of digits (allocated: ASan catches a read past
 * them).  A difference aborts. */
#ifdef EMB_PARSE_ROW_AVX2
__attribute__((target("avx2,bmi,bmi2"), noinline))
static size_t row_parse(const char *p, const char *end, size_t n, float *out, const char **last)
{
	return emb_parse_row_f32_avx2(p, end, n, out, last);
}
#endif

static bool is_ws(char c)
{
	return (unsigned char)c <= ' ';
}

static void row_check(const uint8_t *data, size_t size)
{
#ifdef EMB_PARSE_ROW_AVX2
	static int have = -1;
	if (have < 0)
		have = emb_parse_row_avx2();
	if (!have)
		return;
	char *buf = malloc(size + EMB_PARSE_PAD);
	if (!buf)
		return;
	memcpy(buf, data, size);
	memset(buf + size, '7', EMB_PARSE_PAD);
	const char *end = buf + size, *p = buf;
	float vals[64];
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (p < end) {
		const char *last, *t = p;
		size_t got = row_parse(p, end, 64, vals, &last);
		for (size_t j = 0; j < got; j++) {
			/* token j: a run of bytes above ' ' at T */
			if (j)
				for (; t < end && is_ws(*t); t++)
					if (*t != ' ' && *t != '\t')
						abort(); /* a line end between values */
			const char *e = t;
			while (e < end && !is_ws(*e))
				e++;
			char tok[64];
			size_t len = (size_t)(e - t);
			if (len == 0 || len >= sizeof tok)
				abort(); /* no token, or longer than it takes */
			memcpy(tok, t, len);
			tok[len] = '\0';
			char *stop;
			float want = strtof(tok, &stop);
			if (*stop || !isfinite(want) || memcmp(&want, &vals[j], sizeof want) != 0)
				abort();
			t = e;
		}
		if (last != (got ? t : p))
			abort();
		for (p = last; p < end && (*p == ' ' || *p == '\t'); p++)
			;
		if (got < 64 && p < end) {
			/* it stopped at this: the caller takes it itself (a
			 * token, or one line end or control byte) */
			if (is_ws(*p))
				p++;
			else
				while (p < end && !is_ws(*p))
					p++;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
		}
	}
	free(buf);
#else
	(void)data, (void)size;
#endif
}

enum kind { STREAM, MODEL, COLS, LISTS, ROW };
static const struct target {
	const char *name;
	enum kind kind;
	enum emb_format format;
} targets[] = {
	{"emb", STREAM, EMB_FMT_EMB},       {"tsv", STREAM, EMB_FMT_TSV},
	{"npy", STREAM, EMB_FMT_NPY},       {"w2v", STREAM, EMB_FMT_W2V},
	{"w2vbin", STREAM, EMB_FMT_W2VBIN}, {"glove", STREAM, EMB_FMT_GLOVE},
	{"fvecs", STREAM, EMB_FMT_FVECS},   {"bvecs", STREAM, EMB_FMT_BVECS},
	{"ivecs", STREAM, EMB_FMT_IVECS},   {"jsonl", STREAM, EMB_FMT_JSONL},
	{"json", STREAM, EMB_FMT_JSON},     {"fbin", STREAM, EMB_FMT_FBIN},
	{"u8bin", STREAM, EMB_FMT_U8BIN},   {"i8bin", STREAM, EMB_FMT_I8BIN},
	{"ibin", STREAM, EMB_FMT_IBIN},     {"safetensors", STREAM, EMB_FMT_SAFETENSORS},
	{"faiss", STREAM, EMB_FMT_FAISS},
	{"sniff", STREAM, EMB_FMT_AUTO},    {"model", MODEL, EMB_FMT_AUTO},
	{"cols", COLS, EMB_FMT_AUTO},       {"lists", LISTS, EMB_FMT_AUTO},
	{"row", ROW, EMB_FMT_AUTO},
};
static const struct target *target;
static int report_fd = 2; /* the real stderr */

static void say(const char *fmt, const char *a, const char *b)
{
	dprintf(report_fd, fmt, a, b);
}

static bool no_diff; /* EMB_FUZZ_DIFF=0: do not compare */

/* The file and the pipe run must agree. */
static void compare(const struct result *f, const struct result *p, const char *what)
{
	if (no_diff || (f->ok == p->ok && (!f->ok || (f->rows == p->rows && f->dim == p->dim &&
					   f->has_keys == p->has_keys && f->crc == p->crc))))
		return;
	dprintf(report_fd, "fuzz %s (%s): the regular file gives %s rows=%llu dim=%zu keys=%d "
		"crc=%08x, the pipe %s rows=%llu dim=%zu keys=%d crc=%08x\n", target->name, what,
		f->ok ? "ok" : "an error", (unsigned long long)f->rows, f->dim, f->has_keys,
		(unsigned)f->crc, p->ok ? "ok" : "an error", (unsigned long long)p->rows, p->dim,
		p->has_keys, (unsigned)p->crc);
	abort();
}

/* Read DATA as a regular file then, if PIPE_TOO, as a pipe, and compare. */
static void both_ways(const uint8_t *data, size_t size, void (*body)(void *),
		      enum emb_tristate keys, const char *what, bool pipe_too)
{
	char fpath[64], ppath[64];
	struct result f = {fpath, target->format, keys, false, 0, 0, false, 0};
	struct result p = f;
	p.path = ppath;
	as_file(data, size, fpath, sizeof fpath);
	f.ok = run_one(body, &f);
	if (!pipe_too)
		return;
	int pfd = as_pipe(data, size, ppath, sizeof ppath);
	if (pfd < 0)
		return;
	p.ok = run_one(body, &p);
	close(pfd);
	compare(&f, &p, what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Not an input for these harnesses: libhdf5 keeps per-thread state
	 * that it allocates during the first read (its cancel counter), and
	 * freeing an input's allocations after a failure would free that
	 * under it (a use after free in H5TS_cancel_count_inc, found here).
	 * libhdf5 is HDF5's to fuzz; the thin codec over it is tested in
	 * tests/dumps.bats.  The signature is emb_sniff's rule_hdf5, which
	 * sees it after a UTF-8 byte order mark too (the stream drops one). */
	static const char hdf5[] = "\x89HDF\r\n\x1a\n", bom[] = "\xef\xbb\xbf";
	size_t at = size >= 3 && memcmp(data, bom, 3) == 0 ? 3 : 0;
	if (size >= at + 8 && memcmp(data + at, hdf5, 8) == 0)
		return -1; /* libFuzzer: keep it out of the corpus */
	switch (target->kind) {
	case STREAM:
		both_ways(data, size, stream_body, EMB_DETECT, "keys detected", true);
		if (target->format == EMB_FMT_TSV || target->format == EMB_FMT_AUTO) {
			/* --keys and --no-keys: the file only, for speed */
			both_ways(data, size, stream_body, EMB_YES, "--keys", false);
			both_ways(data, size, stream_body, EMB_NO, "--no-keys", false);
		}
		break;
	case MODEL:
		both_ways(data, size, model_body, EMB_DETECT, "model", true);
		break;
	case COLS: {
		/* One code path for files and pipes (fread): the file only.
		 * One spec per input, by its size: each run allocates MBs. */
		char path[64];
		struct result r = {path, EMB_FMT_AUTO, EMB_DETECT, false, 0, 0, false, 0};
		as_file(data, size, path, sizeof path);
		col_spec = &col_specs[size % (sizeof col_specs / sizeof col_specs[0])];
		run_one(cols_body, &r);
		break;
	}
	case LISTS: {
		/* stdio for files and pipes alike: the file only */
		char path[64];
		struct result r = {path, EMB_FMT_AUTO, EMB_DETECT, false, 0, 0, false, 0};
		as_file(data, size, path, sizeof path);
		list_spec = size % (sizeof list_specs / sizeof list_specs[0]);
		run_one(lists_body, &r);
		break;
	}
	case ROW:
		row_check(data, size);
		break;
	}
	return 0;
}

/* ---------- checksums: let mutations past the CRC checks ---------- */

/* Rewrite the header, chunk and end checksums of the emb stream(s) in
 * DATA to match their bytes, as far as the structure can be followed. */
static void fix_crcs(uint8_t *b, size_t n)
{
	size_t at = 0;
	while (n - at >= 20 && memcmp(b + at, EMB_MAGIC, EMB_MAGIC_LEN) == 0) {
		uint32_t jl = emb_get_u32(b + at + 12);
		if (jl > n - at - 20)
			return;
		emb_put_u32(b + at + 16, emb_crc32c(0, b + at + 20, jl));
		cJSON *j = cJSON_ParseWithLength((const char *)b + at + 20, jl);
		cJSON *dim = cJSON_GetObjectItemCaseSensitive(j, "dim");
		cJSON *dtype = cJSON_GetObjectItemCaseSensitive(j, "dtype");
		uint64_t d = 0, es = 4;
		if (cJSON_IsNumber(dim) && dim->valuedouble >= 0 && dim->valuedouble <= EMB_MAX_DIM)
			d = (uint64_t)dim->valuedouble;
		if (cJSON_IsString(dtype))
			es = strcmp(dtype->valuestring, "f64") == 0 ? 8 :
			     strcmp(dtype->valuestring, "f16") == 0 ? 2 : 4;
		cJSON_Delete(j);
		at += 20 + jl;
		for (;;) {
			if (n - at < EMB_RECORD_HEADER_LEN)
				return;
			uint64_t rows = emb_get_u64(b + at + 8), kb = emb_get_u64(b + at + 16), len;
			if (memcmp(b + at, EMB_TAG_END, 4) == 0) {
				emb_put_u32(b + at + 4, emb_crc32c(0, b + at + 8, 8));
				at += EMB_RECORD_HEADER_LEN;
				break;
			}
			if (memcmp(b + at, EMB_TAG_CHUNK, 4) != 0 ||
			    __builtin_mul_overflow(rows, d * es, &len) ||
			    __builtin_add_overflow(len, kb, &len) ||
			    len > n - at - EMB_RECORD_HEADER_LEN)
				return;
			emb_put_u32(b + at + 4, emb_crc32c(0, b + at + EMB_RECORD_HEADER_LEN, len));
			at += EMB_RECORD_HEADER_LEN + len;
		}
	}
}

/* libFuzzer's own mutations, then (7 times in 8, for emb, model and
 * sniff) checksums that match: a random byte change otherwise ends at the
 * first CRC check.  The eighth keeps the checks themselves fuzzed. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	size = LLVMFuzzerMutate(data, size, max_size);
	if ((seed & 7) != 0 && (target->format == EMB_FMT_EMB || target->kind == MODEL ||
				target->format == EMB_FMT_AUTO))
		fix_crcs(data, size);
	return size;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *name = *argc > 0 ? strrchr((*argv)[0], '/') : NULL;
	name = name ? name + 1 : *argc > 0 ? (*argv)[0] : "";
	if (getenv("EMB_FUZZ_TARGET"))
		name = getenv("EMB_FUZZ_TARGET");
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
		if (strcmp(name, targets[i].name) == 0)
			target = &targets[i];
	if (!target) {
		say("fuzz: no harness named '%s'%s; run as tests/fuzz/NAME or set "
		    "EMB_FUZZ_TARGET: emb tsv npy w2v w2vbin glove fvecs bvecs ivecs jsonl json "
		    "fbin u8bin i8bin ibin safetensors faiss sniff model cols lists\n", name, "");
		exit(2);
	}
	emb_progname = "embfuzz";
	emb_exit_hook = exit_hook;
	memfd = memfd_create("embfuzz-input", MFD_CLOEXEC);
	if (memfd < 0) {
		say("fuzz: memfd_create: %s%s\n", strerror(errno), "");
		exit(2);
	}
	/* The library's messages go to /dev/null; libFuzzer keeps the stderr
	 * it started with (its own FILE, captured before this runs) and the
	 * sanitizers write to fd 2.  A static buffer: no allocation that an
	 * input's clean-up could free. */
	const char *d = getenv("EMB_FUZZ_DIFF");
	no_diff = d && strcmp(d, "0") == 0;
	const char *v = getenv("EMB_FUZZ_VERBOSE");
	if (!v || strcmp(v, "1") != 0) {
		static char buf[1 << 16];
		FILE *null = fopen("/dev/null", "w");
		if (null) {
			setvbuf(null, buf, _IOFBF, sizeof buf);
			stderr = null;
		}
	}
	__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
	/* Warm up once-only state (CRC tables) outside any input. */
	static const uint8_t warm[] = "a\t1\t2\n";
	LLVMFuzzerTestOneInput(warm, sizeof warm - 1);
	return 0;
}
