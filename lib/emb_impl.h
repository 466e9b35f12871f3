/*
 * emb_impl.h - what the stream layer's files share with each other and
 * with nobody else (programs include only emb.h).
 *
 * Each on-disk format is a codec: a row of function pointers indexed by
 * enum emb_format (emb_codecs[] in emb_codecs.c).  emb_stream.c owns the
 * file, the header-with-row-count trick and the dispatch; emb_sniff.c
 * tells formats apart; a codec only turns bytes into chunks and back, and
 * reaches the stream only through the functions declared here.  All
 * codec functions die on bad data (emb_die_at for text lines,
 * emb_die_offset for bytes).
 */
#ifndef EMB_IMPL_H
#define EMB_IMPL_H

#include "emb.h"

#include <sys/stat.h>

struct emb_codec {
	const char *name;
	/* Read up to the first row: set dim, dtype, mtype, has_keys. */
	void (*read_header)(struct emb_stream *s);
	/* Read the next batch into C; 0 at the end of input. */
	size_t (*read_rows)(struct emb_stream *s, struct emb_chunk *c);
	/* Write a header that needs no row count (NULL: none). */
	void (*write_header)(struct emb_stream *s);
	/* Formats whose header holds the row count (npy, word2vec): format
	 * the header for ROWS rows into BUF (capacity CAP), the count padded
	 * to WIDTH characters (0: no padding); returns its length. */
	size_t (*count_header)(const struct emb_stream *s, uint64_t rows, int width,
			       char *buf, size_t cap);
	/* ROWS EMB_ROWS_UNKNOWN: the placeholder written before the rows,
	 * as long as the real header at WIDTH, that no reader (embutils,
	 * numpy, gensim) accepts, so a file whose writer never got to
	 * emb_close() cannot pass for a complete one. */
	void (*write_rows)(struct emb_stream *s, const struct emb_chunk *c);
	void (*write_end)(struct emb_stream *s);   /* NULL: nothing */
	/* Reader: the next batch's row count without reading it (0 at the
	 * end), false if the format cannot tell (NULL: cannot). */
	bool (*peek_rows)(struct emb_stream *s, uint64_t *rows);
	/* Reader: pass over the next batch undecoded, counting it in
	 * s->recno; its rows, 0 at the end (NULL: read and drop it). */
	uint64_t (*skip_rows)(struct emb_stream *s);
	/* Writer: the next rows are numbered from FIRST, not on from the
	 * ones before (NULL: the format holds no row numbers). */
	void (*renumber)(struct emb_stream *s, uint64_t first);
	/* Reader: free what the codec keeps in S (NULL: nothing). */
	void (*close)(struct emb_stream *s);
	bool keys;        /* the format stores keys */
	bool number_keys; /* keyless rows are written keyed by their number */
	bool text;        /* text: a leading UTF-8 byte order mark is skipped */
};
extern const struct emb_codec emb_codecs[];
#define EMB_ROWS_UNKNOWN UINT64_MAX

/* emb_sniff.c: the format of S's first N bytes B (all of them if EOF),
 * or die saying it is not recognised. */
enum emb_format emb_sniff(const struct emb_stream *s, const unsigned char *b, size_t n,
			  bool eof);
/* Set member NAME of header META to ITEM (owned by META from now on),
 * replacing any there. */
void emb_meta_set(struct cJSON *meta, const char *name, struct cJSON *item);
/* Write N bytes to S's file, counting them in s->offset. */
void emb_write_bytes(struct emb_stream *s, const void *buf, size_t n);
/* Read exactly N bytes or die naming WHAT as cut short; counts s->offset. */
void emb_need_bytes(struct emb_stream *s, void *buf, size_t n, const char *what);
/* Read up to N bytes; returns the count (< N only at end of file). */
size_t emb_read_bytes(struct emb_stream *s, void *buf, size_t n);
/* A mapped regular file (s->map): the next N bytes, in place, if the file
 * holds them and they start at a multiple of ALIGN; they are consumed
 * (s->offset is the caller's to advance).  NULL otherwise, consuming
 * nothing: the caller then reads them as from a pipe. */
unsigned char *emb_map_take(struct emb_stream *s, size_t n, size_t align);
/* Open an input or output stream on FP (owned by the stream from now on),
 * named NAME in messages: the spill. */
