/*
 * emb_lsh.c - the hash families of emb_lsh.h.  Random draws come from one
 * GSL mt19937 generator in a fixed order (table, hash, then column or
 * rotation round), so the seed alone fixes every bucket.
 */
#include <config.h>
#include "emb.h"
#include "emb_lsh.h"
#include "emb_knn.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const scheme_names[EMB_LSH_NSCHEMES] = {
	[EMB_LSH_ROTATION] = "rotation",
	[EMB_LSH_CROSSPOLYTOPE] = "crosspolytope",
	[EMB_LSH_SIMHASH] = "simhash",
};

const char *emb_lsh_scheme_name(enum emb_lsh_scheme s)
{
	return scheme_names[s];
}

int emb_lsh_scheme_parse(const char *name)
{
	for (int i = 0; i < EMB_LSH_NSCHEMES; i++)
		if (strcmp(name, scheme_names[i]) == 0)
			return i;
	return -1;
}

const char *emb_lsh_scheme_list(void)
{
	return "rotation, crosspolytope, simhash";
}

/* Rows transformed side by side by the cross-polytope projection: the
 * block is held transposed (pdim x CP_LANES), so every step of the
 * transform is a loop over CP_LANES independent rows that compilers
 * vectorise, and a 128-dim block (16 KB) stays in L1. */
#define CP_LANES 32

/* One value a digit may take in a probe, and what it costs. */
struct emb_lsh_alt {
	unsigned value;
	float loss;
};

/* A probe under construction: digit choices live in the pool. */
struct probe_state {
	double cost;
	size_t at;      /* offset of its digits*uint16 choice vector in the pool */
	size_t last;    /* last digit incremented: successors only touch >= last */
};

void emb_fwht(float *x, size_t n)
{
	for (size_t h = 1; h < n; h *= 2)
		for (size_t i = 0; i < n; i += 2 * h)
			for (size_t j = i; j < i + h; j++) {
				float a = x[j], b = x[j + h];
				x[j] = a + b;
				x[j + h] = a - b;
			}
}

/* Fill in defaults and reject shapes that cannot work, naming the option. */
static void check_params(struct emb_lsh *h, size_t dim)
{
	struct emb_lsh_params *p = &h->p;
	h->pdim = 1;
	while (h->pdim < dim)
		h->pdim *= 2;
	if (p->scheme == EMB_LSH_SIMHASH) {
		h->half = p->bits;
		h->digits = p->hashes * p->bits;
		h->radix = 2;
		if (h->digits > 64)
			emb_usage_error("--bits times --hashes must be at most 64, not %zu",
					h->digits);
		return;
	}
	if (p->buckets == 0)
		p->buckets = p->scheme == EMB_LSH_ROTATION ? EMB_LSH_DEFAULT_BUCKETS : 2 * h->pdim;
	if (p->buckets % 2 != 0 || p->buckets < 2)
		emb_usage_error("--buckets must be even and at least 2, not %zu", p->buckets);
	if (p->scheme == EMB_LSH_CROSSPOLYTOPE && p->buckets > 2 * h->pdim)
		emb_usage_error("--buckets for crosspolytope must be at most %zu "
				"(twice the padded dim), not %zu", 2 * h->pdim, p->buckets);
	if (p->buckets > 65536)
		emb_usage_error("--buckets must be at most 65536, not %zu", p->buckets);
	h->half = p->buckets / 2;
	h->digits = p->hashes;
	h->radix = (unsigned)p->buckets;
	if ((double)h->digits * log2((double)h->radix) > 64)
		emb_usage_error("--buckets %zu to the power --hashes %zu does not fit in 64 bits",
				p->buckets, p->hashes);
}

static void draw(struct emb_lsh *h)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, h->p.seed);
	if (h->p.scheme == EMB_LSH_CROSSPOLYTOPE) {
		size_t n = h->p.tables * h->p.hashes * h->p.rotations * h->pdim;
		h->signs = emb_xmalloc(emb_xmul(n, sizeof *h->signs));
		for (size_t i = 0; i < n; i++)
			h->signs[i] = gsl_rng_uniform_int(r, 2) ? 1.0f : -1.0f;
	} else {
		/* Column by column, so adding a table never changes earlier ones. */
		h->proj = emb_xmalloc(emb_xmul(emb_xmul(h->dim, h->ncols), sizeof *h->proj));
		for (size_t c = 0; c < h->ncols; c++)
			for (size_t i = 0; i < h->dim; i++)
				h->proj[i * h->ncols + c] = (float)gsl_ran_gaussian_ziggurat(r, 1.0);
	}
	gsl_rng_free(r);
}

struct emb_lsh *emb_lsh_new(const struct emb_lsh_params *p, size_t dim)
{
	struct emb_lsh *h = emb_xcalloc(1, sizeof *h);
	h->p = *p;
	h->dim = dim;
	check_params(h, dim);
	h->ncols = emb_xmul(emb_xmul(p->tables, p->hashes), h->half);
	h->nbuckets = pow((double)h->radix, (double)h->digits);
	h->pad = emb_xmalloc(emb_xmul(emb_xmul(h->pdim, 2 * CP_LANES), sizeof *h->pad));
	h->row1 = emb_xmalloc(emb_xmul(dim ? dim : 1, sizeof *h->row1));
	draw(h);
	return h;
}

