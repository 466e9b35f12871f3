/*
 * emb.h - the embutils vector stream: format constants and the one API
 * every program reads and writes vectors through.
 *
 * The model is netpbm's pam.h: one struct (struct emb_stream) is both the
 * header record and the stream handle.  A filter opens its input, reads the
 * header, copies the input stream's header into an output stream, changes
 * what it changes (dim, dtype, keys), writes the header and then moves rows
 * chunk by chunk:
 *
 *     emb_proginit(argc, argv);
 *     emb_shared_options(EMB_SH_ALL);   -- the shared options it honours
 *     ... getopt_long, emb_common_option() for the shared options ...
 *     struct emb_stream *in = emb_open_r(path, &emb_opts);
 *     struct emb_stream *out = emb_open_w_like(in, &emb_opts);
 *     struct emb_chunk c = EMB_CHUNK_INIT;
 *     while (emb_read_chunk(in, &c) > 0)
 *             emb_write_chunk(out, &c);
 *     emb_close(in); emb_close(out); emb_chunk_free(&c);
 *
 * Format errors are diagnosed inside the library: a reader or writer call
 * that fails prints one line (prog: FILE:LINE: message, or
 * prog: FILE: byte N: message for binary input) and exits 1.  Programs
 * therefore never check return codes for data errors.
 *
 * BINARY LAYOUT (all integers little-endian, whatever the host; see emb.5)
 *
 *   stream   := header record* end
 *   header   := magic[8] version:u32 json_len:u32 json_crc:u32 json[json_len]
 *   magic    := 0x89 'E' 'M' 'B' '\r' '\n' 0x1a '\n'
 *   record   := tag[4] crc:u32 rows:u64 keybytes:u64 keys[keybytes] values
 *   tag      := "CHNK" (rows of vectors) | "END\0" (end of this stream)
 *   keys     := rows NUL-terminated UTF-8 strings, NUL-padded to a
 *               multiple of 8 bytes (keybytes = 0 when the stream has no keys)
 *   values   := rows * dim values of dtype, row-major (f16, f32, f64, i8
 *               or u8), or for dtype bit rows * ceil(dim/8) bytes: each
 *               row's bits packed 8 per byte, first bit in the high bit
 *               (np.packbits), the last byte padded with zero bits
 *   crc      := CRC-32C over keys then values (CHNK), or over the 8 bytes
 *               of rows (END, where rows is the row count of the stream)
 *
 * A stream is followed either by end of file or by another header (streams
 * concatenate; the later header must agree on dim, dtype and keys).  End of
 * file anywhere but right after an END record is a truncated stream.
 *
 * Row numbers (emb.5): a keyless segment whose JSON holds "row_offset"
 * numbers its first row row_offset + 1; one without goes on from the row
 * before it (1 at the start).  Writers keep the numbers of the chunks they
 * are given (emb_chunk.first_row), starting a new segment where they jump.
 *
 * Version bump rule: EMB_FORMAT_VERSION changes when a reader of the old
 * version would misread the new bytes.  New JSON header members never need
 * a bump: readers keep unknown members and pass them on.  Nor do new
 * dtypes: every reader checks "dtype" against the names it knows and
 * refuses the stream otherwise (version 1 readers before i8, u8 and bit
 * stop with 'header has no valid "dtype"'), so a new dtype is never
 * misread as an old one.
 */
#ifndef EMB_H
#define EMB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <sys/types.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

#define EMB_MAGIC "\x89" "EMB\r\n\x1a\n"
#define EMB_MAGIC_LEN 8
#define EMB_FORMAT_VERSION 1u
#define EMB_RECORD_HEADER_LEN 24
#define EMB_TAG_CHUNK "CHNK"
#define EMB_TAG_END "END\0"

/* Limits that make a hostile header an error, never a huge allocation. */
#define EMB_MAX_DIM (1u << 24)               /* values per row */
#define EMB_MAX_JSON_LEN (16u << 20)         /* header JSON bytes */
#define EMB_MAX_CHUNK_BYTES ((uint64_t)1 << 30) /* one record's payload */
#define EMB_MAX_KEY_LEN 65535                /* bytes of one key */
#define EMB_MAX_ROW_OFFSET ((uint64_t)1 << 53) /* header "row_offset" (exact in JSON) */
/* Writers aim for chunks of about this many payload bytes, and text
 * readers batch rows to it.  1 MiB, not more: a text reader's chunk is
 * then still in the core's cache when the writer checksums it (one-thread
 * TSV to binary, 100k x 256: 0.2275 s against 0.2511 s with 4 MiB, 9%
 * less).  make fuzz defines a small one: batch boundaries within small
 * inputs, and no 65536-row batches per input. */
#ifndef EMB_CHUNK_TARGET_BYTES
#define EMB_CHUNK_TARGET_BYTES (1u << 20)
#endif

/* Exit codes, the same for every program (documented in each EXIT STATUS). */
enum emb_exit {
	EMB_EXIT_OK = 0,
	EMB_EXIT_DATA = 1,  /* bad data, I/O or resource error */
	EMB_EXIT_USAGE = 2, /* bad command line */
};

/* Element type of vector values, on disk and in memory.  I8, U8 and BIT
 * are quantized codes (embquant): in memory a program normally gets them
 * as f32 (the integer codes; 0 or 1 for each bit); one that asks for
 * mtype EMB_BIT gets the packed rows as they are on disk, ceil(dim/8)
 * bytes each (emb_row_bytes). */
