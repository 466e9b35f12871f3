"""Check embspearman/embpearson output against scipy 1.10.

usage: corr_oracle.py spearman|pearson OUTPUT DATA [-x C] [-y C,C] [--group C]
       [--header] [--nan P] [--alternative A] [--ci L] [--percent]
       corr_oracle.py compare-spearman|compare-pearson OUTPUT DATA [same options]
       [--steiger] [--bootstrap N]
       corr_oracle.py exact N R1 R2 R12 SEED   (data with these sample r)
       corr_oracle.py rpsych                   (the pinned R values)

With compare-*, checks embspearman/embpearson --compare: every pair of -y
columns, r1 r2 r12 from scipy on the rows where all three are present,
Williams' t and Steiger's z from the numpy formulas below (t, z to a
relative 1e-9, p likewise); with --bootstrap, the columns lo hi p_boot are
checked for shape only (lo <= diff <= hi, 0 <= p_boot <= 1, p_boot small
exactly when the interval leaves out 0); the bats tests check the rest.

Reads DATA the simple way (split on tabs, or on blanks when the first line
has no tab), computes every row the program should print with
scipy.stats.spearmanr / pearsonr (per group, then mean, wmean and all), and
compares OUTPUT to it: text fields exactly, r/lo/hi to 1e-12, p to a
relative 1e-9.  Exits 1 with a diff on mismatch."""
import argparse
import math
import sys
import warnings

import numpy as np
from scipy import special, stats


def williams_t(r1, r2, r12, n):
    """Williams' t (Steiger 1980, eq. 7): r(x,y1) vs r(x,y2), df n-3."""
    det = 1 - r1 ** 2 - r2 ** 2 - r12 ** 2 + 2 * r1 * r2 * r12
    rb = (r1 + r2) / 2
    return (r1 - r2) * np.sqrt((n - 1) * (1 + r12) /
                               (2 * (n - 1) / (n - 3) * det + rb ** 2 * (1 - r12) ** 3))


def steiger_z(r1, r2, r12, n):
    """Steiger's (1980) z, eq. 14, with the pooled mean of r1 and r2."""
    rb2 = ((r1 + r2) / 2) ** 2
    psi = r12 * (1 - 2 * rb2) - 0.5 * rb2 * (1 - 2 * rb2 - r12 ** 2)
    c = psi / (1 - rb2) ** 2
    return (np.arctanh(r1) - np.arctanh(r2)) * np.sqrt((n - 3) / (2 - 2 * c))


def p_of(stat, alt, dist):
    if math.isnan(stat):
        return math.nan
    if alt == "less":
        return dist.cdf(stat)
    if alt == "greater":
        return dist.sf(stat)
    return 2 * dist.sf(abs(stat))


# Williams' t and its two-sided p for (n, r12, r13, r23) from R's psych,
# pinned once with Debian's r-cran-psych 2.2.9 on R 4.2.2:
#   Rscript -e 'library(psych); r <- r.test(n=N, r12=R1, r13=R2, r23=R12);
#               cat(sprintf("%.17g %.17g", r$t, r$p))'
# psych's r12/r13/r23 are our r1 = r(x,y1), r2 = r(x,y2), r12 = r(y1,y2).
R_PSYCH = [
    # n, r1, r2, r12, t, p
    (50, .5, .3, .4, 1.4378158264484302, 0.15711156491227279),
    (103, .7, .6, .5, 1.4725246802964258, 0.14401972243188924),
    (1379, .4153, .4862, .8, -4.7576972575522198, 2.1643104531176206e-06),
    (20, .2, .5, -.3, -0.88715017834109611, 0.38737700558413357),
    (10, .9, .85, .95, 0.95939854372834443, 0.36931530497809878),
    (200, -.3, .1, .2, -4.7154464879564353, 4.5576341667864699e-06),
]
for n_, r1_, r2_, r12_, t_, p_ in R_PSYCH:
    assert abs(williams_t(r1_, r2_, r12_, n_) - t_) <= 1e-9 * abs(t_)
    assert abs(p_of(t_, "two-sided", stats.t(n_ - 3)) - p_) <= 1e-9 * p_


def exact_data(n, r1, r2, r12, seed):
    """n rows x, y1, y2 whose sample Pearson correlations are r1, r2, r12
    to rounding: orthonormalised centred noise times the Cholesky factor."""
    z = np.random.default_rng(seed).standard_normal((n, 3))
    z -= z.mean(0)
    q, _ = np.linalg.qr(z)
    c = np.linalg.cholesky(np.array([[1, r1, r2], [r1, 1, r12], [r2, r12, 1]]))
    return q @ c.T * 10 + 5


if len(sys.argv) > 1 and sys.argv[1] == "rpsych":
    for v in R_PSYCH:
        print(*("%.17g" % x for x in v))
    sys.exit(0)
if len(sys.argv) > 1 and sys.argv[1] == "exact":
    n_, seed_ = int(sys.argv[2]), int(sys.argv[6])
    for row in exact_data(n_, *map(float, sys.argv[3:6]), seed_):
        print("\t".join("%.17g" % v for v in row))
    sys.exit(0)