void emb_lsh_free(struct emb_lsh *h)
{
	if (!h)
		return;
	free(h->proj);
	free(h->signs);
	free(h->pad);
	free(h->row1);
	free(h->alt);
	free(h->nalt);
	free(h->heap);
	free(h->pool);
	free(h);
}

/* A[r] <- A[r] + B[r], B[r] <- A[r] - B[r]: one butterfly for all lanes. */
static inline void butterfly(float *restrict a, float *restrict b)
{
	for (size_t r = 0; r < CP_LANES; r++) {
		float x = a[r], y = b[r];
		a[r] = x + y;
		b[r] = x - y;
	}
}

static inline void scale_lanes(float *restrict t, const float *restrict x, float s)
{
	for (size_t r = 0; r < CP_LANES; r++)
		t[r] = x[r] * s;
}

/* FALCONN's pseudo-random rotation, ROTATIONS rounds of x <- H D x, of up
 * to CP_LANES rows at once.  Each value goes through the same additions in
 * the same order as emb_fwht() on one row, so the results are identical. */

static void cp_project(struct emb_lsh *h, const float *rows, size_t n, float *out)
{
	size_t pd = h->pdim, nfun = h->p.tables * h->p.hashes, step = h->p.rotations * pd;
	float *xt = h->pad, *t = h->pad + pd * CP_LANES;
	for (size_t a = 0; a < n; a += CP_LANES) {
		size_t m = n - a < CP_LANES ? n - a : CP_LANES;
		memset(xt, 0, pd * CP_LANES * sizeof *xt);
		for (size_t r = 0; r < m; r++) {
			/* scaled, so that the transforms can neither overflow
			 * nor lose a denormal row's digits */
			const float *x = rows + (a + r) * h->dim;
			double sc = ldexp(1.0, -emb_row_exp_f32(x, h->dim));
			for (size_t i = 0; i < h->dim; i++)
				xt[i * CP_LANES + r] = (float)(x[i] * sc);
		}
		for (size_t f = 0; f < nfun; f++) {
			const float *sg = h->signs + f * step;
			for (size_t rr = 0; rr < h->p.rotations; rr++, sg += pd) {
				const float *src = rr == 0 ? xt : t;
				for (size_t i = 0; i < pd; i++)
					scale_lanes(t + i * CP_LANES, src + i * CP_LANES, sg[i]);
				for (size_t hh = 1; hh < pd; hh *= 2)
					for (size_t i = 0; i < pd; i += 2 * hh)
						for (size_t j = i; j < i + hh; j++)
							butterfly(t + j * CP_LANES, t + (j + hh) * CP_LANES);
			}
			float *o = out + a * h->ncols + f * h->half;
			for (size_t r = 0; r < m; r++)
				for (size_t c = 0; c < h->half; c++)
					o[r * h->ncols + c] = t[c * CP_LANES + r];
		}
	}
}

void emb_lsh_project(struct emb_lsh *h, const float *rows, size_t n, float *out)
{
	if (n == 0)
		return;
	if (h->p.scheme != EMB_LSH_CROSSPOLYTOPE) {
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)h->ncols,
			    (int)h->dim, 1.0f, rows, (int)h->dim, h->proj, (int)h->ncols,
			    0.0f, out, (int)h->ncols);
		/* Rows far from 1 in size (values of 1e-30 or 1e30, denormals)
		 * are projected again, scaled; they are rare, so one at a time. */
		for (size_t r = 0; r < n; r++) {
			const float *x = rows + r * h->dim;
			int e = emb_row_exp_f32(x, h->dim);
			if (e >= -60 && e <= 60)
				continue;
			double sc = ldexp(1.0, -e);
			for (size_t i = 0; i < h->dim; i++)
				h->row1[i] = (float)(x[i] * sc);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, (int)h->ncols,
				    (int)h->dim, 1.0f, h->row1, (int)h->dim, h->proj, (int)h->ncols,
				    0.0f, out + r * h->ncols, (int)h->ncols);
		}
		return;
	}
	cp_project(h, rows, n, out);
}

/* Score of value V of a B-bucket digit: the coordinate of [p ; -p]. */
static inline float digit_score(const float *p, size_t half, unsigned v)
{
	return v < half ? p[v] : -p[v - half];
}

/* The first value of the highest score: the coordinates of p are values
 * 0..half-1 and those of -p values half..B-1.  Two plain scans in that
 * order (strict >, so ties go to the lower value) instead of one loop
 * that branches on which half it is in. */
static unsigned best_value(const float *p, size_t half)
{
	size_t hi = 0, lo = 0;
	for (size_t v = 1; v < half; v++) {
		hi = p[v] > p[hi] ? v : hi;
		lo = p[v] < p[lo] ? v : lo;
	}
	return -p[lo] > p[hi] ? (unsigned)(half + lo) : (unsigned)hi;
}

