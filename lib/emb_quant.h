/*
 * emb_quant.h - scalar and binary quantization of vectors (embquant, and
 * the programs that score codes): per-dimension calibration ranges, their
 * files, and codes to and from real numbers.
 *
 * The int8/uint8 rule is sentence-transformers' quantize_embeddings():
 *     steps = (max - min) / 255
 *     uint8 = (x - min) / steps            cast toward zero
 *     int8  = (x - min) / steps - 128      cast toward zero
 * computed in the precision numpy would use (f32 when the values and the
 * ranges are f32, else f64), so the codes agree bit for bit.  Two
 * deliberate differences (embquant.1): values outside the range clamp to
 * the end codes where numpy's cast wraps them around, and a dimension with
 * max = min gives the lowest code where numpy divides by zero.
 *
 * A RANGES file is a partial (emb_moments.h, emb.5 "Partials") of kind
 * "ranges": an f64 stream with keys whose rows are "min" and "max" (none
 * when n = 0), with "n" (calibration rows) and "precision" ("f32" or
 * "f64", that of the calibration values) in its "partial" member.  Ranges
 * merge exactly: min of mins, max of maxes.
 */
#ifndef EMB_QUANT_H
#define EMB_QUANT_H

#include "emb.h"

struct cJSON;

enum emb_quant_kind { EMB_Q_INT8, EMB_Q_UINT8, EMB_Q_BINARY, EMB_Q_UBINARY };

struct emb_ranges {
	size_t dim;
	uint64_t n;        /* calibration rows */
	bool f64;          /* the calibration values were f64 */
	double *min, *max; /* dim each; +inf/-inf while n = 0 (owned) */
};

/* Empty ranges of DIM values (emb_ranges_free). */
void emb_ranges_init(struct emb_ranges *r, size_t dim);
void emb_ranges_free(struct emb_ranges *r);
/* Widen R by the rows of C (f32 or f64, C->dim == r->dim); dies naming
 * the row on a nan (an infinity widens the range to it). */
void emb_ranges_add(struct emb_ranges *r, const struct emb_chunk *c);
/* A += B (B unchanged); A of dim 0 and no rows takes B's dim. */
void emb_ranges_merge(struct emb_ranges *a, const struct emb_ranges *b);
/* Write R as a partial of kind "ranges" to S, a stream from
 * emb_model_save_open() (--save), or to standard output when S is NULL
 * (--partial); closes S. */
void emb_ranges_write(const struct emb_ranges *r, struct emb_stream *s);
/* Read the ranges file PATH into R (initialised here); dies naming PATH
 * on anything else.  WANT_ROWS: a file of no rows (n = 0) is an error. */
void emb_ranges_read(struct emb_ranges *r, const char *path, bool want_rows);

/* The sentence-transformers warning for ranges fitted from fewer than 100
 * rows (its exact text), printed by embquant when N < 100. */
void emb_ranges_warn_small(enum emb_quant_kind k, uint64_t n);

/* Quantize the ROWS rows of C into OUT, a chunk this fills with f32
 * codes (one per value for int8/uint8; 0/1 bits for ubinary, which the
 * writer packs; for binary, the packed bytes minus 128, ceil(dim/8) a
 * row, as sentence-transformers' int8 "binary" arrays).  R: the ranges
 * (int8/uint8 only); ROUND: nearest code (ties to even) instead of
 * toward zero.  Dies naming the row on a nan. */
void emb_quantize(const struct emb_chunk *c, struct emb_chunk *out, enum emb_quant_kind k,
		  const struct emb_ranges *r, bool round);
/* The real value code CODE of dimension J stands for: the middle of the
 * interval of values that quantize to it (or the value itself with
 * ROUND).  For int8/uint8 only. */
double emb_dequantize1(const struct emb_ranges *r, size_t j, double code, bool int8, bool round);

/* The code kind of an i8 or u8 stream whose header is META (embquant's
 * "quantization" member): sets *INT8 and *ROUND and returns true for
 * int8/uint8 codes; false for anything else (packed "binary" bits are
 * i8 too, and codes of unknown origin are taken as int8/uint8 by DTYPE,
 * toward zero). */
bool emb_codes_kind(const struct cJSON *meta, enum emb_dtype dtype, bool *int8, bool *round);
/* Replace the ROWS x DIM f32 codes at X (as read from an i8/u8 stream)
 * by their values under R (emb_dequantize1), in place. */
void emb_dequantize_f32(const struct emb_ranges *r, float *x, size_t rows, bool int8, bool round);

/* The "dtype" of header META ("f32" when it names none: text input). */
const char *emb_meta_dtype(const struct cJSON *meta);
/* Die "NAME: i8 codes, not real numbers (...)" if DTYPE is i8, u8 or bit:
 * for programs whose arithmetic on raw codes would mean nothing. */
void emb_refuse_codes(const char *name, const char *dtype);

#endif /* EMB_QUANT_H */
