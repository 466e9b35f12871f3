/*
 * emb_par.h - data parallelism without a pool: run N pieces of one job on
 * N threads and wait for them all.  Pieces own disjoint parts of the
 * output, so the result never depends on the thread count.
 */
#ifndef EMB_PAR_H
#define EMB_PAR_H

/* Threads a program may use: EMB_THREADS when set (a positive integer;
 * 1 forces the single-threaded paths, for tests and benchmarks), else
 * the processors online.  Read once; dies (usage) on a bad EMB_THREADS. */
unsigned emb_threads(void);

/* Call FN(ARG, i) for every i < N, piece 0 on the calling thread and the
 * others on threads of their own, and return when all have.  A thread
 * that cannot be started runs its piece on the caller instead.  FN must
 * not exit (emb_die): allocate before, report after. */
void emb_par_run(unsigned n, void (*fn)(void *arg, unsigned i), void *arg);

/* [lo, hi) of piece I of N over COUNT items, in order, sizes differing by
 * one at most. */
static inline void emb_par_range(size_t count, unsigned n, unsigned i, size_t *lo, size_t *hi)
{
	*lo = count * i / n;
	*hi = count * (i + 1) / n;
}

/* OpenBLAS's own thread count: set it to N and return the previous one
 * (1 and no effect with GSL's single-threaded CBLAS).  Our threads each
 * calling a single-threaded sgemm beat one caller of a threaded sgemm
 * when work follows every call (emb_knn.c). */
int emb_blas_threads(int n);

#endif /* EMB_PAR_H */