enum emb_dtype { EMB_F32 = 0, EMB_F64 = 1, EMB_F16 = 2, EMB_I8 = 3, EMB_U8 = 4, EMB_BIT = 5 };
/* Whether T holds quantized codes (i8, u8, bit) rather than real numbers. */
static inline bool emb_dtype_is_code(enum emb_dtype t)
{ return t == EMB_I8 || t == EMB_U8 || t == EMB_BIT; }

/* Stream encodings (emb.5, "Other formats").  EMB_FMT_AUTO sniffs the
 * bytes on input and, on output, means "the same as the input".  The
 * others are the dumps people have: NumPy .npy, word2vec text and binary,
 * GloVe text, fastText .vec (= word2vec text), TEXMEX fvecs/bvecs/ivecs
 * and JSON Lines.  Names for -I/-O are in emb_cli.c. */
enum emb_format {
	EMB_FMT_AUTO = 0, EMB_FMT_EMB, EMB_FMT_TSV, EMB_FMT_NPY, EMB_FMT_W2V,
	EMB_FMT_W2VBIN, EMB_FMT_GLOVE, EMB_FMT_VEC, EMB_FMT_FVECS, EMB_FMT_BVECS,
	EMB_FMT_IVECS, EMB_FMT_JSONL, EMB_FMT_JSON,
	/* issue 13, binary dumps (lib/emb_bigann.c, emb_safetensors.c,
	 * emb_faiss.c, emb_hdf5.c): big-ann-benchmarks .fbin/.u8bin/.i8bin/
	 * .ibin, safetensors, FAISS flat indexes, ann-benchmarks HDF5 */
	EMB_FMT_FBIN, EMB_FMT_U8BIN, EMB_FMT_I8BIN, EMB_FMT_IBIN, EMB_FMT_SAFETENSORS,
	EMB_FMT_FAISS, EMB_FMT_HDF5,
	EMB_FMT_COUNT
};

/* Tri-state for options that may be forced either way or detected. */
enum emb_tristate { EMB_DETECT = -1, EMB_NO = 0, EMB_YES = 1 };

/* Options shared by every program; filled by emb_common_option(). */
struct emb_opts {
	enum emb_format in_format;   /* -I FMT */
	enum emb_format out_format;  /* -O FMT */
	int out_dtype;               /* --dtype, or -1 for "as the input" */
	enum emb_tristate keys;      /* --keys / --no-keys for TSV input */
	bool progress;               /* --progress */
	const char *vector_field;    /* --vector-field (JSON Lines), default "embedding" */
	const char *key_field;       /* --key-field (JSON Lines), default "id" */
	struct emb_slice *slice;     /* --dims/--normalize (emb_slice.c), or NULL */
	bool strict;                 /* --strict: a failed batch request is an error */
	const char *tensor;          /* --tensor (safetensors), NULL: the only 2-D one */
	const char *dataset;         /* --dataset (HDF5), NULL: "train" */
};
extern struct emb_opts emb_opts;

/*
 * One batch of rows.  Owned by the caller; the library grows its buffers as
 * needed and emb_chunk_free() releases them.  Values are contiguous and
 * row-major (row i starts at data + i*dim), so BLAS can use them in place.
 * In memory the type is f32 or f64, never f16 (f16 is widened on read).
 * Read from a regular file, data may point into the file's private
 * mapping instead of an owned buffer: it stays valid, and writable, until
 * the next emb_read_chunk() on the same stream or emb_close() of it
 * (after which it still reads the file's values, but changes made to it
 * may be gone): programs that keep rows copy them, as before.
 */
struct emb_chunk {
	size_t rows;          /* rows held */
	size_t dim;           /* values per row */
	enum emb_dtype type;  /* EMB_F32 or EMB_F64 */
	void *data;           /* rows*dim values of type */
	char **keys;          /* rows pointers into keybuf, or NULL (no keys) */
	/* private: capacities of the buffers above */
	size_t cap_rows, cap_bytes, keybuf_len, keybuf_cap;
	char *keybuf;
	/* private: data points into the input's file mapping (a copy-on-write
	 * private mapping: writes to it are the program's own, never the
	 * file's), valid until the next emb_read_chunk() on its stream or
	 * emb_close() of it; not freed, and replaced by an owned
	 * buffer on the next emb_chunk_reserve() */
	bool borrowed;
	/* Where the rows came from, for messages about one row
	 * (emb_die_row); set by emb_read_chunk, NULL src for chunks a
	 * program built itself.  src is the input's name and lives as long
	 * as its stream.  Text input: pos[i] is row i's line number.  Binary
	 * input: row i starts at byte pos[i], or at pos0 + i * pos_step when
	 * npos is 0 (fixed-size rows). */
	const char *src;
	bool src_lines;       /* positions are line numbers, not byte offsets */
	uint64_t *pos;        /* per-row positions (npos of them), or unused */
	size_t npos, pos_cap;
	uint64_t pos0, pos_step;
	/* Row numbers (emb.5, "Row numbers"): row i is number first_row + i,
	 * counted from 1, the number programs print for a keyless row.
	 * emb_read_chunk sets both.  numbered: the input fixed the numbers
	 * (a binary header's "row_offset": a shard, a slice, embgen --first),
	 * and writers keep them, starting a new segment where they jump;
	 * false: they only count this input's rows, and a writer numbers the
	 * rows on from those it wrote before (so `embcat a b` counts on).
	 * emb_chunk_reserve clears them: a chunk a program fills itself is
	 * unnumbered, unless it copies them from the input rows it was made
	 * from (emb_chunk_number_like). */
	uint64_t first_row;
	bool numbered;
};
#define EMB_CHUNK_INIT {0}

