/*
 * emb_faiss.c - the vectors stored in a FAISS flat index file (emb.5,
 * "Other formats"; faiss/impl/index_write.cpp), as faiss.write_index
 * writes IndexFlatIP, IndexFlatL2 and the old IndexFlat:
 *
 *   fourcc[4]              "IxFI" (inner product), "IxF2" (L2), "IxFl" (old)
 *   d:i32 ntotal:i64       dim and row count
 *   dummy:i64 dummy:i64    1 << 20 twice (unused)
 *   is_trained:u8 metric_type:i32 [metric_arg:f32 if metric_type > 1]
 *   count:u64              values (older files) or 4-byte words (newer
 *                          files, codes as bytes / 4): d * ntotal either way
 *   values[count]          f32, row-major
 *
 * Other index types (IVF, HNSW, PQ ...) hold no plain vectors or hold
 * them behind other structures: refused, naming their fourcc.  The metric
 * goes into the stream header ("faiss_metric": "inner_product", "l2").
 */
#include <config.h>
#include "emb_impl.h"

#include <cJSON.h>
#include <string.h>

void emb_faiss_read_header(struct emb_stream *s)
{
	unsigned char h[48];
	emb_map_open(s);
	emb_need_bytes(s, h, 4, "FAISS fourcc");
	char cc[20];
	bool printable = true;
	for (int i = 0; i < 4; i++)
		printable = printable && h[i] >= 0x20 && h[i] < 0x7f;
	if (printable)
		snprintf(cc, sizeof cc, "'%c%c%c%c'", h[0], h[1], h[2], h[3]);
	else
		snprintf(cc, sizeof cc, "0x%02x%02x%02x%02x", h[0], h[1], h[2], h[3]);
	if (memcmp(h, "IxFI", 4) != 0 && memcmp(h, "IxF2", 4) != 0 && memcmp(h, "IxFl", 4) != 0)
		emb_die_offset(s->name, 0, "FAISS index type %s is not a flat index (IxFI, IxF2 "
			       "or IxFl); only flat indexes store the vectors as they are", cc);
	emb_need_bytes(s, h + 4, 33, "FAISS index header");
	int32_t d = (int32_t)emb_get_u32(h + 4);
	uint64_t ntotal = emb_get_u64(h + 8);
	int32_t metric = (int32_t)emb_get_u32(h + 33);
	if (d < 0 || d > (int32_t)EMB_MAX_DIM || (d == 0 && ntotal))
		emb_die_offset(s->name, 4, "FAISS index claims dim %d (want 1 to %u)", d, EMB_MAX_DIM);
	if (ntotal > ((uint64_t)1 << 62))
		emb_die_offset(s->name, 8, "FAISS index claims %lld vectors", (long long)ntotal);
	if (metric > 1)
		emb_need_bytes(s, h + 37, 4, "FAISS metric argument");
	uint64_t at = s->offset;
	emb_need_bytes(s, h, 8, "FAISS vector count");
	uint64_t count = emb_get_u64(h);
	if (count != (uint64_t)d * ntotal)
		emb_die_offset(s->name, at, "FAISS index holds %llu values, its %llu vectors of dim "
			       "%d need %llu", (unsigned long long)count, (unsigned long long)ntotal,
			       d, (unsigned long long)((uint64_t)d * ntotal));
	s->bin_kind = EMB_BIN_F32;
	s->dim = (size_t)d;
	s->total_rows = ntotal;
	s->row_bytes = (uint64_t)d * 4;
	s->dtype = s->mtype = EMB_F32;
	s->has_keys = false;
	s->data_off = s->offset + ntotal * s->row_bytes;
	long long size = emb_input_size(s);
	if (size >= 0 && (uint64_t)size < s->data_off)
		emb_die_offset(s->name, (uint64_t)size, "truncated FAISS index: %llu vectors of dim "
			       "%d need %llu bytes, the file holds %llu", (unsigned long long)ntotal,
			       d, (unsigned long long)s->data_off, (unsigned long long)size);
	if (size >= 0 && (uint64_t)size > s->data_off)
		emb_die_offset(s->name, s->data_off, "data after the %llu vectors of the FAISS index",
			       (unsigned long long)ntotal);
	cJSON_AddItemToObject(s->meta, "faiss_metric", cJSON_CreateString(
		metric == 0 ? "inner_product" : metric == 1 ? "l2" : "other"));
	if (ntotal == 0) {
		s->at_eof = true;
		unsigned char extra; /* a pipe's size is known only here */
		if (!s->map && emb_read_bytes(s, &extra, 1) == 1)
			emb_die_offset(s->name, s->data_off, "data after the %llu vectors of the "
				       "FAISS index", (unsigned long long)ntotal);
	}
}
