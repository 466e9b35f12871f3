/*
 * emb_lsh.h - angular locality-sensitive hash families for emblsh (and any
 * later program that wants bucket ids): Reformer random rotations, FALCONN
 * cross-polytope hashing by fast pseudo-random rotations, and Charikar's
 * hyperplane SimHash.
 *
 * Every family works in two steps so that one code path serves bucket ids,
 * candidate pairs and multiprobe queries:
 *   1. emb_lsh_project(): a block of rows -> "projections", NCOLS floats per
 *      row (L tables x H hashes x HALF values);
 *   2. emb_lsh_bucket() / emb_lsh_probe(): one row's projections -> the
 *      bucket id of a table, or its P most likely buckets.
 * A table's id is the mixed-radix number of its DIGITS digits (each of radix
 * RADIX): H digits of radix B for rotation/crosspolytope (argmax of
 * [p ; -p]), H*K binary digits for simhash (sign bits, most significant
 * first).  All hashes are invariant to the length of a row, so rows need
 * not be normalised.
 */
#ifndef EMB_LSH_H
#define EMB_LSH_H

#include <stddef.h>
#include <stdint.h>

enum emb_lsh_scheme { EMB_LSH_ROTATION = 0, EMB_LSH_CROSSPOLYTOPE, EMB_LSH_SIMHASH };
#define EMB_LSH_NSCHEMES 3

/* Name <-> enum (datamash op-defs style); parse returns -1 if unknown. */
const char *emb_lsh_scheme_name(enum emb_lsh_scheme s);
int emb_lsh_scheme_parse(const char *name);
/* "rotation, crosspolytope, simhash", for messages.  Static storage. */
const char *emb_lsh_scheme_list(void);

/* What the user asks for; 0 in buckets means the scheme's default. */
struct emb_lsh_params {
	enum emb_lsh_scheme scheme;
	size_t tables;        /* L */
	size_t hashes;        /* H functions concatenated per table */
	size_t buckets;       /* B (even) for rotation/crosspolytope */
	size_t bits;          /* K sign bits per simhash function */
	size_t rotations;     /* crosspolytope: sign-flip + FWHT rounds */
	unsigned long seed;   /* GSL mt19937 seed: same seed, same hashes */
};
#define EMB_LSH_DEFAULT_BUCKETS 64

struct emb_lsh {
	struct emb_lsh_params p;
	size_t dim;           /* input values per row */
	size_t pdim;          /* crosspolytope: dim padded to a power of two */
	size_t half;          /* projections per hash: B/2, or K for simhash */
	size_t ncols;         /* projections per row: L*H*half */
	size_t digits;        /* digits per table id */
	unsigned radix;       /* values per digit: B, or 2 for simhash */
	double nbuckets;      /* radix^digits: possible ids per table */
	float *proj;          /* rotation/simhash: dim x ncols Gaussian, row-major */
	float *signs;         /* crosspolytope: L*H*rotations*pdim values of +-1 */
	/* private scratch (an emb_lsh is not for concurrent use) */
	float *pad;
	float *row1;          /* dim: one row rescaled (emb_lsh_project) */
	struct emb_lsh_alt *alt;
	size_t *nalt;
	void *heap, *pool;
	size_t pool_cap, heap_cap;
};

/* Check P against DIM (usage error naming the option if they do not fit),
 * fill in defaults and draw every random number.  Owned by the caller;
 * release with emb_lsh_free(). */
struct emb_lsh *emb_lsh_new(const struct emb_lsh_params *p, size_t dim);
void emb_lsh_free(struct emb_lsh *h);

/* Projections of N rows (row-major, N x dim) into OUT (N x ncols).  A row
 * is scaled by a power of two first when its values are so large or so
 * small (denormal) that f32 projections would overflow or lose their
 * digits, so a row's buckets do not depend on its length. */
void emb_lsh_project(struct emb_lsh *h, const float *rows, size_t n, float *out);

/* Bucket id of table T (0-based) for one row's projections PROJ. */
uint64_t emb_lsh_bucket(const struct emb_lsh *h, const float *proj, size_t t);

/* Multiprobe: the up to P ids of table T most likely to hold a row's near
 * neighbours, best first (IDS[0] == emb_lsh_bucket()).  A probe's cost is
 * the sum over digits of (best score - score of the digit value taken);
 * probes come out in order of cost (best-first over perturbation vectors,
 * Lv et al. 2007; FALCONN's multiprobe for cross-polytopes).  Returns the
 * number written (fewer than P only when the table has fewer ids). */
size_t emb_lsh_probe(struct emb_lsh *h, const float *proj, size_t t, size_t p, uint64_t *ids);

/* In-place unnormalised fast Walsh-Hadamard transform of X (N a power of
 * two): O(N log N). */
void emb_fwht(float *x, size_t n);

#endif /* EMB_LSH_H */