/*
 * The stream handle and header record (netpbm's struct pam).  Fields above
 * the "private" line may be read by programs; on an output stream the
 * public header fields may be changed before emb_write_header().
 */
struct emb_stream {
	/* header */
	size_t dim;            /* values per row; 0 until known */
	enum emb_dtype dtype;  /* on-disk type: input as read, output to write */
	bool has_keys;         /* rows carry string keys */
	struct cJSON *meta;    /* header JSON (owned): dim/dtype/keys, history,
				  and any other members, passed through */
	/* where */
	const char *name;      /* file name for messages; "-" for stdin */
	enum emb_format format;/* EMB_FMT_EMB or EMB_FMT_TSV once known */
	enum emb_dtype mtype;  /* in-memory type chunks are read into */
	uint64_t recno;        /* rows read or written so far (all segments) */
	uint64_t chunks;       /* chunk records read or written so far */
	uint64_t offset;       /* bytes consumed/produced so far */
	uint64_t lineno;       /* TSV: lines read so far */
	/* Row numbers (emb.5, "Row numbers"): the number the next row read
	 * or written gets, and whether it is fixed by a "row_offset" (reader:
	 * one was seen; writer: the current binary segment carries one).
	 * emb_open_w_like starts its output where its input started (not
	 * where it is now), so a row-wise filter's output is numbered as its
	 * input is. */
	uint64_t row_next;
	bool row_pinned;
	/* private */
	FILE *fp;
	bool writing, header_done, own_fp, at_eof;
	uint64_t seg_rows;     /* rows in the current binary segment */
	size_t chunk_rows;     /* writer: rows per chunk */
	size_t pend_rows;      /* writer: rows waiting to be flushed ... */
	unsigned char *pend_vals; /* ... their values in disk form ... */
	char *pend_keys;       /* ... and their keys, NUL-terminated */
	size_t pend_keys_len, pend_keys_cap;
	unsigned char *raw;    /* binary: raw record payload buffer */
	size_t raw_cap;
	char *line;            /* TSV: line buffer */
	size_t line_cap;
	int tsv_sep;           /* TSV: '\t' or ' ' (runs of blanks) */
	enum emb_tristate tsv_keys_opt; /* TSV: --keys/--no-keys as given */
	bool tsv_first_pending;/* TSV: first data line read by the header */
	char *tsv_held;        /* TSV: rows read ahead by the header, each a */
	size_t tsv_held_len;   /* uint64_t line number then the NUL-ended line */
	size_t tsv_held_pos;   /* ... and the next one to hand out */
	uint64_t tsv_row_line; /* TSV: line number of the row being parsed */
	struct emb_tsv_blocks *tsv_blocks; /* TSV: the block reader (emb_tsv.c) */
	bool progress;
	/* private: other formats (emb_npy.c, emb_w2v.c, emb_vecs.c, emb_jsonl.c) */
	FILE *src_fp;          /* reader: the real file under a sniffing wrapper */
	FILE *real_fp;         /* writer: stdout while rows spill to a temp file */
	int64_t hdr_pos;       /* writer: where a row-count header starts, or -1 */
	uint64_t data_off;     /* npy: byte offset of the first value */
	uint64_t total_rows;   /* npy/w2v: rows the header promises */
	int text_keys;         /* text: 0 TSV rule, 1 key = all but the last dim fields */
	bool swap;             /* npy: values are big-endian */
	bool fortran;          /* npy: column-major */
	int vecs_esize;        /* vecs: 1 (bvecs) or 4 bytes per value */
	int pread_fd;          /* npy Fortran order: the file read by columns */
	const char *vector_field, *key_field; /* JSON Lines */
	bool strict;           /* JSON Lines: a failed batch request is an error */
	void *json;            /* JSON Lines: the reader's state (emb_jsonl.c) */
	uint64_t dropped_keys; /* writer: rows whose keys the format cannot hold */
	uint64_t overflowed;   /* writer: finite values too large for the disk type */
	/* private: reader of a regular file (emb and .npy): the whole file
	 * mapped, read from at map_pos instead of through fp */
	unsigned char *map;
	size_t map_len, map_pos;
	size_t map_rel;        /* bytes before this are given back (madvise) */
	bool map_stdin;        /* the mapped file is standard input: keep its
				  offset at what was consumed */
	bool seg_dim0;         /* the current binary segment's header says dim 0 */
	bool rec_held;         /* binary reader: rec_h is the next chunk's record */
	unsigned char rec_h[EMB_RECORD_HEADER_LEN]; /* ... header, read and checked */
	uint64_t rec_start;    /* ... starting at this offset */
	bool renumber_warned;  /* writer: said that the format loses row numbers */
	uint64_t open_row;     /* reader: row_next and row_pinned as opened */
	bool open_pinned;
	struct emb_save *save; /* writer: emb_open_w_path()'s file */
	/* private: the binary dumps of issue 13 */
	uint64_t row_bytes;    /* reader: bytes of one row on disk, when not
				  dim * the size of dtype (u8bin, bf16 ...) */
	int bin_kind;          /* the codec's own value type (emb_bigann.c ...) */
	const char *tensor, *dataset; /* --tensor, --dataset */
	void *hdf5;            /* emb_hdf5.c: the open file and dataset */
	/* private: the list of open input streams (emb_close_inputs) */
	struct emb_stream *next_input, *prev_input;
};

