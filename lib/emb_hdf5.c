/*
 * emb_hdf5.c - ann-benchmarks HDF5 files (emb.5, "Other formats"), read
 * through the HDF5 C library (optional: configure --without-hdf5, or no
 * hdf5-serial headers, leaves a stub that says embutils was built
 * without it).
 *
 * An ann-benchmarks file holds 2-D datasets train and test (the vectors,
 * float), neighbors (int32 ids of each test row's true nearest train rows)
 * and distances (float), and root attributes distance ("angular",
 * "euclidean" ...), dimension and point_type.  --dataset picks one
 * (default train); integer datasets are read as f64, so every id is exact.
 * The attributes go into the stream header as "distance", "dimension" and
 * "point_type", with "hdf5_dataset" naming what was read.
 *
 * HDF5 reads by name and seeks: a regular file is opened through
 * /proc/self/fd, a pipe is first copied to a temporary file whose name
 * is removed once HDF5 has it open.  Rows carry their row
 * number as their position (FILE:ROW: in messages): an HDF5 dataset's
 * bytes need not be contiguous, so a byte offset would mean nothing.
 */
#include <config.h>
#include "emb_impl.h"

#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_HDF5
#include <dlfcn.h>
#include <hdf5.h>

/*
 * libhdf5 is loaded with dlopen() when the first HDF5 file is read, not
 * linked: its curl/gnutls/krb5 chain would add 22 MB of address space to
 * every program, and those then fail under tight ulimit -v caps.  hdf5.h gives
 * the types and constants; every function is called through API, filled by
 * dlsym.  The names are the headers' own (H5Dopen may be H5Dopen2), hence
 * the two-step STR.  EMB_HDF5_LIBRARY names another library to load (the
 * tests use it to see the failure message).
 */
#define H5_FUNCS(X) X(H5open) X(H5Eset_auto) X(H5Fopen) X(H5Fclose) X(H5Lexists) \
	X(H5Literate) X(H5Dopen) X(H5Dclose) X(H5Dget_space) X(H5Dget_type) X(H5Dread) \
	X(H5Sclose) X(H5Screate_simple) X(H5Sselect_hyperslab) \
	X(H5Sget_simple_extent_ndims) X(H5Sget_simple_extent_dims) X(H5Aexists_by_name) \
	X(H5Aopen_by_name) X(H5Aget_type) X(H5Aread) X(H5Aclose) X(H5Tget_class) \
	X(H5Tget_size) X(H5Tis_variable_str) X(H5Tcopy) X(H5Tset_size) X(H5Tset_cset) \
	X(H5Tget_cset) X(H5Tclose) X(H5free_memory)
/* The predefined types are variables that H5open() sets. */
#define H5_VARS(X) X(H5T_NATIVE_FLOAT_g) X(H5T_NATIVE_DOUBLE_g) X(H5T_NATIVE_LLONG_g) \
	X(H5T_C_S1_g)
#define STR(name) STR_(name)
#define STR_(name) #name
#define FIELD(name) __typeof__(&name) name;
static struct {
	H5_FUNCS(FIELD)
	H5_VARS(FIELD)
} api;

/* Load libhdf5 and fill API once; the read of SHOWN fails (exit 1) if
 * the library or one of its names cannot be had. */
static void load_hdf5(const char *shown)
{
	static bool loaded;
	if (loaded)
		return;
	const char *lib = getenv("EMB_HDF5_LIBRARY");
	if (!lib || !*lib)
		lib = HDF5_SONAME;
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	const char *err = h ? NULL : dlerror();
#define LOAD(name) \
	if (!err && !(api.name = (__typeof__(api.name))dlsym(h, STR(name)))) { \
		err = dlerror(); \
		if (!err) \
			err = STR(name) " is null"; \
	}
	H5_FUNCS(LOAD)
	H5_VARS(LOAD)
#undef LOAD
	if (!err && api.H5open() < 0)
		err = "H5open failed";
	if (err)
		emb_die(EMB_EXIT_DATA, "%s: cannot load the HDF5 library (%s): %s", shown, lib,
			err);
	loaded = true;
}

/* The headers' H5T_NATIVE_FLOAT, H5F_ACC_RDONLY and the like call H5open()
 * and H5check_version() and read the variables directly: load_hdf5 has called H5open, and the
 * variables are read through API. */
#undef H5OPEN
#define H5OPEN
#undef H5CHECK
#define H5CHECK
#define H5T_NATIVE_FLOAT_g (*api.H5T_NATIVE_FLOAT_g)
#define H5T_NATIVE_DOUBLE_g (*api.H5T_NATIVE_DOUBLE_g)
#define H5T_NATIVE_LLONG_g (*api.H5T_NATIVE_LLONG_g)
#define H5T_C_S1_g (*api.H5T_C_S1_g)

struct h5 {
	hid_t file, dset, space;
	FILE *copy;          /* a pipe's bytes, or NULL */
	bool ints;           /* an integer dataset */
};