struct emb_stream *emb_open_r_fp(FILE *fp, const char *name, const struct emb_opts *o);
struct emb_stream *emb_open_w_fp(FILE *fp, const char *name, const struct emb_stream *in,
				 const struct emb_opts *o);
/* fstat() of the file under S (not a sniffing wrapper); false on error. */
bool emb_stream_stat(const struct emb_stream *s, struct stat *st);
/* emb_spill.c: $TMPDIR or /tmp; unlink the --save files being written
 * (async-signal-safe). */
const char *emb_tmpdir(void);
void emb_remove_doomed(void);
/* Map S's file if it is a regular file (no-op otherwise, or on failure). */
void emb_map_open(struct emb_stream *s);

/* Report a SIGBUS in [BASE, BASE+LEN) (a mapping of NAME, open as FD) as
 * "FILE: byte N: file shrank while being read", exit 1: false if the
 * table of watched mappings is full (then do not map).  emb_map_unwatch
 * before unmapping.  Threads that may touch the mapping must not block
 * SIGBUS. */
bool emb_map_watch(void *base, size_t len, const char *name, int fd);
void emb_map_unwatch(const void *base);
/* emb_chunk.c: make C's values the ROWS x DIM values of TYPE at DATA, not
 * owned (see emb_chunk.borrowed); keys as emb_chunk_reserve. */
void emb_chunk_borrow(struct emb_chunk *c, void *data, size_t rows, size_t dim,
		      enum emb_dtype type, bool with_keys);
/* emb_chunk.c: text readers record row I's line number (see
 * emb_chunk.pos); rows without one are located by emb_read_chunk from
 * the fixed row size. */
void emb_chunk_set_pos(struct emb_chunk *c, size_t i, uint64_t pos);
/* emb_chunk.c: make C's value buffer hold at least BYTES (keeping what it
 * holds), growing geometrically up to LIMIT; a borrowed buffer is dropped. */
void emb_chunk_grow(struct emb_chunk *c, size_t bytes, size_t limit);
/* The capacity a buffer of CAP bytes grows to when it must hold NEED:
 * doubling, at least 16 MiB, but never past LIMIT (the most the record
 * can need) unless NEED is more.  Growing as bytes arrive keeps memory
 * bounded by the input actually present, not by what a header claims. */
size_t emb_grow_cap(size_t cap, size_t need, size_t limit);
/* Rows per batch so that a batch is about EMB_CHUNK_TARGET_BYTES. */
size_t emb_batch_rows(size_t dim, enum emb_dtype t);
/* emb_dtype.c: N values between memory type FROM and little-endian disk dtype TO. */
void emb_to_disk(unsigned char *dst, const void *src, size_t n,
		 enum emb_dtype from, enum emb_dtype to);
/* emb_to_disk for output stream S, counting in s->overflowed the finite
 * values too large for a narrower TO (f16, or f32 from f64): they are
 * written as infinities, and emb_close says how many. */
void emb_to_disk_counted(struct emb_stream *s, unsigned char *dst, const void *src, size_t n,
			 enum emb_dtype from, enum emb_dtype to);
void emb_from_disk(void *dst, const unsigned char *src, size_t n,
		   enum emb_dtype from, enum emb_dtype to);
/* emb_dtype.c: ROWS rows of DIM values from disk dtype FROM into memory
 * type TO: as emb_from_disk, and bit rows (ceil(DIM/8) bytes each) are
 * unpacked into 0s and 1s, or copied packed when TO is EMB_BIT. */
void emb_rows_from_disk(void *dst, const unsigned char *src, size_t rows, size_t dim,
			enum emb_dtype from, enum emb_dtype to);
/* emb_dtype.c: ROWS rows of DIM values of memory type FROM into disk dtype
 * TO for output S, as emb_to_disk_counted; into a code dtype (i8, u8, bit)
 * the values must be codes already (emb_codes_check), bit rows are
 * packed.  ROW1 is the output row number of the first row, for messages. */
void emb_rows_to_disk(struct emb_stream *s, unsigned char *dst, const void *src, size_t rows,
		      size_t dim, enum emb_dtype from, enum emb_dtype to, uint64_t row1);
/* Die "NAME: row N: value V is not an i8 code (...)" unless every value
 * of the float rows at SRC is a value of code dtype TO (no-op for other
 * TO): writers never round or clamp codes silently. */
void emb_codes_check(const struct emb_stream *s, const void *src, size_t rows, size_t dim,
		     enum emb_dtype from, enum emb_dtype to, uint64_t row1);