/* ---- program set-up, messages and exit (emb_err.c) ---- */

/* Record the program name (basename of argv[0]) for messages and the
 * command line for history, give stdout a large buffer, and register the
 * stdout close check.  Call first in main(). */
void emb_proginit(int argc, char **argv);
extern const char *emb_progname;
/* emb_blas.c: when OpenBLAS picked slower kernels than this CPU runs
 * (OPENBLAS_CORETYPE unset), set OPENBLAS_CORETYPE and re-execute ARGV once.
 * Called by emb_proginit. */
void emb_blas_init(char **argv);
/* One line naming the BLAS and its kernel set (for --version). */
void emb_blas_describe(FILE *fp);
/* The command line, shell-quoted, for header history.  Owned by the lib. */
const char *emb_cmdline(void);

/* "prog: message\n" on stderr, then exit(status).  printf-style. */
_Noreturn void emb_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void emb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: FILE:LINE: message" (line > 0) or "prog: FILE: message". */
_Noreturn void emb_die_at(const char *file, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void emb_warn_at(const char *file, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "prog: FILE: byte N: message", exit 1: binary data errors. */
_Noreturn void emb_die_offset(const char *file, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Unless STATUS is 0: the --help hint on stderr, then exit(STATUS).  The
 * first line of every program's usage(). */
void emb_try_help(int status);
/* A message about row I of chunk C (read by emb_read_chunk):
 * "prog: FILE:LINE: message" for text input, "prog: FILE: byte N:
 * message" for binary input (N: where the row starts), "prog: row I+1:
 * message" for a chunk that was not read from a file.  emb_die_row exits 1. */
_Noreturn void emb_die_row(const struct emb_chunk *c, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void emb_warn_row(const struct emb_chunk *c, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Usage error: "prog: message" and the --help hint, exit 2. */
_Noreturn void emb_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* Print "prog (embutils) VERSION" to stdout and exit 0. */
_Noreturn void emb_version(void);

/* For running the library inside a test program (the fuzz harnesses in
 * tests/fuzz), never set by the programs: when set, every function above
 * that exits (emb_die*, emb_usage_error, emb_try_help and, below, the
 * checked allocators and emb_fopen_r/emb_fclose_r) calls the hook with the
 * exit status after its message, before exit(3).  A hook that returns lets
 * the exit happen; a harness longjmp()s back to its own frame instead and
 * then calls emb_close_inputs() (emb_stream.c), which emb_close()s every
 * input stream that emb_open_r() opened and nobody closed, so that files,
 * maps and stream memory are released.  Memory the failed call held only in
 * its local variables is the harness's to free (tests/fuzz/fuzz.c records
 * the allocations made while one input is read). */
extern void (*emb_exit_hook)(int status);

/* Checked allocation: exit 1 with a message instead of returning NULL. */
void *emb_xmalloc(size_t n);
void *emb_xcalloc(size_t n, size_t size);
void *emb_xrealloc(void *p, size_t n);
/* n*size with an overflow check (dies on overflow). */
size_t emb_xmul(size_t n, size_t size);
char *emb_xstrdup(const char *s);

/* A write to standard output failed with errno ERR: say
 * "prog: write error: ..." (nothing for EPIPE, as when SIGPIPE ends us)
 * and exit 1.  The stream writers call it at the first failed chunk;
 * programs that print lines themselves call emb_check_stdout() in their
 * loops (a flag test) so they stop at once instead of at exit. */
_Noreturn void emb_write_error(int err);
void emb_check_stdout(void);

/* ---- temporary and saved files (emb_spill.c) ---- */

/* A new temporary file in $TMPDIR (default /tmp), open for reading and
 * writing, that has no name (O_TMPFILE, or unlinked at once): nothing is
 * left behind whatever ends the program.  PURPOSE is a word for the
 * fallback name.  Dies with "cannot create a temporary file in DIR". */
FILE *emb_tmpfile(const char *purpose);
/* "temporary file in DIR", for messages about the file above (static). */
const char *emb_tmpfile_where(void);

/* Die with "OPT PATH is also an input" if PATH is the same file (device
 * and inode, so through links too) as one of INPUTS ("-" = standard
 * input), or "... is also the output" if it is standard output.  Only
 * regular files are compared: /dev/null may be both. */
void emb_check_not_input(const char *opt, const char *path, const char *const *inputs,
			 size_t ninputs);

/* A file written under a temporary name in its directory (so an
 * unwritable directory fails at once) and renamed into place by
 * emb_save_commit() only when complete: a killed program never leaves a
 * partial file that reads as whole.  The temporary name is removed at
 * exit and by any fatal signal.  A PATH that exists and is not a regular
 * file (/dev/null, a FIFO) is written in place. */
struct emb_save {
	const char *path;
	FILE *fp;
	int slot;  /* private */
};
FILE *emb_save_open(struct emb_save *sv, const char *path);
void emb_save_commit(struct emb_save *sv);

/* Usage error "WHAT_A and WHAT_B cannot both be standard input" if paths
 * A and B ("-", NULL, or /dev/stdin and the like on a pipe) both name
 * standard input, which can be read only once. */
void emb_stdin_once(const char *what_a, const char *a, const char *what_b, const char *b);

/* Open a named file for reading ("-" = stdin); dies with strerror. */
FILE *emb_fopen_r(const char *path);
/* Close an input file, checking ferror (datamash close_input). */
void emb_fclose_r(FILE *fp, const char *name);
/* emb_tsv.c: getline(3) for text readers.  Reads line LINENO of FP (named
 * NAME) into *LINE (capacity *CAP, grown as getline does) and returns its
 * length with the line end (LF or CR LF) removed, or -1 at end of input.
 * *RAW (if not NULL) gets the bytes consumed.  Dies on a read error and on
 * out of memory (never taken for end of input); warns "FILE:LINE: last
 * line has no newline (file cut short?)" for a final line without one. */
ssize_t emb_read_line(FILE *fp, const char *name, uint64_t lineno, char **line,
		      size_t *cap, size_t *raw);
/* A UTF-8 byte order mark, which text readers skip at the start of a file. */
#define EMB_UTF8_BOM "\xef\xbb\xbf"

/* ---- shared command-line options (emb_cli.c) ---- */

/*
 * The vector-stream options of embutils(7).  Every program splices all of
 * them into its getopt_long table (EMB_COMMON_LONGOPTS, and
 * EMB_COMMON_SHORTOPTS in the short string) and declares, once, the set it
 * honours with emb_shared_options(); emb_common_option() then acts on
 * those and rejects the others ("option '--dtype' does not apply to
 * embinfo", exit 2), and emb_shared_help() prints help for exactly the set
 * a program passes it.  A program that honours an option only in one mode
 * declares it and checks emb_shared_given() after parsing (embcos -O is
 * only for --matrix).
 */
enum {
	EMB_SH_INPUT_FORMAT = 1u << 0,  /* -I, --input-format */
	EMB_SH_OUTPUT_FORMAT = 1u << 1, /* -O, --output-format */
	EMB_SH_DTYPE = 1u << 2,         /* --dtype */
	EMB_SH_KEYS = 1u << 3,          /* --keys */
	EMB_SH_NO_KEYS = 1u << 4,       /* --no-keys */
	EMB_SH_VECTOR_FIELD = 1u << 5,  /* --vector-field */
	EMB_SH_KEY_FIELD = 1u << 6,     /* --key-field */
	EMB_SH_PROGRESS = 1u << 7,      /* --progress */
	EMB_SH_STRICT = 1u << 8,        /* --strict (embcat: the converter) */
	EMB_SH_TENSOR = 1u << 9,        /* --tensor */
	EMB_SH_DATASET = 1u << 10,      /* --dataset */
	/* A program that reads vector streams; one that writes one. */
	EMB_SH_READ = EMB_SH_INPUT_FORMAT | EMB_SH_KEYS | EMB_SH_NO_KEYS |
		      EMB_SH_VECTOR_FIELD | EMB_SH_KEY_FIELD | EMB_SH_PROGRESS |
		      EMB_SH_TENSOR | EMB_SH_DATASET,
	EMB_SH_WRITE = EMB_SH_OUTPUT_FORMAT | EMB_SH_DTYPE | EMB_SH_PROGRESS,
	EMB_SH_ALL = EMB_SH_READ | EMB_SH_WRITE
};

/* getopt_long values of the shared long options (the short ones are their
 * letters; -I and --input-format differ so messages name what was typed). */
enum {
	EMB_OPT_KEYS = 0x1000, EMB_OPT_NO_KEYS, EMB_OPT_DTYPE, EMB_OPT_PROGRESS,
	EMB_OPT_HELP, EMB_OPT_VERSION, EMB_OPT_VECTOR_FIELD, EMB_OPT_KEY_FIELD,
	EMB_OPT_INPUT_FORMAT, EMB_OPT_OUTPUT_FORMAT, EMB_OPT_STRICT, EMB_OPT_TENSOR,
	EMB_OPT_DATASET,
	EMB_OPT_DIMS = 0x1080, EMB_OPT_NORMALIZE,  /* emb_slice.c */
	EMB_OPT_FIRST_PROGRAM = 0x1100
};
#define EMB_COMMON_SHORTOPTS "I:O:hV"
#define EMB_COMMON_LONGOPTS \
	{"input-format", required_argument, NULL, EMB_OPT_INPUT_FORMAT}, \
	{"output-format", required_argument, NULL, EMB_OPT_OUTPUT_FORMAT}, \
	{"keys", no_argument, NULL, EMB_OPT_KEYS}, \
	{"no-keys", no_argument, NULL, EMB_OPT_NO_KEYS}, \
	{"dtype", required_argument, NULL, EMB_OPT_DTYPE}, \
	{"progress", no_argument, NULL, EMB_OPT_PROGRESS}, \
	{"vector-field", required_argument, NULL, EMB_OPT_VECTOR_FIELD}, \
	{"key-field", required_argument, NULL, EMB_OPT_KEY_FIELD}, \
	{"strict", no_argument, NULL, EMB_OPT_STRICT}, \
	{"tensor", required_argument, NULL, EMB_OPT_TENSOR}, \
	{"dataset", required_argument, NULL, EMB_OPT_DATASET}, \
	{"help", no_argument, NULL, 'h'}, \
	{"version", no_argument, NULL, 'V'}

/* Declare the EMB_SH_* set this program honours; call before getopt.
 * Until it is called, none is. */
void emb_shared_options(unsigned honoured);

/* Handle one getopt result if it is a common option: returns true if it
 * was (and acted on it), false if the program must handle it.  -h calls
 * usage(0); -V prints the version; a shared option outside the declared
 * set and bad values are usage errors. */
bool emb_common_option(int opt, const char *arg, void (*usage)(int));

/* Print to stdout the help lines of the shared options in WHICH (EMB_SH_*
 * bits), then those of -h and -V, for usage() functions. */
void emb_shared_help(unsigned which);

/* The first shared option of WHICH that the command line gave, as typed
 * ("-O", "--output-format", "--no-keys"), or NULL if none was. */
const char *emb_shared_given(unsigned which);
/* Usage error "option 'X' is only for MODE" if one of WHICH was given. */
void emb_shared_only_for(unsigned which, const char *mode);

/* Name <-> enum tables (datamash op-defs style). */
const char *emb_format_name(enum emb_format f);
int emb_format_parse(const char *name);    /* -1 if unknown */
/* The accepted -I/-O names, "emb, tsv, npy, ...", for messages (static). */
const char *emb_format_list(void);
const char *emb_dtype_name(enum emb_dtype t);
int emb_dtype_parse(const char *name);     /* -1 if unknown */
size_t emb_dtype_size(enum emb_dtype t);   /* bytes per value; 1 for bit (per byte) */
/* Bytes of one row of DIM values of T: DIM * size, ceil(DIM/8) for bit. */
size_t emb_row_bytes(enum emb_dtype t, size_t dim);

/* Numbers in option values are decimal, as emb(5) says of numbers in
 * data: an optional sign and digits, for emb_parse_double also a fraction
 * and an exponent; no blanks, hex forms, nan or inf.  Usage errors name
 * the option: "invalid number for -k: '0x10'". */
/* A whole number in [min, max], else a usage error. */
long long emb_parse_int(const char *opt, const char *arg, long long min, long long max);
/* A finite number; an underflow gives 0 or a subnormal, as in data. */
double emb_parse_double(const char *opt, const char *arg);
/* The index of ARG in NAMES[0..N), else the usage error
 * "unknown OPT 'ARG' (known: a, b, c)". */
int emb_parse_name(const char *opt, const char *arg, const char *const names[], size_t n);
/* The whole of S as a decimal integer into *V; false (and *V untouched)
 * if S is not one or does not fit, for options that hold several numbers. */
bool emb_parse_ll(const char *s, long long *v);
/* A Python-style slice "A:B", "A:", ":B" or ":" of whole numbers >= 0
 * into *A (0 when open) and *B (-1 when open); false if S is not one.
 * Callers check the bounds their option needs (--rows, --dims). */
bool emb_parse_slice(const char *s, long long *a, long long *b);

/* ---- streams (emb_stream.c) ---- */

/* Open PATH ("-" or NULL = stdin) for reading and read its header: for
 * binary, the header record; for TSV, up to the first data row, which fixes
 * dim and whether there are keys.  An empty input is a valid stream with
 * dim 0 and no rows.  Returns a handle owned by the caller (emb_close). */
struct emb_stream *emb_open_r(const char *path, const struct emb_opts *o);

/* Create an output stream on stdout whose header copies IN's (dim, dtype,
 * keys, metadata, history) with the format chosen by O (-O, else IN's) and
 * dtype by --dtype (else IN's).  Nothing is written until the first
 * emb_write_header()/emb_write_chunk().  IN may be NULL (a fresh header:
 * set dim/has_keys yourself).  Owned by the caller (emb_close). */
struct emb_stream *emb_open_w_like(const struct emb_stream *in, const struct emb_opts *o);
/* The same, on an explicitly named file (used for --save MODEL): written
 * through emb_save_open(), so it appears under PATH only when emb_close()
 * has finished it. */
struct emb_stream *emb_open_w_path(const char *path, const struct emb_stream *in,
				   const struct emb_opts *o);

/* Write the header now (emb_write_chunk does it on first use; call it
 * explicitly so that an input with no rows still gives a valid stream).
 * Appends emb_cmdline() to the header's history. */
void emb_write_header(struct emb_stream *s);

/* Read the next rows into C (resizing its buffers), converting values to
 * s->mtype.  Returns the number of rows read; 0 at the end of all input.
 * A binary chunk is returned whole; TSV input is batched to about
 * EMB_CHUNK_TARGET_BYTES.  Dies on any data error. */
size_t emb_read_chunk(struct emb_stream *s, struct emb_chunk *c);

/* Pass over the next chunk without handing its rows out; returns its
 * rows, 0 at the end of all input.  Binary emb input reads only the
 * 24-byte record header (checked as emb_read_chunk checks it, and the
 * payload against the size of a regular file), then seeks past the
 * payload, or reads and drops it from a pipe: the keys and values of a
 * skipped chunk are never checksummed.  Other formats read the batch into
 * SCRATCH and drop it.  Row numbers and counts advance as for a read. */
size_t emb_skip_chunk(struct emb_stream *s, struct emb_chunk *scratch);
/* Whether the size of the next chunk is known before reading it: for
 * binary emb input, reads (and keeps) its record header and sets *ROWS
 * to its rows, or 0 at the end of input, and returns true; other formats
 * return false and read nothing. */
bool emb_peek_chunk(struct emb_stream *s, uint64_t *rows);

/* Append C's rows to the output (buffered into chunks of s->chunk_rows).
 * C's dim must equal s->dim; C's keys are written if s->has_keys (rows
 * without keys get their row number as key: see emb_chunk.first_row).
 * A keyless binary output starts a new segment, with "row_offset", where
 * a numbered chunk does not continue the numbers written before; a format
 * that cannot record numbers (TSV, npy, fvecs ...) warns once when its
 * rows would read back with other numbers than they have. */
void emb_write_chunk(struct emb_stream *s, const struct emb_chunk *c);
/* Append one row (values of type T, DIM of them); KEY may be NULL. */
void emb_write_row(struct emb_stream *s, const char *key, const void *row, enum emb_dtype t);

/* Flush pending rows and the end record; for input streams, check ferror.
 * Frees S. */
void emb_close(struct emb_stream *s);

/* emb_close() every input stream that emb_open_r() opened and that is not
 * closed yet, newest first (see emb_exit_hook). */
void emb_close_inputs(void);

/* Append "CMDLINE" to META's history array (creating it). */
void emb_history_append(struct cJSON *meta, const char *cmdline);

/* ---- chunks (emb_chunk.c) ---- */

/* Make C hold ROWS rows of DIM values of TYPE (contents undefined), with
 * room for keys if WITH_KEYS (keys reset to empty strings). */
void emb_chunk_reserve(struct emb_chunk *c, size_t rows, size_t dim,
		       enum emb_dtype type, bool with_keys);
/* Set row I's key (copied). */
void emb_chunk_set_key(struct emb_chunk *c, size_t i, const char *key, size_t len);
/* Give DST, built from the rows of SRC one for one, SRC's row numbers. */
static inline void emb_chunk_number_like(struct emb_chunk *dst, const struct emb_chunk *src)
{ dst->first_row = src->first_row; dst->numbered = src->numbered; }
/* Row I as f32/f64 (type must match). */
static inline float *emb_row_f32(const struct emb_chunk *c, size_t i)
{ return (float *)c->data + i * c->dim; }
static inline double *emb_row_f64(const struct emb_chunk *c, size_t i)
{ return (double *)c->data + i * c->dim; }
/* ONE if N is 1, else MANY: "1 row", "2 rows" in messages. */
static inline const char *emb_plural(unsigned long long n, const char *one, const char *many)
{ return n == 1 ? one : many; }
/* Value (i, j) as double whatever the type (not packed bits). */
static inline double emb_get(const struct emb_chunk *c, size_t i, size_t j)
{
	return c->type == EMB_F64 ? ((double *)c->data)[i * c->dim + j]
	       : c->type == EMB_I8 ? (double)((int8_t *)c->data)[i * c->dim + j]
	       : c->type == EMB_U8 ? (double)((uint8_t *)c->data)[i * c->dim + j]
	       : (double)((float *)c->data)[i * c->dim + j];
}
void emb_chunk_free(struct emb_chunk *c);
/* Every value a fit reads passes through emb_require_finite() (or
 * emb_cov_add(), which calls it), which dies on the first NaN or infinity
 * with "FILE:LINE: value is not finite" (or "FILE: byte N: ...",
 * emb_die_row).  emb_row_finite() tests row I of C. */
bool emb_row_finite(const struct emb_chunk *c, size_t i);
void emb_require_finite(const struct emb_chunk *c);
/* Every remaining row of S as f64, row-major, into *ROWS (malloc'd, the
 * caller frees; NULL when there are none); returns how many.  For the
 * small streams read whole (models, partials).  With FINITE, a NaN or an
 * infinity is an error naming its row. */
size_t emb_read_all_f64(struct emb_stream *s, double **rows, bool finite);

/* ---- dimension slices and normalisation (emb_slice.c) ---- */

/*
 * --dims=A:B and --normalize, for the programs where they cost nothing:
 * each row read is cut to dimensions A..B-1 (Python's x[:, A:B]), then,
 * with --normalize, divided by its L2 norm (no centring), so truncation
 * then normalisation is sentence-transformers' truncate_dim followed by
 * normalize_embeddings.  A zero row stays zero (as torch's F.normalize
 * and sklearn's normalize leave it) and is counted; a row with a value
 * that is not finite is an error.  A program splices EMB_SLICE_LONGOPTS
 * into its option table, passes each getopt result to emb_slice_option()
 * (which also points emb_opts.slice at emb_slice), prints
 * emb_slice_help() in its usage, takes the dim of its inputs from
 * emb_slice_dim(), calls emb_slice_chunk() on every chunk it reads, and
 * emb_slice_report() at the end.  emb_table_load() does the middle two
 * itself when its options carry a slice.
 */
struct emb_slice {
	bool dims;             /* --dims given */
	size_t a, b;           /* keep [a, b); b = SIZE_MAX: to the end */
	const char *spec;      /* --dims as typed, for messages */
	bool normalize;        /* --normalize given */
	uint64_t zero_rows;    /* rows --normalize left zero */
};
extern struct emb_slice emb_slice;
#define EMB_SLICE_LONGOPTS \
	{"dims", required_argument, NULL, EMB_OPT_DIMS}, \
	{"normalize", no_argument, NULL, EMB_OPT_NORMALIZE}
/* Handle --dims or --normalize (usage errors for bad values); false for
 * any other option. */
bool emb_slice_option(int opt, const char *arg);
/* Their help lines, to stdout. */
void emb_slice_help(void);
/* The dim of IN's rows after slice S (IN's own when S is NULL or has no
 * --dims); dies if --dims reaches beyond IN's dim. */
size_t emb_slice_dim(const struct emb_slice *s, const struct emb_stream *in);
/* Apply S to the rows of C in place (C's dim becomes the sliced one);
 * nothing when S is NULL. */
void emb_slice_chunk(struct emb_slice *s, struct emb_chunk *c);
/* Warn about the zero rows --normalize met, if any. */
void emb_slice_report(const struct emb_slice *s);

/* ---- numbers (emb_num.c) ---- */

/* Parse a decimal number at *p (no leading blanks); sets *end past it.
 * Correctly rounded (same result as strtof/strtod).  Returns false if no
 * number starts at *p; decimal only: hexadecimal floats are not numbers.
 * "nan", "inf" and "infinity" parse to non-finite values. */
bool emb_parse_f32(const char *p, const char **end, float *out);
bool emb_parse_f64(const char *p, const char **end, double *out);
/* Shortest text that reads back to exactly V; returns its length.  BUF
 * holds at least 32 bytes, and any of them may be written, past the text
 * too (no NUL guaranteed after it). */
int emb_format_f32(char *buf, float v);
int emb_format_f64(char *buf, double v);
/* emb_fmt.c: V as printf's "%.9g" (9 significant digits: a score to 1e-9
 * relative), exactly, but "nan" for any NaN and "0" for -0; fast in the
 * fixed-point range.  BUF holds at least 32 bytes; returns the length
 * written (no NUL guaranteed). */
int emb_format_g9(char *buf, double v);
/* IEEE half <-> single. */
float emb_f16_to_f32(uint16_t h);
uint16_t emb_f32_to_f16(float f);

/* ---- quantized codes (emb_dtype.c) ---- */
/* Pack the DIM values at SRC (f32 or f64 as FROM) into ceil(DIM/8) bytes
 * at DST, bit j set when value j > 0, first value in the high bit of the
 * first byte (np.packbits(x > 0)); the padding bits are 0. */
void emb_bits_pack(unsigned char *dst, const void *src, size_t dim, enum emb_dtype from);
/* The inverse: DIM values 0 or 1 of type TO (f32 or f64) at DST. */
void emb_bits_unpack(void *dst, const unsigned char *src, size_t dim, enum emb_dtype to);

/* ---- checksums (emb_crc.c) ---- */
uint32_t emb_crc32c(uint32_t crc, const void *buf, size_t len);

/* ---- progress meter (emb_progress.c) ---- */
/* Called by the stream layer after every chunk; prints rows, bytes and
 * rate on one updating stderr line when --progress was given, or when
 * stderr is a terminal and the job has run for more than a second. */
void emb_progress(uint64_t rows, uint64_t bytes);
/* End the meter's line; FINAL (at normal exit) with --progress also
 * prints the final count if nothing was shown yet. */
void emb_progress_done(bool final);

/* ---- little-endian helpers ---- */
static inline void emb_put_u32(unsigned char *p, uint32_t v)
{ p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24; }
static inline void emb_put_u64(unsigned char *p, uint64_t v)
{ emb_put_u32(p, (uint32_t)v); emb_put_u32(p + 4, (uint32_t)(v >> 32)); }
static inline uint32_t emb_get_u32(const unsigned char *p)
{ return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint64_t emb_get_u64(const unsigned char *p)
{ return emb_get_u32(p) | (uint64_t)emb_get_u32(p + 4) << 32; }

/* ---- an in-memory vector table with key lookup (emb_table.c) ---- */

/*
 * A whole stream loaded into memory: one contiguous f32 matrix (rows x dim),
 * its keys, and a hash index on the keys.  For lookups by key (embcos
 * --pairs, embpool, emblsh's database): memory is O(rows*dim), so this is
 * for vocabularies and databases, not for streaming.  Owned by the caller;
 * emb_table_free() releases everything.
 */
struct emb_table {
	size_t rows, dim;
	float *data;          /* rows*dim, row-major */
	char **keys;          /* rows keys (if the stream has none, row numbers:
				 emb_chunk.first_row + i, "1".. for most input) */
	struct cJSON *meta;   /* the stream's header (owned) */
	bool ignore_case;     /* lookups fold ASCII case */
	bool has_keys;        /* the stream had keys (else keys are row numbers) */
	/* Where each row came from, for emb_table_die_row: the input's name
	 * (owned copy), and per row its line (text input, src_lines) or the
	 * byte where it starts (binary input), as in struct emb_chunk. */
	char *src;
	bool src_lines;
	uint64_t *pos;
	/* private: open-addressing index of row numbers + 1 (0 = empty) */
	size_t *slots, nslots;
	char *keybuf;
	size_t duplicates;    /* keys seen again after their first row */
};
/* Load PATH ("-" = stdin).  Duplicate keys keep the first row (as fastText
 * and gensim do) and are counted in t->duplicates. */
struct emb_table *emb_table_load(const char *path, const struct emb_opts *o, bool ignore_case);
/* Row index of KEY (LEN bytes), or -1. */
long emb_table_find(const struct emb_table *t, const char *key, size_t len);
static inline const float *emb_table_row(const struct emb_table *t, size_t i)
{ return t->data + i * t->dim; }
/* emb_die_row for row I (0-based) of T: "prog: FILE:LINE: message" or
 * "prog: FILE: byte N: message", exit 1. */
_Noreturn void emb_table_die_row(const struct emb_table *t, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void emb_table_free(struct emb_table *t);

#endif /* EMB_H */
