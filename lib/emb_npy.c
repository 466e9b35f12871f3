/*
 * emb_npy.c - NumPy .npy files, versions 1.0, 2.0 and 3.0 (emb.5, "Other
 * formats"; numpy.lib.format).
 *
 *   magic "\x93NUMPY" major:u8 minor:u8 header_len:u16 (v1) or u32 (v2, v3)
 *   header: a Python dict literal {'descr': '<f4', 'fortran_order': False,
 *           'shape': (N, D), } padded with spaces and a newline
 *   data:   N*D values, C (row-major) or Fortran (column-major) order
 *
 * Read: f2, f4, f8 in either byte order, C or Fortran order, 2-D or 1-D
 * (one row).  Fortran order is read column slice by column slice with
 * pread(2), so a pipe is first copied to an unlinked temporary file.
 * Write: version 1.0, little-endian, C order, the dtype of the stream; the
 * header holds the row count, so emb_stream.c patches it in at close.
 */
#include <config.h>
#include "emb_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NPY_MAGIC "\x93NUMPY"

/* The value of KEY in the header dict, or NULL. */
static const char *dict_value(const char *h, const char *key)
{
	char q1[40], q2[40];
	snprintf(q1, sizeof q1, "'%s'", key);
	snprintf(q2, sizeof q2, "\"%s\"", key);
	const char *p = strstr(h, q1);
	if (!p)
		p = strstr(h, q2);
	if (!p)
		return NULL;
	p += strlen(q1);
	while (*p == ' ')
		p++;
	if (*p++ != ':')
		return NULL;
	while (*p == ' ')
		p++;
	return p;
}

static _Noreturn void bad_header(const struct emb_stream *s, const char *what, const char *h)
{
	int n = (int)strcspn(h, "\n");
	while (n > 0 && h[n - 1] == ' ')
		n--;
	emb_die_offset(s->name, 10, "%s in .npy header \"%.*s\"", what, n > 100 ? 100 : n, h);
}

static void parse_descr(struct emb_stream *s, const char *h)
{
	const char *p = dict_value(h, "descr");
	if (!p || (*p != '\'' && *p != '"'))
		bad_header(s, "no 'descr'", h);
	char q = *p++, d[16];
	size_t n = strcspn(p, "'\"");
	if (p[n] != q || n >= sizeof d)
		bad_header(s, "bad 'descr'", h);
	memcpy(d, p, n);
	d[n] = '\0';
	int t = -1;
	if (n == 3 && (d[0] == '<' || d[0] == '>' || d[0] == '=') && d[1] == 'f')
		t = d[2] == '2' ? EMB_F16 : d[2] == '4' ? EMB_F32 : d[2] == '8' ? EMB_F64 : -1;
	if (t < 0)
		emb_die_offset(s->name, 10, "unsupported .npy dtype '%s' (want f2, f4 or f8, "
			       "either byte order)", d);
	s->dtype = (enum emb_dtype)t;
	s->mtype = t == EMB_F64 ? EMB_F64 : EMB_F32;
	s->swap = d[0] == '>';
}

static void parse_shape(struct emb_stream *s, const char *h)
{
	const char *p = dict_value(h, "shape");
	unsigned long long a, b;
	int used = 0;
	if (!p)
		bad_header(s, "no 'shape'", h);
	if (sscanf(p, "(%llu, %llu)%n", &a, &b, &used) == 2 && used) {
		s->total_rows = a;
		s->dim = (size_t)b;
		if (b > EMB_MAX_DIM || (b == 0 && a != 0))
			emb_die_offset(s->name, 10, ".npy shape (%llu, %llu): want 1 to %u values "
				       "per row", a, b, EMB_MAX_DIM);
	} else if (sscanf(p, "(%llu,)%n", &a, &used) == 1 && used) {
		s->total_rows = a ? 1 : 0;
		s->dim = (size_t)a;
		if (a > EMB_MAX_DIM)
			emb_die_offset(s->name, 10, ".npy shape (%llu,): more than %u values", a,
				       EMB_MAX_DIM);
	} else {
		bad_header(s, "shape is not 1-D or 2-D", h);
	}
}

