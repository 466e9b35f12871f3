# Loaded by every tests/*.bats file.
# The build's programs come first on PATH; the oracle is Debian's python3
# (numpy, scipy), never whatever python3 is first on PATH.
bats_require_minimum_version 1.5.0
export LC_ALL=C
: "${EMB_BUILDDIR:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${EMB_SRCDIR:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${ORACLE_PYTHON:=/usr/bin/python3}"
export PATH="$EMB_BUILDDIR/cmd:$PATH"
export EMB_SRCDIR ORACLE_PYTHON


bats_load_library bats-support
bats_load_library bats-assert

# oracle SCRIPT ARGS...: run python with numpy/scipy (tests/oracle.py helpers
# importable as 'oracle').
oracle() {
	PYTHONPATH="$EMB_SRCDIR/tests" "$ORACLE_PYTHON" "$@"
}

# gen_tsv ROWS DIM SEED [KEYS]: deterministic random f32 TSV on stdout.
gen_tsv() {
	oracle -c '
import sys, numpy as np
n, d, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
keys = len(sys.argv) > 4 and sys.argv[4] == "keys"
x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
for i, r in enumerate(x):
    vals = "\t".join(repr(float(v)) if False else np.format_float_positional(v, unique=True, trim="-") for v in r)
    print(("w%d\t" % i if keys else "") + vals)
' "$@"
}

# make_samples: the man pages' sample files (tests/make-samples.sh) in
# $SAMPLES, a directory of this test file; for setup_file.
make_samples() {
	export SAMPLES="$BATS_FILE_TMPDIR/samples"
	mkdir -p "$SAMPLES"
	sh "$EMB_SRCDIR/tests/make-samples.sh" "$SAMPLES"
}

# Assert that two numbers (or whitespace-separated lists) agree to TOL.
assert_close() {
	oracle -c '
import sys, numpy as np
a = np.array(sys.argv[1].split(), float); b = np.array(sys.argv[2].split(), float)
tol = float(sys.argv[3])
ok = a.shape == b.shape and np.allclose(a, b, rtol=0, atol=tol, equal_nan=True)
if not ok:
    print("not close (tol %g):\n  got      %s\n  expected %s" % (tol, a, b), file=sys.stderr)
sys.exit(0 if ok else 1)
' "$1" "$2" "$3"
}

# same A B: two streams hold the same keys and values (their headers'
# history may differ).
same() {
	cmp <(embcat -O tsv "$1") <(embcat -O tsv "$2")
}

# AddressSanitizer reserves terabytes of address space and its shadow
# memory adds to the RSS, so memory bounds are asserted only in the plain
# build (CI runs the whole suite in both builds; values are checked in both).
if grep -qa __asan_init "$EMB_BUILDDIR/cmd/embinfo" 2>/dev/null; then
	EMB_ASAN=1
else
	EMB_ASAN=
fi
export EMB_ASAN
# ulimit_v KB: cap virtual memory at KB (a no-op under ASan).
ulimit_v() {
	[ -n "$EMB_ASAN" ] || ulimit -v "$1"
}
# rss_below FILE KB: the peak RSS in kB that /usr/bin/time wrote to FILE
# is below KB (true under ASan).
rss_below() {
	[ -n "$EMB_ASAN" ] || [ "$(cat "$1")" -lt "$2" ]
}
export -f ulimit_v rss_below

# oracle_later SCRIPT ARGS...: queue the oracle command line SCRIPT ARGS
# (relative paths are taken from the directory oracle_check runs in, and
# the files must be left as they are until then); oracle_check runs the
# queue in one Python process (tests/oracle_batch.py), since starting
# Python for every case was most of some files' time.  The default
# teardown fails a test that queued cases and never checked them.
oracle_later() {
	local IFS=$'\t'
	printf '%s\n' "$*" >> "$BATS_TEST_TMPDIR/oracle.cases"
}

oracle_check() {
	[ -s "$BATS_TEST_TMPDIR/oracle.cases" ] || return 0
	oracle "$EMB_SRCDIR/tests/oracle_batch.py" "$BATS_TEST_TMPDIR/oracle.cases" || return 1
	rm -f "$BATS_TEST_TMPDIR/oracle.cases"
}

oracle_unchecked() {
	if [ -s "$BATS_TEST_TMPDIR/oracle.cases" ]; then
		echo "oracle_later cases never checked: call oracle_check"
		return 1
	fi
}

teardown() {
	oracle_unchecked
}