uint64_t emb_lsh_bucket(const struct emb_lsh *h, const float *proj, size_t t)
{
	const float *p = proj + t * h->p.hashes * h->half;
	uint64_t id = 0;
	if (h->p.scheme == EMB_LSH_SIMHASH) {
		for (size_t j = 0; j < h->digits; j++)
			id = id << 1 | (p[j] > 0);
		return id;
	}
	for (size_t j = 0; j < h->digits; j++)
		id = id * h->radix + best_value(p + j * h->half, h->half);
	return id;
}

/* The up to MAXALT cheapest values of digit J, cheapest first. */
static size_t digit_alternatives(const struct emb_lsh *h, const float *p, size_t j,
				 size_t maxalt, struct emb_lsh_alt *out)
{
	if (h->p.scheme == EMB_LSH_SIMHASH) {
		unsigned bit = p[j] > 0;
		out[0] = (struct emb_lsh_alt){bit, 0.0f};
		out[1] = (struct emb_lsh_alt){!bit, fabsf(p[j])};
		return maxalt < 2 ? maxalt : 2;
	}
	const float *q = p + j * h->half;
	float best = digit_score(q, h->half, best_value(q, h->half));
	size_t n = 0;
	for (unsigned v = 0; v < h->radix; v++) {
		float loss = best - digit_score(q, h->half, v);
		if (n == maxalt && loss >= out[n - 1].loss)
			continue;
		size_t k = n < maxalt ? n++ : n - 1;
		/* Insertion keeps ties in value order, so probes are reproducible. */
		while (k > 0 && out[k - 1].loss > loss) {
			out[k] = out[k - 1];
			k--;
		}
		out[k] = (struct emb_lsh_alt){v, loss};
	}
	return n;
}

static void heap_push(struct probe_state *heap, size_t *n, struct probe_state s)
{
	size_t i = (*n)++;
	while (i > 0 && heap[(i - 1) / 2].cost > s.cost) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = s;
}

static struct probe_state heap_pop(struct probe_state *heap, size_t *n)
{
	struct probe_state top = heap[0], last = heap[--*n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && heap[c + 1].cost < heap[c].cost)
			c++;
		if (heap[c].cost >= last.cost)
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = last;
	return top;
}

static void probe_scratch(struct emb_lsh *h, size_t maxalt, size_t p)
{
	size_t need_pool = emb_xmul(emb_xmul(p, h->digits) + 1, h->digits);
	size_t need_heap = emb_xmul(p, h->digits) + 1;
	if (!h->nalt)
		h->nalt = emb_xmalloc(emb_xmul(h->digits, sizeof *h->nalt));
	h->alt = emb_xrealloc(h->alt, emb_xmul(emb_xmul(h->digits, maxalt), sizeof *h->alt));
	if (need_pool > h->pool_cap) {
		h->pool = emb_xrealloc(h->pool, emb_xmul(need_pool, sizeof(uint16_t)));
		h->pool_cap = need_pool;
	}
	if (need_heap > h->heap_cap) {
		h->heap = emb_xrealloc(h->heap, emb_xmul(need_heap, sizeof(struct probe_state)));
		h->heap_cap = need_heap;
	}
}

size_t emb_lsh_probe(struct emb_lsh *h, const float *proj, size_t t, size_t p, uint64_t *ids)
{
	if (p <= 1) {
		ids[0] = emb_lsh_bucket(h, proj, t);
		return 1;
	}
	size_t D = h->digits, maxalt = p < h->radix ? p : h->radix;
	const float *tp = proj + t * h->p.hashes * h->half;
	probe_scratch(h, maxalt, p);
	for (size_t j = 0; j < D; j++)
		h->nalt[j] = digit_alternatives(h, tp, j, maxalt, h->alt + j * maxalt);

	uint16_t *pool = h->pool;
	struct probe_state *heap = h->heap;
	size_t nheap = 0, used = D, out = 0;
	memset(pool, 0, D * sizeof *pool);
	heap_push(heap, &nheap, (struct probe_state){0.0, 0, 0});
	while (out < p && nheap > 0) {
		struct probe_state s = heap_pop(heap, &nheap);
		const uint16_t *c = pool + s.at;
		uint64_t id = 0;
		for (size_t j = 0; j < D; j++)
			id = h->radix == 2 ? id << 1 | h->alt[j * maxalt + c[j]].value
					   : id * h->radix + h->alt[j * maxalt + c[j]].value;
		ids[out++] = id;
		for (size_t j = s.last; j < D; j++) {
			if ((size_t)c[j] + 1 >= h->nalt[j])
				continue;
			uint16_t *n = pool + used;
			memcpy(n, c, D * sizeof *n);
			n[j]++;
			double cost = s.cost - h->alt[j * maxalt + c[j]].loss
				      + h->alt[j * maxalt + n[j]].loss;
			heap_push(heap, &nheap, (struct probe_state){cost, used, j});
			used += D;
		}
	}
	return out;
}