/* A pipe cannot be read column by column: copy it to an unlinked
 * temporary file (gone on any exit) and read that. */
static int seekable_fd(struct emb_stream *s)
{
	if (s->map) {
		s->data_off = s->map_pos;
		return fileno(s->fp);
	}
	if (!s->src_fp) {
		off_t at = ftello(s->fp);
		s->data_off = at < 0 ? s->offset : (uint64_t)at;
		return fileno(s->fp);
	}
	FILE *tmp = emb_tmpfile("npy");
	static char buf[1 << 16];
	size_t got;
	while ((got = fread(buf, 1, sizeof buf, s->fp)) > 0)
		if (fwrite(buf, 1, got, tmp) != got)
			emb_die(EMB_EXIT_DATA, "%s: write error: %s", emb_tmpfile_where(), strerror(errno));
	if (ferror(s->fp))
		emb_die(EMB_EXIT_DATA, "%s: read error: %s", s->name, strerror(errno));
	if (fflush(tmp) != 0)
		emb_die(EMB_EXIT_DATA, "%s: write error: %s", emb_tmpfile_where(), strerror(errno));
	s->real_fp = tmp;
	s->data_off = 0;
	return fileno(tmp);
}

void emb_npy_read_header(struct emb_stream *s)
{
	unsigned char m[12];
	emb_map_open(s);
	emb_need_bytes(s, m, 10, ".npy header");
	if (memcmp(m, NPY_MAGIC, 6) != 0)
		emb_die_offset(s->name, 0, "not a .npy file (bad magic)");
	if (m[6] < 1 || m[6] > 3)
		emb_die_offset(s->name, 6, "unsupported .npy version %u.%u", m[6], m[7]);
	uint32_t hlen = (uint32_t)m[8] | (uint32_t)m[9] << 8;
	if (m[6] > 1) {
		emb_need_bytes(s, m + 10, 2, ".npy header");
		hlen = emb_get_u32(m + 8);
	}
	if (hlen > EMB_MAX_JSON_LEN)
		emb_die_offset(s->name, 8, ".npy header claims %u bytes (limit %u)", hlen,
			       EMB_MAX_JSON_LEN);
	char *h = emb_xmalloc(hlen + 1);
	emb_need_bytes(s, h, hlen, ".npy header");
	h[hlen] = '\0';
	parse_descr(s, h);
	parse_shape(s, h);
	const char *f = dict_value(h, "fortran_order");
	if (!f || (strncmp(f, "True", 4) != 0 && strncmp(f, "False", 5) != 0))
		bad_header(s, "no 'fortran_order'", h);
	s->fortran = *f == 'T' && s->total_rows > 1;
	free(h);
	s->has_keys = false;
	s->data_off = s->offset;
	if (s->fortran)
		s->pread_fd = seekable_fd(s);
	if (s->total_rows == 0)
		s->at_eof = true;
}

/* Fortran order: gather ROWS rows from the column slices into RAW. */
static void read_fortran(struct emb_stream *s, unsigned char *raw, size_t rows)
{
	size_t es = emb_dtype_size(s->dtype), colbytes = rows * es;
	unsigned char *col = raw + rows * s->dim * es;
	uint64_t r0 = s->recno;
	for (size_t j = 0; j < s->dim; j++) {
		uint64_t off = s->data_off + ((uint64_t)j * s->total_rows + r0) * es;
		ssize_t got = pread(s->pread_fd, col, colbytes, (off_t)off);
		if (got < 0)
			emb_die(EMB_EXIT_DATA, "%s: read error: %s", s->name, strerror(errno));
		if ((size_t)got < colbytes)
			emb_die_offset(s->name, off + (uint64_t)got, "truncated .npy data: column "
				       "%zu cut short", j + 1);
		for (size_t r = 0; r < rows; r++)
			memcpy(raw + (r * s->dim + j) * es, col + r * es, es);
	}
	s->offset += rows * s->dim * es;
}