/* Byte-swap N elements of SIZE bytes in place (big-endian .npy). */
void emb_swap_bytes(void *buf, size_t n, size_t size);
/* emb_dtype.c: whether the host is little-endian, like every disk format. */
bool emb_host_is_le(void);
/* emb_w2v.c: the text writers' refusal of value J (0-based) of row I
 * of the chunk being written to S, V being nan or an infinity: "row N:
 * value J is nan, which FMT cannot hold".  Binary formats carry them. */
_Noreturn void emb_refuse_nonfinite(const struct emb_stream *s, size_t i, size_t j, double v);
/* Key of row I of C for writing: its key, or its row number
 * FIRST_ROWNO + I (the output's s->row_next while the chunk is being
 * written) formatted into NUM (24 bytes). */
const char *emb_row_key(const struct emb_chunk *c, size_t i, uint64_t first_rowno, char *num);

/* emb_f16.c: IEEE half <-> single for N values, F16C when the CPU has it. */
/* DST and SRC may be unaligned; halves are in host byte order. */
void emb_f16_to_f32_n(void *dst, const void *src, size_t n);
void emb_f32_to_f16_n(void *dst, const void *src, size_t n);

/* emb_tsv.c: read up to the first data row (fixes dim and keys). */
void emb_tsv_read_header(struct emb_stream *s);
/* emb_tsv.c: parse the next batch of rows into C; 0 at end of input. */
size_t emb_tsv_read_rows(struct emb_stream *s, struct emb_chunk *c);
/* emb_tsv.c: stop the block reader's threads and free it (emb_close). */
void emb_tsv_close(struct emb_stream *s);
/* emb_tsv.c: print C's rows, one per line. */
void emb_tsv_write_rows(struct emb_stream *s, const struct emb_chunk *c);

/* Codec entry points, one family per file. */
void emb_binary_read_header(struct emb_stream *s);  /* emb_binary.c */
size_t emb_binary_read_rows(struct emb_stream *s, struct emb_chunk *c);
bool emb_binary_peek_rows(struct emb_stream *s, uint64_t *rows);
uint64_t emb_binary_skip_rows(struct emb_stream *s);
void emb_binary_write_header(struct emb_stream *s);
void emb_binary_write_rows(struct emb_stream *s, const struct emb_chunk *c);
void emb_binary_write_end(struct emb_stream *s);
void emb_binary_renumber(struct emb_stream *s, uint64_t first);

void emb_npy_read_header(struct emb_stream *s);
size_t emb_npy_read_rows(struct emb_stream *s, struct emb_chunk *c);
size_t emb_npy_count_header(const struct emb_stream *s, uint64_t rows, int width,
			    char *buf, size_t cap);
void emb_npy_write_rows(struct emb_stream *s, const struct emb_chunk *c);

void emb_w2v_read_header(struct emb_stream *s);     /* w2v, vec */
void emb_w2vbin_read_header(struct emb_stream *s);
void emb_glove_read_header(struct emb_stream *s);
size_t emb_w2vbin_read_rows(struct emb_stream *s, struct emb_chunk *c);
size_t emb_w2v_count_header(const struct emb_stream *s, uint64_t rows, int width,
			    char *buf, size_t cap);
void emb_w2v_write_rows(struct emb_stream *s, const struct emb_chunk *c); /* + glove */
void emb_w2vbin_write_rows(struct emb_stream *s, const struct emb_chunk *c);

void emb_vecs_read_header(struct emb_stream *s);
size_t emb_vecs_read_rows(struct emb_stream *s, struct emb_chunk *c);
void emb_vecs_write_rows(struct emb_stream *s, const struct emb_chunk *c);

void emb_jsonl_read_header(struct emb_stream *s);
size_t emb_jsonl_read_rows(struct emb_stream *s, struct emb_chunk *c);
void emb_jsonl_write_rows(struct emb_stream *s, const struct emb_chunk *c);
void emb_jsonl_free(struct emb_stream *s);