ap = argparse.ArgumentParser()
ap.add_argument("kind")
ap.add_argument("output")
ap.add_argument("data")
ap.add_argument("-x", default="1")
ap.add_argument("-y", default="2")
ap.add_argument("--group")
ap.add_argument("--header", action="store_true")
ap.add_argument("--nan", default="error")
ap.add_argument("--alternative", default="two-sided")
ap.add_argument("--ci", type=float)
ap.add_argument("--percent", action="store_true")
ap.add_argument("--steiger", action="store_true")
ap.add_argument("--bootstrap", type=int)
a = ap.parse_args()

lines = [l.rstrip("\n") for l in open(a.data) if l.strip()]
sep = "\t" if lines and "\t" in lines[0] else None
rows = [l.split(sep) for l in lines]
names = rows.pop(0) if a.header else []


def col(spec):
    return names.index(spec) if spec in names else int(spec) - 1


def num(s):
    return math.nan if s in ("", "NA", "na", "nan", "NaN") else float(s)


def correlate(x, y):
    if a.nan == "propagate" and (np.isnan(x).any() or np.isnan(y).any()):
        return len(x), math.nan, math.nan, math.nan, math.nan
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    n = len(x)
    lo = hi = math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if a.kind == "pearson":
            if n < 2:
                return n, math.nan, math.nan, lo, hi
            res = stats.pearsonr(x, y, alternative=a.alternative)
            r, p = res.statistic, res.pvalue
            if a.ci and not math.isnan(r):
                lo, hi = res.confidence_interval(a.ci)
        else:
            res = stats.spearmanr(x, y, alternative=a.alternative)
            r, p = res.statistic, res.pvalue
            if a.ci and not math.isnan(r):
                lo, hi = fisher_bonett_wright(r, n)
    return n, r, p, lo, hi


def fisher_bonett_wright(r, n):
    if n <= 3:
        return -1.0, 1.0
    z = np.arctanh(r) if abs(r) < 1 else math.copysign(math.inf, r)
    se = math.sqrt((1 + r * r / 2) / (n - 3))
    if a.alternative == "two-sided":
        h = special.ndtri(0.5 + a.ci / 2)
        return math.tanh(z - h * se), math.tanh(z + h * se)
    h = special.ndtri(a.ci)
    if a.alternative == "less":
        return -1.0, math.tanh(z + h * se)
    return math.tanh(z - h * se), 1.0


def name(c):
    return names[c] if names else str(c + 1)