size_t emb_npy_read_rows(struct emb_stream *s, struct emb_chunk *c)
{
	size_t es = emb_dtype_size(s->dtype);
	uint64_t left = s->total_rows - s->recno;
	size_t rows = emb_batch_rows(s->dim, s->dtype);
	if (rows > left)
		rows = (size_t)left;
	size_t n = rows * s->dim, need = emb_xmul(n, es) * (s->fortran ? 2 : 1);
#ifdef WORDS_BIGENDIAN
	bool direct = false;
#else
	bool direct = s->dtype == s->mtype && !s->swap;
#endif
	/* A mapped C-order file: rows in place when they need no conversion
	 * and are aligned (numpy aligns the data to 64 bytes), else converted
	 * from the mapping; only when the file holds them all (else the read
	 * below says where it is cut short). */
	unsigned char *mapped = s->fortran || s->swap ? NULL :
		emb_map_take(s, n * es, direct ? es : 1);
	if (mapped) {
		if (direct)
			emb_chunk_borrow(c, mapped, rows, s->dim, s->mtype, false);
		else {
			emb_chunk_reserve(c, rows, s->dim, s->mtype, false);
			emb_from_disk(c->data, mapped, n, s->dtype, s->mtype);
		}
		s->offset += n * es;
		goto done;
	}
	if (s->raw_cap < need) {
		free(s->raw);
		s->raw = emb_xmalloc(need);
		s->raw_cap = need;
	}
	emb_chunk_reserve(c, rows, s->dim, s->mtype, false);
	if (s->fortran) {
		read_fortran(s, s->raw, rows);
	} else {
		uint64_t at = s->offset;
		size_t got = emb_read_bytes(s, s->raw, n * es);
		if (got < n * es)
			emb_die_offset(s->name, at + got, "truncated .npy data: row %llu cut short "
				       "(the shape promises %llu rows)",
				       (unsigned long long)(s->recno + got / (s->dim * es) + 1),
				       (unsigned long long)s->total_rows);
		s->offset += n * es;
	}
	if (s->swap)
		emb_swap_bytes(s->raw, n, es);
	emb_from_disk(c->data, s->raw, n, s->dtype, s->mtype);
done:
	s->recno += rows;
	if (s->recno == s->total_rows) {
		unsigned char extra;
		s->at_eof = true;
		if (!s->fortran && emb_read_bytes(s, &extra, 1) == 1)
			emb_die_offset(s->name, s->offset, "data after the %llu rows the .npy shape "
				       "promises", (unsigned long long)s->total_rows);
	}
	c->rows = rows;
	return rows;
}

size_t emb_npy_count_header(const struct emb_stream *s, uint64_t rows, int width,
			    char *buf, size_t cap)
{
	static const char *const descr[] = {[EMB_F32] = "<f4", [EMB_F64] = "<f8", [EMB_F16] = "<f2"};
	char dict[200];
	int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, "
			 "'shape': (%*llu, %zu), }", descr[s->dtype], width,
			 (unsigned long long)rows, s->dim);
	/* numpy pads the header so the data starts on a 64-byte boundary. */
	size_t total = (10 + (size_t)n + 1 + 63) / 64 * 64, hlen = total - 10;
	if (total > cap)
		emb_die(EMB_EXIT_DATA, ".npy header too long");
	memcpy(buf, NPY_MAGIC "\x01\x00", 8);
	buf[8] = (char)(hlen & 0xff);
	buf[9] = (char)(hlen >> 8);
	memcpy(buf + 10, dict, (size_t)n);
	memset(buf + 10 + n, ' ', hlen - (size_t)n - 1);
	buf[total - 1] = '\n';
	return total;
}

void emb_npy_write_rows(struct emb_stream *s, const struct emb_chunk *c)
{
	size_t es = emb_dtype_size(s->dtype), vbytes = emb_xmul(c->rows * c->dim, es);
#ifndef WORDS_BIGENDIAN
	if (c->type == s->dtype) {
		emb_write_bytes(s, c->data, vbytes); /* already in disk form */
		return;
	}
#endif
	if (s->raw_cap < vbytes) {
		free(s->raw);
		s->raw = emb_xmalloc(vbytes);
		s->raw_cap = vbytes;
	}
	emb_to_disk(s->raw, c->data, c->rows * c->dim, c->type, s->dtype);
	emb_write_bytes(s, s->raw, vbytes);
}