/* A pipe's (or non-regular file's) bytes into a temporary file named
 * in PATH (capacity CAP).  HDF5 opens files by name and follows the name
 * to its target, which an unlinked file no longer has: the name is
 * removed as soon as HDF5 holds the file open. */
static FILE *copy_input(struct emb_stream *s, char *path, size_t cap)
{
	snprintf(path, cap, "%s/embXXXXXX.h5", emb_tmpdir());
	int fd = mkstemps(path, 3);
	FILE *tmp = fd < 0 ? NULL : fdopen(fd, "w+");
	if (!tmp)
		emb_die(EMB_EXIT_DATA, "cannot create a temporary file in %s: %s", emb_tmpdir(),
			strerror(errno));
	static unsigned char buf[1 << 16];
	size_t got;
	while ((got = emb_read_bytes(s, buf, sizeof buf)) > 0) {
		if (fwrite(buf, 1, got, tmp) != got)
			break;
		s->offset += got;
	}
	if (fflush(tmp) != 0 || ferror(tmp)) {
		int err = errno;
		unlink(path);
		emb_die(EMB_EXIT_DATA, "%s: write error: %s", emb_tmpfile_where(), strerror(err));
	}
	return tmp;
}

static herr_t add_name(hid_t g, const char *name, const H5L_info_t *info, void *list)
{
	(void)g;
	(void)info;
	char *l = list;
	size_t n = strlen(l);
	snprintf(l + n, 512 - n, "%s%s", n ? ", " : "", name);
	return 0;
}

/* Root attribute NAME into the header as a string or a number. */
static void take_attr(struct emb_stream *s, struct h5 *h, const char *name)
{
	if (api.H5Aexists_by_name(h->file, "/", name, H5P_DEFAULT) <= 0)
		return;
	hid_t a = api.H5Aopen_by_name(h->file, "/", name, H5P_DEFAULT, H5P_DEFAULT);
	hid_t t = a < 0 ? -1 : api.H5Aget_type(a);
	cJSON *item = NULL;
	if (t >= 0 && api.H5Tget_class(t) == H5T_STRING) {
		if (api.H5Tis_variable_str(t) > 0) {
			char *v = NULL;
			hid_t mt = api.H5Tcopy(H5T_C_S1);
			api.H5Tset_size(mt, H5T_VARIABLE);
			api.H5Tset_cset(mt, api.H5Tget_cset(t));
			if (api.H5Aread(a, mt, &v) >= 0 && v) {
				item = cJSON_CreateString(v);
				api.H5free_memory(v);
			}
			api.H5Tclose(mt);
		} else {
			size_t n = api.H5Tget_size(t);
			char *v = emb_xcalloc(n + 1, 1);
			hid_t mt = api.H5Tcopy(t);
			if (api.H5Aread(a, mt, v) >= 0)
				item = cJSON_CreateString(v);
			api.H5Tclose(mt);
			free(v);
		}
	} else if (t >= 0 && api.H5Tget_class(t) == H5T_INTEGER) {
		long long v;
		if (api.H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0)
			item = cJSON_CreateNumber((double)v);
	} else if (t >= 0 && api.H5Tget_class(t) == H5T_FLOAT) {
		double v;
		if (api.H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0)
			item = cJSON_CreateNumber(v);
	}
	if (t >= 0)
		api.H5Tclose(t);
	if (a >= 0)
		api.H5Aclose(a);
	if (item)
		cJSON_AddItemToObject(s->meta, name, item);
}

