"""Reference scores for tests/embcos.bats, in float64 with numpy/scipy.
Each subcommand reads embcos's output and the inputs, and exits 1 with a
message if any value differs from numpy's by more than TOL (absolute)."""
import sys

import numpy as np
from scipy.special import logsumexp, softmax

import oracle


def load(path):
    data = open(path, "rb").read()
    if data.startswith(oracle.MAGIC):
        x, keys, _ = oracle.read(data)
        keys = keys or [str(i + 1) for i in range(len(x))]
        return keys, np.asarray(x, np.float64)
    keys, rows = [], []
    for line in data.decode().splitlines():
        f = line.split("\t")
        keys.append(f[0])
        rows.append([float(v) for v in f[1:]])
    return keys, np.array(rows, np.float64).astype(np.float32).astype(np.float64)


def sim(name, a, b):
    """Scores of rows a against rows b (all pairs), float64."""
    if name == "cos":
        an = a / np.linalg.norm(a, axis=1, keepdims=True)
        bn = b / np.linalg.norm(b, axis=1, keepdims=True)
        return an @ bn.T
    if name == "dot":
        return a @ b.T
    d = a[:, None, :] - b[None, :, :]
    if name == "euclidean":
        return -np.sqrt((d * d).sum(-1))
    return -np.abs(d).sum(-1)


def paired(name, a, b):
    return np.array([sim(name, a[i:i + 1], b[i:i + 1])[0, 0] for i in range(len(a))])


def out_lines(path):
    return [l.split("\t") for l in open(path).read().splitlines()]


def close(got, want, tol, what):
    """TOL is absolute, or relative when written rN (r1e-6: for scores of
    1e-60 or 1e60)."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    rtol, atol = (float(tol[1:]), 0.0) if str(tol).startswith("r") else (0.0, float(tol))
    if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
        i = 0 if got.shape != want.shape else int(np.argmax(np.abs(got - want)))
        sys.exit("%s: not within %s: got %s, want %s (worst at %d)" % (what, tol, got.ravel()[:8],
                                                                       want.ravel()[:8], i))


def cmd_paired(a, b, out, name, tol):
    ka, xa = load(a)
    kb, xb = load(b)
    rows = out_lines(out)
    assert [r[0] for r in rows] == ka and [r[1] for r in rows] == kb, "keys"
    close([float(r[2]) for r in rows], paired(name, xa, xb), tol, "paired " + name)


def cmd_blocks(a, b, out, spec, tol):
    ka, xa = load(a)
    kb, xb = load(b)
    d = xa.shape[1]
    if ":" in spec:
        idx = [np.arange(int(s.split(":")[0]), int(s.split(":")[1])) for s in spec.split(",")]
    else:
        idx = np.array_split(np.arange(d), int(spec))
    want = np.column_stack([paired("cos", xa, xb)] + [paired("cos", xa[:, i], xb[:, i]) for i in idx])
    rows = out_lines(out)
    assert [r[0] for r in rows] == ka, "keys"
    close([[float(v) for v in r[2:]] for r in rows], want, tol, "blocks")


def cmd_pairs(pairs, vec, out, name, tol):
    keys, x = load(vec)
    index = {}
    for i, k in enumerate(keys):
        index.setdefault(k, i)
    want_lines, want = [], []
    for line in open(pairs).read().splitlines():
        f = line.split("\t")
        if f[0] in index and f[1] in index:
            want_lines.append(line)
            want.append(sim(name, x[[index[f[0]]]], x[[index[f[1]]]])[0, 0])
    rows = open(out).read().splitlines()
    assert [r.rsplit("\t", 1)[0] for r in rows] == want_lines, "lines must come out unchanged"
    close([float(r.rsplit("\t", 1)[1]) for r in rows], want, tol, "pairs " + name)


def cmd_topk(q, db, out, name, k, tol, exclude="no", tau="0"):
    kq, xq = load(q)
    kd, xd = load(db)
    k, tau = int(k), float(tau)
    s = sim(name, xq, xd)
    if exclude == "exclude":
        np.fill_diagonal(s, np.nan)
    rows = out_lines(out)
    got = {}
    for r in rows:
        got.setdefault(r[0], []).append((r[1], float(r[2]), int(r[3])))
    for i, qk in enumerate(kq):
        si = np.where(np.isnan(s[i]), -np.inf, s[i])
        n = min(k, int(np.sum(~np.isnan(s[i]))))
        order = np.argsort(-si, kind="stable")[:n]   # ties: lower row first
        g = got.get(qk, [])
        assert [t[0] for t in g] == [kd[j] for j in order], \
            "query %s: top-%d %s, want %s" % (qk, k, [t[0] for t in g], [kd[j] for j in order])
        assert [t[2] for t in g] == list(range(1, n + 1)), "ranks"
        want = s[i, order]
        if tau > 0:
            want = np.exp(want / tau - logsumexp(s[i][~np.isnan(s[i])] / tau))
        close([t[1] for t in g], want, tol, "topk %s query %s" % (name, qk))


def exact_scores(name, a, b):
    """Scores of small-integer rows, exact as embcos computes them: every
    sum is an integer below 2^53, so dot/sqrt(aa*bb), -sqrt(l2sq) and the
    rest round once, as in C.  Blocks of queries bound the memory."""
    out = []
    for s in range(0, len(a), 64):
        x = a[s:s + 64]
        if name == "cos":
            aa, bb = (x * x).sum(1), (b * b).sum(1)
            out.append((x @ b.T) / np.sqrt(np.outer(aa, bb)))
        elif name == "dot":
            out.append(x @ b.T)
        elif name == "euclidean":
            sq = (x * x).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * (x @ b.T)
            out.append(0.0 - np.sqrt(sq))
        else:
            out.append(0.0 - np.abs(x[:, None, :] - b[None, :, :]).sum(-1))
    return np.concatenate(out)


def cmd_topk_exact(q, db, out, name, k):
    """OUT (embcos --topk --partial) must hold exactly the brute-force top
    K: the same rows, ties to the lower row, the same doubles (%.17g)."""
    _, xq = load(q)
    _, xd = load(db)
    assert np.all(xq == np.round(xq)) and np.all(xd == np.round(xd)), "integer data only"
    s = exact_scores(name, xq, xd)
    k = int(k)
    want = []
    for i in range(len(xq)):
        order = np.argsort(-s[i], kind="stable")[:k]   # ties: lower row first
        want.append("q\t%d\t%d\t-\t%d" % (i + 1, len(order), i + 1))
        want += ["r\t%d\t%.17g" % (j + 1, s[i, j]) for j in order]
    got = open(out).read().splitlines()
    assert got[0].startswith("#embcos-partial\t"), "a --partial list"
    got = got[1:]
    for n, (g, w) in enumerate(zip(got, want)):
        assert g == w, "line %d: got %r, want %r" % (n + 2, g, w)
    assert len(got) == len(want), "%d lines, want %d" % (len(got), len(want))


def cmd_matrix(a, b, out, name, tol, tau="0"):
    ka, xa = load(a)
    kb, xb = load(b) if b != "-" else (ka, xa)
    s = sim(name, xa, xb)
    if float(tau) > 0:
        s = softmax(s / float(tau), axis=1)
    kg, g = load(out)
    assert kg == ka, "row keys"
    close(g, s, tol, "matrix " + name)


if __name__ == "__main__":
    globals()["cmd_" + sys.argv[1]](*sys.argv[2:])
