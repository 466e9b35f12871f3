"""Check embspearman/embpearson output against scipy 1.10.

usage: corr_oracle.py spearman|pearson OUTPUT DATA [-x C] [-y C,C] [--group C]
       [--header] [--nan P] [--alternative A] [--ci L] [--percent]

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
