/*
 * emb_binary.c - the emb binary format's codec (emb.5; layout in emb.h):
 * header, chunk and end records, read and written, and the segments of
 * concatenated streams.  emb_stream.c opens the file and dispatches here
 * through emb_codecs[]; this file reaches the stream only through
 * emb_impl.h.
 *
 * Every data error is diagnosed here, with the byte offset where the bad
 * bytes start, and ends the program (netpbm's pnm_readpaminit does the
 * same): callers never see a half-read stream.
 */
#include <config.h>
#include "emb.h"
#include "emb_impl.h"

#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/stat.h>

static bool next_segment(struct emb_stream *s);

/* ---------- header records ---------- */

/* Take dim, dtype and keys out of a parsed header, checking each. */
static void header_from_json(struct emb_stream *s, cJSON *j, uint64_t off)
{
	cJSON *dim = cJSON_GetObjectItemCaseSensitive(j, "dim");
	cJSON *dtype = cJSON_GetObjectItemCaseSensitive(j, "dtype");
	cJSON *keys = cJSON_GetObjectItemCaseSensitive(j, "keys");

	if (!cJSON_IsObject(j))
		emb_die_offset(s->name, off, "header is not a JSON object");
	/* Range checks come before any conversion to an integer type: a
	 * double out of its range does not convert (C11 6.3.1.4). */
	double dv = cJSON_IsNumber(dim) ? dim->valuedouble : NAN;
	if (!(dv == floor(dv)))
		emb_die_offset(s->name, off, "header has no valid \"dim\"");
	if (dv < 0)
		emb_die_offset(s->name, off, fabs(dv) < 1e20 ? "header claims a negative "
			       "dim (%.0f)" : "header claims a negative dim (%g)", dv);
	if (dv > EMB_MAX_DIM)
		emb_die_offset(s->name, off, dv < 1e20 ? "header claims dim %.0f (limit %u)"
			       : "header claims dim %g (limit %u)", dv, EMB_MAX_DIM);
	int t = cJSON_IsString(dtype) ? emb_dtype_parse(dtype->valuestring) : -1;
	if (t < 0)
		emb_die_offset(s->name, off, "header has no valid \"dtype\" (f32, f64, f16, i8, u8 or bit)");
	if (keys && !cJSON_IsBool(keys))
		emb_die_offset(s->name, off, "header \"keys\" is not true or false");
	s->dim = (size_t)dim->valuedouble;
	s->dtype = (enum emb_dtype)t;
	s->has_keys = cJSON_IsTrue(keys);
}

/* A segment's "row_offset" (emb.5, "Row numbers"): its first row is
 * number row_offset + 1.  Without one, the numbers go on from the rows
 * before it. */
static void read_row_offset(struct emb_stream *s, cJSON *j, uint64_t off)
{
	cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "row_offset");
	if (!r)
		return;
	double v = cJSON_IsNumber(r) ? r->valuedouble : NAN;
	if (!(v >= 0 && v <= (double)EMB_MAX_ROW_OFFSET && v == floor(v)))
		emb_die_offset(s->name, off, "header \"row_offset\" is not a whole number "
			       "from 0 to 2^53");
	s->row_next = (uint64_t)v + 1;
	s->row_pinned = true;
}

