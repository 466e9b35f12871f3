/*
 * emb_hamming.h - Hamming distances between packed bit rows (dtype bit,
 * emb.5) and exhaustive Hamming top-k, for embcos --hamming.
 *
 * A row of DIM bits is ceil(DIM/8) bytes, first bit in the high bit of the
 * first byte (np.packbits).  Distances count differing bits among the DIM
 * real ones: the padding bits of the last byte are masked, whatever a
 * writer left there.  The popcount is chosen once at run time: AVX-512
 * VPOPCNTDQ when the CPU has it, else the POPCNT instruction, else a
 * portable one (EMB_SIMD=generic or sse2/avx2 caps the choice, as for the
 * float kernels, so tests compare them).
 */
#ifndef EMB_HAMMING_H
#define EMB_HAMMING_H

#include "emb.h"
#include "emb_knn.h"

/* The distance between packed rows A and B of DIM bits. */
uint32_t emb_hamming(const unsigned char *a, const unsigned char *b, size_t dim);

/* Offer every pair of the NQ packed queries Q and the ND packed rows D
 * (DIM bits each) to T with score minus the distance, so that T keeps the
 * smallest distances, ties to the lower row.  BASE is the row number of
 * D's first row (0-based); EXCLUDE_SELF skips row == query index.  T's
 * queries are Q's (t->nq == NQ). */
void emb_hamming_block(struct emb_topk *t, const unsigned char *q, size_t nq,
		       const unsigned char *d, size_t nd, size_t dim, uint64_t base,
		       bool exclude_self);

/* Name of the popcount in use: "avx512-vpopcntdq", "popcnt" or "generic". */
const char *emb_hamming_kernel(void);

#endif /* EMB_HAMMING_H */
