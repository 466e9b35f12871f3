/*
 * emb_progress.c - the one-line progress meter on stderr.
 *
 * Shown when --progress was given, or when stderr is a terminal and the job
 * has run longer than a second; never otherwise, so logs stay clean.
 */
#include <config.h>
#include "emb.h"

#include <time.h>
#include <unistd.h>

static double t_start = -1, t_last;
static bool shown;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void human(char *buf, size_t n, double v, const char *unit)
{
	const char *pre[] = {"", "k", "M", "G", "T"};
	int i = 0;
	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(buf, n, "%.*f %s%s", i ? 1 : 0, v, pre[i], unit);
}

static uint64_t last_rows, last_bytes;

static void show(void)
{
	char r[32], b[32], rate[32];
	double dt = now() - t_start;
	human(r, sizeof r, (double)last_rows, "rows");
	human(b, sizeof b, (double)last_bytes, "B");
	human(rate, sizeof rate, dt > 0 ? last_bytes / dt : 0, "B/s");
	/* Overwrite the previous state in place; pad over a longer old line. */
	fprintf(stderr, "%s%s: %s, %s, %s%s", shown ? "\r" : "", emb_progname, r, b, rate,
		shown ? "    \b\b\b\b" : "");
	shown = true;
}

void emb_progress(uint64_t rows, uint64_t bytes)
{
	static int tty = -1;
	double t = now();
	last_rows = rows;
	last_bytes = bytes;
	if (t_start < 0) {
		t_start = t_last = t;
		return;
	}
	if (tty < 0)
		tty = isatty(STDERR_FILENO);
	if (!emb_opts.progress && !(tty && t - t_start > 1.0))
		return;
	if (t - t_last < 0.25)
		return;
	t_last = t;
	show();
}

void emb_progress_done(bool final)
{
	if (final && emb_opts.progress && t_start >= 0 && !shown)
		show();
	if (shown) {
		fputc('\n', stderr);
		shown = false;
	}
	t_start = -1;
}