void emb_hdf5_read_header(struct emb_stream *s)
{
	struct h5 *h = emb_xcalloc(1, sizeof *h);
	s->hdf5 = h;
	h->file = h->dset = h->space = -1;
	load_hdf5(s->name);
	api.H5Eset_auto(H5E_DEFAULT, NULL, NULL); /* our messages, not HDF5's error stack */
	struct stat st;
	char path[4096];
	if (!s->src_fp && fstat(fileno(s->fp), &st) == 0 && S_ISREG(st.st_mode))
		snprintf(path, sizeof path, "/proc/self/fd/%d", fileno(s->fp));
	else
		h->copy = copy_input(s, path, sizeof path);
	h->file = api.H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (h->copy)
		unlink(path);
	if (h->file < 0)
		emb_die_offset(s->name, 0, "not a readable HDF5 file (damaged or cut short?)");
	const char *name = s->dataset ? s->dataset : "train";
	if (api.H5Lexists(h->file, name, H5P_DEFAULT) <= 0 ||
	    (h->dset = api.H5Dopen(h->file, name, H5P_DEFAULT)) < 0) {
		char list[512] = "";
		api.H5Literate(h->file, H5_INDEX_NAME, H5_ITER_INC, NULL, add_name, list);
		emb_die(EMB_EXIT_DATA, "%s: no dataset '%s' in the HDF5 file (it holds: %s)",
			s->name, name, *list ? list : "nothing");
	}
	h->space = api.H5Dget_space(h->dset);
	hsize_t dims[2] = {0, 0};
	int nd = h->space < 0 ? -1 : api.H5Sget_simple_extent_ndims(h->space);
	if (nd != 2)
		emb_die(EMB_EXIT_DATA, "%s: HDF5 dataset '%s' has %d dimensions (want 2)", s->name,
			name, nd);
	api.H5Sget_simple_extent_dims(h->space, dims, NULL);
	if (dims[1] > EMB_MAX_DIM || (dims[1] == 0 && dims[0]))
		emb_die(EMB_EXIT_DATA, "%s: HDF5 dataset '%s' has shape (%llu, %llu): want 1 to %u "
			"values per row", s->name, name, (unsigned long long)dims[0],
			(unsigned long long)dims[1], EMB_MAX_DIM);
	hid_t t = api.H5Dget_type(h->dset);
	H5T_class_t cls = api.H5Tget_class(t);
	size_t size = api.H5Tget_size(t);
	api.H5Tclose(t);
	if (cls != H5T_FLOAT && cls != H5T_INTEGER)
		emb_die(EMB_EXIT_DATA, "%s: HDF5 dataset '%s' holds neither floats nor integers",
			s->name, name);
	h->ints = cls == H5T_INTEGER;
	s->dim = (size_t)dims[1];
	s->total_rows = dims[0];
	s->dtype = h->ints || size > 4 ? EMB_F64 : size == 2 ? EMB_F16 : EMB_F32;
	s->mtype = s->dtype == EMB_F64 ? EMB_F64 : EMB_F32;
	s->has_keys = false;
	take_attr(s, h, "distance");
	take_attr(s, h, "dimension");
	take_attr(s, h, "point_type");
	cJSON_AddItemToObject(s->meta, "hdf5_dataset", cJSON_CreateString(name));
	if (s->total_rows == 0)
		s->at_eof = true;
}

size_t emb_hdf5_read_rows(struct emb_stream *s, struct emb_chunk *c)
{
	struct h5 *h = s->hdf5;
	size_t rows = (size_t)emb_fixed_next_rows(s);
	emb_chunk_reserve(c, rows, s->dim, s->mtype, false);
	hsize_t start[2] = {s->recno, 0}, count[2] = {rows, s->dim};
	hid_t mem = api.H5Screate_simple(2, count, NULL);
	if (mem < 0 || api.H5Sselect_hyperslab(h->space, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
	    api.H5Dread(h->dset, s->mtype == EMB_F64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT, mem,
		    h->space, H5P_DEFAULT, c->data) < 0)
		emb_die_at(s->name, s->recno + 1, "cannot read rows %llu to %llu of the HDF5 dataset "
			   "(damaged or cut short?)", (unsigned long long)s->recno + 1,
			   (unsigned long long)(s->recno + rows));
	api.H5Sclose(mem);
	for (size_t i = 0; i < rows; i++)
		emb_chunk_set_pos(c, i, s->recno + i + 1);
	c->src_lines = true;
	s->recno += rows;
	c->rows = rows;
	if (s->recno == s->total_rows)
		s->at_eof = true;
	return rows;
}

uint64_t emb_hdf5_skip_rows(struct emb_stream *s)
{
	uint64_t rows = emb_fixed_next_rows(s);
	s->recno += rows;
	if (s->recno == s->total_rows)
		s->at_eof = true;
	return rows;
}

void emb_hdf5_free(struct emb_stream *s)
{
	struct h5 *h = s->hdf5;
	if (!h)
		return;
	if (h->space >= 0)
		api.H5Sclose(h->space);
	if (h->dset >= 0)
		api.H5Dclose(h->dset);
	if (h->file >= 0)
		api.H5Fclose(h->file);
	if (h->copy)
		fclose(h->copy);
	free(h);
	s->hdf5 = NULL;
}

int emb_hdf5_has_dataset(const char *path, const char *name, const char *shown)
{
	load_hdf5(shown);
	api.H5Eset_auto(H5E_DEFAULT, NULL, NULL);
	hid_t f = api.H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (f < 0)
		return -1;
	int has = api.H5Lexists(f, name, H5P_DEFAULT) > 0;
	api.H5Fclose(f);
	return has;
}

#else /* !HAVE_HDF5 */

int emb_hdf5_has_dataset(const char *path, const char *name, const char *shown)
{
	(void)path;
	(void)name;
	emb_die(EMB_EXIT_DATA, "%s: cannot read HDF5: embutils was built without HDF5 "
		"(configure found no hdf5.h, or --without-hdf5)", shown);
}

void emb_hdf5_read_header(struct emb_stream *s)
{
	emb_die(EMB_EXIT_DATA, "%s: cannot read HDF5: embutils was built without HDF5 "
		"(configure found no hdf5.h, or --without-hdf5)", s->name);
}

size_t emb_hdf5_read_rows(struct emb_stream *s, struct emb_chunk *c)
{
	(void)s;
	(void)c;
	return 0;
}

uint64_t emb_hdf5_skip_rows(struct emb_stream *s)
{
	(void)s;
	return 0;
}

void emb_hdf5_free(struct emb_stream *s)
{
	(void)s;
}

#endif
