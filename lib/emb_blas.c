/*
 * emb_blas.c - make sure OpenBLAS uses the kernels this CPU can run.
 *
 * Debian's OpenBLAS 0.3.21 picks its kernels from the CPU model, and on
 * some virtual machines it does not recognise the model and falls back to
 * "Prescott" (SSE3): sgemm then runs at 12 GFLOP/s where the SkylakeX or
 * Cooperlake kernels reach 150-175 (measured on this project's 2-core
 * machine).  OpenBLAS reads OPENBLAS_CORETYPE only when it is loaded, so
 * the fix is to set it and re-execute the program once, before any input
 * is read.  OPENBLAS_THREAD_TIMEOUT is set the same way (see
 * SPIN_LOG2_CYCLES).  A user's own OPENBLAS_CORETYPE and
 * OPENBLAS_THREAD_TIMEOUT are always respected.
 */
#include <config.h>
#include "emb.h"
#include "emb_par.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifdef HAVE_OPENBLAS
/* OpenBLAS's idle threads spin in sched_yield for 2^28 TSC cycles (about
 * 0.1 s here) after loading and after every threaded call before they
 * sleep.  On a 2-core machine that spin takes a core from our own
 * threads: the parse threads of a program that never calls BLAS, and the
 * top-k selection between sgemm calls.  2^20 cycles (under 1 ms) still
 * covers back-to-back calls; measured on 2000 x 100k x 256 top-10, 2^20
 * beat both 2^28 and the minimum 2^4.  Read only when OpenBLAS loads, so
 * it is set like OPENBLAS_CORETYPE, by re-executing. */
#define SPIN_LOG2_CYCLES "20"

/* Weak: every program links this file (emb_proginit calls
 * emb_blas_init), but only a program whose own code calls BLAS links
 * OpenBLAS (-Wl,--as-needed, configure.ac), and a weak reference does not
 * make it needed.  In the others these are NULL, and nothing here runs:
 * no OpenBLAS threads, no re-execution. */
extern char *openblas_get_corename(void) __attribute__((weak));
extern int openblas_get_num_threads(void) __attribute__((weak));
extern void openblas_set_num_threads(int n) __attribute__((weak));
#endif


/* The best OpenBLAS core name this CPU can run, by instruction set. */
static const char *best_core(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
		return __builtin_cpu_supports("avx512bf16") ? "Cooperlake" : "SkylakeX";
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return "Haswell";
#endif
	return NULL;
}

/* Is CORE (OpenBLAS's own choice) a kernel set at least as wide as BEST? */
static bool core_ok(const char *core, const char *best)
{
	static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
	static const char *const avx2[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake",
					   "SapphireRapids"};
	bool want512 = strcmp(best, "Haswell") != 0;
	const char *const *ok = want512 ? avx512 : avx2;
	size_t n = want512 ? 3 : 5;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(core, ok[i]) == 0)
			return true;
	return false;
}

void emb_blas_init(char **argv)
{
#ifdef HAVE_OPENBLAS
	if (!openblas_get_corename)
		return;
	/* EMB_OPENBLAS_DETECTED stands in for a misdetection in the tests. */
	const char *fake = getenv("EMB_OPENBLAS_DETECTED");
	const char *detected = fake && *fake ? fake : openblas_get_corename();
	const char *best = getenv("OPENBLAS_CORETYPE") ? NULL : best_core();
	bool fix_core = best && !core_ok(detected, best);
	bool fix_spin = !getenv("OPENBLAS_THREAD_TIMEOUT");
	if (!fix_core && !fix_spin)
		return;
	if (fix_core) {
		setenv("OPENBLAS_CORETYPE", best, 1);
		setenv("EMB_CORETYPE_FIXED", detected, 1);
	}
	if (fix_spin)
		setenv("OPENBLAS_THREAD_TIMEOUT", SPIN_LOG2_CYCLES, 1);
	unsetenv("EMB_OPENBLAS_DETECTED");
	/* Execute the program's real path, not /proc/self/exe: the kernel
	 * names a process after the file it executes, and `pgrep embwhiten`,
	 * top and killall must still find it (argv[0] is kept as given). */
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		execv(self, argv);
	}
	/* If re-executing fails, run on as loaded. */
	if (fix_core) {
		unsetenv("OPENBLAS_CORETYPE");
		unsetenv("EMB_CORETYPE_FIXED");
	}
#else
	(void)argv;
#endif
}

void emb_blas_describe(FILE *fp)
{
#ifdef HAVE_OPENBLAS
	/* EMB_CORETYPE_FIXED is set only by the re-execution above. */
	const char *was = getenv("EMB_CORETYPE_FIXED");
	if (!openblas_get_corename) {
		fprintf(fp, "BLAS: none (%s does not call BLAS)\n", emb_progname);
		return;
	}
	fprintf(fp, "BLAS: OpenBLAS, core %s", openblas_get_corename());
	if (was && getenv("OPENBLAS_CORETYPE"))
		fprintf(fp, " (OPENBLAS_CORETYPE set by embutils: OpenBLAS detected %s)", was);
	fputc('\n', fp);
#else
	fputs("BLAS: GSL's reference gslcblas\n", fp);
#endif
}

int emb_blas_threads(int n)
{
#ifdef HAVE_OPENBLAS
	if (!openblas_get_num_threads)
		return 1;
	int was = openblas_get_num_threads();
	if (n != was)
		openblas_set_num_threads(n);
	return was;
#else
	(void)n;
	return 1;
#endif
}
