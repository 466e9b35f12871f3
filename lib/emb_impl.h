/*
 * emb_impl.h - what the stream layer's files share with each other and
 * with nobody else (programs include only emb.h).
 */
#ifndef EMB_IMPL_H
#define EMB_IMPL_H

#include "emb.h"

/* Write N bytes to S's file, counting them in s->offset. */
void emb_write_bytes(struct emb_stream *s, const void *buf, size_t n);

/* emb_tsv.c: read up to the first data row (fixes dim and keys). */
void emb_tsv_read_header(struct emb_stream *s);
/* emb_tsv.c: parse the next batch of rows into C; 0 at end of input. */
size_t emb_tsv_read_rows(struct emb_stream *s, struct emb_chunk *c);
/* emb_tsv.c: print C's rows, one per line. */
void emb_tsv_write_rows(struct emb_stream *s, const struct emb_chunk *c);

#endif