/* Read a binary header whose magic is already consumed. */
static void read_binary_header(struct emb_stream *s, bool first)
{
	unsigned char h[12];
	uint64_t start = s->offset - EMB_MAGIC_LEN;
	emb_need_bytes(s, h, sizeof h, "header");
	uint32_t version = emb_get_u32(h), len = emb_get_u32(h + 4), crc = emb_get_u32(h + 8);
	if (version != EMB_FORMAT_VERSION)
		emb_die_offset(s->name, start + 8, "unsupported format version %u (this is %u)",
			       version, EMB_FORMAT_VERSION);
	if (len > EMB_MAX_JSON_LEN)
		emb_die_offset(s->name, start + 12, "header claims %u JSON bytes (limit %u)",
			       len, EMB_MAX_JSON_LEN);
	char *json = emb_xmalloc((size_t)len + 1);
	emb_need_bytes(s, json, len, "header JSON");
	json[len] = '\0';
	if (emb_crc32c(0, json, len) != crc)
		emb_die_offset(s->name, start + 20, "header checksum mismatch");
	cJSON *j = cJSON_ParseWithLength(json, len);
	free(json);
	if (!j)
		emb_die_offset(s->name, start + 20, "header is not valid JSON");

	if (first) {
		header_from_json(s, j, start + 20);
		read_row_offset(s, j, start + 20);
		cJSON_Delete(s->meta);
		s->meta = j;
		s->mtype = s->dtype == EMB_F64 ? EMB_F64 : EMB_F32;
		return;
	}
	/* A later stream: it must agree with the first. */
	struct emb_stream next = *s;
	header_from_json(&next, j, start + 20);
	read_row_offset(s, j, start + 20);
	cJSON_Delete(j);
	s->seg_dim0 = next.dim == 0; /* "dim 0 only in a stream with no rows" */
	if (s->dim == 0 && s->recno == 0) {
		s->dim = next.dim;
	} else if (next.dim != s->dim && next.dim != 0) {
		emb_die_offset(s->name, start, "concatenated stream has dim %zu, not %zu",
			       next.dim, s->dim);
	}
	if (next.dtype != s->dtype)
		emb_die_offset(s->name, start, "concatenated stream has dtype %s, not %s",
			       emb_dtype_name(next.dtype), emb_dtype_name(s->dtype));
	if (next.has_keys != s->has_keys)
		emb_die_offset(s->name, start, "concatenated stream %s keys, the first %s",
			       next.has_keys ? "has" : "has no", next.has_keys ? "has none" : "has");
}

/* Read the next record header of a binary stream into H; returns the
 * byte offset it starts at.  End of file here is a truncated stream. */
static uint64_t read_record_header(struct emb_stream *s, unsigned char h[EMB_RECORD_HEADER_LEN])
{
	uint64_t start = s->offset;
	size_t got = emb_read_bytes(s, h, EMB_RECORD_HEADER_LEN);
	if (got == 0)
		emb_die_offset(s->name, start, "truncated stream: end record missing");
	if (got < EMB_RECORD_HEADER_LEN)
		emb_die_offset(s->name, start + got, "truncated stream: record header "
			       "cut short (%zu of %d bytes)", got, EMB_RECORD_HEADER_LEN);
	s->offset += EMB_RECORD_HEADER_LEN;
	return start;
}

/* Leading segments of dim 0 hold no rows (emb.5): read past them at open,
 * so that programs see the dim of the first segment that has rows. */
static void skip_dim0_segments(struct emb_stream *s)
{
	while (s->dim == 0) {
		unsigned char h[EMB_RECORD_HEADER_LEN];
		uint64_t start = read_record_header(s, h);
		if (memcmp(h, EMB_TAG_CHUNK, 4) == 0)
			emb_die_offset(s->name, start, "chunk in a stream of dim 0");
		if (memcmp(h, EMB_TAG_END, 4) != 0)
			emb_die_offset(s->name, start, "bad record tag (not a chunk or end record)");
		if (emb_crc32c(0, h + 8, 8) != emb_get_u32(h + 4) || emb_get_u64(h + 16) != 0)
			emb_die_offset(s->name, start, "end record is corrupt");
		if (emb_get_u64(h + 8) != 0)
			emb_die_offset(s->name, start, "end record counts %llu rows, the stream had 0",
				       (unsigned long long)emb_get_u64(h + 8));
		if (!next_segment(s)) {
			s->at_eof = true;
			return;
		}
	}
}

