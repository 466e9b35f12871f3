/*
 * sgemm.c - the floor of embcos --topk: the sgemm calls alone, on the
 * blocks embcos reads and the query tiles emb_knn_block makes of them
 * (emb_knn_tile_rows), nothing else timed.
 *
 *   sgemm QUERIES DB [RUNS]
 *
 * Both files are read and normalised first (untimed).  Then, RUNS times
 * (default 3), every block is scored two ways and the median seconds of
 * each are printed:
 *   blas-threads  one caller, OpenBLAS's threads inside each sgemm (what
 *                 embcos did before it had threads of its own);
 *   our-threads   emb_threads() threads, each a single-threaded sgemm over
 *                 its own range of queries (what emb_knn_block does);
 *   floor         the faster of the two.
 * emb_proginit applies lib/emb_blas.c's kernel fix (OPENBLAS_CORETYPE), as
 * in every embutils program.  bench/speed.sh builds and runs it.
 */
#include <config.h>
#include "emb.h"
#include "emb_knn.h"
#include "emb_par.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef HAVE_OPENBLAS
#include <cblas.h>
#else
#include <gsl/gsl_cblas.h>
#endif

struct block { float *x; size_t n; };

struct job {
	const float *q;
	size_t nq, dim;
	const struct block *b;
	float **out;
	size_t tile;
	unsigned n;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void normalise(float *x, size_t rows, size_t dim)
{
	for (size_t i = 0; i < rows; i++) {
		double aa = 0;
		for (size_t j = 0; j < dim; j++)
			aa += (double)x[i * dim + j] * x[i * dim + j];
		double inv = aa > 0 ? 1 / sqrt(aa) : 0;
		for (size_t j = 0; j < dim; j++)
			x[i * dim + j] = (float)(x[i * dim + j] * inv);
	}
}

static void tiles(const struct job *j, size_t lo, size_t hi, float *out)
{
	for (size_t q0 = lo; q0 < hi; q0 += j->tile) {
		size_t m = hi - q0 < j->tile ? hi - q0 : j->tile;
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)j->b->n,
			    (int)j->dim, 1.0f, j->q + q0 * j->dim, (int)j->dim, j->b->x,
			    (int)j->dim, 0.0f, out, (int)j->b->n);
	}
}

static void part(void *arg, unsigned i)
{
	struct job *j = arg;
	size_t lo, hi;
	emb_par_range(j->nq, j->n, i, &lo, &hi);
	tiles(j, lo, hi, j->out[i]);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	emb_proginit(argc, argv);
	if (argc < 3)
		emb_die(EMB_EXIT_USAGE, "usage: sgemm QUERIES DB [RUNS]");
	int runs = argc > 3 ? atoi(argv[3]) : 3;
	runs = runs < 1 ? 1 : runs;
	struct emb_table *q = emb_table_load(argv[1], &emb_opts, false);
	normalise(q->data, q->rows, q->dim);
	struct emb_stream *db = emb_open_r(argv[2], &emb_opts);
	db->mtype = EMB_F32;
	struct block *b = NULL;
	size_t nb = 0, maxn = 0, rows = 0;
	struct emb_chunk c = EMB_CHUNK_INIT;
	while (emb_read_chunk(db, &c) > 0) {
		b = emb_xrealloc(b, (nb + 1) * sizeof *b);
		b[nb].n = c.rows;
		b[nb].x = emb_xmalloc(c.rows * c.dim * sizeof(float));
		memcpy(b[nb].x, c.data, c.rows * c.dim * sizeof(float));
		normalise(b[nb].x, c.rows, c.dim);
		maxn = c.rows > maxn ? c.rows : maxn;
		rows += c.rows;
		nb++;
	}
	unsigned nthr = emb_threads();
	nthr = nthr > q->rows ? (unsigned)q->rows : nthr;
	nthr = nthr ? nthr : 1;
	float **out = emb_xcalloc(nthr, sizeof *out);
	for (unsigned i = 0; i < nthr; i++)
		out[i] = emb_xmalloc(emb_knn_tile_rows(q->rows, maxn) * maxn * sizeof(float) + 4);
	double *t_blas = emb_xmalloc(runs * sizeof *t_blas), *t_ours = emb_xmalloc(runs * sizeof *t_ours);
	int blas = emb_blas_threads(1);
	emb_blas_threads(blas);
	for (int r = 0; r < runs; r++) {
		double t0 = now();
		for (size_t i = 0; i < nb; i++) {
			struct job j = {q->data, q->rows, q->dim, &b[i], out,
					emb_knn_tile_rows(q->rows, b[i].n), 1};
			tiles(&j, 0, q->rows, out[0]);
		}
		double t1 = now();
		emb_blas_threads(1);
		for (size_t i = 0; i < nb; i++) {
			struct job j = {q->data, q->rows, q->dim, &b[i], out,
					emb_knn_tile_rows(q->rows, b[i].n), nthr};
			emb_par_run(nthr, part, &j);
		}
		emb_blas_threads(blas);
		t_blas[r] = t1 - t0;
		t_ours[r] = now() - t1;
	}
	qsort(t_blas, runs, sizeof *t_blas, cmp_double);
	qsort(t_ours, runs, sizeof *t_ours, cmp_double);
	double mb = t_blas[runs / 2], mo = t_ours[runs / 2];
	double flop = 2.0 * (double)q->rows * (double)rows * (double)q->dim;
	printf("# %zu queries x %zu rows x %zu, %zu blocks, OpenBLAS threads %d, ours %u\n",
	       q->rows, (size_t)rows, q->dim, nb, blas, nthr);
	printf("blas-threads\t%.4f\t%.1f GFLOP/s\n", mb, flop / mb / 1e9);
	printf("our-threads\t%.4f\t%.1f GFLOP/s\n", mo, flop / mo / 1e9);
	printf("floor\t%.4f\n", mb < mo ? mb : mo);
	return 0;
}
