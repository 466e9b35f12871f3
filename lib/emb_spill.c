/*
 * emb_spill.c - temporary files and files written safely: the spill that
 * lets a program read a pipe twice, the unlinked temporary files of the
 * writers and readers that need to seek, and --save files written under a
 * temporary name and renamed into place (contracts in emb.h and
 * emb_linalg.h).
 */
#define _GNU_SOURCE /* O_TMPFILE */
#include <config.h>
#include "emb_linalg.h"
#include "emb_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------- unlinked temporary files ---------- */

static char tmp_where[PATH_MAX + 32];

const char *emb_tmpdir(void)
{
	const char *dir = getenv("TMPDIR");
	return dir && *dir ? dir : "/tmp";
}

const char *emb_tmpfile_where(void)
{
	if (!tmp_where[0])
		snprintf(tmp_where, sizeof tmp_where, "temporary file in %s", emb_tmpdir());
	return tmp_where;
}

/* An unlinked file in $TMPDIR: O_TMPFILE never gives it a name, and the
 * fallback (file systems without O_TMPFILE) removes the name at once, so
 * no signal, not even SIGKILL, can leave it behind. */
FILE *emb_tmpfile(const char *purpose)
{
	const char *dir = emb_tmpdir();
	snprintf(tmp_where, sizeof tmp_where, "temporary file in %s", dir);
	int fd = -1;
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
	if (fd < 0) {
		size_t len = strlen(dir) + strlen(purpose) + sizeof "/emb.XXXXXX";
		char *name = emb_xmalloc(len);
		snprintf(name, len, "%s/emb%s.XXXXXX", dir, purpose);
		fd = mkostemp(name, O_CLOEXEC);
		if (fd >= 0)
			unlink(name);
		free(name);
	}
	if (fd < 0)
		emb_die(EMB_EXIT_DATA, "cannot create a temporary file in %s: %s", dir,
			strerror(errno));
	FILE *fp = fdopen(fd, "w+b");
	if (!fp)
		emb_die(EMB_EXIT_DATA, "%s: %s", emb_tmpfile_where(), strerror(errno));
	return fp;
}

/* ---------- names to remove if we are killed ---------- */

/* A --save file has a name while it is written (rename needs one).  The
 * names live in a fixed table the signal handlers can read: unlink() is
 * async-signal-safe, free() is not. */
#define MAX_DOOMED 4
static char doomed[MAX_DOOMED][PATH_MAX];
static volatile sig_atomic_t doomed_used[MAX_DOOMED];

void emb_remove_doomed(void)
{
	for (int i = 0; i < MAX_DOOMED; i++)
		if (doomed_used[i])
			unlink(doomed[i]);
}

static void on_signal(int sig)
{
	emb_remove_doomed();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Every signal whose default action ends the process, except those a
 * parent chose to ignore (nohup, SIGPIPE ignored): that choice is kept. */
static void install_cleanup(void)
{
	static bool done;
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGUSR1,
				   SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ,
				   SIGPOLL};
	if (done)
		return;
	done = true;
	atexit(emb_remove_doomed);
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

static int doom(const char *name)
{
	install_cleanup();
	for (int i = 0; i < MAX_DOOMED; i++)
		if (!doomed_used[i]) {
			snprintf(doomed[i], sizeof doomed[i], "%s", name);
			doomed_used[i] = 1;
			return i;
		}
	emb_die(EMB_EXIT_DATA, "too many files being saved at once");
}

/* ---------- --save: never onto an input, renamed into place ---------- */

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

void emb_check_not_input(const char *opt, const char *path, const char *const *inputs,
			 size_t ninputs)
{
	struct stat st, in;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return; /* not there yet, or /dev/null and the like: nothing to lose */
	for (size_t i = 0; i < ninputs; i++) {
		const char *p = inputs[i];
		bool std = !p || strcmp(p, "-") == 0;
		if ((std ? fstat(STDIN_FILENO, &in) : stat(p, &in)) == 0 && same_file(&st, &in))
			emb_die(EMB_EXIT_DATA, "%s %s is also an input", opt, path);
	}
	if (fstat(STDOUT_FILENO, &in) == 0 && same_file(&st, &in))
		emb_die(EMB_EXIT_DATA, "%s %s is also the output", opt, path);
}

FILE *emb_save_open(struct emb_save *sv, const char *path)
{
	memset(sv, 0, sizeof *sv);
	sv->path = path;
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* /dev/null, a FIFO, a terminal: write to it as it is. */
		if (S_ISDIR(st.st_mode))
			emb_die(EMB_EXIT_DATA, "%s: %s", path, strerror(EISDIR));
		sv->fp = fopen(path, "wb");
		if (!sv->fp)
			emb_die(EMB_EXIT_DATA, "%s: %s", path, strerror(errno));
		sv->slot = -1;
		return sv->fp;
	}
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof tmp, "%.*s.%s.XXXXXX", (int)dirlen, path,
			     slash ? slash + 1 : path) >= sizeof tmp)
		emb_die(EMB_EXIT_DATA, "%s: %s", path, strerror(ENAMETOOLONG));
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old); /* no window where a signal leaves it */
	install_cleanup();
	int fd = mkostemp(tmp, O_CLOEXEC);
	int err = errno;
	if (fd >= 0)
		sv->slot = doom(tmp);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (fd < 0)
		emb_die(EMB_EXIT_DATA, "%s: %s", path, strerror(err));
	mode_t um = umask(0);
	umask(um);
	(void)fchmod(fd, 0666 & ~um);
	sv->fp = fdopen(fd, "wb");
	if (!sv->fp)
		emb_die(EMB_EXIT_DATA, "%s: %s", path, strerror(errno));
	return sv->fp;
}

