/*
 * emb_err.c - program name, one-line diagnostics, exit codes, checked
 * allocation and the stdout close check (coreutils close_stdout).
 */
#include <config.h>
#include "emb.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *emb_progname = "emb";
static char *cmdline;
void (*emb_exit_hook)(int status);

/* Every exit of this file's functions but --version's goes through here, so
 * that a fuzz harness's emb_exit_hook (emb.h) can longjmp out instead. */
static _Noreturn void die_exit(int status)
{
	if (emb_exit_hook)
		emb_exit_hook(status);
	exit(status);
}

/* Set once a write error on stdout has been reported (or, for EPIPE,
 * deliberately not): the exit check then says nothing more. */
static volatile bool stdout_failed;
/* Set by the emb_die family: one message per failure, so a broken stdout
 * found at exit after a fatal message is not reported as well. */
static bool died;

void emb_write_error(int err)
{
	if (!stdout_failed) {
		stdout_failed = true;
		emb_progress_done(false);
		/* EPIPE: the reader went away while SIGPIPE was ignored: stop
		 * quietly, but with status 1 (documented). */
		if (err != EPIPE)
			fprintf(stderr, "%s: write error: %s\n", emb_progname,
				err ? strerror(err) : "unknown error");
	}
	exit(EMB_EXIT_DATA);
}

void emb_check_stdout(void)
{
	if (ferror(stdout) && !stdout_failed)
		emb_write_error(errno);
}

/* At exit: flush stdout and report a failed write (ENOSPC on /dev/full,
 * EBADF on a closed stdout), unless emb_write_error() already did. */
static void close_stdout(void)
{
	emb_progress_done(true);
	if (stdout_failed)
		_exit(EMB_EXIT_DATA);
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		int e = errno;
		if (died)
			return; /* exit with the status of that message */
		if (e != EPIPE)
			fprintf(stderr, "%s: write error: %s\n", emb_progname,
				e ? strerror(e) : "unknown error");
		_exit(EMB_EXIT_DATA);
	}
	if (fclose(stderr) != 0)
		_exit(EMB_EXIT_DATA);
}


/* Quote ARG for a POSIX shell if it needs it. */
static void append_quoted(char **buf, size_t *len, size_t *cap, const char *arg)
{
	bool plain = *arg != '\0';
	for (const char *p = arg; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_./=:,+%@", *p))
			plain = false;
	size_t need = *len + 4 * strlen(arg) + 4;
	if (need > *cap) {
		*cap = need * 2;
		*buf = emb_xrealloc(*buf, *cap);
	}
	char *o = *buf + *len;
	if (*len)
		*o++ = ' ';
	if (plain) {
		o = stpcpy(o, arg);
	} else {
		*o++ = '\'';
		for (const char *p = arg; *p; p++) {
			if (*p == '\'')
				o = stpcpy(o, "'\\''");
			else
				*o++ = *p;
		}
		*o++ = '\'';
	}
	*o = '\0';
	*len = (size_t)(o - *buf);
}

void emb_proginit(int argc, char **argv)
{
	static char outbuf[1 << 16];
	const char *argv0 = argc > 0 ? argv[0] : NULL;
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
	size_t len = 0, cap = 0;

	emb_progname = slash ? slash + 1 : (argv0 ? argv0 : "emb");
	/* A closed stdout would hand its descriptor to the next file we open
	 * (a spill, a model) and our output would land there: hold it with a
	 * read-only descriptor, so writes still fail with EBADF. */
	if (fcntl(STDOUT_FILENO, F_GETFD) < 0 && errno == EBADF) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd >= 0 && fd != STDOUT_FILENO) {
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
	}
	if (argc > 0)
		emb_blas_init(argv);
	/* A large stdout buffer: rows are written in many small pieces. */
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	atexit(close_stdout);
	append_quoted(&cmdline, &len, &cap, emb_progname);
	for (int i = 1; i < argc; i++)
		append_quoted(&cmdline, &len, &cap, argv[i]);
}

const char *emb_cmdline(void)
{
	return cmdline ? cmdline : emb_progname;
}

static void vmessage(const char *where, const char *fmt, va_list ap)
{
	emb_progress_done(false);
	fflush(stdout);
	fprintf(stderr, "%s: %s", emb_progname, where ? where : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void emb_die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(NULL, fmt, ap);
	va_end(ap);
	died = true;
	die_exit(status);
}

void emb_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(NULL, fmt, ap);
	va_end(ap);
}

static void where_line(char *buf, size_t n, const char *file, uint64_t line)
{
	if (line > 0)
		snprintf(buf, n, "%s:%llu: ", file ? file : "-", (unsigned long long)line);
	else
		snprintf(buf, n, "%s: ", file ? file : "-");
}

