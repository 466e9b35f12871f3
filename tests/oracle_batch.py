"""Run many oracle command lines in one Python process.

usage: oracle_batch.py CASES

Each line of CASES is SCRIPT, then its arguments, separated by tabs: the
command line `SCRIPT ARGS...` that a test would otherwise run on its own.
Each script runs as __main__ (runpy) with that sys.argv, so modules it
imports (numpy, scipy) load once: starting Python for every case was most
of some test files' time.  A case fails when the script exits non-zero or
raises; every failing case is named with its output, then the exit
status is 1."""
import contextlib
import io
import runpy
import sys
import traceback


def run(argv):
    out = io.StringIO()
    sys.argv = argv
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            runpy.run_path(argv[0], run_name="__main__")
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            if not isinstance(e.code, (int, type(None))):
                print(e.code)
        except Exception:
            traceback.print_exc()
            code = 1
    return code, out.getvalue()


def main():
    bad = 0
    n = 0
    for line in open(sys.argv[1]):
        argv = line.rstrip("\n").split("\t")
        n += 1
        code, text = run(argv)
        if code:
            bad += 1
            print("case %d failed (exit %d): %s" % (n, code, " ".join(argv)))
            print(text.rstrip("\n"))
    print("%d of %d cases passed" % (n - bad, n))
    sys.exit(1 if bad else 0)


main()