void emb_save_commit(struct emb_save *sv)
{
	if (sv->slot < 0)
		return;
	if (rename(doomed[sv->slot], sv->path) != 0)
		emb_die(EMB_EXIT_DATA, "%s: %s", sv->path, strerror(errno));
	doomed_used[sv->slot] = 0;
	sv->slot = -1;
}

/* ---------- reading an input twice ---------- */

void emb_spill_begin(struct emb_spill *sp, const char *path, const struct emb_opts *o)
{
	memset(sp, 0, sizeof *sp);
	sp->in = emb_open_r(path, o);
	/* A regular named file is opened again for the second pass; anything
	 * else (standard input, a FIFO, <(...), /dev/stdin, a terminal) can be
	 * read only once, so its rows are copied to an unlinked spill. */
	struct stat st;
	if (path && strcmp(path, "-") != 0 && emb_stream_stat(sp->in, &st) &&
	    S_ISREG(st.st_mode)) {
		sp->path = path;
		sp->dev = st.st_dev;
		sp->ino = st.st_ino;
		sp->size = st.st_size;
		sp->mtime = st.st_mtim;
		return;
	}
	sp->spill = emb_tmpfile("spill");
	int fd = dup(fileno(sp->spill));
	FILE *w = fd < 0 ? NULL : fdopen(fd, "wb");
	if (!w)
		emb_die(EMB_EXIT_DATA, "%s: %s", emb_tmpfile_where(), strerror(errno));
	struct emb_opts to = *o;
	to.out_format = EMB_FMT_EMB;
	to.out_dtype = -1;
	to.progress = false;
	sp->tmp = emb_open_w_fp(w, emb_tmpfile_where(), sp->in, &to);
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
	const char *name = sp->in->name;
	emb_close(sp->in);
	if (!sp->tmp) {
		sp->in = emb_open_r(sp->path, o);
		sp->in->mtype = mtype;
		struct stat st;
		if (!emb_stream_stat(sp->in, &st) || st.st_dev != sp->dev || st.st_ino != sp->ino ||
		    st.st_size != sp->size || st.st_mtim.tv_sec != sp->mtime.tv_sec ||
		    st.st_mtim.tv_nsec != sp->mtime.tv_nsec)
			emb_die(EMB_EXIT_DATA, "%s: file changed between the two passes", sp->path);
		return;
	}
	emb_close(sp->tmp); /* flushes, and names the spill on a write error */
	sp->tmp = NULL;
	if (fseeko(sp->spill, 0, SEEK_SET) != 0)
		emb_die(EMB_EXIT_DATA, "%s: %s", emb_tmpfile_where(), strerror(errno));
	struct emb_opts ro = *o;
	ro.in_format = EMB_FMT_EMB;
	ro.progress = false;
	sp->in = emb_open_r_fp(sp->spill, name, &ro);
	sp->spill = NULL; /* the stream owns it now */
	sp->in->mtype = mtype;
}

void emb_spill_end(struct emb_spill *sp)
{
	emb_close(sp->in);
	sp->in = NULL;
	if (sp->spill)
		fclose(sp->spill);
	sp->spill = NULL;
}