def compare_check():
    kind = a.kind.split("-")[1]
    xc = col(a.x)
    ycs = [col(v) for v in a.y.split(",")]
    x = np.array([num(r[xc]) for r in rows])
    gcol = np.array([r[col(a.group)] for r in rows]) if a.group else None

    def corr(u, v):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = stats.spearmanr if kind == "spearman" else stats.pearsonr
            return f(u, v)[0]

    def one(xx, u, v):
        nan = math.nan
        if a.nan == "propagate" and np.isnan(np.c_[xx, u, v]).any():
            return [len(xx)] + [nan] * 7
        keep = ~np.isnan(np.c_[xx, u, v]).any(1)
        xx, u, v = xx[keep], u[keep], v[keep]
        n = len(xx)
        if n < 2:
            return [n] + [nan] * 7
        r1, r2, r12 = corr(xx, u), corr(xx, v), corr(u, v)
        if n < 4 or math.isnan(r1 + r2 + r12):
            return [n, r1, r2, r12, r1 - r2, nan, nan, nan, nan]
        with np.errstate(all="ignore"):
            t = williams_t(r1, r2, r12, n)
            z = steiger_z(r1, r2, r12, n)
        return [n, r1, r2, r12, r1 - r2, t, p_of(t, a.alternative, stats.t(n - 3)),
                z, p_of(z, a.alternative, stats.norm)]

    want = []
    for i in range(len(ycs)):
        for j in range(i + 1, len(ycs)):
            u = np.array([num(r[ycs[i]]) for r in rows])
            v = np.array([num(r[ycs[j]]) for r in rows])
            names_ = [name(xc), name(ycs[i]), name(ycs[j])]
            if gcol is None:
                want.append(names_ + one(x, u, v))
                continue
            order = list(dict.fromkeys(gcol))
            res = [one(x[gcol == k], u[gcol == k], v[gcol == k]) for k in order]
            for k, rr in zip(order, res):
                want.append([k] + names_ + rr)
            ns = np.array([rr[0] for rr in res], float)
            nan = math.nan
            for agg, w in (("mean", np.ones_like(ns)), ("wmean", ns)):
                m1 = (np.array([rr[1] for rr in res]) * w).sum() / w.sum()
                m2 = (np.array([rr[2] for rr in res]) * w).sum() / w.sum()
                want.append([agg] + names_ + [int(ns.sum()), m1, m2, nan, m1 - m2,
                                              nan, nan, nan, nan])
            want.append(["all"] + names_ + one(x, u, v))
    head = ((["group"] if a.group else []) + "x y1 y2 n r1 r2 r12 diff t p".split() +
            (["z", "p_z"] if a.steiger else []) +
            (["lo", "hi", "p_boot"] if a.bootstrap else []))
    got = [l.rstrip("\n").split("\t") for l in open(a.output)]
    bad = []
    if not got or got[0] != head:
        bad.append("header %r, expected %r" % (got[0] if got else None, head))
    got = got[1:]
    if len(got) != len(want):
        bad.append("%d rows, expected %d" % (len(got), len(want)))
    nt = 4 if a.group else 3
    cols = ["r1", "r2", "r12", "diff", "t", "p"] + (["z", "p_z"] if a.steiger else [])
    for gr, wr in zip(got, want):
        wv = wr[nt + 1:nt + 7] + (wr[nt + 7:nt + 9] if a.steiger else [])
        if gr[:nt] != wr[:nt] or int(gr[nt]) != wr[nt] or \
                len(gr) != nt + 1 + len(cols) + (3 if a.bootstrap else 0):
            bad.append("row %r, expected %r" % (gr, wr))
            continue
        for name_, gv, w in zip(cols, gr[nt + 1:], wv):
            scaled = name_ in ("r1", "r2", "r12", "diff")
            if a.percent and scaled:
                ok = (math.isnan(w) and gv == "nan") or gv == "%.2f" % (w * 100)
            else:
                gv = float(gv)
                tol = 1e-12 if scaled else 1e-9 * abs(w) + 1e-300
                ok = (math.isnan(gv) and math.isnan(w)) or gv == w or abs(gv - w) <= tol
            if not ok:
                bad.append("row %r: %s, expected %r" % (gr, name_, w))
        if a.bootstrap:
            lo, hi, pb = map(float, gr[-3:])
            d = float(gr[nt + 4])
            if math.isnan(d):
                continue
            if not (lo <= d <= hi and 0 <= pb <= 1):
                bad.append("row %r: bootstrap lo <= diff <= hi, 0 <= p_boot <= 1" % (gr,))
            alpha = 1 - (a.ci or 0.95)
            if a.alternative == "two-sided" and (lo > 0 or hi < 0) and pb > alpha:
                bad.append("row %r: the interval leaves out 0 but p_boot > %g" % (gr, alpha))
    for b in bad:
        print(b, file=sys.stderr)
    sys.exit(1 if bad else 0)


if a.kind.startswith("compare-"):
    compare_check()

xc = col(a.x)
want = []
for ys in a.y.split(","):
    yc = col(ys)
    x = np.array([num(r[xc]) for r in rows])
    y = np.array([num(r[yc]) for r in rows])
    if a.group is None:
        want.append([name(xc), name(yc), *correlate(x, y)])
        continue
    gc = col(a.group)
    g = np.array([r[gc] for r in rows])
    order = list(dict.fromkeys(g))
    res = [correlate(x[g == k], y[g == k]) for k in order]
    for k, rr in zip(order, res):
        want.append([k, name(xc), name(yc), *rr])
    ns = np.array([rr[0] for rr in res], float)
    rs = np.array([rr[1] for rr in res])
    nan = math.nan
    want.append(["mean", name(xc), name(yc), int(ns.sum()), rs.mean(), nan, nan, nan])
    want.append(["wmean", name(xc), name(yc), int(ns.sum()),
                 (rs * ns).sum() / ns.sum(), nan, nan, nan])
    want.append(["all", name(xc), name(yc), *correlate(x, y)])

got = [l.rstrip("\n").split("\t") for l in open(a.output)]
head = (["group"] if a.group else []) + ["x", "y", "n", "r", "p"] + (["lo", "hi"] if a.ci else [])
bad = []
if not got or got[0] != head:
    bad.append("header %r, expected %r" % (got[0] if got else None, head))
got = got[1:]
if len(got) != len(want):
    bad.append("%d rows, expected %d" % (len(got), len(want)))
ntext = 3 if a.group else 2
for gr, wr in zip(got, want):
    wr = wr[:ntext + 3] + (wr[ntext + 3:] if a.ci else [])
    if len(gr) != len(wr) or gr[:ntext] != wr[:ntext] or int(gr[ntext]) != wr[ntext]:
        bad.append("row %r, expected %r" % (gr, wr))
        continue
    for i, (gv, wv) in enumerate(zip(gr[ntext + 1:], wr[ntext + 1:])):
        is_p = i == 1
        wv = float(wv)
        if a.percent and not is_p:
            ok = (math.isnan(wv) and gv == "nan") or gv == "%.2f" % (wv * 100)
        else:
            gv = float(gv)
            ok = (math.isnan(gv) and math.isnan(wv)) or (
                abs(gv - wv) <= (1e-9 * abs(wv) + 1e-300 if is_p else 1e-12))
        if not ok:
            bad.append("row %r: %s, expected %r" % (gr, ["r", "p", "lo", "hi"][i], wv))
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