void emb_json_read_header(struct emb_stream *s);     /* emb_json.c */
size_t emb_json_read_rows(struct emb_stream *s, struct emb_chunk *c);
void emb_json_write_header(struct emb_stream *s);
void emb_json_write_rows(struct emb_stream *s, const struct emb_chunk *c);
void emb_json_write_end(struct emb_stream *s);
void emb_json_free(struct emb_stream *s);
/* emb_json.c, shared with emb_jsonl.c: */
/* Length of the JSON number (RFC 8259) at P (before END), 0 if none. */
size_t emb_json_number_len(const char *p, const char *end);
/* Does the JSON string token P[0, N) (quotes included) hold \u0000? */
bool emb_json_has_nul(const char *p, size_t n);
/* Is P[0, N) valid UTF-8 (no overlong forms, surrogates or code points
 * above U+10FFFF)? */
bool emb_utf8_valid(const unsigned char *p, size_t n);
/* Decode the base64 text P[0, N) of little-endian float32 values into
 * OUT (CAP values of MTYPE; OUT NULL: only count them); *COUNT is the
 * number of values.  NULL on success, else why not: "bytes" when the
 * data is not a whole number of floats (*COUNT then holds the bytes),
 * or a description. */
const char *emb_base64_f32(const char *p, size_t n, void *out, size_t cap, size_t *count,
			   enum emb_dtype mtype);
/* Write C's rows as JSON objects {KEY-FIELD: key, VECTOR-FIELD: [...]}:
 * one a line (JSON Lines), or ARRAY: as the elements of the array that
 * emb_json_write_header opens. */
void emb_json_put_rows(struct emb_stream *s, const struct emb_chunk *c, bool array);
/* ---- issue 13: binary dumps, one file each ---- */
/* emb_bigann.c: the format a file name's extension names (.fbin, .u8bin,
 * .i8bin, .ibin), EMB_FMT_AUTO for any other name. */
enum emb_format emb_format_by_extension(const char *path);
/* Shared by the fixed-row readers: pass over N bytes of input (the
 * mapping, else read and dropped), dying as WHAT cut short. */
void emb_skip_bytes(struct emb_stream *s, uint64_t n, const char *what);
/* Size of S's input file if it is a regular file, else -1. */
long long emb_input_size(const struct emb_stream *s);
void emb_bigann_read_header(struct emb_stream *s);
size_t emb_bigann_read_rows(struct emb_stream *s, struct emb_chunk *c);
size_t emb_bigann_count_header(const struct emb_stream *s, uint64_t rows, int width,
			       char *buf, size_t cap);
void emb_bigann_write_rows(struct emb_stream *s, const struct emb_chunk *c);

void emb_st_read_header(struct emb_stream *s);
size_t emb_st_count_header(const struct emb_stream *s, uint64_t rows, int width,
			   char *buf, size_t cap);
void emb_st_write_rows(struct emb_stream *s, const struct emb_chunk *c);

void emb_faiss_read_header(struct emb_stream *s);

void emb_hdf5_read_header(struct emb_stream *s);
size_t emb_hdf5_read_rows(struct emb_stream *s, struct emb_chunk *c);
uint64_t emb_hdf5_skip_rows(struct emb_stream *s);
void emb_hdf5_free(struct emb_stream *s);
/* Whether the HDF5 file at PATH has a dataset NAME: 1 yes, 0 no, -1 not
 * a readable HDF5 file (dies naming SHOWN when built without HDF5). */
int emb_hdf5_has_dataset(const char *path, const char *name, const char *shown);

/* The fixed-row reading shared by bigann, safetensors and faiss: the rows
 * are s->total_rows rows of s->row_bytes from the current offset, each
 * s->dim values of kind s->bin_kind (EMB_BIN_*). */
enum emb_bin_kind { EMB_BIN_F32, EMB_BIN_F16, EMB_BIN_BF16, EMB_BIN_F64, EMB_BIN_U8,
		    EMB_BIN_I8, EMB_BIN_I32 };
size_t emb_bin_value_size(int kind);
size_t emb_fixed_read_rows(struct emb_stream *s, struct emb_chunk *c);
/* The rows the next read returns (0 at the end); codec table hooks
 * (emb_codec.peek_rows, skip_rows) that seek past rows undecoded. */
uint64_t emb_fixed_next_rows(struct emb_stream *s);
/* After the last row (or at once, for zero rows): at EOF, and on a pipe the
 * bytes up to DATA_OFF skipped and the end of input checked, since a pipe's
 * size was not known at open. */
void emb_fixed_finish(struct emb_stream *s);
bool emb_fixed_peek_rows(struct emb_stream *s, uint64_t *rows);
uint64_t emb_fixed_skip_rows(struct emb_stream *s);

#endif