void emb_binary_read_header(struct emb_stream *s)
{
	char magic[EMB_MAGIC_LEN];
	emb_map_open(s);
	size_t got = emb_read_bytes(s, magic, EMB_MAGIC_LEN);
	if (got < EMB_MAGIC_LEN || memcmp(magic, EMB_MAGIC, EMB_MAGIC_LEN) != 0)
		emb_die_offset(s->name, 0, "not an emb stream (bad magic)");
	s->offset = EMB_MAGIC_LEN;
	read_binary_header(s, true);
	skip_dim0_segments(s);
}

/* ---------- writing ---------- */

void emb_binary_write_header(struct emb_stream *s)
{
	emb_meta_set(s->meta, "dim", cJSON_CreateNumber((double)s->dim));
	emb_meta_set(s->meta, "dtype", cJSON_CreateString(emb_dtype_name(s->dtype)));
	emb_meta_set(s->meta, "keys", cJSON_CreateBool(s->has_keys));
	if (s->row_pinned)
		emb_meta_set(s->meta, "row_offset", cJSON_CreateNumber((double)(s->row_next - 1)));
	else
		cJSON_DeleteItemFromObjectCaseSensitive(s->meta, "row_offset");
	char *json = cJSON_PrintUnformatted(s->meta);
	if (!json)
		emb_die(EMB_EXIT_DATA, "out of memory");
	size_t len = strlen(json);
	/* Pad the JSON with spaces (trailing whitespace is still JSON) so the
	 * first record, and with it f64/f32 values, start at a multiple of 8:
	 * a mapped reader can then use the values in place. */
	size_t pad = (8 - (size_t)((s->offset + EMB_MAGIC_LEN + 12 + len) % 8)) % 8;
	if (pad) {
		json = emb_xrealloc(json, len + pad + 1);
		memset(json + len, ' ', pad);
		len += pad;
		json[len] = '\0';
	}
	unsigned char h[EMB_MAGIC_LEN + 12];
	memcpy(h, EMB_MAGIC, EMB_MAGIC_LEN);
	emb_put_u32(h + 8, EMB_FORMAT_VERSION);
	emb_put_u32(h + 12, (uint32_t)len);
	emb_put_u32(h + 16, emb_crc32c(0, json, len));
	emb_write_bytes(s, h, sizeof h);
	emb_write_bytes(s, json, len);
	free(json);
}

/* Write one CHNK record: KEYBYTES of key block (already NUL-padded to a
 * multiple of 8) then VALBYTES of values in disk form. */
static void write_record(struct emb_stream *s, size_t rows, const char *keys, size_t keybytes,
			 const void *vals, size_t valbytes)
{
	uint32_t crc = emb_crc32c(emb_crc32c(0, keys, keybytes), vals, valbytes);
	unsigned char h[EMB_RECORD_HEADER_LEN];
	memcpy(h, EMB_TAG_CHUNK, 4);
	emb_put_u32(h + 4, crc);
	emb_put_u64(h + 8, rows);
	emb_put_u64(h + 16, keybytes);
	emb_write_bytes(s, h, sizeof h);
	emb_write_bytes(s, keys, keybytes);
	emb_write_bytes(s, vals, valbytes);
	s->chunks++;
}

/* Pad the pending key block with NULs to a multiple of 8; returns its size. */
static size_t pad_keys(struct emb_stream *s)
{
	size_t keybytes = s->has_keys ? (s->pend_keys_len + 7) / 8 * 8 : 0;
	if (keybytes > s->pend_keys_len) {
		if (keybytes > s->pend_keys_cap) {
			s->pend_keys = emb_xrealloc(s->pend_keys, keybytes);
			s->pend_keys_cap = keybytes;
		}
		memset(s->pend_keys + s->pend_keys_len, 0, keybytes - s->pend_keys_len);
	}
	return keybytes;
}

static void flush_pending(struct emb_stream *s)
{
	if (s->pend_rows == 0)
		return;
	size_t keybytes = pad_keys(s);
	write_record(s, s->pend_rows, s->pend_keys, keybytes, s->pend_vals,
		     s->pend_rows * emb_row_bytes(s->dtype, s->dim));
	s->pend_rows = 0;
	s->pend_keys_len = 0;
}

