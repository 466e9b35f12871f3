/*
 * emb_codecs.c - the codec table: which functions read and write each
 * format of enum emb_format (one family per file; emb_impl.h says what
 * each member means).  The stream layer reaches a codec only through
 * this table.
 */
#include <config.h>
#include "emb_impl.h"

const struct emb_codec emb_codecs[EMB_FMT_COUNT] = {
	[EMB_FMT_AUTO] = {.name = "auto", .text = true},
	[EMB_FMT_EMB] = {
		.name = "emb",
		.read_header = emb_binary_read_header,
		.read_rows = emb_binary_read_rows,
		.peek_rows = emb_binary_peek_rows,
		.skip_rows = emb_binary_skip_rows,
		.write_header = emb_binary_write_header,
		.write_rows = emb_binary_write_rows,
		.write_end = emb_binary_write_end,
		.renumber = emb_binary_renumber,
		.keys = true,
	},
	[EMB_FMT_TSV] = {
		.name = "tsv", .text = true, .keys = true,
		.read_header = emb_tsv_read_header,
		.read_rows = emb_tsv_read_rows,
		.write_rows = emb_tsv_write_rows,
		.close = emb_tsv_close,
	},
	[EMB_FMT_NPY] = {
		.name = "npy",
		.read_header = emb_npy_read_header,
		.read_rows = emb_npy_read_rows,
		.count_header = emb_npy_count_header,
		.write_rows = emb_npy_write_rows,
	},
	[EMB_FMT_W2V] = {
		.name = "w2v", .text = true, .keys = true, .number_keys = true,
		.read_header = emb_w2v_read_header,
		.read_rows = emb_tsv_read_rows,
		.count_header = emb_w2v_count_header,
		.write_rows = emb_w2v_write_rows,
		.close = emb_tsv_close,
	},
	[EMB_FMT_W2VBIN] = {
		.name = "w2vbin", .text = true, .keys = true, .number_keys = true,
		.read_header = emb_w2vbin_read_header,
		.read_rows = emb_w2vbin_read_rows,
		.count_header = emb_w2v_count_header,
		.write_rows = emb_w2vbin_write_rows,
	},
	[EMB_FMT_GLOVE] = {
		.name = "glove", .text = true, .keys = true, .number_keys = true,
		.read_header = emb_glove_read_header,
		.read_rows = emb_tsv_read_rows,
		.write_rows = emb_w2v_write_rows,
		.close = emb_tsv_close,
	},
	[EMB_FMT_VEC] = {
		.name = "vec", .text = true, .keys = true, .number_keys = true,
		.read_header = emb_w2v_read_header,
		.read_rows = emb_tsv_read_rows,
		.count_header = emb_w2v_count_header,
		.write_rows = emb_w2v_write_rows,
		.close = emb_tsv_close,
	},
	[EMB_FMT_FVECS] = {
		.name = "fvecs",
		.read_header = emb_vecs_read_header,
		.read_rows = emb_vecs_read_rows,
		.write_rows = emb_vecs_write_rows,
	},
	[EMB_FMT_BVECS] = {
		.name = "bvecs",
		.read_header = emb_vecs_read_header,
		.read_rows = emb_vecs_read_rows,
		.write_rows = emb_vecs_write_rows,
	},
	[EMB_FMT_IVECS] = {
		.name = "ivecs",
		.read_header = emb_vecs_read_header,
		.read_rows = emb_vecs_read_rows,
		.write_rows = emb_vecs_write_rows,
	},
	[EMB_FMT_JSONL] = {
		.name = "jsonl", .text = true, .keys = true,
		.read_header = emb_jsonl_read_header,
		.read_rows = emb_jsonl_read_rows,
		.write_rows = emb_jsonl_write_rows,
		.close = emb_jsonl_free,
	},
	[EMB_FMT_JSON] = {
		.name = "json", .text = true, .keys = true,
		.read_header = emb_json_read_header,
		.read_rows = emb_json_read_rows,
		.write_header = emb_json_write_header,
		.write_rows = emb_json_write_rows,
		.write_end = emb_json_write_end,
		.close = emb_json_free,
	},
};
