/*
 * emb_err.c - program name, one-line diagnostics, exit codes, checked
 * allocation and the stdout close check (coreutils close_stdout).
 */
#include <config.h>
#include "emb.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
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

/* At exit: flush stdout and report a failed write (ENOSPC on /dev/full,
 * EBADF on a closed stdout).  EPIPE means the reader went away while
 * SIGPIPE was ignored: stop quietly, but with status 1 (documented). */
static void close_stdout(void)
{
	emb_progress_done(true);
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		int e = errno;
		if (e == EPIPE)
			_exit(EMB_EXIT_DATA);
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
	die_exit(EMB_EXIT_DATA);
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