/* Queue the key of the row numbered NUMBER, output row POS (1-based):
 * KEY, or the number when it has none. */
static void pend_key(struct emb_stream *s, const char *key, uint64_t number, uint64_t pos)
{
	char num[24];
	if (!key) {
		snprintf(num, sizeof num, "%llu", (unsigned long long)number);
		key = num;
	}
	size_t len = strlen(key) + 1;
	if (len - 1 > EMB_MAX_KEY_LEN)
		emb_die(EMB_EXIT_DATA, "%s: row %llu: key longer than %d bytes", s->name,
			(unsigned long long)pos, EMB_MAX_KEY_LEN);
	if (s->pend_keys_len + len + 8 > s->pend_keys_cap) {
		s->pend_keys_cap = (s->pend_keys_len + len + 8) * 2;
		s->pend_keys = emb_xrealloc(s->pend_keys, s->pend_keys_cap);
	}
	memcpy(s->pend_keys + s->pend_keys_len, key, len);
	s->pend_keys_len += len;
}

void emb_binary_write_rows(struct emb_stream *s, const struct emb_chunk *c)
{
	size_t vsize = emb_row_bytes(s->dtype, s->dim);
	if (!s->pend_vals)
		s->pend_vals = emb_xmalloc(emb_xmul(s->chunk_rows, vsize ? vsize : 1));
	size_t crow = emb_row_bytes(c->type, c->dim);
	/* emb_write_chunk counts the rows after us */
	uint64_t base = s->recno, number = s->row_next;
	for (size_t i = 0; i < c->rows;) {
		size_t take = s->chunk_rows - s->pend_rows;
		if (take > c->rows - i)
			take = c->rows - i;
		if (s->pend_rows == 0 && take == s->chunk_rows && c->type == s->dtype &&
		    emb_host_is_le()) {
			/* A whole chunk in disk form already: write it in place, no copy
			 * (embcat's binary pass-through stays at pipe speed). */
			if (s->has_keys)
				for (size_t r = 0; r < take; r++)
					pend_key(s, c->keys ? c->keys[i + r] : NULL, number + i + r,
						 base + i + r + 1);
			size_t keybytes = pad_keys(s);
			write_record(s, take, s->pend_keys, keybytes,
				     (const char *)c->data + i * crow, take * vsize);
			s->pend_keys_len = 0;
			s->seg_rows += take;
			i += take;
			continue;
		}
		emb_rows_to_disk(s, s->pend_vals + s->pend_rows * vsize,
				 (const char *)c->data + i * crow, take, c->dim, c->type, s->dtype,
				 base + i + 1);
		if (s->has_keys)
			for (size_t r = 0; r < take; r++)
				pend_key(s, c->keys ? c->keys[i + r] : NULL, number + i + r,
					 base + i + r + 1);
		s->pend_rows += take;
		s->seg_rows += take;
		i += take;
		if (s->pend_rows == s->chunk_rows)
			flush_pending(s);
	}
}


void emb_binary_write_end(struct emb_stream *s)
{
	flush_pending(s);
	unsigned char h[EMB_RECORD_HEADER_LEN], n[8];
	emb_put_u64(n, s->seg_rows);
	memcpy(h, EMB_TAG_END, 4);
	emb_put_u32(h + 4, emb_crc32c(0, n, 8));
	memcpy(h + 8, n, 8);
	emb_put_u64(h + 16, 0);
	emb_write_bytes(s, h, sizeof h);
}

/* End the binary segment and start another whose first row is number
 * FIRST: numbered rows that do not go on from the ones before. */
void emb_binary_renumber(struct emb_stream *s, uint64_t first)
{
	emb_binary_write_end(s);
	s->seg_rows = 0;
	s->row_next = first;
	s->row_pinned = true;
	emb_binary_write_header(s);
}

/* ---------- chunk and end records, read ---------- */

