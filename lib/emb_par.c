/*
 * emb_par.c - threads for the pieces of one job (see emb_par.h).
 */
#define _GNU_SOURCE /* sched_getaffinity: the CPUs this process may use */
#include <config.h>
#include "emb.h"
#include "emb_par.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

unsigned emb_threads(void)
{
	static unsigned n;
	if (n)
		return n;
	const char *v = getenv("EMB_THREADS");
	if (v && *v) {
		char *end;
		errno = 0;
		long x = strtol(v, &end, 10);
		if (*end || errno || x < 1 || x > 1024)
			emb_usage_error("EMB_THREADS must be an integer from 1 to 1024, not '%s'", v);
		n = (unsigned)x;
	} else {
		/* the CPUs we may run on (taskset, Slurm's cgroups), not all */
		cpu_set_t set;
		long x = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
			: sysconf(_SC_NPROCESSORS_ONLN);
		n = x < 1 ? 1 : x > 1024 ? 1024 : (unsigned)x;
	}
	return n;
}

struct piece {
	void (*fn)(void *, unsigned);
	void *arg;
	unsigned i;
	pthread_t tid;
	bool started;
};

static void *piece_main(void *p)
{
	struct piece *pc = p;
	pc->fn(pc->arg, pc->i);
	return NULL;
}

void emb_par_run(unsigned n, void (*fn)(void *arg, unsigned i), void *arg)
{
	if (n <= 1) {
		if (n == 1)
			fn(arg, 0);
		return;
	}
	struct piece small[16], *pc = n <= 16 ? small : emb_xmalloc(emb_xmul(n, sizeof *pc));
	for (unsigned i = 1; i < n; i++) {
		pc[i] = (struct piece){fn, arg, i, 0, false};
		pc[i].started = pthread_create(&pc[i].tid, NULL, piece_main, &pc[i]) == 0;
	}
	fn(arg, 0);
	for (unsigned i = 1; i < n; i++) {
		if (pc[i].started)
			pthread_join(pc[i].tid, NULL);
		else
			fn(arg, i);
	}
	if (pc != small)
		free(pc);
}
