"""Reference for embcos --candidates (tests/rescore.bats), in float64 with
numpy: the K best of each query's candidate set, written from the
definition (not from embcos's code).

  rescore_check.py check QUERIES DB PAIRS OUT K SIM TOL
      OUT (embcos --candidates output, topk or trec lines) must hold, for
      every query in QUERIES order, the K best database rows among the
      pairs of PAIRS (duplicates once), by score descending and, on equal
      scores, the lower database row first; scores within TOL.
  rescore_check.py gen SEED QUERIES DB N FMT
      N random (query key, database key) pairs on stdout, some twice, in
      random order, as FMT: pairs2, pairs3, topk or trec.
"""
import sys

import numpy as np

from embcos_check import load, sim


def read_pairs(path):
    for line in open(path, encoding="utf-8").read().splitlines():
        f = line.split("\t") if "\t" in line else line.split()
        if not f:
            continue
        yield (f[0], f[2]) if len(f) == 6 else (f[0], f[1])


def read_out(path):
    got = {}
    for line in open(path, encoding="utf-8").read().splitlines():
        f = line.split("\t") if "\t" in line else line.split(" ")
        if len(f) == 6:
            assert f[1] == "Q0", "TREC line without Q0: %r" % line
            q, d, rank, score = f[0], f[2], int(f[3]), float(f[4])
        else:
            q, d, score, rank = f[0], f[1], float(f[2]), int(f[3])
        got.setdefault(q, []).append((d, score, rank))
    return got


def check(qpath, dbpath, pairs, out, k, name, tol):
    kq, xq = load(qpath)
    kd, xd = load(dbpath)
    k, tol = int(k), float(tol)
    first = {}
    for j, key in enumerate(kd):
        first.setdefault(key, j)
    cand = {}
    for a, b in read_pairs(pairs):
        cand.setdefault(a, set()).add(first[b])
    s = sim(name, xq, xd) if len(kq) and len(kd) else None
    got = read_out(out)
    for i, qk in enumerate(kq):
        rows = np.array(sorted(cand.get(qk, ())), int)
        sc = s[i, rows] if len(rows) else np.zeros(0)
        order = np.argsort(-sc, kind="stable")[:k]   # rows ascending: ties to the lower
        want = [kd[rows[j]] for j in order]
        g = got.pop(qk, [])
        if [t[0] for t in g] != want:
            sys.exit("query %s: got %s, want %s" % (qk, [t[0] for t in g], want))
        if [t[2] for t in g] != list(range(1, len(want) + 1)):
            sys.exit("query %s: ranks %s" % (qk, [t[2] for t in g]))
        w = sc[order]
        if not np.allclose([t[1] for t in g], w, rtol=0, atol=tol):
            sys.exit("query %s: scores %s, want %s" % (qk, [t[1] for t in g], w))
    if got:
        sys.exit("lines for queries not asked: %s" % sorted(got))


def gen(seed, qpath, dbpath, n, fmt):
    rng = np.random.default_rng(int(seed))
    kq, _ = load(qpath)
    kd, _ = load(dbpath)
    n = int(n)
    qi = rng.integers(0, len(kq), n)
    di = rng.integers(0, len(kd), n)
    # some pairs twice, far apart
    dup = rng.integers(0, n, n // 5)
    qi, di = np.concatenate([qi, qi[dup]]), np.concatenate([di, di[dup]])
    p = rng.permutation(len(qi))
    for r, (a, b) in enumerate(zip(qi[p], di[p])):
        q, d = kq[a], kd[b]
        if fmt == "pairs2":
            print("%s\t%s" % (q, d))
        elif fmt == "pairs3":
            print("%s\t%s\t%.6f" % (q, d, rng.standard_normal()))
        elif fmt == "topk":
            print("%s\t%s\t%.6f\t%d" % (q, d, rng.standard_normal(), r + 1))
        else:
            print("%s Q0 %s %d %.6f tag" % (q, d, r + 1, rng.standard_normal()))


if __name__ == "__main__":
    {"check": check, "gen": gen}[sys.argv[1]](*sys.argv[2:])
