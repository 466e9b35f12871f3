/*
 * emb_spill.c - read an input twice, spilling standard input to a
 * temporary file (contracts in emb_linalg.h).
 */
#include <config.h>
#include "emb_linalg.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Only one spill exists at a time (one input per fit), so the cleanup
 * state is a single global that the signal handler can reach. */
static char *volatile spill_path;

static void remove_spill(void)
{
	char *p = spill_path;
	if (p)
		unlink(p);
}

static void on_signal(int sig)
{
	remove_spill();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Catch only signals that are not ignored, so that a parent's choice
 * (nohup, SIGPIPE ignored) is kept; SIGPIPE still ends us silently. */
static void install_cleanup(void)
{
	static bool done;
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
	if (done)
		return;
	done = true;
	atexit(remove_spill);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction old, sa;
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

static char *make_temp(void)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	size_t len = strlen(dir) + sizeof "/embspill.XXXXXX";
	char *name = emb_xmalloc(len);
	snprintf(name, len, "%s/embspill.XXXXXX", dir);
	install_cleanup();
	int fd = mkstemp(name);
	if (fd < 0)
		emb_die(EMB_EXIT_DATA, "cannot create a temporary file in %s: %s", dir, strerror(errno));
	close(fd);
	spill_path = name;
	return name;
}

void emb_spill_begin(struct emb_spill *sp, const char *path, const struct emb_opts *o)
{
	memset(sp, 0, sizeof *sp);
	sp->path = path && strcmp(path, "-") != 0 ? path : NULL;
	sp->in = emb_open_r(path, o);
	if (sp->path)
		return;
	sp->tmpname = make_temp();
	struct emb_opts to = *o;
	to.out_format = EMB_FMT_EMB;
	to.out_dtype = -1;
	to.progress = false;
	sp->tmp = emb_open_w_path(sp->tmpname, sp->in, &to);
}

size_t emb_spill_read(struct emb_spill *sp, struct emb_chunk *c)
{
	size_t n = emb_read_chunk(sp->in, c);
	if (n > 0 && sp->tmp) {
		/* Keep the in-memory type so the second pass reads the same values. */
		if (!sp->tmp->header_done) {
			sp->tmp->dim = c->dim;
			sp->tmp->dtype = c->type;
			sp->tmp->has_keys = c->keys != NULL;
		}
		emb_write_chunk(sp->tmp, c);
	}
	return n;
}

void emb_spill_rewind(struct emb_spill *sp, const struct emb_opts *o)
{
	enum emb_dtype mtype = sp->in->mtype;
	emb_close(sp->in);
	if (!sp->tmp) {
		sp->in = emb_open_r(sp->path, o);
		sp->in->mtype = mtype;
		return;
	}
	emb_close(sp->tmp);
	sp->tmp = NULL;
	struct emb_opts ro = *o;
	ro.in_format = EMB_FMT_EMB;
	ro.progress = false;
	sp->in = emb_open_r(sp->tmpname, &ro);
	sp->in->mtype = mtype;
	/* Open files outlive their names: nothing is left behind from here. */
	unlink(sp->tmpname);
	spill_path = NULL;
	/* sp->in->name points at tmpname, so it is freed in emb_spill_end. */
}

void emb_spill_end(struct emb_spill *sp)
{
	emb_close(sp->in);
	sp->in = NULL;
	free(sp->tmpname);
	sp->tmpname = NULL;
}
