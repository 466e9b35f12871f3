/*
 * emb_partial.c - the partial files of --partial and --merge: options,
 * header fields, opening (contracts in emb_moments.h).  Apart from
 * emb_moments.c because the correlation programs use these too, and
 * emb_moments.c calls BLAS: linked on its own, this keeps them from
 * loading OpenBLAS.
 */
#include <config.h>
#include "emb_moments.h"

#include <cJSON.h>
#include <math.h>
#include <string.h>

void emb_partial_usage(bool partial, bool merge, int noperands, const char *conflict,
		       unsigned refused)
{
	const char *mode = partial ? "--partial" : "--merge", *opt;
	if (partial && merge)
		emb_usage_error("options --partial and --merge cannot be used together");
	if (!partial && !merge)
		return;
	if (conflict)
		emb_usage_error("options %s and %s cannot be used together", mode, conflict);
	if (merge && noperands < 1)
		emb_usage_error("--merge wants the partials to merge as operands");
	opt = emb_shared_given(partial ? refused : (EMB_SH_ALL & ~EMB_SH_PROGRESS));
	if (opt)
		emb_usage_error("option '%s' does not apply to %s (%s)", opt, mode,
				partial ? "a partial is always binary f64" : "its inputs are partials");
}

void emb_partial_refuse(const struct emb_stream *s)
{
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(s->meta, "partial")))
		emb_die(EMB_EXIT_DATA, "%s: a partial, not vectors (merge partials with --merge)",
			s->name);
}

void emb_partial_put(cJSON *p, const char *name, double v)
{
	char buf[40];
	buf[emb_format_f64(buf, v)] = '\0';
	cJSON_AddRawToObject(p, name, buf);
}

double emb_partial_get(const char *path, const cJSON *p, const char *name, bool whole,
		       bool optional, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, name);
	if (!v && optional)
		return def;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
	    (whole && !(v->valuedouble >= 0 && v->valuedouble <= 9007199254740992.0 &&
			v->valuedouble == floor(v->valuedouble))))
		emb_die(EMB_EXIT_DATA, "%s: bad partial.%s in its header", path, name);
	return v->valuedouble;
}

struct emb_stream *emb_partial_open_w(size_t dim, cJSON *partial)
{
	struct emb_opts o = emb_opts;
	o.out_format = EMB_FMT_EMB;
	o.out_dtype = EMB_F64;
	struct emb_stream *s = emb_open_w_like(NULL, &o);
	s->dim = dim;
	s->dtype = EMB_F64;
	s->has_keys = true;
	cJSON_AddItemToObject(s->meta, "partial", partial);
	emb_write_header(s);
	return s;
}

struct emb_stream *emb_partial_open_r(const char *path, const char *kind, cJSON **partial)
{
	struct emb_opts o = emb_opts;
	o.in_format = EMB_FMT_AUTO;
	o.progress = false;
	struct emb_stream *s = emb_open_r(path, &o);
	cJSON *p = cJSON_GetObjectItemCaseSensitive(s->meta, "partial");
	cJSON *k = cJSON_GetObjectItemCaseSensitive(p, "kind");
	if (s->format != EMB_FMT_EMB || !cJSON_IsObject(p))
		emb_die(EMB_EXIT_DATA, "%s: not a partial (no \"partial\" in its header; "
			"make one with --partial)", s->name);
	if (!cJSON_IsString(k))
		emb_die(EMB_EXIT_DATA, "%s: bad partial.kind in its header", s->name);
	if (strcmp(k->valuestring, kind) != 0)
		emb_die(EMB_EXIT_DATA, "%s: a partial of kind '%s', not '%s'", s->name,
			k->valuestring, kind);
	*partial = p;
	return s;
}

size_t emb_partial_rows(struct emb_stream *s, double **rows)
{
	return emb_read_all_f64(s, rows, true);
}