void emb_die_at(const char *file, uint64_t line, const char *fmt, ...)
{
	char where[4200];
	va_list ap;
	where_line(where, sizeof where, file, line);
	va_start(ap, fmt);
	vmessage(where, fmt, ap);
	va_end(ap);
	died = true;
	die_exit(EMB_EXIT_DATA);
}

void emb_warn_at(const char *file, uint64_t line, const char *fmt, ...)
{
	char where[4200];
	va_list ap;
	where_line(where, sizeof where, file, line);
	va_start(ap, fmt);
	vmessage(where, fmt, ap);
	va_end(ap);
}

void emb_die_offset(const char *file, uint64_t off, const char *fmt, ...)
{
	char where[4200];
	va_list ap;
	snprintf(where, sizeof where, "%s: byte %llu: ", file ? file : "-",
		 (unsigned long long)off);
	va_start(ap, fmt);
	vmessage(where, fmt, ap);
	va_end(ap);
	died = true;
	die_exit(EMB_EXIT_DATA);
}

/* Format where row I of C came from into BUF (see emb_die_row). */
static void where_row(char *buf, size_t n, const struct emb_chunk *c, size_t i)
{
	uint64_t pos = c->npos > i ? c->pos[i] : c->pos0 + (uint64_t)i * c->pos_step;
	if (!c->src)
		snprintf(buf, n, "row %llu: ", (unsigned long long)i + 1);
	else if (c->src_lines)
		where_line(buf, n, c->src, pos);
	else
		snprintf(buf, n, "%s: byte %llu: ", c->src, (unsigned long long)pos);
}

static void vmessage_row(const struct emb_chunk *c, size_t i, const char *fmt, va_list ap)
{
	char where[4200];
	where_row(where, sizeof where, c, i);
	vmessage(where, fmt, ap);
}

void emb_die_row(const struct emb_chunk *c, size_t i, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage_row(c, i, fmt, ap);
	va_end(ap);
	died = true;
	die_exit(EMB_EXIT_DATA);
}

void emb_warn_row(const struct emb_chunk *c, size_t i, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage_row(c, i, fmt, ap);
	va_end(ap);
}

void emb_try_help(int status)
{
	if (status == EMB_EXIT_OK)
		return;
	fprintf(stderr, "Try '%s --help' for more information.\n", emb_progname);
	die_exit(status);
}

void emb_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(NULL, fmt, ap);
	va_end(ap);
	died = true;
	emb_try_help(EMB_EXIT_USAGE);
	die_exit(EMB_EXIT_USAGE);
}

void emb_version(void)
{
	printf("%s (embutils) %s\n", emb_progname, PACKAGE_VERSION);
	emb_blas_describe(stdout);
	exit(EMB_EXIT_OK);
}

void *emb_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		emb_die(EMB_EXIT_DATA, "out of memory (%zu bytes)", n);
	return p;
}

void *emb_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		emb_die(EMB_EXIT_DATA, "out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *emb_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		emb_die(EMB_EXIT_DATA, "out of memory (%zu bytes)", n);
	return q;
}

size_t emb_xmul(size_t n, size_t size)
{
	size_t r;
	if (__builtin_mul_overflow(n, size, &r))
		emb_die(EMB_EXIT_DATA, "size overflow (%zu x %zu)", n, size);
	return r;
}

char *emb_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(emb_xmalloc(n), s, n);
}

/* PATH reads standard input: "-", or a name for fd 0 that is not a
 * regular file (/dev/stdin on a pipe: a regular file opens afresh). */
static bool is_stdin(const char *path)
{
	struct stat a, b;
	if (!path || strcmp(path, "-") == 0)
		return true;
	return stat(path, &a) == 0 && fstat(STDIN_FILENO, &b) == 0 && !S_ISREG(a.st_mode) &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_rdev == b.st_rdev;
}

void emb_stdin_once(const char *what_a, const char *a, const char *what_b, const char *b)
{
	if (is_stdin(a) && is_stdin(b))
		emb_usage_error("%s and %s cannot both be standard input", what_a, what_b);
}

FILE *emb_fopen_r(const char *path)
{
	if (!path || strcmp(path, "-") == 0)
		return stdin;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		emb_die(EMB_EXIT_DATA, "%s: %s", path, strerror(errno));
	return fp;
}

void emb_fclose_r(FILE *fp, const char *name)
{
	if (ferror(fp))
		emb_die(EMB_EXIT_DATA, "%s: read error: %s", name, strerror(errno));
	if (fp != stdin)
		fclose(fp);
}