/* Split a key block into the chunk's key pointers, checking its shape. */
static void decode_keys(struct emb_stream *s, struct emb_chunk *c, const char *blk,
			size_t len, uint64_t off)
{
	size_t pos = 0;
	for (size_t i = 0; i < c->rows; i++) {
		const char *z = memchr(blk + pos, '\0', len - pos);
		if (!z)
			emb_die_offset(s->name, off + pos, "key block holds fewer keys than rows");
		if ((size_t)(z - (blk + pos)) > EMB_MAX_KEY_LEN)
			emb_die_offset(s->name, off + pos, "key longer than %d bytes", EMB_MAX_KEY_LEN);
		emb_chunk_set_key(c, i, blk + pos, (size_t)(z - (blk + pos)));
		pos = (size_t)(z - blk) + 1;
	}
	for (; pos < len; pos++)
		if (blk[pos] != '\0')
			emb_die_offset(s->name, off + pos, "key block holds more keys than rows");
}

/* After an END record: EOF ends the input; a magic starts another stream. */
static bool next_segment(struct emb_stream *s)
{
	char magic[EMB_MAGIC_LEN];
	size_t got = emb_read_bytes(s, magic, EMB_MAGIC_LEN);
	if (got == 0)
		return false;
	if (got < EMB_MAGIC_LEN || memcmp(magic, EMB_MAGIC, EMB_MAGIC_LEN) != 0)
		emb_die_offset(s->name, s->offset, "garbage after end of stream");
	s->offset += EMB_MAGIC_LEN;
	read_binary_header(s, false);
	s->seg_rows = 0;
	return true;
}

/* Bytes of chunk values read and checksummed at a time (well inside L2). */
#define READ_PIECE (256u << 10)

/* Make s->raw hold at least NEED bytes (keeping its contents), growing
 * geometrically up to LIMIT, the most the record can need. */
static void grow_raw(struct emb_stream *s, size_t need, size_t limit)
{
	if (need <= s->raw_cap)
		return;
	size_t cap = emb_grow_cap(s->raw_cap, need, limit);
	s->raw = emb_xrealloc(s->raw, cap);
	s->raw_cap = cap;
}

/* Read the next chunk's record header into s->rec_h, through end
 * records and the headers of later segments, and check it: a chunk
 * tag, a row count and a key block within the limits.  False at the end
 * of input (s->at_eof). */
static bool next_chunk_header(struct emb_stream *s)
{
	if (s->rec_held)
		return true;
	for (;;) {
		unsigned char *h = s->rec_h;
		uint64_t start = read_record_header(s, h);
		uint32_t crc = emb_get_u32(h + 4);
		uint64_t rows = emb_get_u64(h + 8), keybytes = emb_get_u64(h + 16);

		if (memcmp(h, EMB_TAG_END, 4) == 0) {
			if (emb_crc32c(0, h + 8, 8) != crc || keybytes != 0)
				emb_die_offset(s->name, start, "end record is corrupt");
			if (rows != s->seg_rows)
				emb_die_offset(s->name, start, "end record counts %llu rows, "
					       "the stream had %llu", (unsigned long long)rows,
					       (unsigned long long)s->seg_rows);
			if (!next_segment(s)) {
				s->at_eof = true;
				return false;
			}
			continue;
		}
		if (memcmp(h, EMB_TAG_CHUNK, 4) != 0)
			emb_die_offset(s->name, start, "bad record tag (not a chunk or end record)");

		if (s->dim == 0 || s->seg_dim0)
			emb_die_offset(s->name, start, "chunk in a stream of dim 0");
		uint64_t max_rows = EMB_MAX_CHUNK_BYTES / emb_row_bytes(s->dtype, s->dim);
		if (rows == 0 || rows > max_rows)
			emb_die_offset(s->name, start + 8, "chunk claims %llu rows (limit %llu "
				       "at dim %zu)", (unsigned long long)rows,
				       (unsigned long long)max_rows, s->dim);
		if (keybytes > EMB_MAX_CHUNK_BYTES || keybytes % 8 != 0 ||
		    (!s->has_keys && keybytes != 0) || (s->has_keys && keybytes < rows))
			emb_die_offset(s->name, start + 16, "chunk claims a key block of %llu bytes",
				       (unsigned long long)keybytes);
		s->rec_start = start;
		s->rec_held = true;
		return true;
	}
}

