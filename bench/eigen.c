/*
 * eigen.c - time emb_eigen_sym() alone (bench/whiten.sh builds and runs
 * it): eigen D [lapack|gsl] prints the median seconds of 3 runs on a
 * random symmetric positive definite D x D matrix.
 */
#include <config.h>
#include "emb.h"
#include "emb_linalg.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	emb_proginit(argc, argv);
	if (argc < 2)
		emb_die(EMB_EXIT_USAGE, "usage: eigen D [lapack|gsl]");
	size_t d = (size_t)atol(argv[1]);
	if (argc > 2)
		setenv("EMB_EIGEN", argv[2], 1);
	/* A covariance-like matrix: G G^T / d with a decaying spectrum. */
	double *g = emb_xmalloc(d * d * sizeof *g), *c = emb_xmalloc(d * d * sizeof *c);
	double *a = emb_xmalloc(d * d * sizeof *a), *v = emb_xmalloc(d * d * sizeof *v);
	double *s = emb_xmalloc(d * sizeof *s), t[3];
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	for (size_t i = 0; i < d * d; i++)
		g[i] = gsl_ran_gaussian(r, 1.0) / (1.0 + (double)(i % d));
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)d, (int)d, (int)d,
		    1.0 / (double)d, g, (int)d, g, (int)d, 0.0, c, (int)d);
	for (int k = 0; k < 3; k++) {
		memcpy(a, c, d * d * sizeof *a);
		double t0 = now();
		emb_eigen_sym(d, a, s, v);
		t[k] = now() - t0;
	}
	/* median of three */
	double m = t[0] > t[1] ? (t[1] > t[2] ? t[1] : (t[0] > t[2] ? t[2] : t[0]))
			       : (t[0] > t[2] ? t[0] : (t[1] > t[2] ? t[2] : t[1]));
	printf("%.4f\n", m);
	gsl_rng_free(r);
	free(g); free(c); free(a); free(v); free(s);
	return 0;
}