/* The codec's peek_rows: the next chunk's row count, its header held for
 * the read or skip that follows (0 at the end of input). */
bool emb_binary_peek_rows(struct emb_stream *s, uint64_t *rows)
{
	if (next_chunk_header(s))
		*rows = emb_get_u64(s->rec_h + 8);
	return true;
}

/* Is S's file a regular file that fseeko() can move in?  Gives its size. */
static bool seekable(const struct emb_stream *s, uint64_t *size)
{
	struct stat st;
	if (s->src_fp || fstat(fileno(s->fp), &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	*size = (uint64_t)st.st_size;
	return true;
}

/* Pass over the payload of the chunk whose header is held, without
 * checksumming it: the map or a regular file moves past it (after a
 * check that the file holds it all), a pipe is read and dropped. */
static void skip_payload(struct emb_stream *s)
{
	uint64_t rows = emb_get_u64(s->rec_h + 8), keybytes = emb_get_u64(s->rec_h + 16);
	uint64_t valbytes = rows * emb_row_bytes(s->dtype, s->dim);
	uint64_t keyoff = s->offset, have = UINT64_MAX, size, total = keybytes + valbytes;
	off_t at = -1;
	if (s->map)
		have = s->map_len - s->map_pos;
	else if (seekable(s, &size) && (at = ftello(s->fp)) >= 0)
		have = size > (uint64_t)at ? size - (uint64_t)at : 0;
	if (keybytes > have)
		emb_die_offset(s->name, keyoff + have, "truncated stream: chunk keys cut short "
			       "(%llu of %llu bytes)", (unsigned long long)have,
			       (unsigned long long)keybytes);
	if (valbytes > have - keybytes)
		emb_die_offset(s->name, keyoff + have, "truncated stream: chunk values cut "
			       "short (%llu of %llu bytes)", (unsigned long long)(have - keybytes),
			       (unsigned long long)valbytes);
	if (s->map) {
		s->map_pos += (size_t)total;
	} else if (at >= 0) {
		if (fseeko(s->fp, (off_t)total, SEEK_CUR) != 0)
			emb_die(EMB_EXIT_DATA, "%s: %s", s->name, strerror(errno));
	} else {
		for (uint64_t done = 0; done < total;) {
			size_t piece = total - done < READ_PIECE ? (size_t)(total - done) : READ_PIECE;
			grow_raw(s, piece, READ_PIECE);
			size_t part = emb_read_bytes(s, s->raw, piece);
			done += part;
			if (part < piece && done < keybytes)
				emb_die_offset(s->name, keyoff + done, "truncated stream: chunk keys "
					       "cut short (%llu of %llu bytes)", (unsigned long long)done,
					       (unsigned long long)keybytes);
			if (part < piece)
				emb_die_offset(s->name, keyoff + done, "truncated stream: chunk values "
					       "cut short (%llu of %llu bytes)",
					       (unsigned long long)(done - keybytes),
					       (unsigned long long)valbytes);
		}
	}
	s->offset += total;
}

/* The codec's skip_rows: pass over the next chunk without checksumming
 * or decoding it. */
uint64_t emb_binary_skip_rows(struct emb_stream *s)
{
	if (!next_chunk_header(s))
		return 0;
	s->rec_held = false;
	uint64_t rows = emb_get_u64(s->rec_h + 8);
	skip_payload(s);
	s->seg_rows += rows;
	s->recno += rows;
	s->chunks++;
	return rows;
}

size_t emb_binary_read_rows(struct emb_stream *s, struct emb_chunk *c)
{
	if (!next_chunk_header(s))
		return 0;
	s->rec_held = false;
	const unsigned char *h = s->rec_h;
	uint64_t start = s->rec_start;
	uint32_t crc = emb_get_u32(h + 4);
	uint64_t rows = emb_get_u64(h + 8), keybytes = emb_get_u64(h + 16);
	size_t esize = emb_dtype_size(s->dtype);

	size_t valbytes = (size_t)rows * emb_row_bytes(s->dtype, s->dim);
	/* Read values straight into the chunk when no conversion is needed. */
	bool direct = s->dtype == s->mtype && emb_host_is_le();
	uint64_t keyoff = s->offset;
	/* Memory follows the bytes that are there, never the sizes the
	 * record claims: a mapped file is checked against its size before
	 * anything is allocated; from a pipe, buffers grow as bytes
	 * arrive; key pointers are made only once keys and values are in. */
	if (s->map) {
		size_t left = s->map_len - s->map_pos;
		if (keybytes > left)
			emb_die_offset(s->name, keyoff + left, "truncated stream: chunk keys "
				       "cut short (%zu of %zu bytes)", left, (size_t)keybytes);
		if (valbytes > left - keybytes)
			emb_die_offset(s->name, keyoff + left, "truncated stream: chunk values "
				       "cut short (%zu of %zu bytes)", left - (size_t)keybytes,
				       valbytes);
	}
	for (size_t at = 0; at < keybytes;) {
		size_t piece = keybytes - at < READ_PIECE ? keybytes - at : READ_PIECE;
		grow_raw(s, at + piece, (size_t)keybytes);
		size_t part = emb_read_bytes(s, s->raw + at, piece);
		at += part;
		if (part < piece)
			emb_die_offset(s->name, keyoff + at, "truncated stream: chunk keys "
				       "cut short (%zu of %zu bytes)", at, (size_t)keybytes);
	}
	s->offset += keybytes;
	/* A mapped file whose values are all there (checked above, before
	 * any mapped byte is read): in place when they need no conversion
	 * and are aligned, else converted from there. */
	unsigned char *mapped = emb_map_take(s, valbytes, direct ? esize : 1);
	uint32_t sum = emb_crc32c(0, s->raw, (size_t)keybytes);
	unsigned char *vals = mapped;
	if (mapped)
		sum = emb_crc32c(sum, mapped, valbytes);
	/* Checksum each piece as soon as it is read, while it is still in
	 * the CPU's cache: a whole chunk read first and summed after would
	 * come back from memory for the checksum. */
	for (size_t at = 0; !mapped && at < valbytes;) {
		size_t piece = valbytes - at < READ_PIECE ? valbytes - at : READ_PIECE;
		if (direct) {
			emb_chunk_grow(c, at + piece, valbytes);
			vals = c->data;
		} else {
			grow_raw(s, (size_t)keybytes + at + piece, (size_t)keybytes + valbytes);
			vals = s->raw + keybytes;
		}
		size_t part = emb_read_bytes(s, vals + at, piece);
		at += part;
		if (part < piece)
			emb_die_offset(s->name, s->offset + at, "truncated stream: chunk values "
				       "cut short (%zu of %zu bytes)", at, valbytes);
		sum = emb_crc32c(sum, vals + at - part, part);
	}
	if (mapped && direct)
		emb_chunk_borrow(c, mapped, (size_t)rows, s->dim, s->mtype, s->has_keys);
	else
		emb_chunk_reserve(c, (size_t)rows, s->dim, s->mtype, s->has_keys);
	s->offset += valbytes;
	if (sum != crc)
		emb_die_offset(s->name, start, "chunk checksum mismatch (corrupt data)");
	if (!direct)
		emb_rows_from_disk(c->data, vals, (size_t)rows, s->dim, s->dtype, s->mtype);
	if (s->has_keys)
		decode_keys(s, c, (const char *)s->raw, (size_t)keybytes, keyoff);
	s->seg_rows += rows;
	s->recno += rows;
	s->chunks++;
	return (size_t)rows;
}
